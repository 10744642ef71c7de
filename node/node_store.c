#include "node_store.h"
#include "hearth_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

struct node_store_t {
    sqlite3 *db;
    int64_t data_version;     /* last seen PRAGMA data_version */
    node_store_dataset_t *datasets;
    size_t ndatasets;
};

static const char *const SCHEMA =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS datasets("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE NOT NULL,"
    "  rows INTEGER NOT NULL, persons INTEGER NOT NULL, ingested_at TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS columns("
    "  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,"
    "  ordinal INTEGER NOT NULL, name TEXT NOT NULL, type INTEGER NOT NULL,"
    "  PRIMARY KEY(dataset_id, ordinal));"
    "INSERT OR IGNORE INTO meta VALUES('schema_version', '" NODE_STORE_SCHEMA_VERSION "');";

hearth_err_t node_store_exec(node_store_t *self, const char *sql, char **cause)
{
    char *msg = NULL;
    if (sqlite3_exec(self->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        hearth_cause_set(cause, "database: %s", msg ? msg : sqlite3_errmsg(self->db));
        sqlite3_free(msg);
        return HEARTH_ERR_DB;
    }
    return HEARTH_OK;
}

static void free_catalogue(node_store_t *self)
{
    for (size_t i = 0; i < self->ndatasets; i++) {
        node_store_dataset_t *d = &self->datasets[i];
        for (size_t c = 0; c < d->ncolumns; c++)
            free(d->columns[c].name);
        free(d->columns);
        free(d->name);
    }
    free(self->datasets);
    self->datasets = NULL;
    self->ndatasets = 0;
}

hearth_err_t node_store_reload(node_store_t *self, char **cause)
{
    free_catalogue(self);
    sqlite3_stmt *ds = NULL, *col = NULL;
    hearth_err_t rc = HEARTH_ERR_DB;
    if (sqlite3_prepare_v2(self->db, "SELECT id, name, rows, persons FROM datasets "
                           "ORDER BY name", -1, &ds, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(self->db, "SELECT name, type FROM columns WHERE dataset_id = ? "
                           "ORDER BY ordinal", -1, &col, NULL) != SQLITE_OK)
        goto fail;
    int step;
    while ((step = sqlite3_step(ds)) == SQLITE_ROW) {
        self->datasets = hearth_reallocarray(self->datasets, self->ndatasets + 1,
                                             sizeof *self->datasets);
        node_store_dataset_t *d = &self->datasets[self->ndatasets++];
        memset(d, 0, sizeof *d);
        d->id = sqlite3_column_int64(ds, 0);
        d->name = hearth_strdup((const char *)sqlite3_column_text(ds, 1));
        d->rows = sqlite3_column_int64(ds, 2);
        d->persons = sqlite3_column_int64(ds, 3);
        sqlite3_reset(col);
        sqlite3_bind_int64(col, 1, d->id);
        while ((step = sqlite3_step(col)) == SQLITE_ROW) {
            d->columns = hearth_reallocarray(d->columns, d->ncolumns + 1, sizeof *d->columns);
            d->columns[d->ncolumns].name =
                hearth_strdup((const char *)sqlite3_column_text(col, 0));
            d->columns[d->ncolumns].type = (node_col_type_t)sqlite3_column_int(col, 1);
            d->ncolumns++;
        }
        if (step != SQLITE_DONE)
            goto fail;
    }
    if (step != SQLITE_DONE)
        goto fail;
    rc = HEARTH_OK;
fail:
    if (rc != HEARTH_OK)
        hearth_cause_set(cause, "reading the catalogue: %s", sqlite3_errmsg(self->db));
    sqlite3_finalize(ds);
    sqlite3_finalize(col);
    return rc;
}

static hearth_err_t data_version(node_store_t *self, int64_t *out, char **cause)
{
    sqlite3_stmt *st = NULL;
    hearth_err_t rc = HEARTH_OK;
    if (sqlite3_prepare_v2(self->db, "PRAGMA data_version", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        hearth_cause_set(cause, "database: %s", sqlite3_errmsg(self->db));
        rc = HEARTH_ERR_DB;
    } else {
        *out = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return rc;
}

hearth_err_t node_store_open(const char *path, node_store_t **out, char **cause)
{
    *out = NULL;
    node_store_t *self = hearth_calloc(1, sizeof *self);
    hearth_err_t rc;
    /* Created owner-only: tokens are keyed hashes, but still the partner's
     * data. SQLite gives its journal the same mode as the file. */
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        hearth_cause_set(cause, "cannot open database '%s': %s", path, strerror(errno));
        free(self);
        return HEARTH_ERR_DB;
    }
    close(fd);
    if (sqlite3_open_v2(path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
        hearth_cause_set(cause, "cannot open database '%s': %s", path,
                         self->db ? sqlite3_errmsg(self->db) : "out of memory");
        rc = HEARTH_ERR_DB;
        goto fail;
    }
    sqlite3_busy_timeout(self->db, 5000);
    /* Defensive: no ATTACH or extension loading can be reached from here,
     * and double-quoted strings are not silently taken as literals. */
    sqlite3_db_config(self->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(self->db, SQLITE_DBCONFIG_DQS_DML, 0, NULL);
    sqlite3_db_config(self->db, SQLITE_DBCONFIG_DQS_DDL, 0, NULL);
    /* A rollback journal, not WAL: an ingest writes a whole new table, and
     * pages appended to the file need no journal copy, whereas WAL would
     * write every page twice (to the log, then at checkpoint). Readers only
     * wait for the moment of commit. 16 KiB pages suit tables written once
     * in bulk and scanned whole (this takes effect only when the file is
     * new); a 64 MiB page cache keeps a large ingest from spilling
     * half-built pages mid-transaction. */
    if ((rc = node_store_exec(self, "PRAGMA page_size=16384; PRAGMA cache_size=-65536;"
                              "PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL;"
                              "PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;", cause)) != HEARTH_OK ||
        (rc = node_store_exec(self, SCHEMA, cause)) != HEARTH_OK ||
        (rc = node_store_reload(self, cause)) != HEARTH_OK ||
        (rc = data_version(self, &self->data_version, cause)) != HEARTH_OK)
        goto fail;
    *out = self;
    return HEARTH_OK;
fail:
    node_store_destroy(&self);
    return rc;
}

void node_store_destroy(node_store_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    node_store_t *self = *self_p;
    free_catalogue(self);
    sqlite3_close_v2(self->db);
    free(self);
    *self_p = NULL;
}

sqlite3 *node_store_db(node_store_t *self)
{
    return self->db;
}

hearth_err_t node_store_changed(node_store_t *self, bool *changed, char **cause)
{
    int64_t v = 0;
    hearth_err_t rc = data_version(self, &v, cause);
    *changed = rc == HEARTH_OK && v != self->data_version;
    if (rc == HEARTH_OK)
        self->data_version = v;
    return rc;
}

size_t node_store_ndatasets(const node_store_t *self)
{
    return self->ndatasets;
}

const node_store_dataset_t *node_store_dataset(const node_store_t *self, size_t i)
{
    return i < self->ndatasets ? &self->datasets[i] : NULL;
}

const node_store_dataset_t *node_store_find(const node_store_t *self, const char *name)
{
    for (size_t i = 0; i < self->ndatasets; i++)
        if (strcmp(self->datasets[i].name, name) == 0)
            return &self->datasets[i];
    return NULL;
}

int node_store_column_index(const node_store_dataset_t *ds, const char *name)
{
    for (size_t c = 0; c < ds->ncolumns; c++)
        if (strcmp(ds->columns[c].name, name) == 0)
            return (int)c;
    return -1;
}

hearth_err_t node_store_meta_get(node_store_t *self, const char *key, char **value,
                                 char **cause)
{
    *value = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db, "SELECT value FROM meta WHERE key = ?", -1, &st,
                           NULL) != SQLITE_OK) {
        hearth_cause_set(cause, "database: %s", sqlite3_errmsg(self->db));
        return HEARTH_ERR_DB;
    }
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    hearth_err_t rc = HEARTH_OK;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *value = hearth_strdup((const char *)sqlite3_column_text(st, 0));
    else if (step != SQLITE_DONE) {
        hearth_cause_set(cause, "database: %s", sqlite3_errmsg(self->db));
        rc = HEARTH_ERR_DB;
    }
    sqlite3_finalize(st);
    return rc;
}

hearth_err_t node_store_meta_set(node_store_t *self, const char *key, const char *value,
                                 char **cause)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db, "INSERT OR REPLACE INTO meta VALUES(?, ?)", -1, &st,
                           NULL) != SQLITE_OK) {
        hearth_cause_set(cause, "database: %s", sqlite3_errmsg(self->db));
        return HEARTH_ERR_DB;
    }
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    hearth_err_t rc = HEARTH_OK;
    if (sqlite3_step(st) != SQLITE_DONE) {
        hearth_cause_set(cause, "database: %s", sqlite3_errmsg(self->db));
        rc = HEARTH_ERR_DB;
    }
    sqlite3_finalize(st);
    return rc;
}
