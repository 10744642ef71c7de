#include "gw_store.h"
#include "hearth_hex.h"
#include "hearth_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct gw_store_t {
    char *path;                 /* owned: for messages */
    sqlite3 *db;
    unsigned depth;             /* open transactions: 1 + savepoints inside it */
    sqlite3_stmt *budget_get, *budget_set;
    sqlite3_stmt *find_release, *count_releases, *add_release, *add_conjunct, *add_cell;
    sqlite3_stmt *list_releases, *list_cells;
};

static const char *const SCHEMA =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS budgets("
    "  project TEXT PRIMARY KEY, remaining TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS releases("
    "  id INTEGER PRIMARY KEY, project TEXT NOT NULL, family TEXT NOT NULL,"
    "  filter_fp TEXT NOT NULL, cells_fp TEXT NOT NULL, nconjuncts INTEGER NOT NULL,"
    "  UNIQUE(project, family, filter_fp, cells_fp));"
    "CREATE TABLE IF NOT EXISTS release_conjuncts("
    "  release_id INTEGER NOT NULL REFERENCES releases(id), ordinal INTEGER NOT NULL,"
    "  text TEXT NOT NULL, PRIMARY KEY(release_id, ordinal)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS release_cells("
    "  release_id INTEGER NOT NULL REFERENCES releases(id), key TEXT NOT NULL,"
    "  count INTEGER NOT NULL, PRIMARY KEY(release_id, key)) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO meta VALUES('schema_version', '" GW_STORE_SCHEMA_VERSION "');";

static hearth_err_t db_fail(const gw_store_t *self, const char *what, char **cause)
{
    hearth_cause_set(cause, "gateway database '%s' (%s): %s", self->path, what,
                     sqlite3_errmsg(self->db));
    return HEARTH_ERR_DB;
}

static hearth_err_t exec(const gw_store_t *self, const char *sql, const char *what, char **cause)
{
    char *msg = NULL;
    if (sqlite3_exec(self->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        hearth_cause_set(cause, "gateway database '%s' (%s): %s", self->path, what,
                         msg ? msg : sqlite3_errmsg(self->db));
        sqlite3_free(msg);
        return HEARTH_ERR_DB;
    }
    return HEARTH_OK;
}

static bool prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) == SQLITE_OK;
}

/* Creates path owner-only, or checks that an existing one is: it holds
 * true counts. SQLite gives its WAL and shared-memory files the same mode. */
static hearth_err_t check_file(const char *path, char **cause)
{
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        hearth_cause_set(cause, "cannot open gateway database '%s': %s", path, strerror(errno));
        return HEARTH_ERR_DB;
    }
    struct stat st;
    hearth_err_t rc = HEARTH_OK;
    if (fstat(fd, &st) != 0) {
        hearth_cause_set(cause, "cannot open gateway database '%s': %s", path, strerror(errno));
        rc = HEARTH_ERR_DB;
    } else if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
        hearth_cause_set(cause, "gateway database '%s' must be a file only its owner can read "
                         "and write (chmod 600)", path);
        rc = HEARTH_ERR_PERM;
    }
    close(fd);
    return rc;
}

hearth_err_t gw_store_open(const char *path, gw_store_t **out, char **cause)
{
    *out = NULL;
    gw_store_t *self = hearth_calloc(1, sizeof *self);
    self->path = hearth_strdup(path);
    hearth_err_t rc;
    if ((rc = check_file(path, cause)) != HEARTH_OK)
        goto fail;
    rc = HEARTH_ERR_DB;
    if (sqlite3_open_v2(path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
        hearth_cause_set(cause, "cannot open gateway database '%s': %s", path,
                         self->db ? sqlite3_errmsg(self->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(self->db, 5000);
    sqlite3_db_config(self->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(self->db, SQLITE_DBCONFIG_DQS_DML, 0, NULL);
    sqlite3_db_config(self->db, SQLITE_DBCONFIG_DQS_DDL, 0, NULL);
    /* WAL: small transactions, one per answered query, each fsynced
     * (synchronous=FULL) before the answer leaves; readers never wait. */
    if ((rc = exec(self, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                   "PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;", "opening",
                   cause)) != HEARTH_OK ||
        (rc = exec(self, SCHEMA, "creating tables", cause)) != HEARTH_OK)
        goto fail;
    rc = HEARTH_ERR_DB;
    if (!prepare(self->db, "SELECT remaining FROM budgets WHERE project = ?",
                 &self->budget_get) ||
        !prepare(self->db, "INSERT INTO budgets(project, remaining) VALUES(?, ?) "
                 "ON CONFLICT(project) DO UPDATE SET remaining = excluded.remaining",
                 &self->budget_set) ||
        !prepare(self->db, "SELECT 1 FROM releases WHERE project = ? AND family = ? "
                 "AND filter_fp = ? AND cells_fp = ?", &self->find_release) ||
        !prepare(self->db, "SELECT count(*) FROM releases WHERE project = ? AND family = ?",
                 &self->count_releases) ||
        !prepare(self->db, "INSERT INTO releases(project, family, filter_fp, cells_fp, "
                 "nconjuncts) VALUES(?, ?, ?, ?, ?)", &self->add_release) ||
        !prepare(self->db, "INSERT INTO release_conjuncts(release_id, ordinal, text) "
                 "VALUES(?, ?, ?)", &self->add_conjunct) ||
        !prepare(self->db, "INSERT INTO release_cells(release_id, key, count) VALUES(?, ?, ?)",
                 &self->add_cell) ||
        /* A release with no WHERE has no conjunct rows: LEFT JOIN keeps it,
         * with one row whose text is NULL. */
        !prepare(self->db, "SELECT r.id, c.text FROM releases r "
                 "LEFT JOIN release_conjuncts c ON c.release_id = r.id "
                 "WHERE r.project = ? AND r.family = ? ORDER BY r.id, c.ordinal",
                 &self->list_releases) ||
        !prepare(self->db, "SELECT key, count FROM release_cells WHERE release_id = ? "
                 "ORDER BY key", &self->list_cells)) {
        rc = db_fail(self, "preparing statements", cause);
        goto fail;
    }
    *out = self;
    return HEARTH_OK;
fail:
    gw_store_destroy(&self);
    return rc;
}

void gw_store_destroy(gw_store_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    gw_store_t *self = *self_p;
    sqlite3_stmt *all[] = {self->budget_get, self->budget_set, self->find_release,
                           self->count_releases, self->add_release, self->add_conjunct,
                           self->add_cell, self->list_releases, self->list_cells};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        sqlite3_finalize(all[i]);
    sqlite3_close_v2(self->db);
    free(self->path);
    free(self);
    *self_p = NULL;
}

sqlite3 *gw_store_db(gw_store_t *self)
{
    return self->db;
}

/* Transactions nest: inside an open one, begin is a savepoint that commit
 * releases into it and rollback undoes alone. The serve loop holds one
 * transaction per turn (its audit batch, gw_journal) while releases are
 * recorded inside it, and all of it becomes durable at the batch's commit,
 * before any answer is sent. */
hearth_err_t gw_store_begin(gw_store_t *self, char **cause)
{
    hearth_err_t rc = self->depth == 0
                          ? exec(self, "BEGIN IMMEDIATE", "starting a transaction", cause)
                          : exec(self, "SAVEPOINT nested", "starting a transaction", cause);
    if (rc == HEARTH_OK)
        self->depth++;
    return rc;
}

hearth_err_t gw_store_commit(gw_store_t *self, char **cause)
{
    if (self->depth > 1) {
        hearth_err_t rc = exec(self, "RELEASE nested", "committing", cause);
        if (rc != HEARTH_OK)
            gw_store_rollback(self);
        else
            self->depth--;
        return rc;
    }
    hearth_err_t rc = exec(self, "COMMIT", "committing", cause);
    if (rc != HEARTH_OK)
        gw_store_rollback(self);
    self->depth = 0;
    return rc;
}

void gw_store_rollback(gw_store_t *self)
{
    if (self->depth > 1) {
        (void)sqlite3_exec(self->db, "ROLLBACK TO nested; RELEASE nested", NULL, NULL, NULL);
        self->depth--;
        return;
    }
    if (!sqlite3_get_autocommit(self->db))
        (void)sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
    self->depth = 0;
}

/* ---------------------------------------------------------------- checks */

static bool project_valid(const char *project, char **cause)
{
    if (project == NULL || strlen(project) > GW_STORE_PROJECT_MAX) {
        hearth_cause_set(cause, "a project name is at most %d bytes", GW_STORE_PROJECT_MAX);
        return false;
    }
    return true;
}

static bool family_valid(const char *family, char **cause)
{
    size_t n = family ? strlen(family) : 0;
    bool ok = n == 64;
    for (size_t i = 0; ok && i < n; i++)
        ok = (family[i] >= '0' && family[i] <= '9') || (family[i] >= 'a' && family[i] <= 'f');
    if (!ok)
        hearth_cause_set(cause, "a table family is 64 lower-case hex digits");
    return ok;
}

/* ---------------------------------------------------------------- budgets */

hearth_err_t gw_store_budget_get(gw_store_t *self, const char *project, char **remaining_text,
                                 char **cause)
{
    *remaining_text = NULL;
    if (!project_valid(project, cause))
        return HEARTH_ERR_USAGE;
    sqlite3_stmt *st = self->budget_get;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, project, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    hearth_err_t rc = HEARTH_OK;
    if (step == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(st, 0);
        *remaining_text = hearth_strdup(text ? text : "");
    } else if (step != SQLITE_DONE) {
        rc = db_fail(self, "reading a budget", cause);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

hearth_err_t gw_store_budget_set(gw_store_t *self, const char *project, const char *text,
                                 char **cause)
{
    if (!project_valid(project, cause))
        return HEARTH_ERR_USAGE;
    size_t n = text ? strlen(text) : 0;
    bool ok = n >= 1 && n <= GW_STORE_BUDGET_TEXT_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = (text[i] >= '0' && text[i] <= '9') || text[i] == '/' || text[i] == '.' ||
             text[i] == '-';
    if (!ok) {
        hearth_cause_set(cause, "a budget is 1-%d of 0-9 / . and -", GW_STORE_BUDGET_TEXT_MAX);
        return HEARTH_ERR_USAGE;
    }
    sqlite3_stmt *st = self->budget_set;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, project, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
    hearth_err_t rc = sqlite3_step(st) == SQLITE_DONE ? HEARTH_OK
                                                      : db_fail(self, "storing a budget", cause);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* ---------------------------------------------------------------- releases */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_cell(const void *a, const void *b)
{
    return strcmp(((const gw_store_cell_t *)a)->key, ((const gw_store_cell_t *)b)->key);
}

static void hash_bytes(EVP_MD_CTX *md, const void *data, size_t len)
{
    /* Length first, so that no two lists of strings hash the same bytes. */
    uint8_t n[8];
    for (int i = 0; i < 8; i++)
        n[i] = (uint8_t)((uint64_t)len >> (8 * i));
    EVP_DigestUpdate(md, n, sizeof n);
    EVP_DigestUpdate(md, data, len);
}

/* Hex SHA-256 fingerprints of the conjunct set and of the cells, both in
 * sorted order, so that an equal release is found whatever order it came
 * in. The conjuncts and cells are already sorted copies. */
static void fingerprints(const char *const *conj, size_t n, const gw_store_cell_t *cells,
                         size_t ncells, char filter_fp[65], char cells_fp[65])
{
    uint8_t digest[32];
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md == NULL)
        abort();   /* the project's OOM policy */
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    hash_bytes(md, "hearth-filter-v1", strlen("hearth-filter-v1"));
    for (size_t i = 0; i < n; i++)
        hash_bytes(md, conj[i], strlen(conj[i]));
    EVP_DigestFinal_ex(md, digest, NULL);
    hearth_hex_encode(digest, sizeof digest, filter_fp);
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    hash_bytes(md, "hearth-cells-v1", strlen("hearth-cells-v1"));
    for (size_t i = 0; i < ncells; i++) {
        uint8_t c[8];
        for (int b = 0; b < 8; b++)
            c[b] = (uint8_t)(cells[i].count >> (8 * b));
        hash_bytes(md, cells[i].key, strlen(cells[i].key));
        hash_bytes(md, c, sizeof c);
    }
    EVP_DigestFinal_ex(md, digest, NULL);
    hearth_hex_encode(digest, sizeof digest, cells_fp);
    EVP_MD_CTX_free(md);
}

static hearth_err_t count_releases(gw_store_t *self, const char *project, const char *family,
                                   size_t *count, char **cause)
{
    sqlite3_stmt *st = self->count_releases;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, project, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, family, -1, SQLITE_STATIC);
    hearth_err_t rc = HEARTH_OK;
    if (sqlite3_step(st) == SQLITE_ROW)
        *count = (size_t)sqlite3_column_int64(st, 0);
    else
        rc = db_fail(self, "counting releases", cause);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

hearth_err_t gw_store_release_count(gw_store_t *self, const char *project, const char *family,
                                    size_t *count, char **cause)
{
    *count = 0;
    if (!project_valid(project, cause) || !family_valid(family, cause))
        return HEARTH_ERR_USAGE;
    return count_releases(self, project, family, count, cause);
}

/* Checks one release's bounds; sorted copies of its conjuncts and cells go
 * to *conj_out and *cells_out (caller frees both, also on failure). */
static hearth_err_t check_release(const char *const *conjuncts, size_t n,
                                  const gw_store_cell_t *cells, size_t ncells,
                                  const char ***conj_out, gw_store_cell_t **cells_out,
                                  char **cause)
{
    *conj_out = NULL;
    *cells_out = NULL;
    if (n > GW_STORE_MAX_CONJUNCTS || ncells > GW_STORE_MAX_CELLS) {
        hearth_cause_set(cause, "a release is kept with at most %d conjuncts and %d cells",
                         GW_STORE_MAX_CONJUNCTS, GW_STORE_MAX_CELLS);
        return HEARTH_ERR_TOO_BIG;
    }
    const char **conj = hearth_reallocarray(NULL, n ? n : 1, sizeof *conj);
    gw_store_cell_t *cs = hearth_reallocarray(NULL, ncells ? ncells : 1, sizeof *cs);
    *conj_out = conj;
    *cells_out = cs;
    for (size_t i = 0; i < n; i++) {
        if (conjuncts[i] == NULL || strnlen(conjuncts[i], GW_STORE_MAX_TEXT + 1) >
                                        GW_STORE_MAX_TEXT) {
            hearth_cause_set(cause, "a conjunct is missing or longer than %zu bytes",
                             GW_STORE_MAX_TEXT);
            return HEARTH_ERR_TOO_BIG;
        }
        conj[i] = conjuncts[i];
    }
    for (size_t i = 0; i < ncells; i++) {
        if (cells[i].key == NULL ||
            strnlen(cells[i].key, GW_STORE_MAX_TEXT + 1) > GW_STORE_MAX_TEXT) {
            hearth_cause_set(cause, "a cell key is missing or longer than %zu bytes",
                             GW_STORE_MAX_TEXT);
            return HEARTH_ERR_TOO_BIG;
        }
        if (cells[i].count > INT64_MAX) {
            hearth_cause_set(cause, "a cell count is beyond what the gateway database keeps");
            return HEARTH_ERR_USAGE;
        }
        cs[i] = cells[i];
    }
    if (n > 1)
        qsort(conj, n, sizeof *conj, cmp_str);
    if (ncells > 1)
        qsort(cs, ncells, sizeof *cs, cmp_cell);
    for (size_t i = 1; i < ncells; i++) {
        if (strcmp(cs[i - 1].key, cs[i].key) == 0) {
            hearth_cause_set(cause, "two cells of one release have the same key");
            return HEARTH_ERR_USAGE;
        }
    }
    return HEARTH_OK;
}

/* Runs st (bound by the caller) to completion; resets it either way. */
static bool step_done(sqlite3_stmt *st)
{
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return ok;
}

hearth_err_t gw_store_release_add(gw_store_t *self, const char *project, const char *family,
                                  const char *const *conjuncts, size_t n,
                                  const gw_store_cell_t *cells, size_t ncells, char **cause)
{
    if (!project_valid(project, cause) || !family_valid(family, cause))
        return HEARTH_ERR_USAGE;
    const char **conj = NULL;
    gw_store_cell_t *cs = NULL;
    bool in_savepoint = false;
    hearth_err_t rc;
    if ((rc = check_release(conjuncts, n, cells, ncells, &conj, &cs, cause)) != HEARTH_OK)
        goto fail;
    char filter_fp[65], cells_fp[65];
    fingerprints(conj, n, cs, ncells, filter_fp, cells_fp);
    /* A savepoint is a transaction of its own outside gw_store_begin and a
     * nested one inside it: the release is stored whole or not at all. */
    if ((rc = exec(self, "SAVEPOINT release_add", "recording a release", cause)) != HEARTH_OK)
        goto fail;
    in_savepoint = true;
    rc = HEARTH_ERR_DB;
    sqlite3_stmt *st = self->find_release;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, project, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, family, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, filter_fp, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, cells_fp, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = db_fail(self, "finding a release", cause);
        goto fail;
    }
    if (step == SQLITE_DONE) {
        size_t kept = 0;
        if ((rc = count_releases(self, project, family, &kept, cause)) != HEARTH_OK)
            goto fail;
        if (kept >= GW_STORE_MAX_RELEASES) {
            hearth_cause_set(cause, "this project has answered as many questions about tables of "
                             "this shape (these datasets, measure and groups) as the gateway "
                             "can check against each other; start a new project to ask more");
            rc = HEARTH_ERR_REFUSED;
            goto fail;
        }
        st = self->add_release;
        sqlite3_bind_text(st, 1, project, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, family, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, filter_fp, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, cells_fp, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)n);
        if (!step_done(st)) {
            rc = db_fail(self, "recording a release", cause);
            goto fail;
        }
        sqlite3_int64 id = sqlite3_last_insert_rowid(self->db);
        for (size_t i = 0; i < n; i++) {
            st = self->add_conjunct;
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
            sqlite3_bind_text(st, 3, conj[i], -1, SQLITE_STATIC);
            if (!step_done(st)) {
                rc = db_fail(self, "recording a release", cause);
                goto fail;
            }
        }
        for (size_t i = 0; i < ncells; i++) {
            st = self->add_cell;
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_text(st, 2, cs[i].key, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, (sqlite3_int64)cs[i].count);
            if (!step_done(st)) {
                rc = db_fail(self, "recording a release", cause);
                goto fail;
            }
        }
    }
    in_savepoint = false;
    if ((rc = exec(self, "RELEASE release_add", "recording a release", cause)) != HEARTH_OK)
        goto fail;
    free(conj);
    free(cs);
    return HEARTH_OK;
fail:
    if (in_savepoint)
        (void)sqlite3_exec(self->db, "ROLLBACK TO release_add; RELEASE release_add", NULL, NULL,
                           NULL);
    free(conj);
    free(cs);
    return rc;
}

/* One release's conjuncts while walking. */
typedef struct {
    char **items;       /* owned, each owned */
    size_t n, cap;
} conj_list_t;

static void conj_list_clear(conj_list_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    l->n = 0;
}

/* Reads release id's cells and hands them, with its conjuncts, to fn.
 * *stop is set when fn asks to stop. */
static hearth_err_t deliver(gw_store_t *self, sqlite3_int64 id, const conj_list_t *conj,
                            gw_store_release_fn fn, void *user, bool *stop, char **cause)
{
    gw_store_cell_t *cells = NULL;
    size_t ncells = 0;
    hearth_err_t rc = HEARTH_OK;
    sqlite3_stmt *st = self->list_cells;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, id);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(st, 0);
        sqlite3_int64 count = sqlite3_column_int64(st, 1);
        cells = hearth_reallocarray(cells, ncells + 1, sizeof *cells);
        cells[ncells].key = hearth_strdup(key ? key : "");
        cells[ncells].count = count < 0 ? 0 : (uint64_t)count;
        ncells++;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (step != SQLITE_DONE)
        rc = db_fail(self, "reading a release", cause);
    else
        *stop = fn(user, (const char *const *)conj->items, conj->n, cells, ncells) != 0;
    for (size_t i = 0; i < ncells; i++)
        free((char *)cells[i].key);
    free(cells);
    return rc;
}

hearth_err_t gw_store_release_each(gw_store_t *self, const char *project, const char *family,
                                   gw_store_match_fn match, gw_store_release_fn fn, void *user,
                                   char **cause)
{
    if (!project_valid(project, cause) || !family_valid(family, cause))
        return HEARTH_ERR_USAGE;
    conj_list_t conj = {0};
    hearth_err_t rc = HEARTH_OK;
    sqlite3_stmt *st = self->list_releases;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, project, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, family, -1, SQLITE_STATIC);
    sqlite3_int64 current = 0;
    bool have = false, stop = false;
    int step;
    /* Rows come grouped by release: gather one release's conjuncts, and
     * hand it over when the next release (or the end) begins. */
    while (!stop) {
        step = sqlite3_step(st);
        if (step != SQLITE_ROW && step != SQLITE_DONE) {
            rc = db_fail(self, "reading releases", cause);
            break;
        }
        sqlite3_int64 id = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        if (have && (step == SQLITE_DONE || id != current)) {
            if (match == NULL || match(user, (const char *const *)conj.items, conj.n)) {
                if ((rc = deliver(self, current, &conj, fn, user, &stop, cause)) != HEARTH_OK)
                    break;
            }
            conj_list_clear(&conj);
            have = false;
        }
        if (step == SQLITE_DONE)
            break;
        current = id;
        have = true;
        const char *text = (const char *)sqlite3_column_text(st, 1);
        if (text != NULL) {
            if (conj.n == conj.cap) {
                conj.cap = conj.cap ? 2 * conj.cap : 8;
                conj.items = hearth_reallocarray(conj.items, conj.cap, sizeof *conj.items);
            }
            conj.items[conj.n++] = hearth_strdup(text);
        }
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    conj_list_clear(&conj);
    free(conj.items);
    return rc;
}
