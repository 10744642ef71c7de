/* node_config — a partner's one config file (INI), read with inih.
 *
 *   [node]
 *   name = trust                  ; this partner's node name (datasets are trust.<name>)
 *   database = trust.db           ; the node's SQLite file
 *   linkage_key = linkage.key     ; the partnership's shared linkage key (secret, 0600)
 *   curve_key = trust.key         ; this node's CURVE keypair (secret, 0600)
 *   min_cohort = 8                ; optional: the fewest persons (8..1000000) this
 *                                 ; node sends for a linked query part, or none
 *   ledger = trust.db.ledger      ; optional: the node's record of the sub-queries
 *                                 ; it answered (default: the database + ".ledger")
 *   min_cell = 10                 ; optional: this node's disclosure floor for its
 *                                 ; own contribution (0..1000; default 0, none)
 *   signing_key = trust-audit.signer  ; this node's Ed25519 key (secret, 0600),
 *                                 ; which signs its receipts (keys/keys_sign.h)
 *   [gateway]
 *   endpoint = tcp://gateway.example:7001
 *   public_key = gateway.pub      ; the gateway's CURVE public key, pinned
 *   audit_key = gateway-audit.vkey  ; the gateway's audit verifier key, pinned:
 *                                 ; every dispatch's checkpoint must be signed by it
 *   [projects]                    ; which projects may ask about which datasets
 *   hsr-2025-014 = ae_attendances, admissions
 *   falls-audit = *               ; every dataset of this node
 *
 * Relative paths are resolved against the config file's folder. A linked
 * query's cohort of 1 to min_cohort - 1 persons is refused: so few persons'
 * tokens would let the gateway single them out across partners.
 *
 * min_cell is announced in the node's Hello: the gateway suppresses any
 * released count from 1 to min_cell in a result that uses this node's data
 * when that is stricter than its own threshold, and the node itself refuses
 * an ordinary sub-query matching 1..min_cell of its people in all. A node
 * can only make things stricter this way, never looser; 0 leaves the
 * gateway's rules as they are.
 *
 * [projects] is the partner's own approval, checked again by the node for
 * every dispatch whatever the gateway decided: a project with no entry, or
 * a dataset not listed for it, is refused. Project ids are 1..63 of
 * [a-z0-9_.-]; datasets are plain dataset names of this node (not
 * "node.dataset") or a lone "*". A project may appear once; at most
 * NODE_CONFIG_MAX_PROJECTS projects of NODE_CONFIG_MAX_DATASETS datasets
 * each. No [projects] section at all approves nothing. */
#ifndef NODE_CONFIG_H
#define NODE_CONFIG_H

#include "hearth_err.h"
#include "tlog_note.h"

#include <stdbool.h>
#include <stdint.h>

#define NODE_NAME_MAX 63
/* The default and the bounds of [node] min_cohort. */
#define NODE_CONFIG_MIN_COHORT_DEFAULT 8
#define NODE_CONFIG_MIN_COHORT_MAX 1000000
/* The bound of [node] min_cell (its default is 0: no floor of its own). */
#define NODE_CONFIG_MIN_CELL_MAX 1000
/* The longest project id, and the bounds of [projects]. */
#define NODE_CONFIG_PROJECT_MAX 63
#define NODE_CONFIG_MAX_PROJECTS 1024
#define NODE_CONFIG_MAX_DATASETS 256

/* One [projects] entry. */
typedef struct {
    char id[NODE_CONFIG_PROJECT_MAX + 1];
    bool all;                /* "*": every dataset of this node */
    char **datasets;         /* owned: plain dataset names, none when all */
    size_t ndatasets;
} node_config_project_t;

typedef struct {
    char name[NODE_NAME_MAX + 1];
    char *database;          /* owned */
    char *linkage_key;       /* owned: path */
    char *curve_key;         /* owned: path */
    char *ledger;            /* owned: path */
    uint32_t min_cohort;     /* DEFAULT..NODE_CONFIG_MIN_COHORT_MAX: only raised */
    uint32_t min_cell;       /* 0..NODE_CONFIG_MIN_CELL_MAX; 0: no floor of its own */
    char *gateway_endpoint;  /* owned */
    char *gateway_public;    /* owned: path */
    char *signing_key;       /* owned: path of this node's receipt signing key */
    char *audit_key;         /* owned: path of the gateway's audit verifier key */
    tlog_verifier_t audit;   /* that key, read when the config is loaded */
    node_config_project_t *projects;  /* owned: [projects], in file order */
    size_t nprojects;
} node_config_t;

/* Reads path into a new config (*out; free with node_config_destroy), and
 * the gateway's audit verifier key it names. Every setting above is
 * required but min_cohort, ledger, min_cell and [projects]; the name must
 * be a valid node name. Refuses (HEARTH_ERR_CONFIG, with the line) an
 * unknown setting, a min_cohort or min_cell that is not a whole number in
 * range, or a [projects] entry that is malformed, repeated or over the
 * bounds; a verifier key that cannot be read or is malformed gives
 * tlog_verifier_load's code, with a cause naming [gateway] audit_key. */
hearth_err_t node_config_load(const char *path, node_config_t **out, char **cause)
    __attribute__((warn_unused_result));

void node_config_destroy(node_config_t **self_p);

/* True when s is a valid node or dataset name: 1..63 of [a-z0-9_], starting
 * with a letter. Names appear in queries, so they are kept plain. */
bool node_config_name_valid(const char *s);

/* True when s is a valid project id: 1..NODE_CONFIG_PROJECT_MAX of
 * [a-z0-9_.-]. s may be NULL. */
bool node_config_project_valid(const char *s);

/* True when this node's [projects] approve project asking about dataset
 * (a plain dataset name of this node). Otherwise false, with *cause (when
 * cause is not NULL) saying why in words fit for the analyst:
 *   "project 'X' is not approved by this node"
 *   "dataset 'Y' is not approved for project 'X' by this node"
 * (a malformed id or name is not quoted: "a malformed project id ...").
 * Both strings are borrowed and may be NULL. */
bool node_config_approves(const node_config_t *self, const char *project, const char *dataset,
                          char **cause);

#endif
