/* Tests for gw_store: the file is created owner-only and refused when
 * others can read it; DP budgets round-trip exactly and survive a reopen;
 * releases are recorded whole, read back in order with sorted conjuncts and
 * cells, kept once when repeated, and bounded per project and family by
 * refusal; transactions commit and roll back; bad input is refused. */
#include "gw_store.h"

#include <criterion/criterion.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];
static char db_path[128];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void setup(void)
{
    strcpy(dir, "/tmp/hearth-gwstore-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(db_path, sizeof db_path, "%s/gateway.db", dir);
}

static void teardown(void)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(gw_store, .init = setup, .fini = teardown);

#define FAMILY_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define FAMILY_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static gw_store_t *open_store(void)
{
    gw_store_t *s = NULL;
    char *cause = NULL;
    hearth_err_t rc = gw_store_open(db_path, &s, &cause);
    cr_assert_eq(rc, HEARTH_OK, "%s", cause ? cause : "");
    cr_assert_null(cause);
    return s;
}

Test(gw_store, creates_the_file_owner_only)
{
    gw_store_t *s = open_store();
    struct stat st;
    cr_assert_eq(stat(db_path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    gw_store_destroy(&s);
    cr_assert_null(s);
    gw_store_destroy(&s);
    gw_store_destroy(NULL);
}

Test(gw_store, refuses_a_file_others_can_read)
{
    FILE *f = fopen(db_path, "w");
    cr_assert_not_null(f);
    fclose(f);
    cr_assert_eq(chmod(db_path, 0644), 0);
    gw_store_t *s = NULL;
    char *cause = NULL;
    cr_assert_eq(gw_store_open(db_path, &s, &cause), HEARTH_ERR_PERM);
    cr_assert_null(s);
    char want[256];
    snprintf(want, sizeof want, "gateway database '%s' must be a file only its owner can read "
             "and write (chmod 600)", db_path);
    cr_assert_str_eq(cause, want);
    free(cause);
}

Test(gw_store, refuses_a_folder_it_cannot_create_in)
{
    char path[160];
    snprintf(path, sizeof path, "%s/absent/gateway.db", dir);
    gw_store_t *s = NULL;
    char *cause = NULL;
    cr_assert_eq(gw_store_open(path, &s, &cause), HEARTH_ERR_DB);
    cr_assert_null(s);
    cr_assert_not_null(strstr(cause, "cannot open gateway database"), "%s", cause);
    free(cause);
}

Test(gw_store, a_budget_round_trips_exactly_and_survives_a_reopen)
{
    gw_store_t *s = open_store();
    char *text = NULL, *cause = NULL;
    cr_assert_eq(gw_store_budget_get(s, "audit", &text, &cause), HEARTH_OK);
    cr_assert_null(text);
    cr_assert_eq(gw_store_budget_set(s, "audit", "3/4", &cause), HEARTH_OK);
    cr_assert_eq(gw_store_budget_set(s, "other", "2", &cause), HEARTH_OK);
    cr_assert_eq(gw_store_budget_get(s, "audit", &text, &cause), HEARTH_OK);
    cr_assert_str_eq(text, "3/4");
    free(text);
    cr_assert_eq(gw_store_budget_set(s, "audit", "1/4", &cause), HEARTH_OK);
    gw_store_destroy(&s);
    s = open_store();
    cr_assert_eq(gw_store_budget_get(s, "audit", &text, &cause), HEARTH_OK);
    cr_assert_str_eq(text, "1/4");
    free(text);
    cr_assert_eq(gw_store_budget_get(s, "other", &text, &cause), HEARTH_OK);
    cr_assert_str_eq(text, "2");
    free(text);
    gw_store_destroy(&s);
}

Test(gw_store, refuses_a_malformed_budget_or_project)
{
    gw_store_t *s = open_store();
    char *cause = NULL;
    const char *bad[] = {"", "1/2'; DROP TABLE budgets; --", "1e3", "one",
                         "12345678901234567890123456789012345678901234567890123456789012345"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_assert_eq(gw_store_budget_set(s, "audit", bad[i], &cause), HEARTH_ERR_USAGE, "%s",
                     bad[i]);
        cr_assert_str_eq(cause, "a budget is 1-64 of 0-9 / . and -");
    }
    char longname[80];
    memset(longname, 'p', 64);
    longname[64] = '\0';
    cr_assert_eq(gw_store_budget_set(s, longname, "1", &cause), HEARTH_ERR_USAGE);
    cr_assert_str_eq(cause, "a project name is at most 63 bytes");
    char *text = NULL;
    cr_assert_eq(gw_store_budget_get(s, longname, &text, &cause), HEARTH_ERR_USAGE);
    cr_assert_null(text);
    free(cause);
    gw_store_destroy(&s);
}

/* What a walk saw, copied out of the borrowed arguments. */
typedef struct {
    size_t matched_calls, releases;
    char conj[8][4][64];
    size_t nconj[8];
    char keys[8][8][32];
    uint64_t counts[8][8];
    size_t ncells[8];
    bool match_result;
    size_t stop_after;     /* 0: never */
} seen_t;

static bool on_match(void *user, const char *const *conjuncts, size_t n)
{
    (void)conjuncts;
    (void)n;
    seen_t *s = user;
    s->matched_calls++;
    return s->match_result;
}

static int on_release(void *user, const char *const *conjuncts, size_t n,
                      const gw_store_cell_t *cells, size_t ncells)
{
    seen_t *s = user;
    size_t r = s->releases++;
    cr_assert_lt(r, 8);
    s->nconj[r] = n;
    for (size_t i = 0; i < n && i < 4; i++)
        snprintf(s->conj[r][i], sizeof s->conj[r][i], "%s", conjuncts[i]);
    s->ncells[r] = ncells;
    for (size_t i = 0; i < ncells && i < 8; i++) {
        snprintf(s->keys[r][i], sizeof s->keys[r][i], "%s", cells[i].key);
        s->counts[r][i] = cells[i].count;
    }
    return s->stop_after && s->releases >= s->stop_after;
}

static void walk(gw_store_t *st, const char *project, const char *family, seen_t *seen,
                 bool use_match)
{
    char *cause = NULL;
    hearth_err_t rc = gw_store_release_each(st, project, family, use_match ? on_match : NULL,
                                            on_release, seen, &cause);
    cr_assert_eq(rc, HEARTH_OK, "%s", cause ? cause : "");
}

static void add(gw_store_t *st, const char *project, const char *family,
                const char *const *conj, size_t n, const gw_store_cell_t *cells, size_t ncells)
{
    char *cause = NULL;
    hearth_err_t rc = gw_store_release_add(st, project, family, conj, n, cells, ncells, &cause);
    cr_assert_eq(rc, HEARTH_OK, "%s", cause ? cause : "");
}

static size_t count(gw_store_t *st, const char *project, const char *family)
{
    size_t n = 99;
    char *cause = NULL;
    cr_assert_eq(gw_store_release_count(st, project, family, &n, &cause), HEARTH_OK);
    return n;
}

Test(gw_store, records_releases_and_reads_them_back_in_order_sorted)
{
    gw_store_t *st = open_store();
    const char *c1[] = {"sex = 'F'", "age > 80"};
    gw_store_cell_t cells1[] = {{"1:B;", 30}, {"", 70}, {"1:A;", 40}};
    add(st, "audit", FAMILY_A, c1, 2, cells1, 3);
    /* No WHERE: no conjuncts at all. */
    gw_store_cell_t cells2[] = {{"", 5}};
    add(st, "audit", FAMILY_A, NULL, 0, cells2, 1);
    /* Another project and another family are kept apart. */
    add(st, "other", FAMILY_A, c1, 2, cells2, 1);
    add(st, "audit", FAMILY_B, c1, 2, cells2, 1);
    cr_assert_eq(count(st, "audit", FAMILY_A), 2);
    cr_assert_eq(count(st, "other", FAMILY_A), 1);
    cr_assert_eq(count(st, "audit", FAMILY_B), 1);
    cr_assert_eq(count(st, "", FAMILY_B), 0);
    gw_store_destroy(&st);
    st = open_store();
    seen_t seen = {0};
    walk(st, "audit", FAMILY_A, &seen, false);
    cr_assert_eq(seen.releases, 2);
    cr_assert_eq(seen.nconj[0], 2);
    cr_assert_str_eq(seen.conj[0][0], "age > 80");
    cr_assert_str_eq(seen.conj[0][1], "sex = 'F'");
    cr_assert_eq(seen.ncells[0], 3);
    cr_assert_str_eq(seen.keys[0][0], "");
    cr_assert_eq(seen.counts[0][0], 70);
    cr_assert_str_eq(seen.keys[0][1], "1:A;");
    cr_assert_eq(seen.counts[0][1], 40);
    cr_assert_str_eq(seen.keys[0][2], "1:B;");
    cr_assert_eq(seen.counts[0][2], 30);
    cr_assert_eq(seen.nconj[1], 0);
    cr_assert_eq(seen.ncells[1], 1);
    cr_assert_eq(seen.counts[1][0], 5);
    gw_store_destroy(&st);
}

Test(gw_store, match_decides_which_releases_are_read)
{
    gw_store_t *st = open_store();
    const char *c1[] = {"a = 1"};
    gw_store_cell_t cells[] = {{"", 9}};
    add(st, "p", FAMILY_A, c1, 1, cells, 1);
    add(st, "p", FAMILY_A, NULL, 0, cells, 1);
    seen_t seen = {.match_result = false};
    walk(st, "p", FAMILY_A, &seen, true);
    cr_assert_eq(seen.matched_calls, 2);
    cr_assert_eq(seen.releases, 0);
    seen = (seen_t){.match_result = true, .stop_after = 1};
    walk(st, "p", FAMILY_A, &seen, true);
    cr_assert_eq(seen.matched_calls, 1);
    cr_assert_eq(seen.releases, 1);
    gw_store_destroy(&st);
}

Test(gw_store, an_equal_release_is_kept_once_whatever_its_order)
{
    gw_store_t *st = open_store();
    const char *c1[] = {"b = 2", "a = 1"};
    const char *c2[] = {"a = 1", "b = 2"};
    gw_store_cell_t cells1[] = {{"1:x;", 10}, {"1:y;", 20}};
    gw_store_cell_t cells2[] = {{"1:y;", 20}, {"1:x;", 10}};
    add(st, "p", FAMILY_A, c1, 2, cells1, 2);
    add(st, "p", FAMILY_A, c2, 2, cells2, 2);
    cr_assert_eq(count(st, "p", FAMILY_A), 1);
    /* The same filter with other counts (the data changed) is another. */
    gw_store_cell_t cells3[] = {{"1:x;", 11}, {"1:y;", 20}};
    add(st, "p", FAMILY_A, c2, 2, cells3, 2);
    cr_assert_eq(count(st, "p", FAMILY_A), 2);
    gw_store_destroy(&st);
}

Test(gw_store, refuses_new_releases_of_a_full_family_but_not_repeats)
{
    gw_store_t *st = open_store();
    char *cause = NULL;
    /* One transaction, so the test pays for one fsync, not ten thousand. */
    cr_assert_eq(gw_store_begin(st, &cause), HEARTH_OK);
    for (size_t i = 0; i < GW_STORE_MAX_RELEASES; i++) {
        gw_store_cell_t cell = {"", i};
        add(st, "p", FAMILY_A, NULL, 0, &cell, 1);
    }
    cr_assert_eq(gw_store_commit(st, &cause), HEARTH_OK);
    cr_assert_eq(count(st, "p", FAMILY_A), GW_STORE_MAX_RELEASES);
    gw_store_cell_t fresh = {"", GW_STORE_MAX_RELEASES};
    cr_assert_eq(gw_store_release_add(st, "p", FAMILY_A, NULL, 0, &fresh, 1, &cause),
                 HEARTH_ERR_REFUSED);
    cr_assert_str_eq(cause, "this project has answered as many questions about tables of this "
                     "shape (these datasets, measure and groups) as the gateway can check "
                     "against each other; start a new project to ask more");
    free(cause);
    cause = NULL;
    cr_assert_eq(count(st, "p", FAMILY_A), GW_STORE_MAX_RELEASES);
    /* A repeat of a kept release is still fine, as are other families and
     * other projects. */
    gw_store_cell_t repeat = {"", 17};
    add(st, "p", FAMILY_A, NULL, 0, &repeat, 1);
    add(st, "p", FAMILY_B, NULL, 0, &fresh, 1);
    add(st, "q", FAMILY_A, NULL, 0, &fresh, 1);
    gw_store_destroy(&st);
}

Test(gw_store, a_rolled_back_transaction_keeps_nothing)
{
    gw_store_t *st = open_store();
    char *cause = NULL;
    cr_assert_eq(gw_store_begin(st, &cause), HEARTH_OK);
    gw_store_cell_t cell = {"", 3};
    add(st, "p", FAMILY_A, NULL, 0, &cell, 1);
    cr_assert_eq(gw_store_budget_set(st, "p", "1/2", &cause), HEARTH_OK);
    gw_store_rollback(st);
    cr_assert_eq(count(st, "p", FAMILY_A), 0);
    char *text = NULL;
    cr_assert_eq(gw_store_budget_get(st, "p", &text, &cause), HEARTH_OK);
    cr_assert_null(text);
    /* Rolling back with nothing open is harmless. */
    gw_store_rollback(st);
    /* A committed one is kept, durably. */
    cr_assert_eq(gw_store_begin(st, &cause), HEARTH_OK);
    add(st, "p", FAMILY_A, NULL, 0, &cell, 1);
    cr_assert_eq(gw_store_budget_set(st, "p", "1/2", &cause), HEARTH_OK);
    cr_assert_eq(gw_store_commit(st, &cause), HEARTH_OK);
    gw_store_destroy(&st);
    st = open_store();
    cr_assert_eq(count(st, "p", FAMILY_A), 1);
    cr_assert_eq(gw_store_budget_get(st, "p", &text, &cause), HEARTH_OK);
    cr_assert_str_eq(text, "1/2");
    free(text);
    gw_store_destroy(&st);
}

/* Transactions nest: an inner rollback undoes only the inner change; the
 * inner commit becomes durable with the outer one alone. */
Test(gw_store, a_nested_begin_is_a_savepoint)
{
    gw_store_t *st = open_store();
    char *cause = NULL, *text = NULL;
    cr_assert_eq(gw_store_begin(st, &cause), HEARTH_OK);
    cr_assert_eq(gw_store_budget_set(st, "p", "3", &cause), HEARTH_OK);
    cr_assert_eq(gw_store_begin(st, &cause), HEARTH_OK);
    cr_assert_eq(gw_store_budget_set(st, "p", "2", &cause), HEARTH_OK);
    gw_store_rollback(st);                      /* the inner one only */
    cr_assert_eq(gw_store_budget_get(st, "p", &text, &cause), HEARTH_OK);
    cr_assert_str_eq(text, "3");
    free(text);
    cr_assert_eq(gw_store_begin(st, &cause), HEARTH_OK);
    cr_assert_eq(gw_store_budget_set(st, "q", "1", &cause), HEARTH_OK);
    cr_assert_eq(gw_store_commit(st, &cause), HEARTH_OK);   /* into the outer one */
    gw_store_rollback(st);                      /* the outer one: all of it goes */
    cr_assert_eq(gw_store_budget_get(st, "p", &text, &cause), HEARTH_OK);
    cr_assert_null(text);
    cr_assert_eq(gw_store_budget_get(st, "q", &text, &cause), HEARTH_OK);
    cr_assert_null(text);
    /* And a fresh outer transaction commits durably. */
    cr_assert_eq(gw_store_begin(st, &cause), HEARTH_OK);
    cr_assert_eq(gw_store_begin(st, &cause), HEARTH_OK);
    cr_assert_eq(gw_store_budget_set(st, "q", "1", &cause), HEARTH_OK);
    cr_assert_eq(gw_store_commit(st, &cause), HEARTH_OK);
    cr_assert_eq(gw_store_commit(st, &cause), HEARTH_OK);
    cr_assert_eq(gw_store_budget_get(st, "q", &text, &cause), HEARTH_OK);
    cr_assert_str_eq(text, "1");
    free(text);
    free(cause);
    gw_store_destroy(&st);
}

Test(gw_store, refuses_bad_releases_storing_nothing)
{
    gw_store_t *st = open_store();
    char *cause = NULL;
    gw_store_cell_t cell = {"", 1};
    cr_assert_eq(gw_store_release_add(st, "p", "ABC", NULL, 0, &cell, 1, &cause),
                 HEARTH_ERR_USAGE);
    cr_assert_str_eq(cause, "a table family is 64 lower-case hex digits");
    cr_assert_eq(gw_store_release_add(st, "p", FAMILY_A "0", NULL, 0, &cell, 1, &cause),
                 HEARTH_ERR_USAGE);
    gw_store_cell_t dup[] = {{"1:x;", 1}, {"1:x;", 2}};
    cr_assert_eq(gw_store_release_add(st, "p", FAMILY_A, NULL, 0, dup, 2, &cause),
                 HEARTH_ERR_USAGE);
    cr_assert_str_eq(cause, "two cells of one release have the same key");
    gw_store_cell_t huge = {"", (uint64_t)INT64_MAX + 1};
    cr_assert_eq(gw_store_release_add(st, "p", FAMILY_A, NULL, 0, &huge, 1, &cause),
                 HEARTH_ERR_USAGE);
    cr_assert_str_eq(cause, "a cell count is beyond what the gateway database keeps");
    gw_store_cell_t nokey = {NULL, 1};
    cr_assert_eq(gw_store_release_add(st, "p", FAMILY_A, NULL, 0, &nokey, 1, &cause),
                 HEARTH_ERR_TOO_BIG);
    cr_assert_eq(gw_store_release_add(st, "p", FAMILY_A, NULL, GW_STORE_MAX_CONJUNCTS + 1,
                                      &cell, 1, &cause), HEARTH_ERR_TOO_BIG);
    cr_assert_eq(count(st, "p", FAMILY_A), 0);
    seen_t seen = {0};
    cr_assert_eq(gw_store_release_each(st, "p", "zz", NULL, on_release, &seen, &cause),
                 HEARTH_ERR_USAGE);
    free(cause);
    gw_store_destroy(&st);
}

/* Values that look like SQL are data, never code. */
Test(gw_store, keeps_hostile_text_as_data)
{
    gw_store_t *st = open_store();
    const char *conj[] = {"name = 'x''); DROP TABLE releases; --'"};
    gw_store_cell_t cells[] = {{"4:';--;", 12}};
    add(st, "p", FAMILY_A, conj, 1, cells, 1);
    seen_t seen = {0};
    walk(st, "p", FAMILY_A, &seen, false);
    cr_assert_eq(seen.releases, 1);
    cr_assert_str_eq(seen.conj[0][0], "name = 'x''); DROP TABLE releases; --'");
    cr_assert_str_eq(seen.keys[0][0], "4:';--;");
    cr_assert_eq(seen.counts[0][0], 12);
    gw_store_destroy(&st);
}
