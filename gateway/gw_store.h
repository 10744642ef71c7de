/* gw_store — the gateway's own SQLite file: per-project DP budgets and the
 * record of released tables that differencing checks read.
 *
 * Schema (true counts live here and nowhere else on disk, so the file is
 * created owner-only and refused when others can read it):
 *   meta(key, value)                      schema_version
 *   budgets(project, remaining)           exact rational text, e.g. "3/4"
 *   releases(id, project, family, filter_fp, cells_fp, nconjuncts)
 *   release_conjuncts(release_id, ordinal, text)
 *   release_cells(release_id, key, count)
 * All SQL is fixed text with bound parameters; nothing from a query or the
 * config is ever pasted into it.
 *
 * The file runs in WAL mode with synchronous=FULL, so every function that
 * writes has made its change durable when it returns HEARTH_OK (or, inside
 * gw_store_begin .. gw_store_commit, when the commit returns): the caller
 * records a release before it sends the answer.
 *
 * Bound on the record: at most GW_STORE_MAX_RELEASES distinct releases per
 * project and family are kept. Past that, new releases of that family are
 * refused (HEARTH_ERR_REFUSED) rather than the oldest dropped: dropping
 * would let an analyst flush the record with harmless queries and then ask
 * the second half of a differencing pair unchecked. A release equal to one
 * already kept (same conjuncts, same cells and counts) is not stored again
 * and never counts against the bound, so repeating a query is always fine.
 *
 * A gw_store_t is one SQLite connection: use it from one thread at a time.
 * A caller that must check and then record atomically (gw_diff_check, then
 * gw_store_release_add) holds its own lock across both, or brackets them
 * with gw_store_begin and gw_store_commit, which also excludes other
 * processes. */
#ifndef GW_STORE_H
#define GW_STORE_H

#include "hearth_err.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_STORE_SCHEMA_VERSION "1"
/* Releases kept per project and family (see above). */
#define GW_STORE_MAX_RELEASES 10000
/* Bounds on one release, so that no query can grow the file without limit. */
#define GW_STORE_MAX_CONJUNCTS 4096
#define GW_STORE_MAX_CELLS 1000000
#define GW_STORE_MAX_TEXT ((size_t)1024 * 1024)   /* one conjunct or one key, bytes */
/* Longest project name ("" is the project of queries that name none). */
#define GW_STORE_PROJECT_MAX 63
/* Longest budget text: digits, '/', '.' and '-'. */
#define GW_STORE_BUDGET_TEXT_MAX 64

typedef struct gw_store_t gw_store_t;

/* One released cell. key: the cell's group values canonically joined
 * (gw_diff_cell_key), "" for a table's total; count: its true count, which
 * never leaves the gateway (at most INT64_MAX). */
typedef struct {
    const char *key;
    uint64_t count;
} gw_store_cell_t;

/* Opens (creating if needed, mode 0600) the SQLite file at path and creates
 * the schema. Sets *out to a new store the caller frees with
 * gw_store_destroy. HEARTH_ERR_PERM when the file exists and is not a
 * regular file or is readable or writable by group or others;
 * HEARTH_ERR_DB when SQLite fails (cause names path). */
hearth_err_t gw_store_open(const char *path, gw_store_t **out, char **cause)
    __attribute__((warn_unused_result));

/* Closes the file and frees the store; NULL-safe; sets *self_p to NULL. */
void gw_store_destroy(gw_store_t **self_p);

/* The store's SQLite connection, borrowed: for modules that keep their own
 * tables in the same file and transactions (gw_audit). It lives as long as
 * the store; statements prepared on it must be finalised before
 * gw_store_destroy. Never NULL for an open store. */
sqlite3 *gw_store_db(gw_store_t *self);

/* BEGIN IMMEDIATE: until gw_store_commit or gw_store_rollback, every call
 * on this store is one transaction that no other connection can interleave
 * with. Inside an open transaction it nests (a savepoint): the matching
 * commit folds it into the outer transaction, which alone makes it
 * durable, and the matching rollback undoes only it. Returns
 * HEARTH_ERR_DB (cause set) when it cannot start. */
hearth_err_t gw_store_begin(gw_store_t *self, char **cause) __attribute__((warn_unused_result));

/* Commits the transaction gw_store_begin opened, durably (or, nested,
 * into the outer one). On failure it is rolled back and HEARTH_ERR_DB
 * returned. */
hearth_err_t gw_store_commit(gw_store_t *self, char **cause) __attribute__((warn_unused_result));

/* Abandons the open transaction, if any. */
void gw_store_rollback(gw_store_t *self);

/* Sets *remaining_text to a new copy (caller frees) of project's remaining
 * DP budget as last stored, or to NULL when none has been stored (the
 * project has not yet spent any: the caller starts from its configured
 * budget). HEARTH_ERR_USAGE for an over-long project name. */
hearth_err_t gw_store_budget_get(gw_store_t *self, const char *project, char **remaining_text,
                                 char **cause) __attribute__((warn_unused_result));

/* Stores text (borrowed; 1..GW_STORE_BUDGET_TEXT_MAX of 0-9 / . -, exact
 * as gw_dp wrote it) as project's remaining budget, replacing any earlier.
 * HEARTH_ERR_USAGE for a bad project name or text. */
hearth_err_t gw_store_budget_set(gw_store_t *self, const char *project, const char *text,
                                 char **cause) __attribute__((warn_unused_result));

/* Records a released table of project ("" for none) and family (64
 * lower-case hex digits, gw_diff_family): its filter as conjuncts[0..n)
 * (canonical texts, as gw_diff_conjuncts gives them) and its cells[0..ncells)
 * with distinct keys; everything borrowed. Returns HEARTH_OK once durable
 * (or at once when an equal release is already kept); HEARTH_ERR_REFUSED
 * with a reason, storing nothing, when the family already has
 * GW_STORE_MAX_RELEASES; HEARTH_ERR_TOO_BIG past the bounds above;
 * HEARTH_ERR_USAGE for a bad project or family, a duplicate key or a
 * count above INT64_MAX; HEARTH_ERR_DB. */
hearth_err_t gw_store_release_add(gw_store_t *self, const char *project, const char *family,
                                  const char *const *conjuncts, size_t n,
                                  const gw_store_cell_t *cells, size_t ncells, char **cause)
    __attribute__((warn_unused_result));

/* Sets *count to the number of releases kept for project and family. */
hearth_err_t gw_store_release_count(gw_store_t *self, const char *project, const char *family,
                                    size_t *count, char **cause)
    __attribute__((warn_unused_result));

/* Called with a kept release's conjuncts in strcmp order; returns true
 * when its cells are wanted. Everything is borrowed for the
 * call only. */
typedef bool (*gw_store_match_fn)(void *user, const char *const *conjuncts, size_t n);

/* Called with a kept release that matched: its conjuncts and its cells in
 * key order (strcmp), borrowed for the call only. Returns 0 to go on, any
 * other value to stop the walk. */
typedef int (*gw_store_release_fn)(void *user, const char *const *conjuncts, size_t n,
                                   const gw_store_cell_t *cells, size_t ncells);

/* Walks project's releases of family, oldest first: for each, match (NULL:
 * every release matches) and then, for a match, fn. Cells are read only for
 * releases that match, so match should reject what it can. Returns
 * HEARTH_OK (also when fn stopped the walk), HEARTH_ERR_USAGE for a bad
 * project or family, or HEARTH_ERR_DB. */
hearth_err_t gw_store_release_each(gw_store_t *self, const char *project, const char *family,
                                   gw_store_match_fn match, gw_store_release_fn fn, void *user,
                                   char **cause) __attribute__((warn_unused_result));

#endif
