#include "node_ledger.h"
#include "proto_codec.h"
#include "hearth_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct node_ledger_t {
    char *path;                 /* owned: for messages */
    sqlite3 *db;
    sqlite3_stmt *begin, *commit, *rollback;
    sqlite3_stmt *find_query;   /* nparts of a query id seen before */
    sqlite3_stmt *add_query;
    sqlite3_stmt *add_part;     /* fails on the primary key for a replayed part */
    sqlite3_stmt *add_receipt;
    sqlite3_stmt *list_receipts;
    sqlite3_stmt *get_checkpoint;
    sqlite3_stmt *set_checkpoint;  /* changes nothing unless the size grows */
    sqlite3_stmt *begin_read;
};

static const char *const SCHEMA =
    "CREATE TABLE IF NOT EXISTS queries("
    "  query_id TEXT PRIMARY KEY, nparts INTEGER NOT NULL, first_ms INTEGER NOT NULL)"
    "  WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS parts("
    "  query_id TEXT NOT NULL REFERENCES queries(query_id), part INTEGER NOT NULL,"
    "  dataset TEXT NOT NULL, kind TEXT NOT NULL, at_ms INTEGER NOT NULL,"
    "  PRIMARY KEY(query_id, part)) WITHOUT ROWID;"
    /* Not keyed on (query_id, part): one part may be refused (a project
     * not approved) and later answered under a new dispatch, and a replay
     * of an answered part earns a refused receipt of its own. */
    "CREATE TABLE IF NOT EXISTS receipts("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT, query_id TEXT NOT NULL,"
    "  part INTEGER NOT NULL, leaf INTEGER NOT NULL, size INTEGER NOT NULL,"
    "  outcome TEXT NOT NULL CHECK(outcome IN ('answered', 'refused')),"
    "  note TEXT NOT NULL, at_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS checkpoint("
    "  id INTEGER PRIMARY KEY CHECK(id = 1), size INTEGER NOT NULL,"
    "  root BLOB NOT NULL CHECK(length(root) = 32), note TEXT NOT NULL);"
    /* Every time the data manager told the node to forget the checkpoint
     * it held (hearth-node audit-reset), with what it forgot and why. */
    "CREATE TABLE IF NOT EXISTS audit_resets("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL,"
    "  old_size INTEGER NOT NULL, old_note TEXT, reason TEXT NOT NULL);";

static hearth_err_t db_fail(const node_ledger_t *self, const char *what, char **cause)
{
    hearth_cause_set(cause, "ledger '%s' (%s): %s", self->path, what,
                     sqlite3_errmsg(self->db));
    return HEARTH_ERR_DB;
}

static hearth_err_t exec(const node_ledger_t *self, const char *sql, const char *what,
                         char **cause)
{
    char *msg = NULL;
    if (sqlite3_exec(self->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        hearth_cause_set(cause, "ledger '%s' (%s): %s", self->path, what,
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

hearth_err_t node_ledger_open(const char *path, node_ledger_t **out, char **cause)
{
    *out = NULL;
    node_ledger_t *self = hearth_calloc(1, sizeof *self);
    self->path = hearth_strdup(path);
    hearth_err_t rc = HEARTH_ERR_DB;
    /* Created owner-only before SQLite sees it: SQLite gives its WAL and
     * shared-memory files the mode of the database file. */
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        hearth_cause_set(cause, "cannot open ledger '%s': %s", path, strerror(errno));
        goto fail;
    }
    close(fd);
    if (sqlite3_open_v2(path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
        hearth_cause_set(cause, "cannot open ledger '%s': %s", path,
                         self->db ? sqlite3_errmsg(self->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(self->db, 5000);
    sqlite3_db_config(self->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(self->db, SQLITE_DBCONFIG_DQS_DML, 0, NULL);
    sqlite3_db_config(self->db, SQLITE_DBCONFIG_DQS_DDL, 0, NULL);
    if ((rc = exec(self, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                   "PRAGMA foreign_keys=ON;", "opening", cause)) != HEARTH_OK ||
        (rc = exec(self, SCHEMA, "creating tables", cause)) != HEARTH_OK)
        goto fail;
    rc = HEARTH_ERR_DB;
    /* IMMEDIATE: two nodes sharing a ledger by mistake still admit each
     * part once, as the write lock is taken before the id is looked up. */
    if (!prepare(self->db, "BEGIN IMMEDIATE", &self->begin) ||
        !prepare(self->db, "COMMIT", &self->commit) ||
        !prepare(self->db, "ROLLBACK", &self->rollback) ||
        !prepare(self->db, "SELECT nparts FROM queries WHERE query_id = ?", &self->find_query) ||
        !prepare(self->db, "INSERT INTO queries(query_id, nparts, first_ms) VALUES(?, ?, ?)",
                 &self->add_query) ||
        !prepare(self->db, "INSERT INTO parts(query_id, part, dataset, kind, at_ms) "
                 "VALUES(?, ?, ?, ?, ?)", &self->add_part) ||
        !prepare(self->db, "INSERT INTO receipts(query_id, part, leaf, size, outcome, note, "
                 "at_ms) VALUES(?, ?, ?, ?, ?, ?, ?)", &self->add_receipt) ||
        !prepare(self->db, "SELECT seq, query_id, part, leaf, size, outcome, note, at_ms "
                 "FROM receipts ORDER BY seq", &self->list_receipts) ||
        !prepare(self->db, "SELECT size, root, note FROM checkpoint WHERE id = 1",
                 &self->get_checkpoint) ||
        !prepare(self->db, "INSERT INTO checkpoint(id, size, root, note) VALUES(1, ?1, ?2, ?3) "
                 "ON CONFLICT(id) DO UPDATE SET size = ?1, root = ?2, note = ?3 "
                 "WHERE size < ?1", &self->set_checkpoint) ||
        !prepare(self->db, "BEGIN", &self->begin_read)) {
        rc = db_fail(self, "preparing", cause);
        goto fail;
    }
    *out = self;
    return HEARTH_OK;
fail:
    node_ledger_destroy(&self);
    return rc;
}

void node_ledger_destroy(node_ledger_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    node_ledger_t *self = *self_p;
    sqlite3_finalize(self->begin);
    sqlite3_finalize(self->commit);
    sqlite3_finalize(self->rollback);
    sqlite3_finalize(self->find_query);
    sqlite3_finalize(self->add_query);
    sqlite3_finalize(self->add_part);
    sqlite3_finalize(self->add_receipt);
    sqlite3_finalize(self->list_receipts);
    sqlite3_finalize(self->get_checkpoint);
    sqlite3_finalize(self->set_checkpoint);
    sqlite3_finalize(self->begin_read);
    sqlite3_close_v2(self->db);
    free(self->path);
    free(self);
    *self_p = NULL;
}

/* Query ids go to the node's log: plain characters only. */
bool node_ledger_query_id_valid(const char *s)
{
    size_t n = s ? strnlen(s, NODE_LEDGER_QUERY_ID_MAX + 1) : 0;
    if (n == 0 || n > NODE_LEDGER_QUERY_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-'))
            return false;
    }
    return true;
}

/* Runs a statement that returns no row and resets it. */
static bool step_done(sqlite3_stmt *st)
{
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    return step == SQLITE_DONE;
}

hearth_err_t node_ledger_admit(node_ledger_t *self, const char *query_id, uint32_t part,
                               uint32_t nparts, const char *dataset, Hearth__SubQueryKind kind,
                               uint64_t now_ms, char **cause)
{
    const char *kname = proto_kind_name(kind);
    if (!node_ledger_query_id_valid(query_id)) {
        hearth_cause_set(cause, "malformed query id (1-%d of A-Z, a-z, 0-9, '.', '_', ':' "
                         "and '-')", NODE_LEDGER_QUERY_ID_MAX);
        return HEARTH_ERR_PROTO;
    }
    if (kname == NULL) {
        hearth_cause_set(cause, "unknown sub-query kind");
        return HEARTH_ERR_PROTO;
    }
    if (nparts == 0 || nparts > NODE_LEDGER_MAX_PARTS || part >= nparts) {
        hearth_cause_set(cause, "malformed part numbering: a query has 1 to %d parts, each "
                         "numbered below their count", NODE_LEDGER_MAX_PARTS);
        return HEARTH_ERR_REFUSED;
    }
    if (!step_done(self->begin))
        return db_fail(self, "admitting a query", cause);
    hearth_err_t rc = HEARTH_OK;
    sqlite3_bind_text(self->find_query, 1, query_id, -1, SQLITE_STATIC);
    int step = sqlite3_step(self->find_query);
    int64_t seen = step == SQLITE_ROW ? sqlite3_column_int64(self->find_query, 0) : 0;
    sqlite3_reset(self->find_query);
    sqlite3_clear_bindings(self->find_query);
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = db_fail(self, "admitting a query", cause);
        goto fail;
    }
    if (step == SQLITE_ROW && seen != (int64_t)nparts) {
        hearth_cause_set(cause, "malformed part numbering: this query id was first seen "
                         "with another number of parts");
        rc = HEARTH_ERR_REFUSED;
        goto fail;
    }
    if (step == SQLITE_DONE) {
        sqlite3_bind_text(self->add_query, 1, query_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(self->add_query, 2, (int64_t)nparts);
        sqlite3_bind_int64(self->add_query, 3, (int64_t)now_ms);
        bool ok = step_done(self->add_query);
        sqlite3_clear_bindings(self->add_query);
        if (!ok) {
            rc = db_fail(self, "admitting a query", cause);
            goto fail;
        }
    }
    sqlite3_bind_text(self->add_part, 1, query_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(self->add_part, 2, (int64_t)part);
    sqlite3_bind_text(self->add_part, 3, dataset ? dataset : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(self->add_part, 4, kname, -1, SQLITE_STATIC);
    sqlite3_bind_int64(self->add_part, 5, (int64_t)now_ms);
    step = sqlite3_step(self->add_part);
    /* The extended code tells a replayed part (the primary key) from any
     * other failure, which must not read as a refusal. */
    int ext = sqlite3_extended_errcode(self->db);
    sqlite3_reset(self->add_part);
    sqlite3_clear_bindings(self->add_part);
    if (step != SQLITE_DONE) {
        if (ext == SQLITE_CONSTRAINT_PRIMARYKEY) {
            hearth_cause_set(cause, "query id already answered");
            rc = HEARTH_ERR_REFUSED;
        } else {
            rc = db_fail(self, "admitting a query", cause);
        }
        goto fail;
    }
    if (!step_done(self->commit)) {
        rc = db_fail(self, "committing an admission", cause);
        goto fail;
    }
    return HEARTH_OK;
fail:
    /* Nothing of a refused or failed admission is kept. */
    if (!sqlite3_get_autocommit(self->db))
        (void)step_done(self->rollback);
    return rc;
}

hearth_err_t node_ledger_add_receipt(node_ledger_t *self, const node_ledger_receipt_t *r,
                                     char **cause)
{
    if (!node_ledger_query_id_valid(r->query_id) || r->note == NULL || r->note[0] == '\0') {
        hearth_cause_set(cause, "a receipt needs a well-formed query id and a note");
        return HEARTH_ERR_PROTO;
    }
    sqlite3_stmt *st = self->add_receipt;
    sqlite3_bind_text(st, 1, r->query_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)r->part);
    sqlite3_bind_int64(st, 3, (int64_t)r->leaf);
    sqlite3_bind_int64(st, 4, (int64_t)r->size);
    sqlite3_bind_text(st, 5, r->answered ? "answered" : "refused", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, r->note, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, (int64_t)r->at_ms);
    /* One statement in autocommit mode: committed (and, with
     * synchronous=FULL, on disk) when the step returns. */
    bool ok = step_done(st);
    sqlite3_clear_bindings(st);
    return ok ? HEARTH_OK : db_fail(self, "storing a receipt", cause);
}

hearth_err_t node_ledger_receipts(node_ledger_t *self, node_ledger_receipt_fn fn, void *user,
                                  char **cause)
{
    /* One read transaction: a node storing receipts meanwhile adds none
     * to this listing half-way. */
    if (!step_done(self->begin_read))
        return db_fail(self, "reading receipts", cause);
    hearth_err_t rc = HEARTH_OK;
    sqlite3_stmt *st = self->list_receipts;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *outcome = (const char *)sqlite3_column_text(st, 5);
        node_ledger_receipt_t r = {
            .seq = (uint64_t)sqlite3_column_int64(st, 0),
            .query_id = (const char *)sqlite3_column_text(st, 1),
            .part = (uint32_t)sqlite3_column_int64(st, 2),
            .leaf = (uint64_t)sqlite3_column_int64(st, 3),
            .size = (uint64_t)sqlite3_column_int64(st, 4),
            .answered = outcome && strcmp(outcome, "answered") == 0,
            .note = (const char *)sqlite3_column_text(st, 6),
            .at_ms = (uint64_t)sqlite3_column_int64(st, 7),
        };
        if (r.query_id == NULL || r.note == NULL) {
            hearth_cause_set(cause, "ledger '%s': receipt %llu is malformed", self->path,
                             (unsigned long long)r.seq);
            rc = HEARTH_ERR_DB;
            break;
        }
        if ((rc = fn(user, &r, cause)) != HEARTH_OK)
            break;
    }
    if (rc == HEARTH_OK && step != SQLITE_DONE)
        rc = db_fail(self, "reading receipts", cause);
    sqlite3_reset(st);
    (void)step_done(self->rollback);
    return rc;
}

hearth_err_t node_ledger_checkpoint(node_ledger_t *self, uint64_t *size,
                                    uint8_t root[TLOG_HASH_LEN], char **note, char **cause)
{
    *size = 0;
    tlog_empty_root(root);
    if (note)
        *note = NULL;
    sqlite3_stmt *st = self->get_checkpoint;
    int step = sqlite3_step(st);
    hearth_err_t rc = HEARTH_OK;
    if (step == SQLITE_ROW) {
        int64_t n = sqlite3_column_int64(st, 0);
        const void *blob = sqlite3_column_blob(st, 1);
        int len = sqlite3_column_bytes(st, 1);
        const char *text = (const char *)sqlite3_column_text(st, 2);
        if (n < 0 || blob == NULL || len != TLOG_HASH_LEN || text == NULL) {
            hearth_cause_set(cause, "ledger '%s': the stored checkpoint is malformed",
                             self->path);
            rc = HEARTH_ERR_DB;
        } else {
            *size = (uint64_t)n;
            memcpy(root, blob, TLOG_HASH_LEN);
            if (note)
                *note = hearth_strdup(text);
        }
    } else if (step != SQLITE_DONE) {
        rc = db_fail(self, "reading the checkpoint", cause);
    }
    sqlite3_reset(st);
    return rc;
}

hearth_err_t node_ledger_set_checkpoint(node_ledger_t *self, uint64_t size,
                                        const uint8_t root[TLOG_HASH_LEN], const char *note,
                                        bool *stored, char **cause)
{
    if (stored)
        *stored = false;
    if (size > (uint64_t)INT64_MAX || note == NULL) {
        hearth_cause_set(cause, "a checkpoint needs a size below 2^63 and a note");
        return HEARTH_ERR_USAGE;
    }
    sqlite3_stmt *st = self->set_checkpoint;
    sqlite3_bind_int64(st, 1, (int64_t)size);
    sqlite3_bind_blob(st, 2, root, TLOG_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, note, -1, SQLITE_STATIC);
    bool ok = step_done(st);
    sqlite3_clear_bindings(st);
    if (!ok)
        return db_fail(self, "storing the checkpoint", cause);
    if (stored)
        *stored = sqlite3_changes(self->db) > 0;
    return HEARTH_OK;
}

hearth_err_t node_ledger_reset_checkpoint(node_ledger_t *self, const char *reason,
                                          uint64_t now_ms, uint64_t *old_size, char **cause)
{
    *old_size = 0;
    if (reason == NULL || *reason == '\0' || now_ms > (uint64_t)INT64_MAX) {
        hearth_cause_set(cause, "a reset needs a reason");
        return HEARTH_ERR_USAGE;
    }
    uint8_t root[TLOG_HASH_LEN];
    char *note = NULL;
    if (!step_done(self->begin))
        return db_fail(self, "starting the reset", cause);
    hearth_err_t rc = node_ledger_checkpoint(self, old_size, root, &note, cause);
    sqlite3_stmt *st = NULL;
    if (rc == HEARTH_OK &&
        (sqlite3_prepare_v2(self->db, "INSERT INTO audit_resets(at_ms, old_size, old_note, "
                            "reason) VALUES(?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK ||
         sqlite3_bind_int64(st, 1, (int64_t)now_ms) != SQLITE_OK ||
         sqlite3_bind_int64(st, 2, (int64_t)*old_size) != SQLITE_OK ||
         sqlite3_bind_text(st, 3, note, -1, SQLITE_STATIC) != SQLITE_OK ||
         sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC) != SQLITE_OK ||
         sqlite3_step(st) != SQLITE_DONE ||
         sqlite3_exec(self->db, "DELETE FROM checkpoint", NULL, NULL, NULL) != SQLITE_OK))
        rc = db_fail(self, "recording the reset", cause);
    sqlite3_finalize(st);
    free(note);
    if (rc == HEARTH_OK && !step_done(self->commit))
        rc = db_fail(self, "committing the reset", cause);
    if (rc != HEARTH_OK)
        (void)step_done(self->rollback);
    return rc;
}
