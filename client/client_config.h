/* client_config — the analyst's or IG officer's client config (INI).
 *
 *   [client]
 *   gateway = tcp://gateway.example:7002   ; the gateway's analyst endpoint
 *   gateway_public_key = gateway.pub       ; pinned
 *   curve_key = alice.key                  ; this user's CURVE keypair (0600)
 *   project = sandbox                      ; default project for queries
 *   timeout_ms = 60000                     ; how long to wait for an answer
 *   audit_key = gateway-audit.vkey         ; the gateway's audit verifier key,
 *                                          ; pinned (needed by `hearth audit verify`)
 *   audit_state = client.ini.checkpoint    ; optional: the last checkpoint
 *                                          ; `hearth audit verify` accepted
 *
 * Relative paths are resolved against the config file's folder. audit_state
 * defaults to the config file's own path with ".checkpoint" appended. */
#ifndef CLIENT_CONFIG_H
#define CLIENT_CONFIG_H

#include "hearth_err.h"

#include <stdint.h>

typedef struct {
    char *gateway;            /* owned: endpoint */
    char *gateway_public;     /* owned: path */
    char *curve_key;          /* owned: path */
    char *project;            /* owned, or NULL */
    uint32_t timeout_ms;
    char *audit_key;          /* owned: path, or NULL when not set */
    char *audit_state;        /* owned: path (never NULL after a load) */
} client_config_t;

/* Reads path into a new config (*out; free with client_config_destroy). */
hearth_err_t client_config_load(const char *path, client_config_t **out, char **cause)
    __attribute__((warn_unused_result));

void client_config_destroy(client_config_t **self_p);

#endif
