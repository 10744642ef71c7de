/* gw_config — the gateway's config file (INI, read with inih).
 *
 *   [gateway]
 *   curve_key = gateway.key              ; the gateway's CURVE keypair (secret, 0600)
 *   audit_key = gateway-audit.signer     ; Ed25519 key that signs audit checkpoints
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
 *   [limits]
 *   max_query_length = 16384
 *   max_in_list = 1000
 *   max_cells = 10000
 *   [node trust]                         ; one section per partner node
 *   public_key = trust.pub               ; its CURVE public key
 *   receipt_key = trust-audit.vkey       ; verifier of the receipts it signs
 *   [analyst alice]                      ; one per person admitted
 *   public_key = alice.pub
 *   display_name = Alice Smith           ; optional, printable, <= 200 bytes
 *   organisation = University of X       ; optional, printable, <= 200 bytes
 *   roles = analyst, auditor             ; of analyst, auditor, admin; default analyst
 *
 * Projects are not configured here: they live in the gateway database and
 * are managed with `hearth-gateway project add|show|list|suspend|resume`
 * (gw_project, docs/ig-officer.md), so that every change is an audit event.
 * A [project NAME] section is refused with a message saying so.
 *
 * There is deliberately no linkage-key setting: the gateway must never hold
 * the key, and a config that tries to give it one is refused. Relative
 * paths are resolved against the config file's folder.
 *
 * A project's disclosure rules (gw_project_policy_t) may only be stricter
 * than [disclosure]; gw_config_policy_check says whether they are.
 * "Stricter" for each setting (equal is accepted everywhere): threshold and
 * protection higher; rounding a multiple of the looser base and at least
 * it; zeros disclosive rather than released; dominance on rather than off,
 * and of the same kind with a higher p (p%: a cell is hidden when the rest
 * of its sum is under p% of its largest contribution) or a larger n and a
 * smaller k ((n,k): hidden when its n largest contributions exceed k% of
 * its sum). */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include "gw_sdc.h"
#include "hearth_err.h"
#include "tlog_note.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_NAME_MAX 63
#define GW_MAX_PEERS 1024
/* Longest [analyst NAME] display_name or organisation, bytes. */
#define GW_PEER_TEXT_MAX 200
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

/* A project's disclosure rules, with [disclosure]'s values where the
 * project sets none: every field is the rule that applies to it. */
typedef struct {
    gw_sdc_policy_t disclosure;   /* threshold, rounding, zeros, protection */
    gw_dominance_t dominance;
    /* Exact text as written ("1/2", "0.25", "2"): digits with at most one
     * '/' or '.', positive; gw_dp parses it. Both "" when the project adds
     * no noise, both set otherwise. */
    char dp_epsilon[GW_CONFIG_DP_TEXT_MAX + 1];
    char dp_budget[GW_CONFIG_DP_TEXT_MAX + 1];
} gw_project_policy_t;

/* Roles of an analyst (gw_peer_t.roles, a bit set). */
#define GW_ROLE_ANALYST 1u   /* query and catalogue */
#define GW_ROLE_AUDITOR 2u   /* the Audit* requests and catalogue */
#define GW_ROLE_ADMIN 4u     /* no network request of its own (status is open to
                                * every key); projects are administered on the
                                * gateway host with hearth-gateway project */

/* One [node NAME] or [analyst NAME] section; a plain value (copied freely). */
typedef struct {
    char name[GW_NAME_MAX + 1];
    uint8_t key[32];          /* CURVE public key, binary */
    /* Nodes: the pinned verifier of the receipts the node signs
     * (receipt_key). Unused (zero) for analysts. */
    tlog_verifier_t receipt_key;
    /* Analysts: display_name and organisation ("" when not set), and the
     * GW_ROLE_* bits (GW_ROLE_ANALYST when roles is not set). Unused
     * ("" and 0) for nodes. */
    char display_name[GW_PEER_TEXT_MAX + 1];
    char organisation[GW_PEER_TEXT_MAX + 1];
    unsigned roles;
} gw_peer_t;

typedef struct {
    char *curve_key;          /* owned: path */
    char *audit_key;          /* owned: path of the Ed25519 signing key
                                 (keys_signer_load), loaded by whoever signs */
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

/* The [node NAME] or [analyst NAME] section called name (borrowed from
 * cfg), or NULL. */
const gw_peer_t *gw_config_node(const gw_config_t *cfg, const char *name);
const gw_peer_t *gw_config_analyst(const gw_config_t *cfg, const char *name);

/* Fills *out with [disclosure]'s rules and no DP: the policy of a project
 * that sets nothing of its own. */
void gw_config_policy_default(const gw_config_t *cfg, gw_project_policy_t *out);

/* Whether a project's rules p are [disclosure]'s or stricter (see the top
 * of this file), and consistent: protection at most the threshold,
 * dp_epsilon and dp_budget both set or both "", each a value gw_dp
 * accepts. HEARTH_OK, or HEARTH_ERR_CONFIG with *cause saying which
 * setting and what it must be (e.g. "threshold must be 10..1000 (at least
 * [disclosure]'s, never looser)"). */
hearth_err_t gw_config_policy_check(const gw_config_t *cfg, const gw_project_policy_t *p,
                                    char **cause) __attribute__((warn_unused_result));

/* True when s is printable UTF-8: well-formed, and without control
 * characters or bidirectional embeddings, overrides or isolates (which
 * could rearrange what a terminal or report shows). Any length. */
bool gw_config_text_printable(const char *s);

/* True when dominance rule d hides at least every cell base hides (rules
 * of different kinds are not comparable: neither is stricter). */
bool gw_config_dominance_at_least(const gw_dominance_t *d, const gw_dominance_t *base);

/* Sets one of a project's rules from text, as `hearth-gateway project add`
 * takes them: name is threshold, rounding or protection (a whole number
 * 1..1000), zeros (released or disclosive), dominance ("off", "p% P" or
 * "n,k N K"), dp_epsilon or dp_budget (a positive number gw_dp accepts).
 * Only the form is checked here; gw_config_policy_check then checks the
 * whole against [disclosure]. HEARTH_ERR_USAGE with *cause for an unknown
 * name or a malformed value (p is then unchanged). */
hearth_err_t gw_config_policy_set(gw_project_policy_t *p, const char *name, const char *value,
                                  char **cause) __attribute__((warn_unused_result));

#endif
