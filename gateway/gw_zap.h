/* gw_zap — the gateway's ZeroMQ authentication (ZAP, RFC 27) handler.
 *
 * libzmq 4.3 admits any CURVE client whose handshake completes when no ZAP
 * handler is running, so the gateway binds the handler's endpoint before it
 * binds any socket and refuses to start if it cannot. Each server socket
 * names a ZAP domain; a client key is admitted only when it is configured
 * for that domain, and its configured name becomes the connection's
 * User-Id, so peers are identified by key, never by what they claim. */
#ifndef GW_ZAP_H
#define GW_ZAP_H

#include "gw_config.h"
#include "hearth_err.h"

#define GW_ZAP_DOMAIN_NODES "hearth-nodes"
#define GW_ZAP_DOMAIN_ANALYSTS "hearth-analysts"

typedef struct gw_zap_t gw_zap_t;

/* Binds inproc://zeromq.zap.01 on ctx and starts the handler thread. The
 * peer lists are copied. Fails (and nothing runs) when the endpoint cannot
 * be bound, e.g. because another handler already owns it. */
hearth_err_t gw_zap_start(void *ctx, const gw_peer_t *nodes, size_t nnodes,
                          const gw_peer_t *analysts, size_t nanalysts, gw_zap_t **out,
                          char **cause) __attribute__((warn_unused_result));

/* Stops the handler. Call after zmq_ctx_shutdown(ctx) and before
 * zmq_ctx_term(ctx): the thread sees ETERM, closes its socket and exits.
 * NULL-safe; nulls the caller's pointer. */
void gw_zap_stop(gw_zap_t **self_p);

/* Counts of requests admitted and refused so far (for logs and tests). */
void gw_zap_counts(gw_zap_t *self, unsigned long *admitted, unsigned long *refused);

#endif
