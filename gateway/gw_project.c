#include "gw_project.h"
#include "audit_event.h"
#include "hearth_buf.h"
#include "hearth_date.h"
#include "hearth_mem.h"
#include "hearth_util.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

/* The policy is stored as plain columns rather than as text so that no
 * parser stands between the database and the rules a query gets. Datasets
 * and analysts have their own tables, one row each, with the analyst's
 * details as they were when the project was added: a later change of
 * [analyst NAME] in the config does not silently change who is approved. */
static const char *const SCHEMA =
    "CREATE TABLE IF NOT EXISTS projects("
    "  id TEXT PRIMARY KEY, title TEXT NOT NULL, dsa TEXT NOT NULL, purpose TEXT NOT NULL,"
    "  start TEXT NOT NULL, expiry TEXT NOT NULL, suspended INTEGER NOT NULL,"
    "  suspended_reason TEXT NOT NULL, threshold INTEGER NOT NULL, rounding INTEGER NOT NULL,"
    "  zeros_disclosive INTEGER NOT NULL, protection INTEGER NOT NULL,"
    "  dominance_kind INTEGER NOT NULL, dominance_p INTEGER NOT NULL,"
    "  dominance_n INTEGER NOT NULL, dominance_k INTEGER NOT NULL,"
    "  dp_epsilon TEXT NOT NULL, dp_budget TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS project_datasets("
    "  project TEXT NOT NULL REFERENCES projects(id), dataset TEXT NOT NULL,"
    "  PRIMARY KEY(project, dataset)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS project_analysts("
    "  project TEXT NOT NULL REFERENCES projects(id), name TEXT NOT NULL,"
    "  key TEXT NOT NULL, display_name TEXT NOT NULL, organisation TEXT NOT NULL,"
    "  PRIMARY KEY(project, name)) WITHOUT ROWID;";

static const char *const SQL_GET =
    "SELECT title, dsa, purpose, start, expiry, suspended, suspended_reason, threshold,"
    " rounding, zeros_disclosive, protection, dominance_kind, dominance_p, dominance_n,"
    " dominance_k, dp_epsilon, dp_budget FROM projects WHERE id = ?1";
static const char *const SQL_GET_DATASETS =
    "SELECT dataset FROM project_datasets WHERE project = ?1 ORDER BY dataset";
static const char *const SQL_GET_ANALYSTS =
    "SELECT name, key, display_name, organisation FROM project_analysts"
    " WHERE project = ?1 ORDER BY name";
static const char *const SQL_EXISTS = "SELECT 1 FROM projects WHERE id = ?1";
static const char *const SQL_IDS = "SELECT id FROM projects ORDER BY id";
static const char *const SQL_INSERT =
    "INSERT INTO projects(id, title, dsa, purpose, start, expiry, suspended,"
    " suspended_reason, threshold, rounding, zeros_disclosive, protection, dominance_kind,"
    " dominance_p, dominance_n, dominance_k, dp_epsilon, dp_budget)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, 0, '', ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";
static const char *const SQL_INSERT_DATASET =
    "INSERT INTO project_datasets(project, dataset) VALUES(?1, ?2)";
static const char *const SQL_INSERT_ANALYST =
    "INSERT INTO project_analysts(project, name, key, display_name, organisation)"
    " VALUES(?1, ?2, ?3, ?4, ?5)";
static const char *const SQL_SET_STATUS =
    "UPDATE projects SET suspended = ?2, suspended_reason = ?3 WHERE id = ?1";

/* ---- helpers ---------------------------------------------------------- */

static hearth_err_t db_fail(sqlite3 *db, const char *what, char **cause)
{
    const char *path = sqlite3_db_filename(db, "main");
    hearth_cause_set(cause, "gateway database '%s' (%s): %s", path ? path : "", what,
                     sqlite3_errmsg(db));
    return HEARTH_ERR_DB;
}

static hearth_err_t prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, char **cause)
{
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        return db_fail(db, "projects", cause);
    }
    return HEARTH_OK;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

/* A project id: 1..63 of a-z 0-9 _ . -, starting with a letter or digit
 * (never with '-', so that it cannot be read as an option). */
static bool id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > GW_PROJECT_ID_MAX)
        return false;
    if (!((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= '0' && id[0] <= '9')))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.'))
            return false;
    }
    return true;
}

/* The name as it may be shown in a reason: the caller may have it from
 * outside, so anything outside a-z 0-9 _ . - becomes '?', cut to
 * GW_NAME_MAX * 2 + 1 bytes (room for "node.dataset"). */
#define SHOWN_MAX (GW_NAME_MAX * 2 + 1)
static void shown(const char *s, char out[SHOWN_MAX + 1])
{
    size_t i = 0;
    for (; s && s[i] && i < SHOWN_MAX; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                  c == '.';
        out[i] = ok ? c : '?';
    }
    out[i] = '\0';
}

static bool text_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 1 && n <= GW_PROJECT_TEXT_MAX && gw_config_text_printable(s);
}

/* YYYY-MM-DD exactly, a real day. */
static bool date_valid(const char *s)
{
    bool iso = false;
    return s && strlen(s) == GW_PROJECT_DATE_LEN &&
           hearth_date_parse(s, GW_PROJECT_DATE_LEN, 1970, 9999, NULL, &iso) == HEARTH_DATE_OK &&
           iso;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted, distinct copies of list[0..n) into a new array (*out, *nout),
 * each a borrowed pointer into list. */
static const char **sorted_distinct(const char *const *list, size_t n, size_t *nout)
{
    const char **v = hearth_calloc(n ? n : 1, sizeof *v);
    memcpy(v, list, n * sizeof *v);
    qsort(v, n, sizeof *v, cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || strcmp(v[k - 1], v[i]) != 0)
            v[k++] = v[i];
    *nout = k;
    return v;
}

/* A column's text, checked to be at most max bytes; NULL when it is not
 * text or too long (a damaged row). */
static const char *column_text(sqlite3_stmt *st, int i, size_t max)
{
    if (sqlite3_column_type(st, i) != SQLITE_TEXT)
        return NULL;
    const char *s = (const char *)sqlite3_column_text(st, i);
    if (s == NULL || (size_t)sqlite3_column_bytes(st, i) > max ||
        strlen(s) != (size_t)sqlite3_column_bytes(st, i))
        return NULL;
    return s;
}

static bool column_uint(sqlite3_stmt *st, int i, uint32_t max, uint32_t *out)
{
    if (sqlite3_column_type(st, i) != SQLITE_INTEGER)
        return false;
    sqlite3_int64 v = sqlite3_column_int64(st, i);
    if (v < 0 || (uint64_t)v > max)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* ---- lifecycle -------------------------------------------------------- */

hearth_err_t gw_project_init(gw_store_t *store, char **cause)
{
    sqlite3 *db = gw_store_db(store);
    char *msg = NULL;
    if (sqlite3_exec(db, SCHEMA, NULL, NULL, &msg) != SQLITE_OK) {
        const char *path = sqlite3_db_filename(db, "main");
        hearth_cause_set(cause, "gateway database '%s' (creating the project tables): %s",
                         path ? path : "", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return HEARTH_ERR_DB;
    }
    return HEARTH_OK;
}

void gw_project_free(gw_project_t **p)
{
    if (p == NULL || *p == NULL)
        return;
    gw_project_t *self = *p;
    free(self->title);
    free(self->dsa);
    free(self->purpose);
    free(self->suspended_reason);
    for (size_t i = 0; i < self->ndatasets; i++)
        free(self->datasets[i]);
    free(self->datasets);
    for (size_t i = 0; i < self->nanalysts; i++) {
        free(self->analysts[i].display_name);
        free(self->analysts[i].organisation);
    }
    free(self->analysts);
    free(self);
    *p = NULL;
}

/* ---- reading ---------------------------------------------------------- */

static hearth_err_t damaged(const char *id, char **cause)
{
    hearth_cause_set(cause, "gateway database: the stored project '%s' is damaged "
                     "(a value is missing or out of range)", id);
    return HEARTH_ERR_DB;
}

/* The project row of id into p (already zeroed, id set). */
static hearth_err_t read_row(sqlite3 *db, gw_project_t *p, char **cause)
{
    sqlite3_stmt *st = NULL;
    hearth_err_t rc = prepare(db, SQL_GET, &st, cause);
    if (rc != HEARTH_OK)
        return rc;
    bind_text(st, 1, p->id);
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE) {
        char s[SHOWN_MAX + 1];
        shown(p->id, s);
        hearth_cause_set(cause, "no such project '%s'", s);
        rc = HEARTH_ERR_NOT_FOUND;
        goto done;
    }
    if (step != SQLITE_ROW) {
        rc = db_fail(db, "reading a project", cause);
        goto done;
    }
    const char *title = column_text(st, 0, GW_PROJECT_TEXT_MAX);
    const char *dsa = column_text(st, 1, GW_PROJECT_TEXT_MAX);
    const char *purpose = column_text(st, 2, GW_PROJECT_TEXT_MAX);
    const char *start = column_text(st, 3, GW_PROJECT_DATE_LEN);
    const char *expiry = column_text(st, 4, GW_PROJECT_DATE_LEN);
    const char *reason = column_text(st, 6, GW_PROJECT_TEXT_MAX);
    const char *eps = column_text(st, 15, GW_CONFIG_DP_TEXT_MAX);
    const char *budget = column_text(st, 16, GW_CONFIG_DP_TEXT_MAX);
    uint32_t suspended, zeros, kind;
    gw_project_policy_t *pol = &p->policy;
    if (!title || !dsa || !purpose || !start || !expiry || !reason || !eps || !budget ||
        !column_uint(st, 5, 1, &suspended) || !column_uint(st, 7, 1000, &pol->disclosure.threshold) ||
        !column_uint(st, 8, 1000, &pol->disclosure.rounding) || !column_uint(st, 9, 1, &zeros) ||
        !column_uint(st, 10, 1000, &pol->disclosure.protection) ||
        !column_uint(st, 11, GW_DOMINANCE_NK, &kind) ||
        !column_uint(st, 12, 100, &pol->dominance.p) ||
        !column_uint(st, 13, GW_DOMINANCE_MAX_N, &pol->dominance.n) ||
        !column_uint(st, 14, 99, &pol->dominance.k)) {
        rc = damaged(p->id, cause);
        goto done;
    }
    p->title = hearth_strdup(title);
    p->dsa = hearth_strdup(dsa);
    p->purpose = hearth_strdup(purpose);
    strcpy(p->start, start);
    strcpy(p->expiry, expiry);
    p->suspended = suspended == 1;
    p->suspended_reason = hearth_strdup(reason);
    pol->disclosure.zeros_disclosive = zeros == 1;
    pol->dominance.kind = (gw_dominance_kind_t)kind;
    strcpy(pol->dp_epsilon, eps);
    strcpy(pol->dp_budget, budget);
done:
    sqlite3_finalize(st);
    return rc;
}

static hearth_err_t read_datasets(sqlite3 *db, gw_project_t *p, char **cause)
{
    sqlite3_stmt *st = NULL;
    hearth_err_t rc = prepare(db, SQL_GET_DATASETS, &st, cause);
    if (rc != HEARTH_OK)
        return rc;
    bind_text(st, 1, p->id);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *ds = column_text(st, 0, SHOWN_MAX);
        if (ds == NULL || p->ndatasets >= GW_PROJECT_MAX_DATASETS) {
            rc = damaged(p->id, cause);
            goto done;
        }
        p->datasets = hearth_reallocarray(p->datasets, p->ndatasets + 1, sizeof *p->datasets);
        p->datasets[p->ndatasets++] = hearth_strdup(ds);
    }
    if (step != SQLITE_DONE)
        rc = db_fail(db, "reading a project's datasets", cause);
done:
    sqlite3_finalize(st);
    return rc;
}

static hearth_err_t read_analysts(sqlite3 *db, gw_project_t *p, char **cause)
{
    sqlite3_stmt *st = NULL;
    hearth_err_t rc = prepare(db, SQL_GET_ANALYSTS, &st, cause);
    if (rc != HEARTH_OK)
        return rc;
    bind_text(st, 1, p->id);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = column_text(st, 0, GW_NAME_MAX);
        const char *key = column_text(st, 1, 40);
        const char *display = column_text(st, 2, GW_PEER_TEXT_MAX);
        const char *org = column_text(st, 3, GW_PEER_TEXT_MAX);
        if (!name || !key || strlen(key) != 40 || !display || !org ||
            p->nanalysts >= GW_PROJECT_MAX_ANALYSTS) {
            rc = damaged(p->id, cause);
            goto done;
        }
        p->analysts = hearth_reallocarray(p->analysts, p->nanalysts + 1, sizeof *p->analysts);
        gw_project_analyst_t *a = &p->analysts[p->nanalysts++];
        memset(a, 0, sizeof *a);
        strcpy(a->name, name);
        strcpy(a->key, key);
        a->display_name = hearth_strdup(display);
        a->organisation = hearth_strdup(org);
    }
    if (step != SQLITE_DONE)
        rc = db_fail(db, "reading a project's analysts", cause);
done:
    sqlite3_finalize(st);
    return rc;
}

hearth_err_t gw_project_get(gw_store_t *store, const char *id, gw_project_t **out, char **cause)
{
    *out = NULL;
    if (!id_valid(id)) {
        char s[SHOWN_MAX + 1];
        shown(id, s);
        hearth_cause_set(cause, "no such project '%s'", s);
        return HEARTH_ERR_NOT_FOUND;
    }
    sqlite3 *db = gw_store_db(store);
    gw_project_t *p = hearth_calloc(1, sizeof *p);
    strcpy(p->id, id);
    hearth_err_t rc;
    if ((rc = read_row(db, p, cause)) != HEARTH_OK ||
        (rc = read_datasets(db, p, cause)) != HEARTH_OK ||
        (rc = read_analysts(db, p, cause)) != HEARTH_OK)
        goto fail;
    *out = p;
    return HEARTH_OK;
fail:
    gw_project_free(&p);
    return rc;
}

hearth_err_t gw_project_list(gw_store_t *store, gw_project_t ***out, size_t *n, char **cause)
{
    *out = NULL;
    *n = 0;
    sqlite3 *db = gw_store_db(store);
    sqlite3_stmt *st = NULL;
    char **ids = NULL;
    size_t nids = 0;
    gw_project_t **list = NULL;
    size_t nlist = 0;
    hearth_err_t rc = prepare(db, SQL_IDS, &st, cause);
    if (rc != HEARTH_OK)
        goto fail;
    /* The ids first, then each project: gw_project_get runs statements of
     * its own, which is simpler with this one finished. */
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = column_text(st, 0, GW_PROJECT_ID_MAX);
        if (id == NULL) {
            hearth_cause_set(cause, "gateway database: a stored project id is damaged");
            rc = HEARTH_ERR_DB;
            goto fail;
        }
        ids = hearth_reallocarray(ids, nids + 1, sizeof *ids);
        ids[nids++] = hearth_strdup(id);
    }
    if (step != SQLITE_DONE) {
        rc = db_fail(db, "listing projects", cause);
        goto fail;
    }
    list = hearth_calloc(nids ? nids : 1, sizeof *list);
    for (; nlist < nids; nlist++)
        if ((rc = gw_project_get(store, ids[nlist], &list[nlist], cause)) != HEARTH_OK)
            goto fail;
    for (size_t i = 0; i < nids; i++)
        free(ids[i]);
    free(ids);
    sqlite3_finalize(st);
    *out = list;
    *n = nlist;
    return HEARTH_OK;
fail:
    for (size_t i = 0; i < nids; i++)
        free(ids[i]);
    free(ids);
    sqlite3_finalize(st);
    gw_project_list_free(&list, nlist);
    return rc;
}

void gw_project_list_free(gw_project_t ***list, size_t n)
{
    if (list == NULL || *list == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        gw_project_free(&(*list)[i]);
    free(*list);
    *list = NULL;
}

/* ---- changes ---------------------------------------------------------- */

/* Every check of spec that needs no database; *cause names the field. */
static hearth_err_t check_spec(const gw_config_t *cfg, const gw_project_spec_t *spec,
                               char **cause)
{
    if (!id_valid(spec->id)) {
        hearth_cause_set(cause, "the project id must be 1-63 of a-z, 0-9, _ . and -, "
                         "starting with a letter or digit");
        return HEARTH_ERR_USAGE;
    }
    const struct {
        const char *name, *value;
    } texts[] = {{"title", spec->title}, {"dsa", spec->dsa}, {"purpose", spec->purpose}};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        if (!text_valid(texts[i].value)) {
            hearth_cause_set(cause, "the %s must be 1-%d bytes of printable UTF-8",
                             texts[i].name, GW_PROJECT_TEXT_MAX);
            return HEARTH_ERR_USAGE;
        }
    }
    if (!date_valid(spec->start) || !date_valid(spec->expiry)) {
        hearth_cause_set(cause, "the %s date must be a real day written YYYY-MM-DD",
                         date_valid(spec->start) ? "expiry" : "start");
        return HEARTH_ERR_USAGE;
    }
    if (strcmp(spec->start, spec->expiry) > 0) {
        hearth_cause_set(cause, "the start date %s is after the expiry date %s", spec->start,
                         spec->expiry);
        return HEARTH_ERR_USAGE;
    }
    if (spec->ndatasets == 0 || spec->ndatasets > GW_PROJECT_MAX_DATASETS) {
        hearth_cause_set(cause, "a project approves 1-%d datasets", GW_PROJECT_MAX_DATASETS);
        return HEARTH_ERR_USAGE;
    }
    for (size_t i = 0; i < spec->ndatasets; i++) {
        const char *ds = spec->datasets[i];
        const char *dot = ds ? strchr(ds, '.') : NULL;
        char node[GW_NAME_MAX + 1];
        char s[SHOWN_MAX + 1];
        shown(ds, s);
        size_t nlen = dot ? (size_t)(dot - ds) : 0;
        if (dot == NULL || nlen > GW_NAME_MAX || !hearth_name_valid(dot + 1)) {
            hearth_cause_set(cause, "dataset '%s' must be written node.dataset (each 1-63 of "
                             "a-z, 0-9 and _, starting with a letter)", s);
            return HEARTH_ERR_USAGE;
        }
        memcpy(node, ds, nlen);
        node[nlen] = '\0';
        if (!hearth_name_valid(node)) {
            hearth_cause_set(cause, "dataset '%s' must be written node.dataset (each 1-63 of "
                             "a-z, 0-9 and _, starting with a letter)", s);
            return HEARTH_ERR_USAGE;
        }
        if (gw_config_node(cfg, node) == NULL) {
            hearth_cause_set(cause, "dataset '%s': there is no [node %s] in the gateway config",
                             s, node);
            return HEARTH_ERR_USAGE;
        }
    }
    if (spec->nanalysts == 0 || spec->nanalysts > GW_PROJECT_MAX_ANALYSTS) {
        hearth_cause_set(cause, "a project has 1-%d analysts", GW_PROJECT_MAX_ANALYSTS);
        return HEARTH_ERR_USAGE;
    }
    for (size_t i = 0; i < spec->nanalysts; i++) {
        const gw_peer_t *a = gw_config_analyst(cfg, spec->analysts[i]);
        char s[SHOWN_MAX + 1];
        shown(spec->analysts[i], s);
        if (a == NULL) {
            hearth_cause_set(cause, "analyst '%s' is not in the gateway config (add an "
                             "[analyst %s] section first)", s, s);
            return HEARTH_ERR_USAGE;
        }
        if (!(a->roles & GW_ROLE_ANALYST)) {
            hearth_cause_set(cause, "'%s' does not have the analyst role in the gateway config "
                             "(roles = analyst)", s);
            return HEARTH_ERR_USAGE;
        }
    }
    char *why = NULL;
    if (gw_config_policy_check(cfg, &spec->policy, &why) != HEARTH_OK) {
        hearth_cause_set(cause, "disclosure rules: %s", why);
        free(why);
        return HEARTH_ERR_REFUSED;
    }
    return HEARTH_OK;
}

/* Runs st (bound) to completion; HEARTH_ERR_DB naming what. */
static hearth_err_t run(sqlite3 *db, sqlite3_stmt *st, const char *what, char **cause)
{
    int step = sqlite3_step(st);
    hearth_err_t rc = step == SQLITE_DONE ? HEARTH_OK : db_fail(db, what, cause);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* The rows of a new project: its row, then one per dataset and analyst. */
static hearth_err_t insert(sqlite3 *db, const gw_config_t *cfg, const gw_project_spec_t *spec,
                           const char *const *datasets, size_t ndatasets,
                           const char *const *analysts, size_t nanalysts, char **cause)
{
    sqlite3_stmt *st = NULL;
    hearth_err_t rc = prepare(db, SQL_INSERT, &st, cause);
    if (rc != HEARTH_OK)
        return rc;
    const gw_project_policy_t *pol = &spec->policy;
    bind_text(st, 1, spec->id);
    bind_text(st, 2, spec->title);
    bind_text(st, 3, spec->dsa);
    bind_text(st, 4, spec->purpose);
    bind_text(st, 5, spec->start);
    bind_text(st, 6, spec->expiry);
    sqlite3_bind_int64(st, 7, pol->disclosure.threshold);
    sqlite3_bind_int64(st, 8, pol->disclosure.rounding);
    sqlite3_bind_int64(st, 9, pol->disclosure.zeros_disclosive ? 1 : 0);
    sqlite3_bind_int64(st, 10, pol->disclosure.protection);
    sqlite3_bind_int64(st, 11, pol->dominance.kind);
    sqlite3_bind_int64(st, 12, pol->dominance.p);
    sqlite3_bind_int64(st, 13, pol->dominance.n);
    sqlite3_bind_int64(st, 14, pol->dominance.k);
    bind_text(st, 15, pol->dp_epsilon);
    bind_text(st, 16, pol->dp_budget);
    rc = run(db, st, "adding a project", cause);
    sqlite3_finalize(st);
    st = NULL;
    if (rc != HEARTH_OK)
        return rc;
    if ((rc = prepare(db, SQL_INSERT_DATASET, &st, cause)) != HEARTH_OK)
        return rc;
    for (size_t i = 0; i < ndatasets && rc == HEARTH_OK; i++) {
        bind_text(st, 1, spec->id);
        bind_text(st, 2, datasets[i]);
        rc = run(db, st, "adding a project's dataset", cause);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc != HEARTH_OK)
        return rc;
    if ((rc = prepare(db, SQL_INSERT_ANALYST, &st, cause)) != HEARTH_OK)
        return rc;
    for (size_t i = 0; i < nanalysts && rc == HEARTH_OK; i++) {
        const gw_peer_t *a = gw_config_analyst(cfg, analysts[i]);
        char z85[41];
        zmq_z85_encode(z85, a->key, sizeof a->key);
        bind_text(st, 1, spec->id);
        bind_text(st, 2, a->name);
        bind_text(st, 3, z85);
        bind_text(st, 4, a->display_name);
        bind_text(st, 5, a->organisation);
        rc = run(db, st, "adding a project's analyst", cause);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Whether project id exists (*exists). */
static hearth_err_t exists(sqlite3 *db, const char *id, bool *found, char **cause)
{
    sqlite3_stmt *st = NULL;
    hearth_err_t rc = prepare(db, SQL_EXISTS, &st, cause);
    if (rc != HEARTH_OK)
        return rc;
    bind_text(st, 1, id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW || step == SQLITE_DONE)
        *found = step == SQLITE_ROW;
    else
        rc = db_fail(db, "looking up a project", cause);
    sqlite3_finalize(st);
    return rc;
}

/* A savepoint makes each change all-or-nothing whether or not the caller
 * has a transaction open (inside one, it nests). */
static hearth_err_t savepoint(sqlite3 *db, const char *sql, char **cause)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(db, "projects", cause);
    return HEARTH_OK;
}

static void savepoint_undo(sqlite3 *db)
{
    (void)sqlite3_exec(db, "ROLLBACK TO gw_project; RELEASE gw_project", NULL, NULL, NULL);
}

hearth_err_t gw_project_add(gw_store_t *store, const gw_config_t *cfg,
                            const gw_project_spec_t *spec, gw_project_t **out, char **cause)
{
    if (out)
        *out = NULL;
    hearth_err_t rc = check_spec(cfg, spec, cause);
    if (rc != HEARTH_OK)
        return rc;
    sqlite3 *db = gw_store_db(store);
    size_t ndatasets = 0, nanalysts = 0;
    const char **datasets = sorted_distinct(spec->datasets, spec->ndatasets, &ndatasets);
    const char **analysts = sorted_distinct(spec->analysts, spec->nanalysts, &nanalysts);
    gw_project_t *p = NULL;
    bool found = false;
    if ((rc = savepoint(db, "SAVEPOINT gw_project", cause)) != HEARTH_OK)
        goto done;
    if ((rc = exists(db, spec->id, &found, cause)) != HEARTH_OK)
        goto undo;
    if (found) {
        hearth_cause_set(cause, "project '%s' already exists", spec->id);
        rc = HEARTH_ERR_EXISTS;
        goto undo;
    }
    if ((rc = insert(db, cfg, spec, datasets, ndatasets, analysts, nanalysts, cause)) !=
        HEARTH_OK)
        goto undo;
    /* Its description is the text of the GOVERNANCE event, which the
     * audit log bounds: a project too large to record is not added. */
    if ((rc = gw_project_get(store, spec->id, &p, cause)) != HEARTH_OK)
        goto undo;
    char *text = gw_project_describe(p);
    size_t len = strlen(text);
    free(text);
    if (len > AUDIT_TEXT_MAX) {
        hearth_cause_set(cause, "the project's description is %zu bytes, more than the audit "
                         "log's %zu: approve fewer datasets or analysts", len, AUDIT_TEXT_MAX);
        rc = HEARTH_ERR_TOO_BIG;
        goto undo;
    }
    if ((rc = savepoint(db, "RELEASE gw_project", cause)) != HEARTH_OK)
        goto undo;
    if (out) {
        *out = p;
        p = NULL;
    }
    goto done;
undo:
    savepoint_undo(db);
done:
    gw_project_free(&p);
    free(datasets);
    free(analysts);
    return rc;
}

/* Sets the status of project id: suspended with reason, or active. */
static hearth_err_t set_status(gw_store_t *store, const char *id, bool suspend,
                               const char *reason, char **cause)
{
    if (!id_valid(id)) {
        hearth_cause_set(cause, "the project id must be 1-63 of a-z, 0-9, _ . and -, "
                         "starting with a letter or digit");
        return HEARTH_ERR_USAGE;
    }
    if (suspend && !text_valid(reason)) {
        hearth_cause_set(cause, "the reason must be 1-%d bytes of printable UTF-8",
                         GW_PROJECT_TEXT_MAX);
        return HEARTH_ERR_USAGE;
    }
    sqlite3 *db = gw_store_db(store);
    gw_project_t *p = NULL;
    sqlite3_stmt *st = NULL;
    hearth_err_t rc = savepoint(db, "SAVEPOINT gw_project", cause);
    if (rc != HEARTH_OK)
        return rc;
    if ((rc = gw_project_get(store, id, &p, cause)) != HEARTH_OK)
        goto undo;
    if (p->suspended == suspend) {
        if (suspend)
            hearth_cause_set(cause, "project '%s' is already suspended: %s", id,
                             p->suspended_reason);
        else
            hearth_cause_set(cause, "project '%s' is not suspended", id);
        rc = HEARTH_ERR_REFUSED;
        goto undo;
    }
    if ((rc = prepare(db, SQL_SET_STATUS, &st, cause)) != HEARTH_OK)
        goto undo;
    bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, suspend ? 1 : 0);
    bind_text(st, 3, suspend ? reason : "");
    if ((rc = run(db, st, suspend ? "suspending a project" : "resuming a project", cause)) !=
        HEARTH_OK)
        goto undo;
    if ((rc = savepoint(db, "RELEASE gw_project", cause)) != HEARTH_OK)
        goto undo;
    sqlite3_finalize(st);
    gw_project_free(&p);
    return HEARTH_OK;
undo:
    sqlite3_finalize(st);
    gw_project_free(&p);
    savepoint_undo(db);
    return rc;
}

hearth_err_t gw_project_suspend(gw_store_t *store, const char *id, const char *reason,
                                char **cause)
{
    return set_status(store, id, true, reason, cause);
}

hearth_err_t gw_project_resume(gw_store_t *store, const char *id, char **cause)
{
    return set_status(store, id, false, NULL, cause);
}

/* ---- text ------------------------------------------------------------- */

/* s in double quotes, with " and \ escaped by a backslash. */
static void append_quoted(hearth_buf_t *b, const char *s)
{
    (void)hearth_buf_add(b, "\"", 1);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            (void)hearth_buf_add(b, "\\", 1);
        (void)hearth_buf_add(b, s, 1);
    }
    (void)hearth_buf_add(b, "\"", 1);
}

static void append_line(hearth_buf_t *b, const char *key, const char *value)
{
    (void)hearth_buf_adds(b, key);
    (void)hearth_buf_adds(b, ": ");
    (void)hearth_buf_adds(b, value);
    (void)hearth_buf_adds(b, "\n");
}

static void append_uint(hearth_buf_t *b, const char *key, uint32_t v)
{
    char num[16];
    snprintf(num, sizeof num, "%u", v);
    append_line(b, key, num);
}

char *gw_project_describe(const gw_project_t *p)
{
    /* Far above the longest project the bounds allow (about 300 KiB). */
    hearth_buf_t buf;
    hearth_buf_init(&buf, (size_t)1024 * 1024);
    hearth_buf_t *b = &buf;
    append_line(b, "id", p->id);
    append_line(b, "title", p->title ? p->title : "");
    append_line(b, "dsa", p->dsa ? p->dsa : "");
    append_line(b, "purpose", p->purpose ? p->purpose : "");
    append_line(b, "start", p->start);
    append_line(b, "expiry", p->expiry);
    append_line(b, "status", p->suspended ? "suspended" : "active");
    if (p->suspended)
        append_line(b, "reason", p->suspended_reason ? p->suspended_reason : "");
    (void)hearth_buf_adds(b, "datasets: ");
    for (size_t i = 0; i < p->ndatasets; i++) {
        if (i > 0)
            (void)hearth_buf_adds(b, ", ");
        (void)hearth_buf_adds(b, p->datasets[i]);
    }
    (void)hearth_buf_adds(b, "\n");
    for (size_t i = 0; i < p->nanalysts; i++) {
        const gw_project_analyst_t *a = &p->analysts[i];
        (void)hearth_buf_adds(b, "analyst: ");
        (void)hearth_buf_adds(b, a->name);
        (void)hearth_buf_adds(b, " key=");
        (void)hearth_buf_adds(b, a->key);
        (void)hearth_buf_adds(b, " display_name=");
        append_quoted(b, a->display_name ? a->display_name : "");
        (void)hearth_buf_adds(b, " organisation=");
        append_quoted(b, a->organisation ? a->organisation : "");
        (void)hearth_buf_adds(b, "\n");
    }
    const gw_project_policy_t *pol = &p->policy;
    append_uint(b, "threshold", pol->disclosure.threshold);
    append_uint(b, "rounding", pol->disclosure.rounding);
    append_line(b, "zeros", pol->disclosure.zeros_disclosive ? "disclosive" : "released");
    append_uint(b, "protection", pol->disclosure.protection);
    char dom[32];
    switch (pol->dominance.kind) {
    case GW_DOMINANCE_P:
        snprintf(dom, sizeof dom, "p%% %u", pol->dominance.p);
        break;
    case GW_DOMINANCE_NK:
        snprintf(dom, sizeof dom, "n,k %u %u", pol->dominance.n, pol->dominance.k);
        break;
    case GW_DOMINANCE_OFF:
    default:
        snprintf(dom, sizeof dom, "off");
        break;
    }
    append_line(b, "dominance", dom);
    append_line(b, "dp_epsilon", pol->dp_epsilon[0] ? pol->dp_epsilon : "none");
    append_line(b, "dp_budget", pol->dp_budget[0] ? pol->dp_budget : "none");
    char *text = hearth_buf_take(b);
    hearth_buf_free(b);
    return text;
}

void gw_project_date(int64_t time_s, char out[GW_PROJECT_DATE_LEN + 1])
{
    time_t t = (time_t)time_s;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
        /* Outside four-digit years: a date no project covers. */
        strcpy(out, "0000-00-00");
        return;
    }
    /* Room for any int the compiler can imagine; the year is checked above,
     * so the text is exactly ten characters. */
    char tmp[48];
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    memcpy(out, tmp, GW_PROJECT_DATE_LEN);
    out[GW_PROJECT_DATE_LEN] = '\0';
}

/* ---- authorisation ---------------------------------------------------- */

static bool has_dataset(const gw_project_t *p, const char *ds)
{
    size_t lo = 0, hi = p->ndatasets;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(p->datasets[mid], ds);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

hearth_err_t gw_project_authorise(const gw_project_t *p, const char *name, const char *key_z85,
                                  const char *const *datasets, size_t n, const char *today,
                                  char **cause)
{
    if (!date_valid(today)) {
        hearth_cause_set(cause, "cannot tell today's date, so project '%s' cannot be "
                         "checked", p->id);
        return HEARTH_ERR_REFUSED;
    }
    if (p->suspended) {
        hearth_cause_set(cause, "project '%s' is suspended: %s", p->id,
                         p->suspended_reason ? p->suspended_reason : "");
        return HEARTH_ERR_REFUSED;
    }
    /* Both dates are inclusive, and all three are YYYY-MM-DD, which sorts
     * as text in date order. */
    if (strcmp(today, p->start) < 0) {
        hearth_cause_set(cause, "project '%s' does not start until %s", p->id, p->start);
        return HEARTH_ERR_REFUSED;
    }
    if (strcmp(today, p->expiry) > 0) {
        hearth_cause_set(cause, "project '%s' expired on %s", p->id, p->expiry);
        return HEARTH_ERR_REFUSED;
    }
    char s[SHOWN_MAX + 1];
    shown(name, s);
    const gw_project_analyst_t *a = NULL;
    for (size_t i = 0; name && i < p->nanalysts && a == NULL; i++)
        if (strcmp(p->analysts[i].name, name) == 0)
            a = &p->analysts[i];
    if (a == NULL) {
        hearth_cause_set(cause, "analyst '%s' is not a member of project '%s'", s, p->id);
        return HEARTH_ERR_REFUSED;
    }
    /* The key approved with the project, not whatever the config says
     * today: a replaced key needs the project's approval again. */
    if (key_z85 == NULL || strcmp(a->key, key_z85) != 0) {
        hearth_cause_set(cause, "analyst '%s' connected with a key other than the one "
                         "approved for project '%s'", s, p->id);
        return HEARTH_ERR_REFUSED;
    }
    for (size_t i = 0; i < n; i++) {
        if (datasets[i] == NULL || !has_dataset(p, datasets[i])) {
            shown(datasets[i], s);
            hearth_cause_set(cause, "dataset '%s' is not approved for project '%s'", s, p->id);
            return HEARTH_ERR_REFUSED;
        }
    }
    return HEARTH_OK;
}
