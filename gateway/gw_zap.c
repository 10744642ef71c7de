#include "gw_zap.h"
#include "hearth_log.h"
#include "hearth_mem.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define ZAP_MAX_FRAMES 8
#define ZAP_MAX_FRAME 256

struct gw_zap_t {
    void *sock;
    pthread_t thread;
    gw_peer_t *nodes, *analysts;
    size_t nnodes, nanalysts;
    atomic_ulong admitted, refused;
};

typedef struct {
    size_t n;
    size_t len[ZAP_MAX_FRAMES];
    uint8_t data[ZAP_MAX_FRAMES][ZAP_MAX_FRAME];
    bool oversize;
} request_t;

/* Reads one multipart request; false on ETERM (time to stop). */
static bool recv_request(void *sock, request_t *req)
{
    req->n = 0;
    req->oversize = false;
    int more = 1;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, 0) < 0) {
            zmq_msg_close(&m);
            if (errno == EINTR)
                continue;
            return false;
        }
        more = zmq_msg_more(&m);
        size_t len = zmq_msg_size(&m);
        if (req->n < ZAP_MAX_FRAMES && len <= ZAP_MAX_FRAME) {
            memcpy(req->data[req->n], zmq_msg_data(&m), len);
            req->len[req->n] = len;
        } else {
            req->oversize = true;
        }
        req->n++;
        zmq_msg_close(&m);
    }
    return true;
}

static bool frame_is(const request_t *req, size_t i, const char *s)
{
    return i < req->n && i < ZAP_MAX_FRAMES && req->len[i] == strlen(s) &&
           memcmp(req->data[i], s, req->len[i]) == 0;
}

static const gw_peer_t *lookup(const gw_peer_t *list, size_t n, const uint8_t *key)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(list[i].key, key, 32) == 0)
            return &list[i];
    return NULL;
}

static void reply(void *sock, const request_t *req, bool ok, const char *user)
{
    /* Echo the version and request id exactly (RFC 27). */
    zmq_send(sock, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(sock, req->n > 1 ? req->data[1] : (const uint8_t *)"",
             req->n > 1 ? req->len[1] : 0, ZMQ_SNDMORE);
    zmq_send(sock, ok ? "200" : "400", 3, ZMQ_SNDMORE);
    const char *text = ok ? "OK" : "key not admitted";
    zmq_send(sock, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(sock, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(sock, "", 0, 0);
}

/* One line per refused connection, so an operator can see a partner whose
 * key is missing from the config. A public key is not a secret. */
static void log_refusal(const request_t *req)
{
    char key[41] = "(none)";
    if (!req->oversize && req->n == 7 && req->len[6] == 32)
        zmq_z85_encode(key, req->data[6], 32);
    char address[64] = "";
    if (!req->oversize && req->n > 3) {
        size_t n = req->len[3] < sizeof address - 1 ? req->len[3] : sizeof address - 1;
        for (size_t i = 0; i < n; i++) {
            char c = (char)req->data[3][i];
            address[i] = c >= 0x20 && c < 0x7f ? c : '?';
        }
        address[n] = '\0';
    }
    hearth_log(HEARTH_LOG_WARN, "gateway", "refused a connection from %s: public key %s is "
               "not configured for this endpoint", address[0] ? address : "(unknown)", key);
}

static void *run(void *arg)
{
    gw_zap_t *self = arg;
    request_t *req = hearth_malloc(sizeof *req);
    /* Request frames: version, request id, domain, address, routing id,
     * mechanism, then credentials (CURVE: the 32-byte client key). */
    while (recv_request(self->sock, req)) {
        const gw_peer_t *peer = NULL;
        if (!req->oversize && req->n == 7 && frame_is(req, 0, "1.0") &&
            frame_is(req, 5, "CURVE") && req->len[6] == 32) {
            if (frame_is(req, 2, GW_ZAP_DOMAIN_NODES))
                peer = lookup(self->nodes, self->nnodes, req->data[6]);
            else if (frame_is(req, 2, GW_ZAP_DOMAIN_ANALYSTS))
                peer = lookup(self->analysts, self->nanalysts, req->data[6]);
        }
        if (peer) {
            atomic_fetch_add(&self->admitted, 1);
        } else {
            atomic_fetch_add(&self->refused, 1);
            log_refusal(req);
        }
        reply(self->sock, req, peer != NULL, peer ? peer->name : "");
    }
    free(req);
    zmq_close(self->sock);
    return NULL;
}

hearth_err_t gw_zap_start(void *ctx, const gw_peer_t *nodes, size_t nnodes,
                          const gw_peer_t *analysts, size_t nanalysts, gw_zap_t **out,
                          char **cause)
{
    *out = NULL;
    gw_zap_t *self = hearth_calloc(1, sizeof *self);
    self->sock = zmq_socket(ctx, ZMQ_REP);
    int zero = 0;
    if (self->sock == NULL || zmq_setsockopt(self->sock, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_bind(self->sock, "inproc://zeromq.zap.01") != 0) {
        hearth_cause_set(cause, "cannot start the authentication handler: %s",
                         zmq_strerror(errno));
        if (self->sock)
            zmq_close(self->sock);
        free(self);
        return HEARTH_ERR_NET;
    }
    self->nodes = hearth_calloc(nnodes, sizeof *self->nodes);
    memcpy(self->nodes, nodes, nnodes * sizeof *nodes);
    self->nnodes = nnodes;
    self->analysts = hearth_calloc(nanalysts, sizeof *self->analysts);
    memcpy(self->analysts, analysts, nanalysts * sizeof *analysts);
    self->nanalysts = nanalysts;
    /* pthread_create is a full memory barrier, which is what libzmq asks
     * for when a socket moves to another thread. */
    if (pthread_create(&self->thread, NULL, run, self) != 0) {
        hearth_cause_set(cause, "cannot start the authentication thread");
        zmq_close(self->sock);
        free(self->nodes);
        free(self->analysts);
        free(self);
        return HEARTH_ERR_INTERNAL;
    }
    *out = self;
    return HEARTH_OK;
}

void gw_zap_stop(gw_zap_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    gw_zap_t *self = *self_p;
    pthread_join(self->thread, NULL);
    free(self->nodes);
    free(self->analysts);
    free(self);
    *self_p = NULL;
}

void gw_zap_counts(gw_zap_t *self, unsigned long *admitted, unsigned long *refused)
{
    *admitted = atomic_load(&self->admitted);
    *refused = atomic_load(&self->refused);
}
