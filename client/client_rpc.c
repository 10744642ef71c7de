#include "client_rpc.h"
#include "client_render.h"
#include "hearth_buf.h"
#include "hearth_mem.h"
#include "hearth_util.h"
#include "keys_file.h"
#include "proto_wire.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

struct client_rpc_t {
    const client_config_t *cfg;
    void *ctx;
    void *dealer;
    void *monitor;
};

hearth_err_t client_rpc_open(const client_config_t *cfg, client_rpc_t **out, char **cause)
{
    *out = NULL;
    client_rpc_t *self = hearth_calloc(1, sizeof *self);
    self->cfg = cfg;
    char pub[41], sec[41], gw[41];
    hearth_err_t rc;
    if ((rc = keys_curve_load_secret(cfg->curve_key, pub, sec, cause)) != HEARTH_OK ||
        (rc = keys_curve_load_public(cfg->gateway_public, gw, cause)) != HEARTH_OK)
        goto fail;
    self->ctx = zmq_ctx_new();
    self->dealer = zmq_socket(self->ctx, ZMQ_DEALER);
    int zero = 0;
    int64_t maxmsg = PROTO_MAX_CLIENT_MSG;
    if (zmq_setsockopt(self->dealer, ZMQ_CURVE_SERVERKEY, gw, 40) != 0 ||
        zmq_setsockopt(self->dealer, ZMQ_CURVE_PUBLICKEY, pub, 40) != 0 ||
        zmq_setsockopt(self->dealer, ZMQ_CURVE_SECRETKEY, sec, 40) != 0 ||
        zmq_setsockopt(self->dealer, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0 ||
        zmq_setsockopt(self->dealer, ZMQ_LINGER, &zero, sizeof zero) != 0) {
        hearth_cause_set(cause, "cannot configure the connection: %s", zmq_strerror(errno));
        rc = HEARTH_ERR_NET;
        goto fail;
    }
    char inproc[64];
    snprintf(inproc, sizeof inproc, "inproc://client-monitor-%p", (void *)self);
    if (zmq_socket_monitor(self->dealer, inproc, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                           ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) != 0) {
        hearth_cause_set(cause, "cannot monitor the connection: %s", zmq_strerror(errno));
        rc = HEARTH_ERR_NET;
        goto fail;
    }
    self->monitor = zmq_socket(self->ctx, ZMQ_PAIR);
    zmq_setsockopt(self->monitor, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_connect(self->monitor, inproc) != 0 || zmq_connect(self->dealer, cfg->gateway) != 0) {
        hearth_cause_set(cause, "cannot connect to '%s': %s", cfg->gateway, zmq_strerror(errno));
        rc = HEARTH_ERR_NET;
        goto fail;
    }
    OPENSSL_cleanse(sec, sizeof sec);
    *out = self;
    return HEARTH_OK;
fail:
    OPENSSL_cleanse(sec, sizeof sec);
    client_rpc_destroy(&self);
    return rc;
}

void client_rpc_destroy(client_rpc_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    client_rpc_t *self = *self_p;
    /* Monitoring stops before its socket closes (see node_serve.c). */
    if (self->dealer)
        zmq_socket_monitor(self->dealer, NULL, 0);
    if (self->monitor)
        zmq_close(self->monitor);
    if (self->dealer)
        zmq_close(self->dealer);
    if (self->ctx)
        zmq_ctx_term(self->ctx);
    free(self);
    *self_p = NULL;
}

/* True when the monitor reports that the gateway rejected our handshake. */
static bool auth_failed(client_rpc_t *self)
{
    bool failed = false;
    uint16_t event;
    while ((event = proto_monitor_event(self->monitor, 1)) != 0)
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ||
            event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
            failed = true;
    return failed;
}

hearth_err_t client_rpc_call(client_rpc_t *self, Hearth__Envelope *req, uint32_t timeout_ms,
                             Hearth__Envelope **reply, char **cause)
{
    *reply = NULL;
    hearth_err_t rc = proto_send(self->dealer, NULL, req, 0, cause);
    if (rc != HEARTH_OK)
        return rc;
    uint64_t deadline = hearth_now_ms() + timeout_ms;
    for (;;) {
        uint64_t now = hearth_now_ms();
        if (now >= deadline) {
            hearth_cause_set(cause, "no answer from the gateway at %s within %u s: it may be "
                             "down or busy", self->cfg->gateway, timeout_ms / 1000);
            return HEARTH_ERR_TIMEOUT;
        }
        zmq_pollitem_t items[] = {{self->dealer, 0, ZMQ_POLLIN, 0},
                                  {self->monitor, 0, ZMQ_POLLIN, 0}};
        long wait = (long)(deadline - now);
        if (zmq_poll(items, 2, wait) < 0) {
            if (errno == EINTR) {
                hearth_cause_set(cause, "interrupted");
                return HEARTH_ERR_TIMEOUT;
            }
            hearth_cause_set(cause, "poll failed: %s", zmq_strerror(errno));
            return HEARTH_ERR_NET;
        }
        if ((items[1].revents & ZMQ_POLLIN) && auth_failed(self)) {
            hearth_cause_set(cause, "the gateway at %s refused this client's key (or is not "
                             "the gateway whose public key is pinned); ask its operator to "
                             "admit your public key", self->cfg->gateway);
            return HEARTH_ERR_REFUSED;
        }
        if (items[0].revents & ZMQ_POLLIN)
            return proto_recv(self->dealer, NULL, PROTO_MAX_CLIENT_MSG, NULL, 0, reply, cause);
    }
}

hearth_err_t client_rpc_expect(client_rpc_t *self, Hearth__Envelope *req,
                               Hearth__Envelope__BodyCase want, Hearth__Envelope **reply,
                               char **cause)
{
    hearth_err_t rc = client_rpc_call(self, req, self->cfg->timeout_ms, reply, cause);
    if (rc != HEARTH_OK || (*reply)->body_case == want)
        return rc;
    if ((*reply)->body_case == HEARTH__ENVELOPE__BODY_ERROR) {
        /* The gateway said no (a key without the role the request needs):
         * its words, made safe for a terminal. */
        hearth_buf_t text;
        hearth_buf_init(&text, 4096);
        const char *msg = (*reply)->error->message ? (*reply)->error->message : "";
        if (client_render_term_text(&text, msg) != HEARTH_OK)
            hearth_buf_reset(&text);   /* too long to be a reason: say nothing of it */
        hearth_cause_set(cause, "the gateway refused the request: %s",
                         *hearth_buf_str(&text) ? hearth_buf_str(&text) : "no reason given");
        hearth_buf_free(&text);
        rc = HEARTH_ERR_REFUSED;
    } else {
        hearth_cause_set(cause, "the gateway sent an unexpected reply");
        rc = HEARTH_ERR_PROTO;
    }
    proto_free(reply);
    return rc;
}

hearth_err_t client_rpc_ask(const client_config_t *cfg, Hearth__Envelope *req,
                            Hearth__Envelope__BodyCase want, Hearth__Envelope **reply,
                            char **cause)
{
    *reply = NULL;
    client_rpc_t *rpc = NULL;
    hearth_err_t rc = client_rpc_open(cfg, &rpc, cause);
    if (rc == HEARTH_OK)
        rc = client_rpc_expect(rpc, req, want, reply, cause);
    client_rpc_destroy(&rpc);
    return rc;
}
