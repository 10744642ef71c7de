/* End to end, issue 5's disclosure control on a running partnership: a
 * differencing pair refused, a stricter project's rules applied and stated
 * in JSON, a differential-privacy project's noise and budget (refused once
 * spent), a node's floor raising the threshold of the queries that touch
 * it, an unknown project refused, the per-analyst rate limit, and the same
 * query giving the same table.
 *
 * `hearth sandbox` writes its own gateway.ini and node.ini each run, so it
 * is used once per test only to make the keys, ingest the extracts and
 * write the configs; it is then stopped, and the test adds any project of
 * its own with `hearth-gateway project add` (its rules given as options,
 * every node approving it in [projects]), then starts hearth-gateway (with
 * [disclosure] settings added to the sandbox's gateway.ini) and each
 * hearth-node itself from that state folder.
 *
 * The extracts are written here, one person per row, so every count is
 * known: trust.ae has wards Abbey 40 (3 of them flag 'Y'), Castle 30,
 * Delph 15 and Fenwick 6; council.housing has tenure social 30, private 25.
 * Each test's expected table is worked out beside it. */
#include "e2e_partnership.h"
#include "e2e_util.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define Q_WARDS "SELECT ward, COUNT(*) FROM trust.ae GROUP BY ward"
#define Q_WARDS_FLAG_N "SELECT ward, COUNT(*) FROM trust.ae WHERE flag = 'N' GROUP BY ward"
#define Q_TENURE "SELECT tenure, COUNT(*) FROM council.housing GROUP BY tenure"

/* The reasons the gateway gives (gateway/gw_diff.h, gw_result.h). */
#define DIFF_REFUSAL                                                                       \
    "this answer, with an earlier one in this project, would single out a few people; "   \
    "ask a broader question"
#define BUDGET_SPENT "this project's privacy budget is spent"

/* Q_WARDS under the defaults (threshold 7, rounding 5): Fenwick 6 is
 * hidden; the rest rounded (Delph 15 stays 15, total 91 -> 90). Fenwick
 * needs no partner: with Abbey in 38..42, Castle 28..32, Delph 13..17 and
 * the total 88..92, it lies anywhere in 1..13. */
#define WARDS_DEFAULT_ROWS                                                                 \
    "\"rows\": [{\"group\": {\"ward\": \"Abbey\"}, \"value\": 40, \"suppressed\": false}, " \
    "{\"group\": {\"ward\": \"Castle\"}, \"value\": 30, \"suppressed\": false}, "          \
    "{\"group\": {\"ward\": \"Delph\"}, \"value\": 15, \"suppressed\": false}, "           \
    "{\"group\": {\"ward\": \"Fenwick\"}, \"value\": null, \"suppressed\": true}], "       \
    "\"total\": {\"value\": 90, \"suppressed\": false}"

/* --- the extracts ------------------------------------------------------------ */

/* The n-th (from 0) valid NHS number, a modulus 11 check digit after the
 * nine digits 943476500 and up. */
static void nhs_number(unsigned n, char out[11])
{
    for (unsigned long base = 943476500ul;; base++) {
        char d[10];
        snprintf(d, sizeof d, "%09lu", base);
        unsigned sum = 0;
        for (int i = 0; i < 9; i++)
            sum += (unsigned)(d[i] - '0') * (unsigned)(10 - i);
        unsigned check = 11 - sum % 11;
        if (check == 10)
            continue;
        if (n-- > 0)
            continue;
        snprintf(out, 11, "%s%u", d, check == 11 ? 0 : check);
        return;
    }
}

/* Writes text to dir/node/name.csv, making the folders. */
static int write_extract(const char *dir, const char *node, const char *name,
                         const char *text)
{
    char *folder = e2e_asprintf("%s/%s", dir, node);
    int rc = (mkdir(dir, 0700) == 0 || errno == EEXIST) &&
                     (mkdir(folder, 0700) == 0 || errno == EEXIST)
                 ? 0
                 : -1;
    char *path = e2e_asprintf("%s/%s.csv", folder, name);
    if (rc == 0)
        rc = e2e_write_file(path, text, strlen(text));
    free(folder);
    free(path);
    return rc;
}

/* trust.ae and council.housing, one distinct person per row. */
static int write_extracts(const char *dir)
{
    static const struct {
        const char *ward;
        unsigned n, flagged;
    } wards[] = {{"Abbey", 40, 3}, {"Castle", 30, 0}, {"Delph", 15, 0}, {"Fenwick", 6, 0}};
    size_t cap = 64 * 1024, len = 0;
    char *ae = malloc(cap), *housing = malloc(cap);
    unsigned person = 0;
    len += (size_t)snprintf(ae + len, cap - len, "nhs_number,ward,flag\n");
    for (size_t w = 0; w < 4; w++)
        for (unsigned i = 0; i < wards[w].n; i++) {
            char nhs[11];
            nhs_number(person++, nhs);
            len += (size_t)snprintf(ae + len, cap - len, "%s,%s,%s\n", nhs, wards[w].ward,
                                    i < wards[w].flagged ? "Y" : "N");
        }
    len = 0;
    len += (size_t)snprintf(housing + len, cap - len, "nhs_number,tenure\n");
    for (unsigned i = 0; i < 55; i++) {
        char nhs[11];
        nhs_number(person++, nhs);
        len += (size_t)snprintf(housing + len, cap - len, "%s,%s\n", nhs,
                                i < 30 ? "social" : "private");
    }
    int rc = write_extract(dir, "trust", "ae", ae);
    if (rc == 0)
        rc = write_extract(dir, "council", "housing", housing);
    free(ae);
    free(housing);
    return rc;
}

/* --- the partnership ----------------------------------------------------------- */

#define NNODES 2
static const char *const NODES[NNODES] = {"council", "trust"};

/* Per-test state (criterion runs each test in a process of its own). */
static struct {
    char *tmp;              /* owned temporary folder holding all of the below */
    char *data;             /* tmp/data: the extracts */
    char *state;            /* tmp/data/.hearth: the sandbox's state folder */
    e2e_partnership_t p;    /* the gateway and nodes this test runs */
    char *why;              /* why the setup failed, or NULL */
} fx;

static void setup(void)
{
    memset(&fx, 0, sizeof fx);
    fx.tmp = e2e_tmpdir("disclosure");
    if (fx.tmp == NULL) {
        fx.why = e2e_asprintf("cannot make a temporary folder");
        return;
    }
    fx.data = e2e_asprintf("%s/data", fx.tmp);
    fx.state = e2e_asprintf("%s/.hearth", fx.data);
    fx.p = (e2e_partnership_t){.state = fx.state, .logs = fx.tmp, .nodes = NODES,
                               .nnodes = NNODES};
    if (write_extracts(fx.data) != 0)
        fx.why = e2e_asprintf("cannot write the extracts");
}

/* Runs whether the test passed or not; HEARTH_E2E_KEEP=1 keeps the folder. */
static void teardown(void)
{
    e2e_partnership_free(&fx.p);
    if (fx.tmp && getenv("HEARTH_E2E_KEEP"))
        fprintf(stderr, "kept %s\n", fx.tmp);
    else
        e2e_rmtree(fx.tmp);
    free(fx.tmp);
    free(fx.data);
    free(fx.state);
    free(fx.why);
    memset(&fx, 0, sizeof fx);
}

TestSuite(e2e_disclosure, .init = setup, .fini = teardown, .timeout = 300);

/* The UTC date days from now, YYYY-MM-DD, into out. */
static void utc_date(long days, char out[11])
{
    time_t t = time(NULL) + (time_t)days * 86400;
    struct tm tm;
    cr_assert_not_null(gmtime_r(&t, &tm));
    cr_assert_eq(strftime(out, 11, "%Y-%m-%d", &tm), 10);
}

/* Adds project id for the sandbox's analyst on both datasets, from today
 * for a year, with the disclosure options policy[0..) (NULL-terminated:
 * "--threshold", "10", ...), through `hearth-gateway project add` on
 * gw_ini. */
static void add_project(const char *gw_ini, const char *id, const char *const *policy)
{
    char today[11], expiry[11];
    utc_date(0, today);
    utc_date(365, expiry);
    char *gw_bin = e2e_bin("hearth-gateway");
    char *argv[40];
    size_t n = 0;
    const char *fixed[] = {gw_bin, "project", "add", "--config", gw_ini, "--id", id,
                           "--title", "Disclosure tests", "--dsa", "DSA-E2E",
                           "--purpose", "End-to-end disclosure control",
                           "--datasets", "trust.ae,council.housing",
                           "--analysts", "sandbox_analyst", "--start", today,
                           "--expiry", expiry, "--by", "e2e"};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        argv[n++] = (char *)fixed[i];
    for (size_t i = 0; policy && policy[i] && n < 39; i++)
        argv[n++] = (char *)policy[i];
    argv[n] = NULL;
    e2e_result_t r;
    int status = e2e_run(argv, 60000, &r);
    cr_assert_eq(status, 0, "project add %s: exit %d: %s", id, status, r.err);
    char *want = e2e_asprintf("added project '%s' (audit leaf ", id);
    cr_assert_eq(strncmp(r.out, want, strlen(want)), 0, "%s", r.out);
    free(want);
    e2e_result_free(&r);
    free(gw_bin);
}

/* Starts the partnership: the sandbox once (keys, ingest, configs), then
 * project (when not NULL; its rules the options policy, NULL-terminated)
 * added and approved by every node, hearth-gateway with gateway_extra
 * appended to the sandbox's gateway.ini, and each node, trust with
 * `min_cell = trust_min_cell` when not 0. Waits until `hearth status`
 * shows every node connected. */
static void start(const char *gateway_extra, const char *project, const char *const *policy,
                  unsigned trust_min_cell)
{
    cr_assert_null(fx.why, "setup failed: %s", fx.why);
    char *log = e2e_asprintf("%s/sandbox.log", fx.tmp);
    e2e_partnership_prepare(fx.data, log);
    free(log);

    char *ini = e2e_asprintf("%s/gateway.ini", fx.state);
    char *base = e2e_partnership_read(ini);
    /* The sandbox's gateway.ini keeps its database in the state folder. */
    char *db_line = e2e_asprintf("database = %s/gateway.db\n", fx.state);
    cr_assert_not_null(strstr(base, db_line), "%s", base);
    free(db_line);
    char *text = e2e_asprintf("%s\n%s", base, gateway_extra);
    char *gw_ini = e2e_asprintf("%s/gateway-e2e.ini", fx.state);
    e2e_partnership_write(gw_ini, text);
    free(base);
    free(text);
    free(ini);
    if (project)
        add_project(gw_ini, project, policy);
    for (size_t i = 0; i < NNODES; i++) {
        char *path = e2e_asprintf("%s/nodes/%s/node.ini", fx.state, NODES[i]);
        char *now = e2e_partnership_read(path);
        if (project) {
            /* The partner approves the test's project too. */
            char *value = e2e_asprintf("*\n%s = *", project);
            char *approved = e2e_partnership_set_line(now, "sandbox = ", value);
            free(value);
            free(now);
            now = approved;
        }
        if (trust_min_cell && strcmp(NODES[i], "trust") == 0) {
            char *value = e2e_asprintf("%s\nmin_cell = %u", NODES[i], trust_min_cell);
            char *with_floor = e2e_partnership_set_line(now, "name = ", value);
            free(value);
            free(now);
            now = with_floor;
        }
        e2e_partnership_write(path, now);
        free(now);
        free(path);
    }
    e2e_partnership_launch(&fx.p, "hearth-gateway", gw_ini, NULL, true);
    free(gw_ini);
}

/* Runs hearth query under project (NULL: the client's own, "sandbox") and
 * returns its exit status; *out gets its standard output (caller frees). */
static int ask(const char *project, const char *format, const char *sql, char **out)
{
    char *hearth = e2e_bin("hearth");
    char *argv[10];
    size_t n = 0;
    argv[n++] = hearth;
    argv[n++] = "query";
    argv[n++] = "--config";
    argv[n++] = fx.p.client;
    argv[n++] = "--format";
    argv[n++] = (char *)format;
    if (project) {
        argv[n++] = "--project";
        argv[n++] = (char *)project;
    }
    argv[n++] = (char *)sql;
    argv[n] = NULL;
    e2e_result_t r;
    int status = e2e_run(argv, E2E_QUERY_TIMEOUT_MS, &r);
    *out = r.out;
    r.out = NULL;
    e2e_result_free(&r);
    free(hearth);
    return status;
}

/* The JSON from "\"rows\"" on, without the query id and node timings. */
static const char *from_rows(const char *json)
{
    const char *at = strstr(json, "\"rows\": ");
    cr_assert_not_null(at, "%s", json);
    return at;
}

/* The "reason" of a JSON refusal; caller frees. */
static char *reason_of(const char *json)
{
    const char *at = strstr(json, "\"reason\": \"");
    cr_assert_not_null(at, "%s", json);
    at += strlen("\"reason\": \"");
    return e2e_asprintf("%.*s", (int)strcspn(at, "\""), at);
}

/* --- tests ------------------------------------------------------------------- */

Test(e2e_disclosure, a_differencing_pair_is_refused)
{
    /* Q_WARDS_FLAG_N is Q_WARDS with one more conjunct, which removes the
     * 3 flagged people of Abbey (40 against 37, the total 91 against 88):
     * subtracting the two tables would single them out. The first is
     * released; the second refused with a reason that holds no number. */
    start("", NULL, NULL, 0);
    char *out = NULL;
    int status = ask(NULL, "json", Q_WARDS, &out);
    cr_assert_eq(status, 0, "%s", out);
    cr_assert_not_null(strstr(out, WARDS_DEFAULT_ROWS), "%s", out);
    free(out);
    status = ask(NULL, "json", Q_WARDS_FLAG_N, &out);
    cr_assert_eq(status, 3, "exit %d: %s", status, out);
    cr_assert_not_null(strstr(out, "\"status\": \"refused\""), "%s", out);
    char *reason = reason_of(out);
    cr_assert_str_eq(reason, DIFF_REFUSAL);
    cr_assert_null(strpbrk(reason, "0123456789"), "the reason holds a number: %s", reason);
    free(reason);
    free(out);
    /* The wider question may still be asked again: a repeat is no pair. */
    status = ask(NULL, "json", Q_WARDS, &out);
    cr_assert_eq(status, 0, "%s", out);
    free(out);
}

Test(e2e_disclosure, a_stricter_project_applies_and_states_its_rules)
{
    /* Threshold 10, rounding 10: Fenwick 6 hidden; Abbey 40, Castle 30,
     * Delph 15 -> 20 (halves up), total 91 -> 90. Fenwick needs no partner:
     * at base 10 a released r stands for r - 5 .. r + 4, so it lies in
     * 85 - 44 - 34 - 24 .. 94 - 35 - 25 - 15 = 1..19. */
    static const char *const strict[] = {"--threshold", "10", "--rounding", "10", NULL};
    start("", "strict", strict, 0);
    char *out = NULL;
    int status = ask("strict", "json", Q_WARDS, &out);
    cr_assert_eq(status, 0, "%s", out);
    cr_assert_not_null(
        strstr(out,
               "\"rows\": [{\"group\": {\"ward\": \"Abbey\"}, \"value\": 40, \"suppressed\": "
               "false}, {\"group\": {\"ward\": \"Castle\"}, \"value\": 30, \"suppressed\": "
               "false}, {\"group\": {\"ward\": \"Delph\"}, \"value\": 20, \"suppressed\": "
               "false}, {\"group\": {\"ward\": \"Fenwick\"}, \"value\": null, \"suppressed\": "
               "true}], \"total\": {\"value\": 90, \"suppressed\": false}, \"disclosure\": "
               "{\"threshold\": 10, \"rounding\": 10, \"suppressed_cells\": 1, \"zeros\": "
               "\"released\", \"protection\": 3, \"dominance\": \"off\", \"project\": "
               "\"strict\"}, \"nodes\": "),
        "%s", out);
    free(out);
    /* The same question under the sandbox's project: the defaults. */
    status = ask(NULL, "json", Q_WARDS, &out);
    cr_assert_eq(status, 0, "%s", out);
    cr_assert_not_null(strstr(out, WARDS_DEFAULT_ROWS ", \"disclosure\": {\"threshold\": 7, "
                                   "\"rounding\": 5, \"suppressed_cells\": 1, \"zeros\": "
                                   "\"released\", \"protection\": 3, \"dominance\": \"off\", "
                                   "\"project\": \"sandbox\"}"),
                       "%s", out);
    free(out);
}

/* Every "value" of a JSON result: its integer, or -1 for null; n of them. */
static size_t json_values(const char *json, long *values, size_t max)
{
    size_t n = 0;
    for (const char *p = json; (p = strstr(p, "\"value\": ")) != NULL && n < max; p++) {
        const char *v = p + strlen("\"value\": ");
        values[n++] = strncmp(v, "null", 4) == 0 ? -1 : strtol(v, NULL, 10);
    }
    return n;
}

Test(e2e_disclosure, a_dp_project_adds_noise_and_refuses_once_its_budget_is_spent)
{
    /* Epsilon 1/100 per count (noise of scale 100, which rounding to 5
     * cannot hide), charged twice per grouped query (its cells and its
     * total are noised separately), and a budget of 6/100: three answers,
     * then refusal. Each
     * answer's counts are still multiples of 5 (noise comes before
     * rounding) and state the budget left, rounded down. Without noise the
     * table would be 40, 30, 15, hidden, total 90 every time; with it, all
     * fifteen released values matching that has a chance far below 1e-6. */
    static const char *const noisy[] = {"--dp-epsilon", "1/100", "--dp-budget", "6/100", NULL};
    start("", "noisy", noisy, 0);
    static const char *const left[] = {"0.04", "0.02", "0"};
    static const long plain[] = {40, 30, 15, -1, 90};
    size_t differ = 0;
    for (size_t q = 0; q < 3; q++) {
        char *out = NULL;
        int status = ask("noisy", "json", Q_WARDS, &out);
        cr_assert_eq(status, 0, "query %zu: %s", q, out);
        char *dp = e2e_asprintf("\"project\": \"noisy\", \"dp\": {\"epsilon\": \"0.01\", "
                                "\"budget_remaining\": \"%s\"}}", left[q]);
        cr_assert_not_null(strstr(out, dp), "wanted %s in %s", dp, out);
        free(dp);
        long values[8];
        size_t n = json_values(from_rows(out), values, 8);
        cr_assert_eq(n, 5, "%s", out);
        for (size_t i = 0; i < n; i++) {
            cr_assert(values[i] == -1 || values[i] % 5 == 0, "value %ld in %s", values[i], out);
            differ += values[i] != plain[i];
        }
        free(out);
    }
    cr_assert_gt(differ, 0, "three noisy tables were exactly the noiseless one");
    char *out = NULL;
    int status = ask("noisy", "json", Q_WARDS, &out);
    cr_assert_eq(status, 3, "%s", out);
    char *reason = reason_of(out);
    cr_assert_str_eq(reason, BUDGET_SPENT);
    free(reason);
    free(out);
    /* Other projects are not affected. */
    status = ask(NULL, "json", Q_WARDS, &out);
    cr_assert_eq(status, 0, "%s", out);
    cr_assert_not_null(strstr(out, WARDS_DEFAULT_ROWS), "%s", out);
    free(out);
}

Test(e2e_disclosure, a_node_floor_raises_the_threshold_of_queries_that_touch_it)
{
    /* trust sets min_cell = 20: Delph 15 and Fenwick 6 hidden, Abbey 40,
     * Castle 30, total 90. The two hidden cells share 88 - 42 - 32 ..
     * 92 - 38 - 28 = 14..26, each anywhere in 1..25: protected. */
    start("", NULL, NULL, 20);
    char *out = NULL;
    int status = ask(NULL, "json", Q_WARDS, &out);
    cr_assert_eq(status, 0, "%s", out);
    cr_assert_not_null(
        strstr(out,
               "\"rows\": [{\"group\": {\"ward\": \"Abbey\"}, \"value\": 40, \"suppressed\": "
               "false}, {\"group\": {\"ward\": \"Castle\"}, \"value\": 30, \"suppressed\": "
               "false}, {\"group\": {\"ward\": \"Delph\"}, \"value\": null, \"suppressed\": "
               "true}, {\"group\": {\"ward\": \"Fenwick\"}, \"value\": null, \"suppressed\": "
               "true}], \"total\": {\"value\": 90, \"suppressed\": false}, \"disclosure\": "
               "{\"threshold\": 20, \"rounding\": 5, \"suppressed_cells\": 2, "),
        "%s", out);
    free(out);
    /* Asked about fewer than its floor of its people, trust does not answer
     * at all (Fenwick's 6), and says why without the number. */
    status = ask(NULL, "json", "SELECT COUNT(*) FROM trust.ae WHERE ward = 'Fenwick'", &out);
    cr_assert_eq(status, 3, "a node's policy is a refusal (exit 3): %s", out);
    cr_assert_not_null(strstr(out, "\"status\": \"refused\""), "%s", out);
    cr_assert_not_null(strstr(out, "this node does not answer questions about 1 to 20 of its "
                                   "people"), "%s", out);
    cr_assert_null(strstr(out, "\"value\""), "%s", out);
    free(out);
    /* council's data alone: its own (default) rules. */
    status = ask(NULL, "json", Q_TENURE, &out);
    cr_assert_eq(status, 0, "%s", out);
    cr_assert_not_null(
        strstr(out,
               "\"rows\": [{\"group\": {\"tenure\": \"private\"}, \"value\": 25, "
               "\"suppressed\": false}, {\"group\": {\"tenure\": \"social\"}, \"value\": 30, "
               "\"suppressed\": false}], \"total\": {\"value\": 55, \"suppressed\": false}, "
               "\"disclosure\": {\"threshold\": 7, "),
        "%s", out);
    free(out);
}

Test(e2e_disclosure, the_same_query_gives_the_same_table_without_dp)
{
    start("", NULL, NULL, 0);
    char *first = NULL, *again = NULL;
    cr_assert_eq(ask(NULL, "csv", Q_WARDS, &first), 0, "%s", first);
    cr_assert_eq(ask(NULL, "csv", Q_WARDS, &again), 0, "%s", again);
    cr_assert_str_eq(again, first);
    cr_assert_str_eq(first, "ward,value,suppressed\nAbbey,40,false\nCastle,30,false\n"
                            "Delph,15,false\nFenwick,,true\nTotal,90,false\n");
    free(first);
    free(again);
}

Test(e2e_disclosure, an_unknown_project_is_refused)
{
    start("", NULL, NULL, 0);
    char *out = NULL;
    int status = ask("nope", "json", Q_WARDS, &out);
    cr_assert_eq(status, 3, "%s", out);
    char *reason = reason_of(out);
    cr_assert_str_eq(reason, "no such project 'nope'");
    free(reason);
    free(out);
}

Test(e2e_disclosure, an_analyst_past_the_hourly_limit_is_refused)
{
    /* Two questions an hour: the third is refused, saying why. A query
     * refused before any node saw it (a typo) does not count. */
    start("[disclosure]\nmax_queries_per_hour = 2\n", NULL, NULL, 0);
    char *out = NULL;
    cr_assert_eq(ask(NULL, "json", "SELECT ward COUNT(*) FROM trust.ae", &out), 2, "%s", out);
    free(out);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(ask(NULL, "json", Q_WARDS, &out), 0, "%s", out);
        free(out);
    }
    cr_assert_eq(ask(NULL, "json", Q_TENURE, &out), 3, "%s", out);
    char *reason = reason_of(out);
    cr_assert_str_eq(reason, "this analyst has already asked 2 questions in the last hour, the most "
                             "this gateway answers; try again later");
    free(reason);
    free(out);
}
