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

/* Creates the project tables when absent. */
hearth_err_t gw_project_init(gw_store_t *store, char **cause) __attribute__((warn_unused_result));

/* Reads project id into a new *out (free with gw_project_free).
 * HEARTH_ERR_NOT_FOUND when there is none. */
hearth_err_t gw_project_get(gw_store_t *store, const char *id, gw_project_t **out, char **cause)
    __attribute__((warn_unused_result));

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
