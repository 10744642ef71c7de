/* gw_config — the gateway's config file (INI, read with inih).
 *
 *   [gateway]
 *   curve_key = gateway.key              ; the gateway's CURVE keypair (secret, 0600)
 *   node_endpoint = tcp://0.0.0.0:7001   ; where nodes connect (a port may be *)
 *   analyst_endpoint = tcp://0.0.0.0:7002
 *   ready_file = gateway.ready           ; optional: bound endpoints written here
 *   node_timeout_ms = 10000
 *   database = gateway.db                ; the gateway's own SQLite file (0600)
 *   [disclosure]                         ; only stricter than the defaults
 *   threshold = 7                        ; true counts 1..7 are hidden
 *   rounding = 5                         ; released counts to a multiple of 5
 *   zeros = released                     ; or disclosive: zeros hidden too
 *   protection = 3                       ; values of 1..threshold a hidden cell keeps
 *   dominance = off                      ; or p% 10, or n,k 2 85 (SUM and MEAN)
 *   max_queries_per_hour = 0             ; per analyst; 0 = no limit
 *   [project diabetes-audit]             ; one per project; only stricter
 *   threshold = 10                       ; than [disclosure], never looser
 *   rounding = 10                        ; a multiple of [disclosure]'s
 *   zeros = disclosive
 *   protection = 4
 *   dominance = n,k 2 85
 *   dp_epsilon = 1/2                     ; per query; with dp_budget, or neither
 *   dp_budget = 2                        ; per project, in the gateway database
 *   [limits]
 *   max_query_length = 16384
 *   max_in_list = 1000
 *   max_cells = 10000
 *   [node trust]                         ; one section per partner node
 *   public_key = trust.pub
 *   [analyst alice]                      ; one per analyst key admitted
 *   public_key = alice.pub
 *
 * There is deliberately no linkage-key setting: the gateway must never hold
 * the key, and a config that tries to give it one is refused. Relative
 * paths are resolved against the config file's folder.
 *
 * "Stricter" for each disclosure setting (equal is accepted everywhere):
 * threshold and protection higher; rounding a multiple of the looser base
 * and at least it; zeros disclosive rather than released; dominance on
 * rather than off, and of the same kind with a higher p (p%: a cell is
 * hidden when the rest of its sum is under p% of its largest contribution)
 * or a larger n and a smaller k ((n,k): hidden when its n largest
 * contributions exceed k% of its sum). A project section's values are
 * checked against [disclosure] wherever in the file either appears, and a
 * looser one is refused naming its line. A project needs at least one
 * setting to exist (inih reports settings, not empty sections). */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include "gw_sdc.h"
#include "hearth_err.h"

#include <stddef.h>
#include <stdint.h>

#define GW_NAME_MAX 63
#define GW_MAX_PEERS 1024
#define GW_MAX_PROJECTS 1024
/* Longest dp_epsilon or dp_budget text (gw_dp parses at most this). */
#define GW_CONFIG_DP_TEXT_MAX 64
/* Most contributions a dominance rule may look at: the top per-person sums
 * nodes send for each cell (GroupCount.top holds at most 3). */
#define GW_DOMINANCE_MAX_N 3

typedef enum {
    GW_DOMINANCE_OFF = 0,
    GW_DOMINANCE_P,       /* p%: hidden when sum - top1 - top2 < p% of top1 */
    GW_DOMINANCE_NK       /* (n,k): hidden when top1 + .. + topn > k% of sum */
} gw_dominance_kind_t;

/* The dominance rule for SUM and MEAN cells. */
typedef struct {
    gw_dominance_kind_t kind;
    uint32_t p;           /* P: 1..100; otherwise 0 */
    uint32_t n;           /* NK: 1..GW_DOMINANCE_MAX_N; otherwise 0 */
    uint32_t k;           /* NK: 1..99; otherwise 0 */
} gw_dominance_t;

/* One [project NAME] section, with [disclosure]'s values where the section
 * sets none: every field is the rule that applies to the project. */
typedef struct {
    char name[GW_NAME_MAX + 1];
    gw_sdc_policy_t disclosure;   /* threshold, rounding, zeros, protection */
    gw_dominance_t dominance;
    /* Exact text as written ("1/2", "0.25", "2"): digits with at most one
     * '/' or '.', positive; gw_dp parses it. Both "" when the project adds
     * no noise, both set otherwise. */
    char dp_epsilon[GW_CONFIG_DP_TEXT_MAX + 1];
    char dp_budget[GW_CONFIG_DP_TEXT_MAX + 1];
} gw_project_t;

typedef struct {
    char name[GW_NAME_MAX + 1];
    uint8_t key[32];          /* CURVE public key, binary */
} gw_peer_t;

typedef struct {
    char *curve_key;          /* owned: path */
    char *node_endpoint;      /* owned */
    char *analyst_endpoint;   /* owned */
    char *ready_file;         /* owned: path, or NULL */
    char *database;           /* owned: path; default gateway.db beside the config */
    uint32_t node_timeout_ms;
    gw_sdc_policy_t disclosure;   /* [disclosure]: the gateway-wide rules */
    gw_dominance_t dominance;     /* [disclosure] dominance */
    uint32_t max_queries_per_hour;   /* per analyst; 0 = no limit */
    size_t max_query_length;
    size_t max_in_list;
    size_t max_cells;
    gw_peer_t *nodes;         /* owned */
    size_t nnodes;
    gw_peer_t *analysts;      /* owned */
    size_t nanalysts;
    gw_project_t *projects;   /* owned; in the order the file first names them */
    size_t nprojects;
} gw_config_t;

/* Reads path into a new config (*out; free with gw_config_destroy). Loads
 * and checks every public key file it names. Returns HEARTH_ERR_NOT_FOUND
 * when the file cannot be read and HEARTH_ERR_CONFIG, with
 * "<path>:<line>: <reason>" (or "<path>: <reason>" for something missing),
 * for anything wrong in it. */
hearth_err_t gw_config_load(const char *path, gw_config_t **out, char **cause)
    __attribute__((warn_unused_result));

/* Frees the config and everything it owns; NULL-safe; sets *self_p to NULL. */
void gw_config_destroy(gw_config_t **self_p);

/* The [project NAME] section called name (borrowed from cfg), or NULL. */
const gw_project_t *gw_config_project(const gw_config_t *cfg, const char *name);

#endif
