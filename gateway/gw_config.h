/* gw_config — the gateway's config file (INI, read with inih).
 *
 *   [gateway]
 *   curve_key = gateway.key              ; the gateway's CURVE keypair (secret, 0600)
 *   node_endpoint = tcp://0.0.0.0:7001   ; where nodes connect (a port may be *)
 *   analyst_endpoint = tcp://0.0.0.0:7002
 *   ready_file = gateway.ready           ; optional: bound endpoints written here
 *   node_timeout_ms = 10000
 *   [disclosure]                         ; only stricter than the defaults
 *   threshold = 7
 *   rounding = 5
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
 * paths are resolved against the config file's folder. */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include "gw_sdc.h"
#include "hearth_err.h"

#include <stddef.h>
#include <stdint.h>

#define GW_NAME_MAX 63
#define GW_MAX_PEERS 1024

typedef struct {
    char name[GW_NAME_MAX + 1];
    uint8_t key[32];          /* CURVE public key, binary */
} gw_peer_t;

typedef struct {
    char *curve_key;          /* owned: path */
    char *node_endpoint;      /* owned */
    char *analyst_endpoint;   /* owned */
    char *ready_file;         /* owned: path, or NULL */
    uint32_t node_timeout_ms;
    gw_sdc_policy_t disclosure;
    size_t max_query_length;
    size_t max_in_list;
    size_t max_cells;
    gw_peer_t *nodes;         /* owned */
    size_t nnodes;
    gw_peer_t *analysts;      /* owned */
    size_t nanalysts;
} gw_config_t;

/* Reads path into a new config (*out; free with gw_config_destroy). Loads
 * and checks every public key file it names. */
hearth_err_t gw_config_load(const char *path, gw_config_t **out, char **cause)
    __attribute__((warn_unused_result));

void gw_config_destroy(gw_config_t **self_p);

#endif
