/* Tests for node_ingest: exact report counts for hand-made extracts, row
 * rejection, identifier aliases and excluded columns, that no raw
 * identifier ever reaches the database file, replacement and linking of
 * datasets, and that a failed ingest (strict mode, a bad header, an empty
 * file, another linkage key) leaves the store byte-for-byte as it was.
 * Each test works in its own mkdtemp folder with a real key and real files. */
#include "node_ingest.h"
#include "node_schema.h"

#include <criterion/criterion.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* True when needle's bytes occur anywhere in hay (_GNU_SOURCE is set for
 * the whole build, so memmem is declared). */
static bool contains(const char *hay, size_t hlen, const char *needle)
{
    return memmem(hay, hlen, needle, strlen(needle)) != NULL;
}

/* ---- fixture ---------------------------------------------------------- */

static const uint8_t KEY[KEYS_LINKAGE_KEY_LEN] = {
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
    0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16,
    0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20};

static char dir[64];
static char db_path[128];
static node_store_t *store;
static keys_token_t *tok;
static char key_id[KEYS_KEY_ID_LEN + 1];

static void setup(void)
{
    strcpy(dir, "/tmp/hearth-ingest-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(db_path, sizeof db_path, "%s/node.db", dir);
    char *cause = NULL;
    cr_assert_eq(node_store_open(db_path, &store, &cause), HEARTH_OK, "%s", cause);
    tok = keys_token_new(KEY);
    keys_key_id(KEY, key_id);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    node_store_destroy(&store);
    keys_token_destroy(&tok);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(node_ingest, .init = setup, .fini = teardown);

/* Writes text to dir/name and returns the path (caller frees). */
static char *write_csv(const char *name, const char *text)
{
    char *path = NULL;
    cr_assert_gt(asprintf(&path, "%s/%s", dir, name), 0);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(text, 1, strlen(text), f), strlen(text));
    cr_assert_eq(fclose(f), 0);
    return path;
}

/* Ingests text as dataset with the schema file schema_text (none when
 * NULL); returns the code, report and cause. */
static hearth_err_t ingest_with(const char *dataset, const char *text, const char *schema_text,
                                bool strict, const char *kid, node_ingest_report_t **report,
                                char **cause)
{
    char name[96];
    snprintf(name, sizeof name, "%s.csv", dataset);
    char *path = write_csv(name, text);
    node_schema_t *schema = NULL;
    if (schema_text) {
        snprintf(name, sizeof name, "%s.schema.ini", dataset);
        char *spath = write_csv(name, schema_text);
        char *why = NULL;
        cr_assert_eq(node_schema_load(spath, &schema, &why), HEARTH_OK, "%s", why);
        free(spath);
    }
    node_ingest_options_t opt = {.strict = strict, .schema = schema};
    hearth_err_t rc = node_ingest_run(store, tok, kid, dataset, path, &opt, report, cause);
    node_schema_destroy(&schema);
    free(path);
    return rc;
}

/* Ingests text as dataset; returns the code, report and cause. */
static hearth_err_t ingest_as(const char *dataset, const char *text, bool strict,
                              const char *kid, node_ingest_report_t **report, char **cause)
{
    return ingest_with(dataset, text, NULL, strict, kid, report, cause);
}

/* Ingests text as dataset with a schema (or none) and expects success. */
static node_ingest_report_t *ingest_schema_ok(const char *dataset, const char *text,
                                              const char *schema_text)
{
    node_ingest_report_t *r = NULL;
    char *cause = NULL;
    hearth_err_t rc = ingest_with(dataset, text, schema_text, false, key_id, &r, &cause);
    cr_assert_eq(rc, HEARTH_OK, "ingest of %s failed: %s", dataset, cause ? cause : "");
    cr_assert_null(cause);
    cr_assert_not_null(r);
    return r;
}

/* Ingests text as dataset and expects success. */
static node_ingest_report_t *ingest_ok(const char *dataset, const char *text)
{
    node_ingest_report_t *r = NULL;
    char *cause = NULL;
    hearth_err_t rc = ingest_as(dataset, text, false, key_id, &r, &cause);
    cr_assert_eq(rc, HEARTH_OK, "ingest of %s failed: %s", dataset, cause ? cause : "");
    cr_assert_null(cause);
    cr_assert_not_null(r);
    return r;
}

/* The single integer a query returns. */
static int64_t sql_int(const char *sql)
{
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(node_store_db(store), sql, -1, &st, NULL), SQLITE_OK,
                 "%s: %s", sql, sqlite3_errmsg(node_store_db(store)));
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s", sql);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* The single text a query returns (caller frees; "" for NULL). */
static char *sql_text(const char *sql)
{
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(node_store_db(store), sql, -1, &st, NULL), SQLITE_OK,
                 "%s: %s", sql, sqlite3_errmsg(node_store_db(store)));
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s", sql);
    const unsigned char *t = sqlite3_column_text(st, 0);
    char *s = strdup(t ? (const char *)t : "");
    sqlite3_finalize(st);
    return s;
}

/* Appends the whole file at path (if it exists) to *buf. */
static void slurp_append(const char *path, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        *buf = realloc(*buf, *len + n);
        cr_assert_not_null(*buf);
        memcpy(*buf + *len, chunk, n);
        *len += n;
    }
    fclose(f);
}

/* Closes the store and returns every byte of the database file and any
 * WAL, shared-memory or rollback-journal file beside it (caller frees). */
static char *db_bytes_closed(size_t *len)
{
    node_store_destroy(&store);
    char *buf = NULL;
    *len = 0;
    const char *suffix[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < 4; i++) {
        char path[160];
        snprintf(path, sizeof path, "%s%s", db_path, suffix[i]);
        slurp_append(path, &buf, len);
    }
    cr_assert_gt(*len, 0);
    return buf;
}

static void reopen(void)
{
    char *cause = NULL;
    cr_assert_null(store);
    cr_assert_eq(node_store_open(db_path, &store, &cause), HEARTH_OK, "%s", cause);
}

/* ---- the hand-made extract -------------------------------------------- */

/* Seven good rows and a short one on line 9:
 *   2: NHS + DOB/sex/postcode (person P)        both tokens
 *   3: the same NHS number, nothing else (P)    NHS only
 *   4: P's DOB/sex/postcode spelt differently   DSP only
 *   5: another NHS number, dashes (Q)           NHS only
 *   6: another DOB/sex/postcode (R)             DSP only
 *   7: NHS number with a bad check digit (S)    no token
 *   8: nothing (T)                              no token, ward empty
 *   9: three fields                             rejected */
static const char *const EXTRACT =
    "nhs_number,date_of_birth,sex,postcode,ward,age_band,name\n"
    "943 476 5919,1950-03-01,M,LS1 4AP,Abbey,65-74,John Smith\n"
    "9434765919,,,,Abbey,65-74,John Smith\n"
    ",01/03/1950,male,ls14ap,Priory,65-74,J Smith\n"
    "943-476-5927,,,,Castle,75+,Mary Jones\n"
    ",1931-12-25,F,BD7 1DP,Castle,75+,Ann Lee\n"
    "9434765918,,,,Priory,18-64,Bad Check\n"
    ",,,,,18-64,\n"
    "9434765935,1960-01-01,M\n";

Test(node_ingest, report_counts_a_small_extract_exactly)
{
    node_ingest_report_t *r = ingest_ok("ae", EXTRACT);
    cr_assert_str_eq(r->dataset, "ae");
    cr_assert_eq(r->rows_read, 8);
    cr_assert_eq(r->rows_stored, 7);
    cr_assert_eq(r->rows_rejected, 1);
    cr_assert_eq(r->with_nhs, 3);
    cr_assert_eq(r->with_dsp, 3);
    cr_assert_eq(r->with_both, 1);
    cr_assert_eq(r->with_none, 2);
    /* P carries both kinds (rows 2-4), Q an NHS token, R a DOB+sex+postcode
     * one, S and T none. */
    cr_assert_eq(r->persons_with_nhs, 2);
    cr_assert_eq(r->persons_with_dsp, 2);
    cr_assert_eq(r->persons_with_both, 1);
    cr_assert_eq(r->persons_with_none, 2);
    cr_assert_eq(r->persons_dataset, 5);
    cr_assert_eq(r->persons_node, 5);
    for (int f = 0; f < NODE_ID_COUNT; f++)
        cr_assert(r->has_id[f]);
    cr_assert_eq(r->id_status[NODE_ID_NHS][KEYS_IDENT_OK], 3);
    cr_assert_eq(r->id_status[NODE_ID_NHS][KEYS_IDENT_EMPTY], 3);
    cr_assert_eq(r->id_status[NODE_ID_NHS][KEYS_IDENT_BAD_CHECK_DIGIT], 1);
    cr_assert_eq(r->id_status[NODE_ID_DOB][KEYS_IDENT_OK], 3);
    cr_assert_eq(r->id_status[NODE_ID_DOB][KEYS_IDENT_EMPTY], 4);
    cr_assert_eq(r->id_status[NODE_ID_SEX][KEYS_IDENT_OK], 3);
    cr_assert_eq(r->id_status[NODE_ID_POSTCODE][KEYS_IDENT_OK], 3);
    cr_assert_eq(r->nattributes, 2);
    cr_assert_str_eq(r->attributes[0], "ward");
    cr_assert_str_eq(r->attributes[1], "age_band");
    cr_assert_eq(r->nexcluded, 1);
    cr_assert_str_eq(r->excluded[0], "name");
    node_ingest_report_destroy(&r);
    cr_assert_null(r);

    /* The catalogue and the table agree with the report. */
    cr_assert_eq(node_store_ndatasets(store), 1);
    const node_store_dataset_t *ds = node_store_find(store, "ae");
    cr_assert_not_null(ds);
    cr_assert_eq(ds->rows, 7);
    cr_assert_eq(ds->persons, 5);
    cr_assert_eq(ds->ncolumns, 2);
    cr_assert_str_eq(ds->columns[0].name, "ward");
    cr_assert_str_eq(ds->columns[1].name, "age_band");
    cr_assert_eq(ds->columns[0].type, NODE_COL_CATEGORICAL);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT group_concat(person, ',') FROM (SELECT person FROM "
             "d_%lld ORDER BY rec)", (long long)ds->id);
    char *persons = sql_text(sql);
    /* Ids are 1 + the index of each person's first row. */
    cr_assert_str_eq(persons, "1,1,1,4,5,6,7");
    free(persons);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM d_%lld WHERE a0 IS NULL", (long long)ds->id);
    cr_assert_eq(sql_int(sql), 1);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM d_%lld WHERE t_nhs IS NOT NULL AND "
             "length(t_nhs) = 32", (long long)ds->id);
    cr_assert_eq(sql_int(sql), 3);
    char *kid = NULL;
    char *cause = NULL;
    cr_assert_eq(node_store_meta_get(store, "linkage_key_id", &kid, &cause), HEARTH_OK);
    cr_assert_str_eq(kid, key_id);
    free(kid);
}

Test(node_ingest, the_report_text_gives_rows_and_persons_per_token_route)
{
    node_ingest_report_t *r = ingest_ok("ae", EXTRACT);
    char *text = node_ingest_report_format(r);
    node_ingest_report_destroy(&r);
    const char *want =
        "  with NHS token:   3 rows, 2 persons\n"
        "  with DOB+sex+postcode token: 3 rows, 2 persons\n"
        "  with both tokens: 1 row, 1 person\n"
        "  with no token:    2 rows, 2 persons (counted, but never linked)\n"
        "  persons in dataset: 5; persons at this node: 5\n";
    bool found = strstr(text, want) != NULL;
    char copy[2048];
    snprintf(copy, sizeof copy, "%s", text);
    free(text);
    cr_assert(found, "report:\n%s", copy);
}

Test(node_ingest, a_person_carries_each_kind_any_of_its_rows_carries)
{
    /* A: an NHS-only row and a row with both (so A carries both); B: a
     * DOB+sex+postcode-only row, then the same with the NHS number spelt
     * badly (still DSP only); C: an NHS-only row twice. */
    node_ingest_report_t *r = ingest_ok("ae", "nhs_number,date_of_birth,sex,postcode,ward\n"
                                              "9434765919,,,,Abbey\n"
                                              "9434765919,1950-03-01,M,LS1 4AP,Abbey\n"
                                              ",1931-12-25,F,BD7 1DP,Priory\n"
                                              "9434765918,1931-12-25,F,BD7 1DP,Priory\n"
                                              "9434765927,,,,Castle\n"
                                              "943 476 5927,,,,Castle\n");
    cr_assert_eq(r->rows_stored, 6);
    cr_assert_eq(r->with_nhs, 4);
    cr_assert_eq(r->with_dsp, 3);
    cr_assert_eq(r->with_both, 1);
    cr_assert_eq(r->with_none, 0);
    cr_assert_eq(r->persons_dataset, 3);
    cr_assert_eq(r->persons_with_nhs, 2);
    cr_assert_eq(r->persons_with_dsp, 2);
    cr_assert_eq(r->persons_with_both, 1);
    cr_assert_eq(r->persons_with_none, 0);
    node_ingest_report_destroy(&r);
}

Test(node_ingest, person_token_counts_look_only_at_the_datasets_own_rows)
{
    node_ingest_report_t *r = ingest_ok("ae", "nhs_number,date_of_birth,sex,postcode,ward\n"
                                              "9434765919,1950-03-01,M,LS1 4AP,Abbey\n");
    node_ingest_report_destroy(&r);
    /* The same person, known to housing by DOB/sex/postcode only, and a
     * second person with no usable identifier. */
    r = ingest_ok("housing", "date_of_birth,sex,postcode,tenure\n"
                             "01/03/1950,M,ls1 4ap,social\n"
                             "1950-02-30,M,LS1 4AP,private\n");
    cr_assert_eq(r->persons_dataset, 2);
    cr_assert_eq(r->persons_node, 2);
    cr_assert_eq(r->persons_with_nhs, 0);
    cr_assert_eq(r->persons_with_dsp, 1);
    cr_assert_eq(r->persons_with_both, 0);
    cr_assert_eq(r->persons_with_none, 1);
    node_ingest_report_destroy(&r);
}

Test(node_ingest, stores_the_nhs_token_the_brief_specifies)
{
    node_ingest_report_t *r = ingest_ok("ae", EXTRACT);
    node_ingest_report_destroy(&r);
    uint8_t want[KEYS_TOKEN_LEN];
    keys_token_hmac(tok, "nhs:9434765919", 14, want);
    const node_store_dataset_t *ds = node_store_find(store, "ae");
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT t_nhs FROM d_%lld WHERE rec = 1", (long long)ds->id);
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(node_store_db(store), sql, -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_bytes(st, 0), KEYS_TOKEN_LEN);
    cr_assert_eq(memcmp(sqlite3_column_blob(st, 0), want, KEYS_TOKEN_LEN), 0);
    sqlite3_finalize(st);
}

Test(node_ingest, rejects_a_short_row_with_its_line_and_reason)
{
    node_ingest_report_t *r = ingest_ok("ae", EXTRACT);
    cr_assert_eq(r->nrejects, 1);
    cr_assert_eq(r->rejects[0].line, 9);
    cr_assert_str_eq(r->rejects[0].reason, "expected 7 fields, found 3");
    char *text = node_ingest_report_format(r);
    cr_assert_not_null(strstr(text, "  rejected line 9: expected 7 fields, found 3\n"), "%s", text);
    cr_assert_not_null(strstr(text, "  rows read:        8\n"), "%s", text);
    cr_assert_not_null(strstr(text, "  rows stored:      7\n"), "%s", text);
    cr_assert_not_null(strstr(text, "  rows rejected:    1\n"), "%s", text);
    cr_assert_not_null(strstr(text, "  persons in dataset: 5; persons at this node: 5\n"),
                       "%s", text);
    cr_assert_not_null(strstr(text, "  attributes stored: ward (categorical), age_band "
                              "(categorical)\n"), "%s", text);
    cr_assert_not_null(strstr(text, "  excluded (direct identifiers, never stored): name\n"),
                       "%s", text);
    /* The report never quotes an identifier. */
    cr_assert_null(strstr(text, "9434765919"));
    cr_assert_null(strstr(text, "943 476 5919"));
    cr_assert_null(strstr(text, "1950"));
    cr_assert_null(strstr(text, "LS1"));
    free(text);
    node_ingest_report_destroy(&r);
}

Test(node_ingest, rejects_a_long_row_too)
{
    node_ingest_report_t *r = ingest_ok("ae", "nhs_number,ward\n"
                                               "9434765919,Abbey\n"
                                               "9434765927,Priory,extra\n"
                                               "\n"
                                               "9434765935,Castle,x,y\n");
    cr_assert_eq(r->rows_read, 3);
    cr_assert_eq(r->rows_stored, 1);
    cr_assert_eq(r->rows_rejected, 2);
    cr_assert_eq(r->nrejects, 2);
    cr_assert_eq(r->rejects[0].line, 3);
    cr_assert_str_eq(r->rejects[0].reason, "expected 2 fields, found 3");
    cr_assert_eq(r->rejects[1].line, 5);
    cr_assert_str_eq(r->rejects[1].reason, "expected 2 fields, found 4");
    node_ingest_report_destroy(&r);
}

Test(node_ingest, recognises_identifier_aliases)
{
    node_ingest_report_t *r = ingest_ok("visits", "NHS No,DOB,Gender,Post Code,Ward\n"
                                                  "9434765919,1950-03-01,F,LS1 4AP,Abbey\n"
                                                  ",01/03/1950,female,LS1 4AP,Abbey\n");
    for (int f = 0; f < NODE_ID_COUNT; f++)
        cr_assert(r->has_id[f], "identifier %d not recognised", f);
    cr_assert_eq(r->with_both, 1);
    cr_assert_eq(r->with_dsp, 2);
    cr_assert_eq(r->with_nhs, 1);
    cr_assert_eq(r->persons_dataset, 1);
    cr_assert_eq(r->nattributes, 1);
    cr_assert_str_eq(r->attributes[0], "ward");
    cr_assert_eq(r->nexcluded, 0);
    node_ingest_report_destroy(&r);
}

Test(node_ingest, recognises_the_other_identifier_spellings)
{
    node_ingest_report_t *r = ingest_ok("visits", "NHSNumber,Birth Date,SEX,Postal Code,ward\n"
                                                  "9434765919,1950-03-01,1,LS1 4AP,Abbey\n");
    for (int f = 0; f < NODE_ID_COUNT; f++)
        cr_assert(r->has_id[f], "identifier %d not recognised", f);
    cr_assert_eq(r->with_both, 1);
    cr_assert_eq(r->nattributes, 1);
    node_ingest_report_destroy(&r);
}

Test(node_ingest, does_not_store_excluded_columns)
{
    node_ingest_report_t *r = ingest_ok(
        "housing", "nhs_number,Name,Address,Email,Phone,tenure\n"
                   "9434765919,Jane Doe,1 High Street,jane@example.org,07700 900123,social\n"
                   "9434765927,Zed Quill,22 Low Road,zed@example.org,07700 900456,private\n");
    cr_assert_eq(r->rows_stored, 2);
    cr_assert_eq(r->nexcluded, 4);
    cr_assert_str_eq(r->excluded[0], "name");
    cr_assert_str_eq(r->excluded[1], "address");
    cr_assert_str_eq(r->excluded[2], "email");
    cr_assert_str_eq(r->excluded[3], "phone");
    cr_assert_eq(r->nattributes, 1);
    cr_assert_str_eq(r->attributes[0], "tenure");
    node_ingest_report_destroy(&r);

    cr_assert_eq(sql_int("SELECT COUNT(*) FROM columns"), 1);
    char *names = sql_text("SELECT group_concat(name, ',') FROM columns");
    cr_assert_str_eq(names, "tenure");
    free(names);
    const node_store_dataset_t *ds = node_store_find(store, "housing");
    char sql[96];
    /* rec, person, t_nhs, t_dsp and one attribute. */
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM pragma_table_info('d_%lld')",
             (long long)ds->id);
    cr_assert_eq(sql_int(sql), 5);

    size_t len;
    char *bytes = db_bytes_closed(&len);
    cr_assert(contains(bytes, len, "private"), "the attribute should be stored");
    const char *never[] = {"Jane Doe", "Zed Quill", "1 High Street", "22 Low Road",
                           "jane@example.org", "zed@example.org", "07700 900123",
                           "07700 900456", "9434765919", "9434765927"};
    for (size_t i = 0; i < sizeof never / sizeof *never; i++)
        cr_assert_not(contains(bytes, len, never[i]), "'%s' is in the database file", never[i]);
    free(bytes);
}

Test(node_ingest, never_writes_raw_identifiers_to_the_database_file)
{
    node_ingest_report_t *r = ingest_ok("ae", EXTRACT);
    node_ingest_report_destroy(&r);
    size_t len;
    char *bytes = db_bytes_closed(&len);
    cr_assert(contains(bytes, len, "Abbey"), "attributes should be stored");
    cr_assert(contains(bytes, len, "65-74"), "attributes should be stored");
    const char *never[] = {
        "9434765919", "943 476 5919", "943-476-5927", "9434765927", "9434765918",
        "9434765935", "1950-03-01", "01/03/1950", "1931-12-25", "1960-01-01",
        "LS1 4AP", "LS14AP", "ls14ap", "BD7 1DP", "BD71DP", "John Smith", "J Smith",
        "Mary Jones", "Ann Lee", "Bad Check", "nhs:", "dsp:"};
    for (size_t i = 0; i < sizeof never / sizeof *never; i++)
        cr_assert_not(contains(bytes, len, never[i]), "'%s' is in the database file", never[i]);
    free(bytes);
}

Test(node_ingest, never_writes_raw_identifiers_even_before_the_store_is_closed)
{
    /* Two ingests, read while the store is still open, with whatever
     * journal or WAL file exists beside the database. */
    node_ingest_report_t *r = ingest_ok("ae", EXTRACT);
    node_ingest_report_destroy(&r);
    r = ingest_ok("gp", "nhs_number,date_of_birth,sex,postcode,practice\n"
                        "9434765943,1944-07-14,F,SW1A 1AA,P1\n");
    node_ingest_report_destroy(&r);
    char *buf = NULL;
    size_t len = 0;
    const char *suffix[] = {"", "-wal", "-journal"};
    for (size_t i = 0; i < 3; i++) {
        char path[160];
        snprintf(path, sizeof path, "%s%s", db_path, suffix[i]);
        slurp_append(path, &buf, &len);
    }
    cr_assert(contains(buf, len, "P1"));
    const char *never[] = {"9434765943", "1944-07-14", "SW1A 1AA", "SW1A1AA", "9434765919"};
    for (size_t i = 0; i < sizeof never / sizeof *never; i++)
        cr_assert_not(contains(buf, len, never[i]), "'%s' is in the database files", never[i]);
    free(buf);
}

Test(node_ingest, reingesting_a_dataset_replaces_it)
{
    node_ingest_report_t *r = ingest_ok("ae", "nhs_number,ward\n"
                                              "9434765919,Abbey\n"
                                              "9434765927,Priory\n"
                                              "9434765935,Castle\n");
    node_ingest_report_destroy(&r);
    r = ingest_ok("ae", "nhs_number,ward,age_band\n"
                        "9434765943,Abbey,75+\n"
                        "9434765951,Abbey,18-64\n");
    cr_assert_eq(r->rows_stored, 2);
    cr_assert_eq(r->persons_dataset, 2);
    cr_assert_eq(r->persons_node, 2);
    node_ingest_report_destroy(&r);
    cr_assert_eq(node_store_ndatasets(store), 1);
    const node_store_dataset_t *ds = node_store_find(store, "ae");
    cr_assert_eq(ds->rows, 2);
    cr_assert_eq(ds->ncolumns, 2);
    cr_assert_str_eq(ds->columns[1].name, "age_band");
    cr_assert_eq(sql_int("SELECT COUNT(*) FROM datasets"), 1);
    cr_assert_eq(sql_int("SELECT COUNT(*) FROM columns"), 2);
    cr_assert_eq(sql_int("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND "
                         "name LIKE 'd\\_%' ESCAPE '\\'"), 1);
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM d_%lld", (long long)ds->id);
    cr_assert_eq(sql_int(sql), 2);
}

Test(node_ingest, links_persons_across_two_datasets)
{
    node_ingest_report_t *r = ingest_ok("ae", "nhs_number,date_of_birth,sex,postcode,ward\n"
                                              "9434765919,1950-03-01,M,LS1 4AP,Abbey\n"
                                              "9434765927,,,,Priory\n");
    cr_assert_eq(r->persons_dataset, 2);
    cr_assert_eq(r->persons_node, 2);
    node_ingest_report_destroy(&r);
    /* housing knows the first person by DOB/sex/postcode only, and has a
     * third person. */
    r = ingest_ok("housing", "date_of_birth,sex,postcode,tenure\n"
                             "01/03/1950,M,ls1 4ap,social\n"
                             "1931-12-25,F,BD7 1DP,private\n");
    cr_assert_eq(r->persons_dataset, 2);
    cr_assert_eq(r->persons_node, 3);
    node_ingest_report_destroy(&r);
    const node_store_dataset_t *ae = node_store_find(store, "ae");
    const node_store_dataset_t *ho = node_store_find(store, "housing");
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT (SELECT person FROM d_%lld WHERE rec = 1) = "
             "(SELECT person FROM d_%lld WHERE rec = 1)", (long long)ae->id, (long long)ho->id);
    cr_assert_eq(sql_int(sql), 1);
    snprintf(sql, sizeof sql, "SELECT COUNT(DISTINCT person) FROM (SELECT person FROM d_%lld "
             "UNION ALL SELECT person FROM d_%lld)", (long long)ae->id, (long long)ho->id);
    cr_assert_eq(sql_int(sql), 3);
    cr_assert_eq(ae->persons, 2);
    cr_assert_eq(ho->persons, 2);
}

Test(node_ingest, a_new_dataset_merges_two_persons_of_an_older_one)
{
    /* ae holds A (NHS only) and B (DOB/sex/postcode only): two persons
     * until housing shows one record with both. */
    node_ingest_report_t *r = ingest_ok("ae", "nhs_number,date_of_birth,sex,postcode,ward\n"
                                              "9434765919,,,,Abbey\n"
                                              ",1950-03-01,M,LS1 4AP,Priory\n");
    cr_assert_eq(r->persons_dataset, 2);
    node_ingest_report_destroy(&r);
    r = ingest_ok("housing", "nhs_number,date_of_birth,sex,postcode,tenure\n"
                             "9434765919,1950-03-01,M,LS1 4AP,social\n");
    cr_assert_eq(r->persons_dataset, 1);
    cr_assert_eq(r->persons_node, 1);
    node_ingest_report_destroy(&r);
    const node_store_dataset_t *ae = node_store_find(store, "ae");
    cr_assert_eq(ae->persons, 1, "ae's person count is recounted after the merge");
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT COUNT(DISTINCT person) FROM d_%lld", (long long)ae->id);
    cr_assert_eq(sql_int(sql), 1);
    const node_store_dataset_t *ho = node_store_find(store, "housing");
    snprintf(sql, sizeof sql, "SELECT (SELECT person FROM d_%lld WHERE rec = 2) = "
             "(SELECT person FROM d_%lld WHERE rec = 1)", (long long)ae->id, (long long)ho->id);
    cr_assert_eq(sql_int(sql), 1);
}

Test(node_ingest, strict_mode_with_a_bad_row_keeps_the_previous_version)
{
    node_ingest_report_t *r = ingest_ok("ae", "nhs_number,ward\n"
                                              "9434765919,Abbey\n"
                                              "9434765927,Priory\n"
                                              "9434765935,Castle\n");
    node_ingest_report_destroy(&r);
    char *cause = NULL;
    hearth_err_t rc = ingest_as("ae", "nhs_number,ward\n"
                                      "9434765943,Abbey\n"
                                      "9434765951\n", true, key_id, &r, &cause);
    cr_assert_eq(rc, HEARTH_ERR_CSV);
    cr_assert_str_eq(cause, "1 row(s) rejected and --strict given: nothing was stored");
    cr_assert_not_null(r);
    cr_assert_eq(r->rows_read, 2);
    cr_assert_eq(r->rows_rejected, 1);
    cr_assert_eq(r->rows_stored, 0);
    cr_assert_eq(r->rejects[0].line, 3);
    cr_assert_str_eq(r->rejects[0].reason, "expected 2 fields, found 1");
    node_ingest_report_destroy(&r);
    free(cause);

    const node_store_dataset_t *ds = node_store_find(store, "ae");
    cr_assert_eq(ds->rows, 3);
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM d_%lld", (long long)ds->id);
    cr_assert_eq(sql_int(sql), 3);
    node_store_destroy(&store);
    reopen();
    ds = node_store_find(store, "ae");
    cr_assert_eq(ds->rows, 3);
}

Test(node_ingest, strict_mode_without_bad_rows_stores_everything)
{
    node_ingest_report_t *r = NULL;
    char *cause = NULL;
    cr_assert_eq(ingest_as("ae", "nhs_number,ward\n9434765919,Abbey\n", true, key_id, &r,
                           &cause), HEARTH_OK);
    cr_assert_eq(r->rows_stored, 1);
    node_ingest_report_destroy(&r);
}

/* Runs one failing ingest (with a schema file when schema_text is not
 * NULL) against a store holding v1 and checks that the database file is
 * byte-for-byte what it was. */
static void expect_unchanged_with(const char *dataset, const char *text,
                                  const char *schema_text, const char *kid,
                                  hearth_err_t want_rc, const char *want_cause)
{
    node_ingest_report_t *r = ingest_ok("ae", "nhs_number,ward\n"
                                              "9434765919,Abbey\n"
                                              "9434765927,Priory\n");
    node_ingest_report_destroy(&r);
    size_t before_len;
    char *before = db_bytes_closed(&before_len);
    reopen();
    char *cause = NULL;
    hearth_err_t rc = ingest_with(dataset, text, schema_text, false, kid, &r, &cause);
    cr_assert_eq(rc, want_rc, "rc %d: %s", rc, cause ? cause : "");
    cr_assert_str_eq(cause, want_cause);
    free(cause);
    node_ingest_report_destroy(&r);
    cr_assert_eq(node_store_ndatasets(store), 1);
    cr_assert_eq(node_store_find(store, "ae")->rows, 2);
    size_t after_len;
    char *after = db_bytes_closed(&after_len);
    cr_assert_eq(after_len, before_len);
    cr_assert_eq(memcmp(before, after, before_len), 0, "the database file changed");
    free(before);
    free(after);
    reopen();
}

static void expect_unchanged_after(const char *dataset, const char *text, const char *kid,
                                   hearth_err_t want_rc, const char *want_cause)
{
    expect_unchanged_with(dataset, text, NULL, kid, want_rc, want_cause);
}

Test(node_ingest, duplicate_header_names_leave_the_store_unchanged)
{
    expect_unchanged_after("ae", "nhs_number,ward,Ward\n9434765943,Abbey,Abbey\n", key_id,
                           HEARTH_ERR_CSV, "header columns 2 and 3 are both called 'ward'");
}

Test(node_ingest, an_empty_file_leaves_the_store_unchanged)
{
    char want[160];
    snprintf(want, sizeof want, "'%s/ae.csv' is empty: a header row is needed", dir);
    expect_unchanged_after("ae", "", key_id, HEARTH_ERR_CSV, want);
}

Test(node_ingest, an_extract_without_identifiers_leaves_the_store_unchanged)
{
    expect_unchanged_after("ae", "ward,age_band\nAbbey,75+\n", key_id, HEARTH_ERR_CSV,
                           "the extract has no identifier columns to link on: it needs "
                           "nhs_number, or date_of_birth, sex and postcode");
}

Test(node_ingest, an_unnamed_header_column_leaves_the_store_unchanged)
{
    expect_unchanged_after("ae", "nhs_number,ward,--\n9434765943,Abbey,x\n", key_id,
                           HEARTH_ERR_CSV, "header column 3 has no usable name (it needs "
                           "a letter or digit, and at most 63 characters)");
}

Test(node_ingest, a_different_linkage_key_is_refused_and_changes_nothing)
{
    /* Refused inside the ingest's transaction, after the rows were read. */
    char want[200];
    snprintf(want, sizeof want, "this node's data were tokenised with linkage key %s, but "
             "the configured key is deadbeef; their tokens would never link", key_id);
    expect_unchanged_after("ae", "nhs_number,ward\n9434765943,Abbey\n", "deadbeef",
                           HEARTH_ERR_REFUSED, want);
}

/* The cause of a key mismatch names both key ids (never the keys). */
Test(node_ingest, a_different_linkage_key_names_both_key_ids)
{
    node_ingest_report_t *r = ingest_ok("ae", "nhs_number,ward\n9434765919,Abbey\n");
    node_ingest_report_destroy(&r);
    char *cause = NULL;
    cr_assert_eq(ingest_as("gp", "nhs_number,practice\n9434765919,P1\n", false, "deadbeef",
                           &r, &cause), HEARTH_ERR_REFUSED);
    char want[200];
    snprintf(want, sizeof want, "this node's data were tokenised with linkage key %s, but "
             "the configured key is deadbeef; their tokens would never link", key_id);
    cr_assert_str_eq(cause, want);
    free(cause);
    node_ingest_report_destroy(&r);
    cr_assert_eq(node_store_ndatasets(store), 1);
    cr_assert_null(node_store_find(store, "gp"));
}

/* Regression (found and fixed): a second identifier column spelt with an alias is reported with the
 * alias twice ("is a second nhs_no column") instead of naming the
 * identifier it duplicates: plan_header formats ID_COLUMNS[k].name where
 * the canonical name (nhs_number) is meant. */
Test(node_ingest, a_second_identifier_column_is_refused_naming_the_identifier)
{
    node_ingest_report_t *r = NULL;
    char *cause = NULL;
    cr_assert_eq(ingest_as("ae", "nhs_number,NHS No,ward\n9434765919,9434765919,Abbey\n",
                           false, key_id, &r, &cause), HEARTH_ERR_CSV);
    node_ingest_report_destroy(&r);
    cr_assert_eq(node_store_ndatasets(store), 0);
    char got[200];
    snprintf(got, sizeof got, "%s", cause);
    free(cause);
    cr_assert_str_eq(got, "header column 2 ('nhs_no') is a second nhs_number column");
}

Test(node_ingest, a_missing_file_is_an_io_error)
{
    node_ingest_report_t *r = NULL;
    char *cause = NULL;
    char path[128];
    snprintf(path, sizeof path, "%s/absent.csv", dir);
    cr_assert_eq(node_ingest_run(store, tok, key_id, "ae", path, NULL, &r, &cause),
                 HEARTH_ERR_IO);
    cr_assert_not_null(cause);
    free(cause);
    node_ingest_report_destroy(&r);
    cr_assert_eq(node_store_ndatasets(store), 0);
}

Test(node_ingest, trims_blanks_around_attribute_values)
{
    node_ingest_report_t *r = ingest_ok("ae", "nhs_number,ward\n"
                                              "9434765919,  Abbey \n"
                                              "9434765927,\t\n");
    node_ingest_report_destroy(&r);
    const node_store_dataset_t *ds = node_store_find(store, "ae");
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT a0 FROM d_%lld WHERE rec = 1", (long long)ds->id);
    char *v = sql_text(sql);
    cr_assert_str_eq(v, "Abbey");
    free(v);
    snprintf(sql, sizeof sql, "SELECT a0 IS NULL FROM d_%lld WHERE rec = 2", (long long)ds->id);
    cr_assert_eq(sql_int(sql), 1);
}

typedef struct {
    const char *in;
    bool ok;
    const char *out;
} name_case_t;

Test(node_ingest, column_names_are_normalised)
{
    static char a63[64], a64[65], d61[62], d62[63];
    memset(a63, 'a', 63);
    memset(a64, 'a', 64);
    memset(d61, '7', 61);
    memset(d62, '7', 62);
    char c_d61[64];
    snprintf(c_d61, sizeof c_d61, "c_%s", d61);
    const name_case_t cases[] = {
        {"Attendance Date", true, "attendance_date"},
        {" 2nd visit", true, "c_2nd_visit"},
        {"", false, NULL},
        {"   ", false, NULL},
        {"---", false, NULL},
        {a63, true, a63},
        {a64, false, NULL},
        {d61, true, c_d61},
        {d62, false, NULL},
        {"Ward", true, "ward"},
        {"ward", true, "ward"},
        {"Age (years)", true, "age_years"},
        {"__lead__trail__", true, "lead_trail"},
        {"A&E  attendances", true, "a_e_attendances"},
        {"1", true, "c_1"},
        {"caf\xc3\xa9", true, "caf"},
        {"x\"; DROP TABLE y; --", true, "x_drop_table_y"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char out[64];
        memset(out, 'Z', sizeof out);
        bool ok = node_ingest_column_name(cases[i].in, strlen(cases[i].in), out);
        cr_expect_eq(ok, cases[i].ok, "case %zu '%s'", i, cases[i].in);
        if (ok && cases[i].ok)
            cr_expect_str_eq(out, cases[i].out, "case %zu '%s'", i, cases[i].in);
    }
}

Test(node_ingest, column_name_reads_only_len_bytes)
{
    char out[64];
    cr_assert(node_ingest_column_name("wardXYZ", 4, out));
    cr_assert_str_eq(out, "ward");
    cr_assert_not(node_ingest_column_name("ward", 0, out));
}

/* ---- column types ------------------------------------------------------ */

/* Each stored cell of attribute a, in row order, as "typeof:value" joined
 * with '|' (NULL is "null:"); caller frees. */
static char *cells(const char *dataset, size_t a)
{
    const node_store_dataset_t *ds = node_store_find(store, dataset);
    cr_assert_not_null(ds);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT group_concat(typeof(a%zu) || ':' || coalesce(a%zu, ''), "
             "'|') FROM (SELECT a%zu FROM d_%lld ORDER BY rec)", a, a, a, (long long)ds->id);
    return sql_text(sql);
}

static void expect_cells(const char *dataset, size_t a, const char *want)
{
    char *got = cells(dataset, a);
    cr_expect_str_eq(got, want, "column a%zu", a);
    free(got);
}

typedef struct {
    const char *name;
    node_col_type_t type;
    const char *cells;
} type_case_t;

/* One column per case; three rows. */
static const char *const TYPES_EXTRACT =
    "nhs_number,ints,signed,int64,overflow,decimals,mixed,iso,uk,both,bad_date,empty,"
    "spaced,codes,int_then_dec,time\n"
    "9434765919,1,-5,9223372036854775807,9223372036854775808,1.5,1,2020-01-31,1/2/2020,"
    "2020-01-31,01/01/2020,,  5 ,007,3,2020-01-31 10:00\n"
    "9434765927,22,+7,-9223372036854775808,1,-0.25,a,2019-12-31,31/12/2019,1/2/2020,"
    "31/02/2020,,\t6,12,4.5,2020-02-01 10:00\n"
    "9434765935,,-0,0,-2,10,2,2020-02-29,29/02/2020,29/2/2024,,,7 ,0,,2020-02-02 10:00\n";

static const type_case_t TYPE_CASES[] = {
    {"ints", NODE_COL_INTEGER, "integer:1|integer:22|null:"},
    {"signed", NODE_COL_INTEGER, "integer:-5|integer:7|integer:0"},
    {"int64", NODE_COL_INTEGER,
     "integer:9223372036854775807|integer:-9223372036854775808|integer:0"},
    /* Beyond int64 it is no integer; it is still a decimal. */
    {"overflow", NODE_COL_DECIMAL, "real:9.22337203685478e+18|real:1.0|real:-2.0"},
    {"decimals", NODE_COL_DECIMAL, "real:1.5|real:-0.25|real:10.0"},
    {"mixed", NODE_COL_CATEGORICAL, "text:1|text:a|text:2"},
    {"iso", NODE_COL_DATE, "text:2020-01-31|text:2019-12-31|text:2020-02-29"},
    {"uk", NODE_COL_DATE, "text:2020-02-01|text:2019-12-31|text:2020-02-29"},
    {"both", NODE_COL_DATE, "text:2020-01-31|text:2020-02-01|text:2024-02-29"},
    /* 31/02/2020 does not exist, so the column is not dates. */
    {"bad_date", NODE_COL_CATEGORICAL, "text:01/01/2020|text:31/02/2020|null:"},
    {"empty", NODE_COL_CATEGORICAL, "null:|null:|null:"},
    {"spaced", NODE_COL_INTEGER, "integer:5|integer:6|integer:7"},
    /* Inferred as numbers, codes lose their leading zeros: a schema file
     * keeps them (see below). */
    {"codes", NODE_COL_INTEGER, "integer:7|integer:12|integer:0"},
    {"int_then_dec", NODE_COL_DECIMAL, "real:3.0|real:4.5|null:"},
    {"time", NODE_COL_CATEGORICAL,
     "text:2020-01-31 10:00|text:2020-02-01 10:00|text:2020-02-02 10:00"},
};

Test(node_ingest, infers_each_column_type_from_all_its_values)
{
    node_ingest_report_t *r = ingest_ok("t", TYPES_EXTRACT);
    size_t n = sizeof TYPE_CASES / sizeof *TYPE_CASES;
    cr_assert_eq(r->nattributes, n);
    cr_assert(r->typed);
    for (size_t i = 0; i < n; i++) {
        cr_expect_str_eq(r->attributes[i], TYPE_CASES[i].name);
        cr_expect_eq(r->types[i], TYPE_CASES[i].type, "%s: type %d", TYPE_CASES[i].name,
                     r->types[i]);
    }
    node_ingest_report_destroy(&r);
    const node_store_dataset_t *ds = node_store_find(store, "t");
    cr_assert_eq(ds->ncolumns, n);
    for (size_t i = 0; i < n; i++) {
        cr_expect_str_eq(ds->columns[i].name, TYPE_CASES[i].name);
        cr_expect_eq(ds->columns[i].type, TYPE_CASES[i].type, "%s", TYPE_CASES[i].name);
        expect_cells("t", i, TYPE_CASES[i].cells);
    }
    char *types = sql_text("SELECT group_concat(type, ',') FROM (SELECT type FROM columns "
                           "ORDER BY ordinal)");
    cr_assert_str_eq(types, "1,1,1,2,2,0,3,3,3,0,0,1,1,2,0");
    free(types);
}

Test(node_ingest, the_report_lists_each_stored_column_with_its_type)
{
    node_ingest_report_t *r = ingest_ok("ae", "nhs_number,attendance_date,age_band,los,cost\n"
                                              "9434765919,2025-02-01,75+,3,10.50\n"
                                              "9434765927,09/03/2025,65-74,12,7\n");
    char *text = node_ingest_report_format(r);
    cr_assert_not_null(strstr(text, "  attributes stored: attendance_date (date), age_band "
                                    "(categorical), los (integer), cost (decimal)\n"),
                       "%s", text);
    cr_assert_null(strstr(text, "schema file"), "%s", text);
    free(text);
    node_ingest_report_destroy(&r);
}

Test(node_ingest, a_rejected_row_does_not_count_towards_a_type)
{
    /* The short row's "x" would make score categorical if it counted. */
    node_ingest_report_t *r = ingest_ok("s", "nhs_number,score\n"
                                             "9434765919,5\n"
                                             "x\n"
                                             "9434765927,6\n");
    cr_assert_eq(r->rows_rejected, 1);
    cr_assert_eq(r->types[0], NODE_COL_INTEGER);
    node_ingest_report_destroy(&r);
    expect_cells("s", 0, "integer:5|integer:6");
}

/* Builds an extract of n rows whose one attribute is row number i, with
 * last (when not NULL) as the final row's value. Caller frees. */
static char *numbered_extract(size_t n, const char *last)
{
    size_t cap = 32 + n * 32;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    size_t len = (size_t)snprintf(text, cap, "nhs_number,n\n");
    for (size_t i = 1; i <= n; i++) {
        if (i == n && last)
            len += (size_t)snprintf(text + len, cap - len, ",%s\n", last);
        else
            len += (size_t)snprintf(text + len, cap - len, ",%zu\n", i);
    }
    return text;
}

Test(node_ingest, integers_stored_before_a_later_text_value_become_text_again)
{
    /* 10 000 rows (two chunks) of integers, then a word: the column is
     * categorical and every cell is the text it was written as. */
    char *text = numbered_extract(10000, "none");
    node_ingest_report_t *r = ingest_ok("n", text);
    free(text);
    cr_assert_eq(r->rows_stored, 10000);
    cr_assert_eq(r->types[0], NODE_COL_CATEGORICAL);
    node_ingest_report_destroy(&r);
    const node_store_dataset_t *ds = node_store_find(store, "n");
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM d_%lld WHERE typeof(a0) = 'text' AND "
             "a0 = CASE WHEN rec = 10000 THEN 'none' ELSE CAST(rec AS TEXT) END",
             (long long)ds->id);
    cr_assert_eq(sql_int(sql), 10000);
}

Test(node_ingest, a_large_integer_column_is_stored_as_integers)
{
    char *text = numbered_extract(20000, "007");
    node_ingest_report_t *r = ingest_ok("n", text);
    free(text);
    cr_assert_eq(r->types[0], NODE_COL_INTEGER);
    node_ingest_report_destroy(&r);
    const node_store_dataset_t *ds = node_store_find(store, "n");
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM d_%lld WHERE typeof(a0) = 'integer' AND "
             "a0 = CASE WHEN rec = 20000 THEN 7 ELSE rec END", (long long)ds->id);
    cr_assert_eq(sql_int(sql), 20000);
}

Test(node_ingest, the_synthetic_extracts_numbers_and_dates_are_typed)
{
    node_ingest_report_t *r = ingest_ok("visits", "nhs_number,attendance_date,age_band,"
                                                  "wellbeing_score,household_size,ward\n"
                                                  "9434765919,2025-02-01,75+,51,2,Abbey\n"
                                                  "9434765927,2025-03-09,18-44,14,1,Priory\n");
    node_col_type_t want[] = {NODE_COL_DATE, NODE_COL_CATEGORICAL, NODE_COL_INTEGER,
                              NODE_COL_INTEGER, NODE_COL_CATEGORICAL};
    for (size_t i = 0; i < 5; i++)
        cr_expect_eq(r->types[i], want[i], "%s", r->attributes[i]);
    node_ingest_report_destroy(&r);
}

/* ---- schema files ------------------------------------------------------ */

Test(node_ingest, a_schema_keeps_a_numeric_looking_code_categorical)
{
    node_ingest_report_t *r = ingest_schema_ok("gp", "nhs_number,practice_code,list_size\n"
                                                     "9434765919,007,1200\n"
                                                     "9434765927,12,900\n",
                                               "[columns]\npractice_code = categorical\n");
    cr_assert_eq(r->types[0], NODE_COL_CATEGORICAL);
    cr_assert_eq(r->types[1], NODE_COL_INTEGER);
    char *text = node_ingest_report_format(r);
    char want[200];
    snprintf(want, sizeof want, "  schema file:      %s/gp.schema.ini\n", dir);
    cr_assert_not_null(strstr(text, want), "%s", text);
    free(text);
    node_ingest_report_destroy(&r);
    expect_cells("gp", 0, "text:007|text:12");
    expect_cells("gp", 1, "integer:1200|integer:900");
    cr_assert_eq(node_store_find(store, "gp")->columns[0].type, NODE_COL_CATEGORICAL);
}

Test(node_ingest, a_declared_integer_rejects_a_row_that_is_not_one_naming_the_column)
{
    node_ingest_report_t *r = ingest_schema_ok("s", "nhs_number,Age,ward\n"
                                                    "9434765919,42,Abbey\n"
                                                    "9434765927,abc,Priory\n"
                                                    "9434765935, 7 ,Castle\n"
                                                    "9434765943,,Abbey\n",
                                               "[columns]\nage = integer\n");
    cr_assert_eq(r->rows_read, 4);
    cr_assert_eq(r->rows_stored, 3);
    cr_assert_eq(r->rows_rejected, 1);
    cr_assert_eq(r->nrejects, 1);
    cr_assert_eq(r->rejects[0].line, 3);
    cr_assert_str_eq(r->rejects[0].reason, "column 'age': not an integer");
    /* A rejected row counts for nothing else either. */
    cr_assert_eq(r->with_nhs, 3);
    cr_assert_eq(r->id_status[NODE_ID_NHS][KEYS_IDENT_OK], 3);
    cr_assert_eq(r->persons_dataset, 3);
    cr_assert_eq(r->types[0], NODE_COL_INTEGER);
    node_ingest_report_destroy(&r);
    expect_cells("s", 0, "integer:42|integer:7|null:");
    expect_cells("s", 1, "text:Abbey|text:Castle|text:Abbey");
}

Test(node_ingest, declared_decimals_and_dates_are_parsed_and_bad_ones_rejected)
{
    node_ingest_report_t *r = ingest_schema_ok("s", "nhs_number,cost,seen,n\n"
                                                    "9434765919,12,1/2/2020,5\n"
                                                    "9434765927,1e5,2020-02-01,5\n"
                                                    "9434765935,0.5,31/02/2020,5\n"
                                                    "9434765943,-3.25,2020-12-31,5\n",
                                               "[columns]\ncost = decimal\nseen = date\n"
                                               "n = DECIMAL\n");
    cr_assert_eq(r->rows_stored, 2);
    cr_assert_eq(r->nrejects, 2);
    cr_assert_str_eq(r->rejects[0].reason, "column 'cost': not a decimal");
    cr_assert_str_eq(r->rejects[1].reason, "column 'seen': not a date");
    cr_assert_eq(r->types[0], NODE_COL_DECIMAL);
    cr_assert_eq(r->types[1], NODE_COL_DATE);
    cr_assert_eq(r->types[2], NODE_COL_DECIMAL);
    node_ingest_report_destroy(&r);
    expect_cells("s", 0, "real:12.0|real:-3.25");
    expect_cells("s", 1, "text:2020-02-01|text:2020-12-31");
    expect_cells("s", 2, "real:5.0|real:5.0");
}

Test(node_ingest, a_declared_type_in_strict_mode_stores_nothing_on_a_bad_value)
{
    node_ingest_report_t *r = NULL;
    char *cause = NULL;
    cr_assert_eq(ingest_with("s", "nhs_number,age\n9434765919,42\n9434765927,old\n",
                             "[columns]\nage = integer\n", true, key_id, &r, &cause),
                 HEARTH_ERR_CSV);
    cr_assert_str_eq(cause, "1 row(s) rejected and --strict given: nothing was stored");
    cr_assert_str_eq(r->rejects[0].reason, "column 'age': not an integer");
    free(cause);
    node_ingest_report_destroy(&r);
    cr_assert_eq(node_store_ndatasets(store), 0);
}

Test(node_ingest, a_schema_excludes_a_column_so_it_is_never_stored)
{
    node_ingest_report_t *r = ingest_schema_ok("s", "nhs_number,free_text,ward\n"
                                                    "9434765919,rang about Mrs Q,Abbey\n",
                                               "[columns]\nfree_text = exclude\n");
    cr_assert_eq(r->nattributes, 1);
    cr_assert_str_eq(r->attributes[0], "ward");
    cr_assert_eq(r->nomitted, 1);
    cr_assert_str_eq(r->omitted[0], "free_text");
    char *text = node_ingest_report_format(r);
    cr_assert_not_null(strstr(text, "  excluded by the schema: free_text\n"), "%s", text);
    free(text);
    node_ingest_report_destroy(&r);
    size_t len;
    char *bytes = db_bytes_closed(&len);
    cr_assert(contains(bytes, len, "Abbey"));
    cr_assert_not(contains(bytes, len, "Mrs Q"));
    cr_assert_not(contains(bytes, len, "free_text"));
    free(bytes);
    reopen();
}

Test(node_ingest, a_schema_renames_a_column_and_types_it_by_its_header_name)
{
    node_ingest_report_t *r = ingest_schema_ok("s", "nhs_number,WB Score,ward\n"
                                                    "9434765919,51,Abbey\n",
                                               "[columns]\nwb_score = decimal\n"
                                               "[rename]\nWB Score = wellbeing_score\n");
    cr_assert_eq(r->nattributes, 2);
    cr_assert_str_eq(r->attributes[0], "wellbeing_score");
    cr_assert_eq(r->types[0], NODE_COL_DECIMAL);
    node_ingest_report_destroy(&r);
    const node_store_dataset_t *ds = node_store_find(store, "s");
    cr_assert_str_eq(ds->columns[0].name, "wellbeing_score");
    cr_assert_eq(ds->columns[0].type, NODE_COL_DECIMAL);
    cr_assert_eq(node_store_column_index(ds, "wb_score"), -1);
    expect_cells("s", 0, "real:51.0");
}

Test(node_ingest, a_schema_says_which_column_holds_an_identifier)
{
    node_ingest_report_t *r = ingest_schema_ok(
        "s", "patient_dob,sex,postcode,ward\n"
             "1950-03-01,M,LS1 4AP,Abbey\n"
             "01/03/1950,male,ls14ap,Priory\n",
        "[identifiers]\ndate_of_birth = patient_dob\n");
    cr_assert(r->has_id[NODE_ID_DOB]);
    cr_assert_str_eq(r->id_columns[NODE_ID_DOB], "patient_dob");
    cr_assert_eq(r->with_dsp, 2);
    cr_assert_eq(r->persons_dataset, 1);
    cr_assert_eq(r->nattributes, 1);
    cr_assert_str_eq(r->attributes[0], "ward");
    char *text = node_ingest_report_format(r);
    cr_assert_not_null(strstr(text, "    date_of_birth  (column patient_dob) valid: 2;"),
                       "%s", text);
    free(text);
    node_ingest_report_destroy(&r);
    size_t len;
    char *bytes = db_bytes_closed(&len);
    cr_assert_not(contains(bytes, len, "1950-03-01"));
    cr_assert_not(contains(bytes, len, "01/03/1950"));
    free(bytes);
    reopen();
}

Test(node_ingest, a_column_named_like_an_identifier_the_schema_moved_is_not_stored)
{
    /* dob is not the date of birth the schema names, but it looks like
     * one: it is dropped, never stored as an attribute. */
    node_ingest_report_t *r = ingest_schema_ok(
        "s", "dob,patient_dob,sex,postcode,ward\n"
             "1931-12-25,1950-03-01,M,LS1 4AP,Abbey\n",
        "[identifiers]\ndate_of_birth = patient_dob\n");
    cr_assert_eq(r->with_dsp, 1);
    cr_assert_eq(r->nattributes, 1);
    cr_assert_eq(r->nexcluded, 1);
    cr_assert_str_eq(r->excluded[0], "dob");
    node_ingest_report_destroy(&r);
    size_t len;
    char *bytes = db_bytes_closed(&len);
    cr_assert_not(contains(bytes, len, "1931-12-25"));
    free(bytes);
    reopen();
}

Test(node_ingest, a_schema_naming_an_unknown_column_leaves_the_store_unchanged)
{
    char want[300];
    snprintf(want, sizeof want, "schema '%s/ae.schema.ini': [columns] names column 'wardd', "
             "which is not in the extract's header (the schema names columns as the header "
             "does)", dir);
    expect_unchanged_with("ae", "nhs_number,ward\n9434765943,Abbey\n",
                          "[columns]\nwardd = categorical\n", key_id, HEARTH_ERR_CONFIG, want);
}

Test(node_ingest, a_schema_renaming_or_mapping_an_unknown_column_is_refused)
{
    const char *schemas[] = {"[rename]\nwardd = area\n", "[identifiers]\nsex = gender_code\n"};
    const char *want[] = {"[rename] names column 'wardd'", "[identifiers] names column "
                                                           "'gender_code'"};
    for (size_t i = 0; i < 2; i++) {
        node_ingest_report_t *r = NULL;
        char *cause = NULL;
        cr_assert_eq(ingest_with("ae", "nhs_number,ward\n9434765943,Abbey\n", schemas[i],
                                 false, key_id, &r, &cause), HEARTH_ERR_CONFIG);
        cr_assert_not_null(strstr(cause, want[i]), "%s", cause);
        free(cause);
        node_ingest_report_destroy(&r);
        cr_assert_eq(node_store_ndatasets(store), 0);
    }
}

Test(node_ingest, a_schema_cannot_type_rename_or_keep_an_identifier)
{
    typedef struct {
        const char *schema;
        const char *cause;
    } bad_t;
    const bad_t bad[] = {
        {"[columns]\nnhs_number = integer\n",
         "column 'nhs_number' is an identifier, never stored, so it cannot be given a type"},
        {"[rename]\nnhs_number = patient\n",
         "column 'nhs_number' is an identifier, never stored, so it cannot be renamed"},
        {"[columns]\nsurname = categorical\n", "column 'surname' looks like a direct "
                                               "identifier, never stored, so it cannot be "
                                               "given a type"},
        {"[rename]\nward = postcode\n",
         "column 'ward' cannot be renamed 'postcode', a name kept for identifiers"},
        {"[rename]\nward = age\n", "columns 'age' and 'ward' would both be stored as 'age'"},
        {"[identifiers]\nnhs_number = nhs_number\n[columns]\nnhs_number = exclude\n",
         "column 'nhs_number' is both nhs_number in [identifiers] and excluded in [columns]"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        node_ingest_report_t *r = NULL;
        char *cause = NULL;
        cr_assert_eq(ingest_with("ae", "nhs_number,surname,age,ward\n9434765943,X,4,Abbey\n",
                                 bad[i].schema, false, key_id, &r, &cause),
                     HEARTH_ERR_CONFIG, "case %zu: %s", i, cause ? cause : "");
        char want[300];
        snprintf(want, sizeof want, "schema '%s/ae.schema.ini': %s", dir, bad[i].cause);
        cr_expect_str_eq(cause, want, "case %zu", i);
        free(cause);
        node_ingest_report_destroy(&r);
    }
    cr_assert_eq(node_store_ndatasets(store), 0);
}

Test(node_ingest, excluding_an_identifier_column_means_it_is_not_used_for_tokens)
{
    node_ingest_report_t *r = ingest_schema_ok("s", "nhs_number,sex,ward\n"
                                                    "9434765919,M,Abbey\n",
                                               "[columns]\nsex = exclude\n");
    cr_assert_not(r->has_id[NODE_ID_SEX]);
    cr_assert_eq(r->nomitted, 1);
    cr_assert_str_eq(r->omitted[0], "sex");
    cr_assert_eq(r->nattributes, 1);
    node_ingest_report_destroy(&r);
}
