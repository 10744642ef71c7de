/* Tests for node_ledger: a part is admitted once and its record is on disk
 * when admit returns; a replayed part, a part out of range, a part count
 * of 0 or over 64 and a part count that differs from the first sight of
 * the id are refused with the stated causes and record nothing; bad query
 * ids are refused; the file is created owner-only in WAL mode and survives
 * reopening; hostile ids and dataset names are stored as plain values.
 * Receipts are stored committed and listed oldest first, exactly as
 * given; a receipt without a note or with a bad id is refused; the last
 * checkpoint starts empty, only ever grows, and survives reopening, as the
 * receipts do. */
#include "node_ledger.h"

#include <criterion/criterion.h>

#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define AGG HEARTH__SUB_QUERY_KIND__SUBQUERY_AGGREGATE
#define COHORT HEARTH__SUB_QUERY_KIND__SUBQUERY_COHORT
#define TARGET HEARTH__SUB_QUERY_KIND__SUBQUERY_TARGET

static char dir[64];
static char path[128];
static node_ledger_t *ledger;

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void open_ledger(void)
{
    char *cause = NULL;
    hearth_err_t rc = node_ledger_open(path, &ledger, &cause);
    cr_assert_eq(rc, HEARTH_OK, "%s", cause ? cause : "");
    cr_assert_null(cause);
}

static void setup(void)
{
    strcpy(dir, "/tmp/hearth-ledger-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/node.db.ledger", dir);
    open_ledger();
}

static void teardown(void)
{
    node_ledger_destroy(&ledger);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(node_ledger, .init = setup, .fini = teardown);

/* Admits and returns the code; the cause goes to want_cause's check. */
static hearth_err_t admit(const char *id, uint32_t part, uint32_t nparts, const char *dataset,
                          Hearth__SubQueryKind kind, char *cause_out, size_t cap)
{
    char *cause = NULL;
    hearth_err_t rc = node_ledger_admit(ledger, id, part, nparts, dataset, kind,
                                        1700000000000ull + part, &cause);
    snprintf(cause_out, cap, "%s", cause ? cause : "");
    free(cause);
    return rc;
}

static void admit_ok(const char *id, uint32_t part, uint32_t nparts, const char *dataset,
                     Hearth__SubQueryKind kind)
{
    char cause[256];
    hearth_err_t rc = admit(id, part, nparts, dataset, kind, cause, sizeof cause);
    cr_assert_eq(rc, HEARTH_OK, "admitting %s part %u of %u: %s", id, part, nparts, cause);
    cr_assert_str_eq(cause, "");
}

static void admit_refused(const char *id, uint32_t part, uint32_t nparts, hearth_err_t want_rc,
                          const char *want_cause)
{
    char cause[256];
    hearth_err_t rc = admit(id, part, nparts, "ae", COHORT, cause, sizeof cause);
    cr_assert_eq(rc, want_rc, "%s part %u of %u: rc %d (%s)", id, part, nparts, rc, cause);
    cr_assert_str_eq(cause, want_cause);
}

/* The single integer a query on a second connection returns: what is on
 * disk, not what the ledger's own connection holds. */
static int64_t disk_int(const char *sql)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s", sql);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* The single text a query on a second connection returns (caller frees). */
static char *disk_text(const char *sql)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s", sql);
    const unsigned char *t = sqlite3_column_text(st, 0);
    char *s = strdup(t ? (const char *)t : "(null)");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return s;
}

static const char *const REPLAY = "query id already answered";
static const char *const MALFORMED = "malformed part numbering: a query has 1 to 64 parts, "
                                     "each numbered below their count";
static const char *const OTHER_NPARTS = "malformed part numbering: this query id was first "
                                        "seen with another number of parts";

Test(node_ledger, admits_a_part_and_records_it_on_disk_before_returning)
{
    admit_ok("a1b2c3", 0, 1, "ae_attendances", COHORT);
    cr_assert_eq(disk_int("SELECT COUNT(*) FROM queries"), 1);
    cr_assert_eq(disk_int("SELECT nparts FROM queries WHERE query_id = 'a1b2c3'"), 1);
    cr_assert_eq(disk_int("SELECT first_ms FROM queries"), 1700000000000ll);
    cr_assert_eq(disk_int("SELECT COUNT(*) FROM parts"), 1);
    char *row = disk_text("SELECT query_id || '|' || part || '|' || dataset || '|' || kind || "
                          "'|' || at_ms FROM parts");
    cr_assert_str_eq(row, "a1b2c3|0|ae_attendances|cohort|1700000000000");
    free(row);
}

Test(node_ledger, refuses_the_same_part_again)
{
    admit_ok("q1", 0, 1, "ae", COHORT);
    admit_refused("q1", 0, 1, HEARTH_ERR_REFUSED, REPLAY);
    cr_assert_eq(disk_int("SELECT COUNT(*) FROM parts"), 1);
}

Test(node_ledger, refuses_an_aggregate_part_again_too)
{
    admit_ok("q1", 0, 1, "ae", AGG);
    char cause[256];
    cr_assert_eq(admit("q1", 0, 1, "ae", AGG, cause, sizeof cause), HEARTH_ERR_REFUSED);
    cr_assert_str_eq(cause, REPLAY);
}

Test(node_ledger, admits_every_part_of_a_query_once_in_any_order)
{
    admit_ok("q2", 2, 3, "referrals", TARGET);
    admit_ok("q2", 0, 3, "ae", COHORT);
    admit_ok("q2", 1, 3, "housing", TARGET);
    for (uint32_t p = 0; p < 3; p++)
        admit_refused("q2", p, 3, HEARTH_ERR_REFUSED, REPLAY);
    cr_assert_eq(disk_int("SELECT COUNT(*) FROM parts WHERE query_id = 'q2'"), 3);
    cr_assert_eq(disk_int("SELECT COUNT(*) FROM queries"), 1);
    char *kinds = disk_text("SELECT group_concat(kind, ',') FROM (SELECT kind FROM parts "
                            "ORDER BY part)");
    cr_assert_str_eq(kinds, "cohort,target,target");
    free(kinds);
}

Test(node_ledger, refuses_a_part_count_that_differs_from_the_first_sight)
{
    admit_ok("q3", 0, 2, "ae", COHORT);
    admit_refused("q3", 1, 3, HEARTH_ERR_REFUSED, OTHER_NPARTS);
    admit_refused("q3", 0, 1, HEARTH_ERR_REFUSED, OTHER_NPARTS);
    /* The refusals recorded nothing: the right part is still admitted. */
    cr_assert_eq(disk_int("SELECT COUNT(*) FROM parts"), 1);
    admit_ok("q3", 1, 2, "housing", TARGET);
}

Test(node_ledger, refuses_malformed_part_numbering_and_records_nothing)
{
    static const struct {
        uint32_t part, nparts;
    } cases[] = {{0, 0}, {1, 1}, {5, 3}, {0, 65}, {64, 64}, {UINT32_MAX, UINT32_MAX},
                 {0, UINT32_MAX}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        admit_refused("q4", cases[i].part, cases[i].nparts, HEARTH_ERR_REFUSED, MALFORMED);
    cr_assert_eq(disk_int("SELECT COUNT(*) FROM queries"), 0);
    cr_assert_eq(disk_int("SELECT COUNT(*) FROM parts"), 0);
    /* 64 parts is the limit, and allowed. */
    admit_ok("q4", 63, 64, "ae", TARGET);
}

Test(node_ledger, refuses_empty_long_and_unprintable_query_ids)
{
    char long_id[66];
    memset(long_id, 'a', 65);
    long_id[65] = '\0';
    const char *bad[] = {"", long_id, "q 1", "q\n1", "q'1", "q;1", "caf\xc3\xa9", "q/1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        admit_refused(bad[i], 0, 1, HEARTH_ERR_PROTO, "malformed query id (1-64 of A-Z, a-z, "
                      "0-9, '.', '_', ':' and '-')");
    char cause[256];
    cr_assert_eq(admit(NULL, 0, 1, "ae", COHORT, cause, sizeof cause), HEARTH_ERR_PROTO);
    cr_assert_eq(disk_int("SELECT COUNT(*) FROM parts"), 0);
    long_id[64] = '\0';
    admit_ok(long_id, 0, 1, "ae", COHORT);
    admit_ok("Q-1.2_3:4", 0, 1, "ae", COHORT);
}

Test(node_ledger, refuses_an_unknown_kind)
{
    char cause[256];
    cr_assert_eq(admit("q5", 0, 1, "ae", (Hearth__SubQueryKind)7, cause, sizeof cause),
                 HEARTH_ERR_PROTO);
    cr_assert_str_eq(cause, "unknown sub-query kind");
    cr_assert_eq(disk_int("SELECT COUNT(*) FROM parts"), 0);
}

Test(node_ledger, a_dataset_name_is_stored_as_a_plain_value)
{
    const char *hostile = "ae'); DROP TABLE parts; --";
    admit_ok("q6", 0, 1, hostile, AGG);
    char *ds = disk_text("SELECT dataset FROM parts");
    cr_assert_str_eq(ds, hostile);
    free(ds);
    admit_ok("q7", 0, 1, NULL, AGG);
    cr_assert_eq(disk_int("SELECT COUNT(*) FROM parts"), 2);
}

Test(node_ledger, remembers_answered_parts_after_reopening)
{
    admit_ok("q8", 0, 2, "ae", COHORT);
    node_ledger_destroy(&ledger);
    cr_assert_null(ledger);
    open_ledger();
    admit_refused("q8", 0, 2, HEARTH_ERR_REFUSED, REPLAY);
    admit_refused("q8", 1, 3, HEARTH_ERR_REFUSED, OTHER_NPARTS);
    admit_ok("q8", 1, 2, "housing", TARGET);
}

Test(node_ledger, two_ledgers_on_one_file_still_admit_each_part_once)
{
    node_ledger_t *second = NULL;
    char *cause = NULL;
    cr_assert_eq(node_ledger_open(path, &second, &cause), HEARTH_OK, "%s", cause);
    admit_ok("q9", 0, 1, "ae", COHORT);
    hearth_err_t rc = node_ledger_admit(second, "q9", 0, 1, "ae", COHORT, 1, &cause);
    char got[256];
    snprintf(got, sizeof got, "%s", cause ? cause : "");
    free(cause);
    node_ledger_destroy(&second);
    cr_assert_eq(rc, HEARTH_ERR_REFUSED);
    cr_assert_str_eq(got, REPLAY);
}

Test(node_ledger, the_file_is_created_owner_only_in_wal_mode)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    char *mode = disk_text("PRAGMA journal_mode");
    cr_assert_str_eq(mode, "wal");
    free(mode);
}

Test(node_ledger, opening_a_file_that_is_not_a_database_fails_naming_it)
{
    char bad[160];
    snprintf(bad, sizeof bad, "%s/not-a-db", dir);
    FILE *f = fopen(bad, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < 200; i++)
        fputs("this is not an SQLite database, just text\n", f);
    cr_assert_eq(fclose(f), 0);
    node_ledger_t *l = NULL;
    char *cause = NULL;
    hearth_err_t rc = node_ledger_open(bad, &l, &cause);
    char got[512];
    snprintf(got, sizeof got, "%s", cause ? cause : "");
    free(cause);
    cr_assert_eq(rc, HEARTH_ERR_DB);
    cr_assert_null(l);
    char want[512];
    snprintf(want, sizeof want, "ledger '%s' (opening): file is not a database", bad);
    cr_assert_str_eq(got, want);
}

Test(node_ledger, opening_in_a_missing_folder_fails_naming_the_file)
{
    char bad[160];
    snprintf(bad, sizeof bad, "%s/absent/ledger", dir);
    node_ledger_t *l = NULL;
    char *cause = NULL;
    hearth_err_t rc = node_ledger_open(bad, &l, &cause);
    char want[256], got[256];
    snprintf(want, sizeof want, "cannot open ledger '%s': No such file or directory", bad);
    snprintf(got, sizeof got, "%s", cause ? cause : "");
    free(cause);
    cr_assert_eq(rc, HEARTH_ERR_DB);
    cr_assert_null(l);
    cr_assert_str_eq(got, want);
}

Test(node_ledger, destroy_is_null_safe)
{
    node_ledger_destroy(NULL);
    node_ledger_t *l = NULL;
    node_ledger_destroy(&l);
    cr_assert_null(l);
}

/* ---- receipts and the last checkpoint ------------------------------------ */

typedef struct {
    size_t n;
    char lines[8][512];
    hearth_err_t stop_with;   /* returned for the second receipt, when set */
} listing_t;

static hearth_err_t list_one(void *user, const node_ledger_receipt_t *r, char **cause)
{
    listing_t *l = user;
    if (l->stop_with != HEARTH_OK && l->n == 1) {
        hearth_cause_set(cause, "stopped");
        return l->stop_with;
    }
    cr_assert_lt(l->n, 8);
    snprintf(l->lines[l->n++], sizeof l->lines[0], "%llu|%s|%u|%llu|%llu|%s|%llu|%s",
             (unsigned long long)r->seq, r->query_id, r->part, (unsigned long long)r->leaf,
             (unsigned long long)r->size, r->answered ? "answered" : "refused",
             (unsigned long long)r->at_ms, r->note);
    return HEARTH_OK;
}

static void add_receipt(const char *qid, uint32_t part, uint64_t leaf, uint64_t size,
                        bool answered, const char *note)
{
    node_ledger_receipt_t r = {.seq = 99, .query_id = qid, .part = part, .leaf = leaf,
                               .size = size, .answered = answered, .note = note,
                               .at_ms = 1700000000000ull + leaf};
    char *cause = NULL;
    hearth_err_t rc = node_ledger_add_receipt(ledger, &r, &cause);
    char got[256];
    snprintf(got, sizeof got, "%s", cause ? cause : "");
    free(cause);
    cr_assert_eq(rc, HEARTH_OK, "%s", got);
}

static void list(listing_t *l)
{
    char *cause = NULL;
    hearth_err_t rc = node_ledger_receipts(ledger, list_one, l, &cause);
    char got[256];
    snprintf(got, sizeof got, "%s", cause ? cause : "");
    free(cause);
    cr_assert_eq(rc, HEARTH_OK, "%s", got);
}

Test(node_ledger, stores_receipts_on_disk_and_lists_them_oldest_first)
{
    add_receipt("q2", 1, 7, 9, true, "second\n\n\xe2\x80\x94 trust abc=\n");
    cr_assert_eq(disk_int("SELECT COUNT(*) FROM receipts"), 1);
    add_receipt("q1", 0, 3, 9, false, "first'); DROP TABLE receipts; --");
    add_receipt("q2", 1, 12, 15, true, "third");
    listing_t l = {0};
    list(&l);
    cr_assert_eq(l.n, 3);
    cr_assert_str_eq(l.lines[0], "1|q2|1|7|9|answered|1700000000007|second\n\n\xe2\x80\x94 "
                     "trust abc=\n");
    cr_assert_str_eq(l.lines[1], "2|q1|0|3|9|refused|1700000000003|first'); DROP TABLE "
                     "receipts; --");
    cr_assert_str_eq(l.lines[2], "3|q2|1|12|15|answered|1700000000012|third");
    char *outcomes = disk_text("SELECT group_concat(outcome, ',') FROM (SELECT outcome FROM "
                               "receipts ORDER BY seq)");
    cr_assert_str_eq(outcomes, "answered,refused,answered");
    free(outcomes);
}

Test(node_ledger, receipts_survive_reopening)
{
    add_receipt("q1", 0, 3, 4, true, "one");
    node_ledger_destroy(&ledger);
    open_ledger();
    add_receipt("q2", 0, 5, 6, false, "two");
    listing_t l = {0};
    list(&l);
    cr_assert_eq(l.n, 2);
    cr_assert_str_eq(l.lines[0], "1|q1|0|3|4|answered|1700000000003|one");
    cr_assert_str_eq(l.lines[1], "2|q2|0|5|6|refused|1700000000005|two");
}

Test(node_ledger, an_empty_ledger_lists_no_receipts)
{
    listing_t l = {0};
    list(&l);
    cr_assert_eq(l.n, 0);
}

Test(node_ledger, the_listing_stops_at_the_callbacks_error)
{
    add_receipt("q1", 0, 1, 2, true, "one");
    add_receipt("q2", 0, 3, 4, true, "two");
    add_receipt("q3", 0, 5, 6, true, "three");
    listing_t l = {.stop_with = HEARTH_ERR_IO};
    char *cause = NULL;
    hearth_err_t rc = node_ledger_receipts(ledger, list_one, &l, &cause);
    char got[256];
    snprintf(got, sizeof got, "%s", cause ? cause : "");
    free(cause);
    cr_assert_eq(rc, HEARTH_ERR_IO);
    cr_assert_str_eq(got, "stopped");
    cr_assert_eq(l.n, 1);
    /* The ledger is still usable: the read transaction was ended. */
    add_receipt("q4", 0, 7, 8, true, "four");
    admit_ok("q4", 0, 1, "ae", AGG);
    l.stop_with = HEARTH_OK;
    l.n = 0;
    list(&l);
    cr_assert_eq(l.n, 4);
}

Test(node_ledger, refuses_a_receipt_without_a_note_or_with_a_bad_id)
{
    node_ledger_receipt_t bad[] = {
        {.query_id = "q1", .note = NULL},
        {.query_id = "q1", .note = ""},
        {.query_id = "q 1", .note = "n"},
        {.query_id = NULL, .note = "n"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *cause = NULL;
        hearth_err_t rc = node_ledger_add_receipt(ledger, &bad[i], &cause);
        char got[256];
        snprintf(got, sizeof got, "%s", cause ? cause : "");
        free(cause);
        cr_expect_eq(rc, HEARTH_ERR_PROTO, "case %zu", i);
        cr_expect_str_eq(got, "a receipt needs a well-formed query id and a note");
    }
    cr_assert_eq(disk_int("SELECT COUNT(*) FROM receipts"), 0);
}

/* The stored checkpoint as "size|root hex|note" (note "(none)"). */
static void stored(char *out, size_t cap)
{
    uint64_t size = 99;
    uint8_t root[TLOG_HASH_LEN];
    char *note = NULL, *cause = NULL;
    hearth_err_t rc = node_ledger_checkpoint(ledger, &size, root, &note, &cause);
    cr_assert_eq(rc, HEARTH_OK, "%s", cause ? cause : "");
    int n = snprintf(out, cap, "%llu|", (unsigned long long)size);
    for (size_t i = 0; i < 4; i++)
        n += snprintf(out + n, cap - (size_t)n, "%02x", root[i]);
    snprintf(out + n, cap - (size_t)n, "|%s", note ? note : "(none)");
    free(note);
}

static void set_checkpoint(uint64_t size, uint8_t fill, const char *note, bool want_stored)
{
    uint8_t root[TLOG_HASH_LEN];
    memset(root, fill, sizeof root);
    bool was = !want_stored;
    char *cause = NULL;
    hearth_err_t rc = node_ledger_set_checkpoint(ledger, size, root, note, &was, &cause);
    cr_assert_eq(rc, HEARTH_OK, "%s", cause ? cause : "");
    cr_assert_eq(was, want_stored, "size %llu", (unsigned long long)size);
}

Test(node_ledger, the_last_checkpoint_starts_empty_and_only_grows)
{
    char got[256];
    stored(got, sizeof got);
    /* SHA-256 of nothing: e3b0c442... */
    cr_assert_str_eq(got, "0|e3b0c442|(none)");
    set_checkpoint(5, 0xaa, "five", true);
    stored(got, sizeof got);
    cr_assert_str_eq(got, "5|aaaaaaaa|five");
    set_checkpoint(3, 0xbb, "three", false);
    set_checkpoint(5, 0xcc, "five again", false);
    stored(got, sizeof got);
    cr_assert_str_eq(got, "5|aaaaaaaa|five");
    set_checkpoint(9, 0xdd, "nine", true);
    cr_assert_eq(disk_int("SELECT size FROM checkpoint"), 9);
    cr_assert_eq(disk_int("SELECT COUNT(*) FROM checkpoint"), 1);
    node_ledger_destroy(&ledger);
    open_ledger();
    stored(got, sizeof got);
    cr_assert_str_eq(got, "9|dddddddd|nine");
    /* stored may be NULL, and the size is only ever raised. */
    uint8_t root[TLOG_HASH_LEN] = {0};
    char *cause = NULL;
    cr_assert_eq(node_ledger_set_checkpoint(ledger, 4, root, "four", NULL, &cause), HEARTH_OK);
    cr_assert_eq(disk_int("SELECT size FROM checkpoint"), 9);
}

Test(node_ledger, a_reset_forgets_the_checkpoint_and_records_what_and_why)
{
    char *cause = NULL;
    uint64_t forgot = 99;
    cr_assert_eq(node_ledger_reset_checkpoint(ledger, "", 1, &forgot, &cause), HEARTH_ERR_USAGE);
    cr_assert_str_eq(cause, "a reset needs a reason");
    set_checkpoint(9, 0xdd, "nine", true);
    cr_assert_eq(node_ledger_reset_checkpoint(ledger, "gateway log lost; agreed with IG",
                                              1700000000000u, &forgot, &cause), HEARTH_OK);
    cr_assert_eq(forgot, 9);
    char got[256];
    stored(got, sizeof got);
    cr_assert_str_eq(got, "0|e3b0c442|(none)");
    cr_assert_eq(disk_int("SELECT old_size FROM audit_resets"), 9);
    cr_assert_eq(disk_int("SELECT at_ms FROM audit_resets"), 1700000000000);
    char *text = disk_text("SELECT old_note || '/' || reason FROM audit_resets");
    cr_assert_str_eq(text, "nine/gateway log lost; agreed with IG");
    free(text);
    /* A smaller checkpoint is taken again after the reset. */
    set_checkpoint(2, 0xee, "two", true);
    stored(got, sizeof got);
    cr_assert_str_eq(got, "2|eeeeeeee|two");
    free(cause);
}

Test(node_ledger, refuses_a_checkpoint_size_past_2_to_the_63)
{
    uint8_t root[TLOG_HASH_LEN] = {0};
    char *cause = NULL;
    hearth_err_t rc = node_ledger_set_checkpoint(ledger, (uint64_t)INT64_MAX + 1, root, "x",
                                                 NULL, &cause);
    char got[256];
    snprintf(got, sizeof got, "%s", cause ? cause : "");
    free(cause);
    cr_assert_eq(rc, HEARTH_ERR_USAGE);
    cr_assert_str_eq(got, "a checkpoint needs a size below 2^63 and a note");
    cr_assert_eq(disk_int("SELECT COUNT(*) FROM checkpoint"), 0);
}

Test(node_ledger, an_older_ledger_gains_the_new_tables_on_opening)
{
    node_ledger_destroy(&ledger);
    /* A ledger as the previous version made it: admissions only. */
    sqlite3 *db = NULL;
    char old[100];
    snprintf(old, sizeof old, "%s/old.ledger", dir);
    cr_assert_eq(sqlite3_open(old, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, "CREATE TABLE queries(query_id TEXT PRIMARY KEY, nparts "
                              "INTEGER NOT NULL, first_ms INTEGER NOT NULL) WITHOUT ROWID;"
                              "CREATE TABLE parts(query_id TEXT NOT NULL REFERENCES "
                              "queries(query_id), part INTEGER NOT NULL, dataset TEXT NOT "
                              "NULL, kind TEXT NOT NULL, at_ms INTEGER NOT NULL, PRIMARY "
                              "KEY(query_id, part)) WITHOUT ROWID;"
                              "INSERT INTO queries VALUES('q1', 1, 1);"
                              "INSERT INTO parts VALUES('q1', 0, 'ae', 'cohort', 1);",
                              NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    snprintf(path, sizeof path, "%s", old);
    open_ledger();
    admit_refused("q1", 0, 1, HEARTH_ERR_REFUSED, REPLAY);
    add_receipt("q2", 0, 1, 2, true, "new");
    char got[256];
    stored(got, sizeof got);
    cr_assert_str_eq(got, "0|e3b0c442|(none)");
}
