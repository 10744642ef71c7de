/* client_rpc — one request, one reply, with the gateway over CurveZMQ:
 * the gateway's public key pinned, this user's keypair presented. */
#ifndef CLIENT_RPC_H
#define CLIENT_RPC_H

#include "client_config.h"
#include "hearth.pb-c.h"
#include "hearth_err.h"

typedef struct client_rpc_t client_rpc_t;

/* Loads the keys named in cfg (borrowed; must outlive the connection) and
 * connects. The connection completes in the background. */
hearth_err_t client_rpc_open(const client_config_t *cfg, client_rpc_t **out, char **cause)
    __attribute__((warn_unused_result));

void client_rpc_destroy(client_rpc_t **self_p);

/* Sends req and waits up to timeout_ms for the reply (*reply, free with
 * proto_free). HEARTH_ERR_REFUSED when the gateway rejects this client's
 * key; HEARTH_ERR_TIMEOUT when no answer comes. */
hearth_err_t client_rpc_call(client_rpc_t *self, Hearth__Envelope *req, uint32_t timeout_ms,
                             Hearth__Envelope **reply, char **cause)
    __attribute__((warn_unused_result));

/* Sends req and waits up to the config's timeout for a reply whose body is
 * want (*reply, free with proto_free). An Error reply (the gateway refused
 * the request, e.g. for a key without the role it needs) is
 * HEARTH_ERR_REFUSED with the gateway's reason, made safe for a terminal;
 * any other body HEARTH_ERR_PROTO. */
hearth_err_t client_rpc_expect(client_rpc_t *self, Hearth__Envelope *req,
                               Hearth__Envelope__BodyCase want, Hearth__Envelope **reply,
                               char **cause) __attribute__((warn_unused_result));

/* One whole exchange: connects with cfg, then client_rpc_expect. */
hearth_err_t client_rpc_ask(const client_config_t *cfg, Hearth__Envelope *req,
                            Hearth__Envelope__BodyCase want, Hearth__Envelope **reply,
                            char **cause) __attribute__((warn_unused_result));

#endif
