#include "gw_audit.h"
#include "hearth_mem.h"
#include "tlog_checkpoint.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* Filters a leaf query may have, as bits of the index into leaf_stmts. */
enum { F_SINCE = 1, F_UNTIL = 2, F_PROJECT = 4, F_ANALYST = 8, F_QUERY = 16, F_ALL = 32 };

struct gw_audit_t {
    sqlite3 *db;                     /* the store's connection, borrowed */
    const keys_signer_t *signer;     /* borrowed; NULL for a reader */
    bool loaded;                     /* size and range match the stored log */
    uint64_t size;
    tlog_range_t range;              /* the frontier of the first size leaves */
    sqlite3_stmt *count, *add_leaf, *add_tree, *get_tree;
    sqlite3_stmt *get_cp, *add_cp, *latest_cp, *list_cps;
    sqlite3_stmt *savepoint, *release, *rollback_to;
    sqlite3_stmt *leaf_stmts[F_ALL]; /* prepared when first used */
};

static const char *const SCHEMA =
    "CREATE TABLE IF NOT EXISTS audit_leaves("
    "  idx INTEGER PRIMARY KEY, data BLOB NOT NULL, qtime INTEGER NOT NULL,"
    "  project TEXT NOT NULL, analyst TEXT NOT NULL, query_id TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS audit_leaves_qtime ON audit_leaves(qtime);"
    "CREATE INDEX IF NOT EXISTS audit_leaves_project ON audit_leaves(project);"
    "CREATE INDEX IF NOT EXISTS audit_leaves_analyst ON audit_leaves(analyst);"
    "CREATE INDEX IF NOT EXISTS audit_leaves_query_id ON audit_leaves(query_id);"
    "CREATE TABLE IF NOT EXISTS audit_tree("
    "  level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,"
    "  PRIMARY KEY(level, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS audit_checkpoints("
    "  size INTEGER PRIMARY KEY, note TEXT NOT NULL);";

static hearth_err_t db_fail(const gw_audit_t *self, const char *what, char **cause)
{
    hearth_cause_set(cause, "audit log (%s): %s", what, sqlite3_errmsg(self->db));
    return HEARTH_ERR_DB;
}

static bool prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) == SQLITE_OK;
}

static void done_with(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Runs a statement bound by the caller that returns no rows. */
static bool step_done(sqlite3_stmt *st)
{
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    done_with(st);
    return ok;
}

/* SQLite integers are signed: sizes and times beyond INT64_MAX (never met
 * in practice) are clamped, which keeps every comparison right. */
static sqlite3_int64 i64(uint64_t v)
{
    return v > INT64_MAX ? INT64_MAX : (sqlite3_int64)v;
}

hearth_err_t gw_audit_open(gw_store_t *store, const keys_signer_t *signer, gw_audit_t **out,
                           char **cause)
{
    *out = NULL;
    gw_audit_t *self = hearth_calloc(1, sizeof *self);
    self->db = gw_store_db(store);
    self->signer = signer;
    hearth_err_t rc = HEARTH_ERR_DB;
    char *msg = NULL;
    if (sqlite3_exec(self->db, SCHEMA, NULL, NULL, &msg) != SQLITE_OK) {
        hearth_cause_set(cause, "audit log (creating tables): %s",
                         msg ? msg : sqlite3_errmsg(self->db));
        sqlite3_free(msg);
        goto fail;
    }
    if (!prepare(self->db, "SELECT coalesce(max(idx) + 1, 0) FROM audit_leaves", &self->count) ||
        !prepare(self->db, "INSERT INTO audit_leaves(idx, data, qtime, project, analyst, "
                 "query_id) VALUES(?, ?, ?, ?, ?, ?)", &self->add_leaf) ||
        !prepare(self->db, "INSERT INTO audit_tree(level, idx, hash) VALUES(?, ?, ?)",
                 &self->add_tree) ||
        !prepare(self->db, "SELECT hash FROM audit_tree WHERE level = ? AND idx = ?",
                 &self->get_tree) ||
        !prepare(self->db, "SELECT note FROM audit_checkpoints WHERE size = ?", &self->get_cp) ||
        !prepare(self->db, "INSERT INTO audit_checkpoints(size, note) VALUES(?, ?)",
                 &self->add_cp) ||
        !prepare(self->db, "SELECT size, note FROM audit_checkpoints ORDER BY size DESC LIMIT 1",
                 &self->latest_cp) ||
        !prepare(self->db, "SELECT size, note FROM audit_checkpoints WHERE size > ? "
                 "ORDER BY size LIMIT ?", &self->list_cps) ||
        !prepare(self->db, "SAVEPOINT gw_audit_append", &self->savepoint) ||
        !prepare(self->db, "RELEASE gw_audit_append", &self->release) ||
        !prepare(self->db, "ROLLBACK TO gw_audit_append", &self->rollback_to)) {
        rc = db_fail(self, "preparing statements", cause);
        goto fail;
    }
    if ((rc = gw_audit_sync(self, cause)) != HEARTH_OK)
        goto fail;
    *out = self;
    return HEARTH_OK;
fail:
    gw_audit_destroy(&self);
    return rc;
}

void gw_audit_destroy(gw_audit_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    gw_audit_t *self = *self_p;
    sqlite3_stmt *all[] = {self->count, self->add_leaf, self->add_tree, self->get_tree,
                           self->get_cp, self->add_cp, self->latest_cp, self->list_cps,
                           self->savepoint, self->release, self->rollback_to};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        sqlite3_finalize(all[i]);
    for (size_t i = 0; i < F_ALL; i++)
        sqlite3_finalize(self->leaf_stmts[i]);
    free(self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------- the tree */

/* tlog_subtree_fn over audit_tree (user is the gw_audit_t). */
static hearth_err_t read_subtree(void *user, unsigned level, uint64_t index,
                                 uint8_t out[TLOG_HASH_LEN], char **cause)
{
    gw_audit_t *self = user;
    sqlite3_stmt *st = self->get_tree;
    sqlite3_bind_int(st, 1, (int)level);
    sqlite3_bind_int64(st, 2, i64(index));
    int step = sqlite3_step(st);
    hearth_err_t rc = HEARTH_OK;
    if (step == SQLITE_ROW && sqlite3_column_bytes(st, 0) == TLOG_HASH_LEN) {
        memcpy(out, sqlite3_column_blob(st, 0), TLOG_HASH_LEN);
    } else if (step == SQLITE_ROW || step == SQLITE_DONE) {
        hearth_cause_set(cause, "audit log: the tree lacks the subtree at level %u, index %llu",
                         level, (unsigned long long)index);
        rc = HEARTH_ERR_INTERNAL;
    } else {
        rc = db_fail(self, "reading the tree", cause);
    }
    done_with(st);
    return rc;
}

/* tlog_emit_fn into audit_tree (user is the gw_audit_t). */
static hearth_err_t write_subtree(void *user, unsigned level, uint64_t index,
                                  const uint8_t hash[TLOG_HASH_LEN], char **cause)
{
    gw_audit_t *self = user;
    sqlite3_stmt *st = self->add_tree;
    sqlite3_bind_int(st, 1, (int)level);
    sqlite3_bind_int64(st, 2, i64(index));
    sqlite3_bind_blob(st, 3, hash, TLOG_HASH_LEN, SQLITE_STATIC);
    return step_done(st) ? HEARTH_OK : db_fail(self, "storing the tree", cause);
}

static hearth_err_t stored_size(gw_audit_t *self, uint64_t *size, char **cause)
{
    sqlite3_stmt *st = self->count;
    hearth_err_t rc = HEARTH_OK;
    if (sqlite3_step(st) == SQLITE_ROW)
        *size = (uint64_t)sqlite3_column_int64(st, 0);
    else
        rc = db_fail(self, "reading the size", cause);
    done_with(st);
    return rc;
}

/* Rebuilds the frontier of the first `size` leaves from audit_tree: its
 * subtrees are the one bits of size, largest first, each starting where
 * the one before it ends. */
static hearth_err_t load_range(gw_audit_t *self, uint64_t size, char **cause)
{
    tlog_range_t r;
    tlog_range_init(&r);
    uint64_t start = 0;
    for (unsigned level = 64; level-- > 0;) {
        if (!(size >> level & 1))
            continue;
        hearth_err_t rc = read_subtree(self, level, start >> level, r.hashes[r.n], cause);
        if (rc != HEARTH_OK)
            return rc;
        r.n++;
        start += (uint64_t)1 << level;
    }
    r.size = size;
    self->range = r;
    self->size = size;
    self->loaded = true;
    return HEARTH_OK;
}

hearth_err_t gw_audit_sync(gw_audit_t *self, char **cause)
{
    uint64_t size = 0;
    hearth_err_t rc = stored_size(self, &size, cause);
    if (rc != HEARTH_OK)
        return rc;
    if (self->loaded && size == self->size)
        return HEARTH_OK;
    self->loaded = false;
    return load_range(self, size, cause);
}

void gw_audit_reset(gw_audit_t *self)
{
    self->loaded = false;
    self->size = 0;
    tlog_range_init(&self->range);
}

/* Reloads after gw_audit_reset, so no call works from forgotten state. */
static hearth_err_t ensure_loaded(gw_audit_t *self, char **cause)
{
    return self->loaded ? HEARTH_OK : gw_audit_sync(self, cause);
}

uint64_t gw_audit_size(const gw_audit_t *self)
{
    return self->size;
}

/* ---------------------------------------------------------------- appending */

static void bind_text_or_empty(sqlite3_stmt *st, int i, const char *s)
{
    sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_STATIC);
}

hearth_err_t gw_audit_append(gw_audit_t *self, const audit_event_t *ev,
                             const gw_audit_index_t *ix, uint64_t *index, char **cause)
{
    uint8_t *leaf = NULL;
    size_t len = 0;
    bool in_savepoint = false;
    hearth_err_t rc;
    if ((rc = ensure_loaded(self, cause)) != HEARTH_OK ||
        (rc = audit_event_encode(ev, &leaf, &len, cause)) != HEARTH_OK)
        goto fail;
    uint8_t leaf_hash[TLOG_HASH_LEN];
    tlog_leaf_hash(leaf, len, leaf_hash);
    /* The leaf and its subtrees go in whole or not at all, so a failure
     * leaves the enclosing transaction usable and the cache right. */
    if (!step_done(self->savepoint)) {
        rc = db_fail(self, "appending", cause);
        goto fail;
    }
    in_savepoint = true;
    sqlite3_stmt *st = self->add_leaf;
    sqlite3_bind_int64(st, 1, i64(self->size));
    sqlite3_bind_blob(st, 2, leaf, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, ix ? i64(ix->qtime_ms) : 0);
    bind_text_or_empty(st, 4, ix ? ix->project : NULL);
    bind_text_or_empty(st, 5, ix ? ix->analyst : NULL);
    bind_text_or_empty(st, 6, ix ? ix->query_id : NULL);
    if (!step_done(st)) {
        rc = db_fail(self, "appending a leaf", cause);
        goto fail;
    }
    tlog_range_t r = self->range;
    if ((rc = tlog_range_append_emit(&r, leaf_hash, write_subtree, self, cause)) != HEARTH_OK)
        goto fail;
    if (!step_done(self->release)) {
        rc = db_fail(self, "appending", cause);
        goto fail;
    }
    in_savepoint = false;
    if (index != NULL)
        *index = self->size;
    self->range = r;
    self->size = r.size;
    free(leaf);
    return HEARTH_OK;
fail:
    if (in_savepoint) {
        (void)step_done(self->rollback_to);
        (void)step_done(self->release);
    }
    free(leaf);
    return rc;
}

/* ---------------------------------------------------------------- checkpoints */

static const char *column_text(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    return s ? s : "";
}

/* The stored note for size into *note (caller frees; NULL when none). */
static hearth_err_t stored_note(gw_audit_t *self, uint64_t size, char **note, char **cause)
{
    *note = NULL;
    sqlite3_stmt *st = self->get_cp;
    sqlite3_bind_int64(st, 1, i64(size));
    int step = sqlite3_step(st);
    hearth_err_t rc = HEARTH_OK;
    if (step == SQLITE_ROW)
        *note = hearth_strdup(column_text(st, 0));
    else if (step != SQLITE_DONE)
        rc = db_fail(self, "reading a checkpoint", cause);
    done_with(st);
    return rc;
}

hearth_err_t gw_audit_checkpoint(gw_audit_t *self, char **note, char **cause)
{
    char *text = NULL, *signed_note = NULL;
    if (note != NULL)
        *note = NULL;
    hearth_err_t rc;
    if (self->signer == NULL) {
        hearth_cause_set(cause, "audit log: this gateway has no signing key for checkpoints");
        return HEARTH_ERR_USAGE;
    }
    const char *name = keys_signer_name(self->signer);
    tlog_checkpoint_t cp = {.size = 0};
    if (strlen(name) > TLOG_NOTE_NAME_MAX) {
        hearth_cause_set(cause, "audit log: the signing key's name is too long");
        return HEARTH_ERR_USAGE;
    }
    strcpy(cp.origin, name);
    if ((rc = ensure_loaded(self, cause)) != HEARTH_OK)
        return rc;
    cp.size = self->size;
    tlog_range_root(&self->range, cp.root);
    text = tlog_checkpoint_format(&cp);
    if ((rc = stored_note(self, cp.size, &signed_note, cause)) != HEARTH_OK)
        goto fail;
    if (signed_note != NULL) {
        /* One checkpoint per size: the stored one stands, but it must be of
         * this very tree (its text is the note's first lines). */
        if (strncmp(signed_note, text, strlen(text)) != 0) {
            hearth_cause_set(cause, "audit log: the stored checkpoint of size %llu does not "
                             "match the log", (unsigned long long)cp.size);
            rc = HEARTH_ERR_INTERNAL;
            goto fail;
        }
    } else {
        if ((rc = tlog_checkpoint_sign(self->signer, &cp, &signed_note, cause)) != HEARTH_OK)
            goto fail;
        sqlite3_stmt *st = self->add_cp;
        sqlite3_bind_int64(st, 1, i64(cp.size));
        sqlite3_bind_text(st, 2, signed_note, -1, SQLITE_STATIC);
        if (!step_done(st)) {
            rc = db_fail(self, "storing a checkpoint", cause);
            goto fail;
        }
    }
    free(text);
    if (note != NULL)
        *note = signed_note;
    else
        free(signed_note);
    return HEARTH_OK;
fail:
    free(text);
    free(signed_note);
    return rc;
}

hearth_err_t gw_audit_latest(gw_audit_t *self, char **note, uint64_t *size, char **cause)
{
    *note = NULL;
    *size = 0;
    sqlite3_stmt *st = self->latest_cp;
    int step = sqlite3_step(st);
    hearth_err_t rc = HEARTH_OK;
    if (step == SQLITE_ROW) {
        *size = (uint64_t)sqlite3_column_int64(st, 0);
        *note = hearth_strdup(column_text(st, 1));
    } else if (step != SQLITE_DONE) {
        rc = db_fail(self, "reading the latest checkpoint", cause);
    }
    done_with(st);
    return rc;
}

hearth_err_t gw_audit_checkpoints(gw_audit_t *self, uint64_t after, size_t limit,
                                  gw_audit_note_fn fn, void *user, bool *more, char **cause)
{
    *more = false;
    sqlite3_stmt *st = self->list_cps;
    sqlite3_bind_int64(st, 1, i64(after));
    /* One row past the limit says whether there are more. */
    sqlite3_bind_int64(st, 2, limit >= INT64_MAX ? INT64_MAX : (sqlite3_int64)limit + 1);
    hearth_err_t rc = HEARTH_OK;
    size_t given = 0;
    bool stopped = false;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (given == limit || stopped) {
            *more = true;
            break;
        }
        given++;
        stopped = fn(user, (uint64_t)sqlite3_column_int64(st, 0),
                     column_text(st, 1)) != 0;
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = db_fail(self, "reading checkpoints", cause);
    done_with(st);
    return rc;
}

/* ---------------------------------------------------------------- proofs */

/* Checks that a proof or root is asked of a tree the log has. */
static hearth_err_t check_size(gw_audit_t *self, uint64_t size, char **cause)
{
    hearth_err_t rc = ensure_loaded(self, cause);
    if (rc == HEARTH_OK && size > self->size) {
        hearth_cause_set(cause, "audit log has %llu leaves, not %llu",
                         (unsigned long long)self->size, (unsigned long long)size);
        rc = HEARTH_ERR_USAGE;
    }
    return rc;
}

hearth_err_t gw_audit_inclusion(gw_audit_t *self, uint64_t index, uint64_t size,
                                uint8_t proof[TLOG_MAX_PROOF][TLOG_HASH_LEN], size_t *n,
                                char **cause)
{
    *n = 0;
    hearth_err_t rc = check_size(self, size, cause);
    if (rc != HEARTH_OK)
        return rc;
    return tlog_inclusion_proof(read_subtree, self, index, size, proof, n, cause);
}

hearth_err_t gw_audit_consistency(gw_audit_t *self, uint64_t m, uint64_t size,
                                  uint8_t proof[TLOG_MAX_PROOF][TLOG_HASH_LEN], size_t *n,
                                  char **cause)
{
    *n = 0;
    hearth_err_t rc = check_size(self, size, cause);
    if (rc != HEARTH_OK)
        return rc;
    return tlog_consistency_proof(read_subtree, self, m, size, proof, n, cause);
}

hearth_err_t gw_audit_root(gw_audit_t *self, uint64_t size, uint8_t root[TLOG_HASH_LEN],
                           char **cause)
{
    hearth_err_t rc = check_size(self, size, cause);
    if (rc != HEARTH_OK)
        return rc;
    if (size == self->size) {
        tlog_range_root(&self->range, root);
        return HEARTH_OK;
    }
    return tlog_root(read_subtree, self, size, root, cause);
}

/* ---------------------------------------------------------------- leaves */

/* The statement for one combination of filters, prepared the first time
 * it is asked for. The text is put together from the fixed fragments
 * below only: every value is a bound parameter, and each combination has
 * its own statement so that SQLite can use the column's index. */
static sqlite3_stmt *leaf_stmt(gw_audit_t *self, unsigned mask)
{
    static const char *const WHERE[] = {
        " AND qtime >= ?3", " AND qtime < ?4", " AND project = ?5", " AND analyst = ?6",
        " AND query_id = ?7",
    };
    if (self->leaf_stmts[mask] != NULL)
        return self->leaf_stmts[mask];
    char sql[512] = "SELECT idx, data FROM audit_leaves WHERE idx >= ?1 AND idx < ?2";
    for (size_t i = 0; i < sizeof WHERE / sizeof *WHERE; i++) {
        if (mask & (1u << i))
            strcat(sql, WHERE[i]);
    }
    strcat(sql, " ORDER BY idx LIMIT ?8");
    if (!prepare(self->db, sql, &self->leaf_stmts[mask]))
        return NULL;
    return self->leaf_stmts[mask];
}

static bool given(const char *s)
{
    return s != NULL && s[0] != '\0';
}

hearth_err_t gw_audit_leaves(gw_audit_t *self, const gw_audit_filter_t *f, uint64_t start,
                             size_t max_count, size_t max_bytes, gw_audit_leaf_fn fn, void *user,
                             uint64_t *next, char **cause)
{
    *next = start;
    hearth_err_t rc = ensure_loaded(self, cause);
    if (rc != HEARTH_OK)
        return rc;
    *next = self->size;
    if (start >= self->size)
        return HEARTH_OK;
    unsigned mask = 0;
    if (f != NULL) {
        mask = (f->since_ms ? F_SINCE : 0) | (f->until_ms ? F_UNTIL : 0) |
               (given(f->project) ? F_PROJECT : 0) | (given(f->analyst) ? F_ANALYST : 0) |
               (given(f->query_id) ? F_QUERY : 0);
    }
    sqlite3_stmt *st = leaf_stmt(self, mask);
    if (st == NULL)
        return db_fail(self, "preparing a leaf query", cause);
    sqlite3_bind_int64(st, 1, i64(start));
    sqlite3_bind_int64(st, 2, i64(self->size));
    if (mask & F_SINCE)
        sqlite3_bind_int64(st, 3, i64(f->since_ms));
    if (mask & F_UNTIL)
        sqlite3_bind_int64(st, 4, i64(f->until_ms));
    if (mask & F_PROJECT)
        sqlite3_bind_text(st, 5, f->project, -1, SQLITE_STATIC);
    if (mask & F_ANALYST)
        sqlite3_bind_text(st, 6, f->analyst, -1, SQLITE_STATIC);
    if (mask & F_QUERY)
        sqlite3_bind_text(st, 7, f->query_id, -1, SQLITE_STATIC);
    /* At least one leaf goes out whatever the limits, so a caller always
     * makes progress; one row past the count says where to go on. */
    size_t count_max = max_count ? max_count : 1;
    sqlite3_bind_int64(st, 8, count_max >= INT64_MAX ? INT64_MAX
                                                     : (sqlite3_int64)count_max + 1);
    size_t count = 0, bytes = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        uint64_t idx = (uint64_t)sqlite3_column_int64(st, 0);
        const uint8_t *data = sqlite3_column_blob(st, 1);
        size_t len = (size_t)sqlite3_column_bytes(st, 1);
        if (count > 0 && (count == count_max || len > max_bytes || bytes > max_bytes - len)) {
            *next = idx;
            break;
        }
        count++;
        bytes += len;
        if (fn(user, idx, data, len) != 0) {
            *next = idx + 1;
            break;
        }
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = db_fail(self, "reading leaves", cause);
    done_with(st);
    return rc;
}
