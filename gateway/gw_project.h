/* gw_project — the partnership's projects: who may ask what, under which
 * data-sharing agreement, until when, and under which disclosure rules.
 * Kept in the gateway's SQLite file (gw_store) and managed with
 * `hearth-gateway project add|show|list|suspend|resume` (gw_main); every
 * change is appended to the audit log as a GOVERNANCE event by the caller,
 * in the same transaction.
 *
 * A project is the unit of approval: its analysts (each named as in the
 * gateway config's [analyst NAME] sections, with the CURVE public key,
 * display name and organisation they had when added), its approved
 * datasets ("node.dataset"), its dates (inclusive, YYYY-MM-DD, UTC), its
 * status (active or suspended, with a reason), and its disclosure policy,
 * which may only be stricter than the gateway's [disclosure] rules. */
#ifndef GW_PROJECT_H
#define GW_PROJECT_H

#include "gw_config.h"
#include "gw_store.h"
#include "hearth_err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_PROJECT_ID_MAX GW_NAME_MAX
#define GW_PROJECT_TEXT_MAX 1024        /* title, DSA reference, purpose, reason */
#define GW_PROJECT_MAX_DATASETS 256
#define GW_PROJECT_MAX_ANALYSTS 256
#define GW_PROJECT_DATE_LEN 10          /* YYYY-MM-DD */

typedef struct {
    char name[GW_NAME_MAX + 1];         /* as in [analyst NAME] */
    char key[41];                       /* CURVE public key, Z85 */
    char *display_name;                 /* owned */
    char *organisation;                 /* owned */
} gw_project_analyst_t;

typedef struct {
    char id[GW_PROJECT_ID_MAX + 1];
    char *title;                        /* owned */
    char *dsa;                          /* owned: data-sharing agreement reference */
    char *purpose;                      /* owned */
    char start[GW_PROJECT_DATE_LEN + 1];
    char expiry[GW_PROJECT_DATE_LEN + 1];
    bool suspended;
    char *suspended_reason;             /* owned; "" when active */
    char **datasets;                    /* owned: "node.dataset", sorted, distinct */
    size_t ndatasets;
    gw_project_analyst_t *analysts;     /* owned, sorted by name */
    size_t nanalysts;
    gw_project_policy_t policy;         /* disclosure rules (gw_config.h) */
} gw_project_t;

/* What `project add` asks for; everything borrowed for the call. */
typedef struct {
    const char *id;                     /* 1..63 of a-z 0-9 _ . -, first a-z or 0-9 */
    const char *title;                  /* each 1..GW_PROJECT_TEXT_MAX bytes of */
    const char *dsa;                    /* printable UTF-8 (gw_config_text_printable) */
    const char *purpose;
    const char *start;                  /* YYYY-MM-DD, start <= expiry */
    const char *expiry;
    const char *const *datasets;        /* 1..GW_PROJECT_MAX_DATASETS "node.dataset", each
                                           node a [node NAME] of the config; repeats merged */
    size_t ndatasets;
    const char *const *analysts;        /* 1..GW_PROJECT_MAX_ANALYSTS names of [analyst
                                           NAME]s with role analyst; repeats merged */
    size_t nanalysts;
    gw_project_policy_t policy;         /* [disclosure]'s or stricter */
} gw_project_spec_t;

/* Creates the project tables when absent. HEARTH_ERR_DB. */
hearth_err_t gw_project_init(gw_store_t *store, char **cause) __attribute__((warn_unused_result));

/* Validates spec against cfg (borrowed) and stores it as a new, active
 * project, snapshotting each analyst's CURVE key, display name and
 * organisation from cfg. Atomic (a savepoint), so it may run inside the
 * caller's gw_store_begin .. gw_store_commit, which is how the caller puts
 * the GOVERNANCE event in the same transaction. *out (may be NULL; free with
 * gw_project_free) is the project as stored. HEARTH_ERR_USAGE with *cause
 * naming the field for a bad value (id, text, date, dataset, unknown node
 * or analyst, an analyst without the analyst role); HEARTH_ERR_REFUSED for
 * rules looser than [disclosure] (gw_config_policy_check's reason);
 * HEARTH_ERR_EXISTS when the id is taken; HEARTH_ERR_TOO_BIG when its
 * description (gw_project_describe) would be longer than an audit event's
 * text may be (AUDIT_TEXT_MAX); HEARTH_ERR_DB. */
hearth_err_t gw_project_add(gw_store_t *store, const gw_config_t *cfg,
                            const gw_project_spec_t *spec, gw_project_t **out, char **cause)
    __attribute__((warn_unused_result));

/* Sets *out to a new array of every project, sorted by id, and *n to its
 * length (free with gw_project_list_free). HEARTH_ERR_DB. */
hearth_err_t gw_project_list(gw_store_t *store, gw_project_t ***out, size_t *n, char **cause)
    __attribute__((warn_unused_result));

/* Frees an array from gw_project_list and its projects; NULL-safe; sets
 * *list to NULL. */
void gw_project_list_free(gw_project_t ***list, size_t n);

/* Suspends project id, giving reason (1..GW_PROJECT_TEXT_MAX bytes of
 * printable UTF-8; borrowed): every query of it is refused, with the
 * reason, until gw_project_resume. HEARTH_ERR_USAGE for a bad id or reason;
 * HEARTH_ERR_NOT_FOUND; HEARTH_ERR_REFUSED when it is already suspended;
 * HEARTH_ERR_DB. Like gw_project_add, meant to run in the caller's
 * transaction. */
hearth_err_t gw_project_suspend(gw_store_t *store, const char *id, const char *reason,
                                char **cause) __attribute__((warn_unused_result));

/* Makes a suspended project active again. HEARTH_ERR_USAGE for a bad id;
 * HEARTH_ERR_NOT_FOUND; HEARTH_ERR_REFUSED when it is not suspended;
 * HEARTH_ERR_DB. */
hearth_err_t gw_project_resume(gw_store_t *store, const char *id, char **cause)
    __attribute__((warn_unused_result));

/* The project as text, one "key: value" line each, in a fixed order (the
 * text of `project show` and of the GOVERNANCE event of `project add`):
 *   id, title, dsa, purpose, start, expiry, status (active|suspended),
 *   reason (only when suspended), datasets (comma-separated), one
 *   analyst line each (name key=Z85 display_name="..." organisation="...",
 *   with " and \ escaped by a backslash), threshold, rounding, zeros,
 *   protection, dominance (off, p% P, n,k N K), dp_epsilon, dp_budget
 *   (none when unset).
 * Returns a new string (caller frees). */
char *gw_project_describe(const gw_project_t *p);

/* Writes the UTC date of time_s (seconds since the Unix epoch) as
 * YYYY-MM-DD: the `today` gw_project_authorise takes. */
void gw_project_date(int64_t time_s, char out[GW_PROJECT_DATE_LEN + 1]);

/* Reads project id into a new *out (free with gw_project_free).
 * HEARTH_ERR_NOT_FOUND when there is none (or id is not a valid id);
 * HEARTH_ERR_DB, also for a stored row that breaks the bounds above. */
hearth_err_t gw_project_get(gw_store_t *store, const char *id, gw_project_t **out, char **cause)
    __attribute__((warn_unused_result));

/* Frees a project and everything it owns; NULL-safe; sets *p to NULL. */
void gw_project_free(gw_project_t **p);

/* Whether analyst `name`, connected with CURVE key key_z85, may ask a
 * question of project p about datasets[0..n) ("node.dataset") on `today`
 * (YYYY-MM-DD, UTC). HEARTH_OK, or HEARTH_ERR_REFUSED with the reason:
 * suspended, not yet started, expired, not an analyst of the project, a
 * key other than the one approved, a dataset not approved (named). */
hearth_err_t gw_project_authorise(const gw_project_t *p, const char *name, const char *key_z85,
                                  const char *const *datasets, size_t n, const char *today,
                                  char **cause) __attribute__((warn_unused_result));

#endif
