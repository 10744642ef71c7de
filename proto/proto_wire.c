#include "proto_wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

hearth_err_t proto_send(void *sock, const proto_peer_t *peer,
                        Hearth__Envelope *env, int dontwait, char **cause)
{
    size_t len = 0;
    uint8_t *buf = proto_encode(env, &len);
    int flags = dontwait ? ZMQ_DONTWAIT : 0;
    hearth_err_t rc = HEARTH_OK;
    if (peer && zmq_send(sock, peer->bytes, peer->len, flags | ZMQ_SNDMORE) < 0)
        goto fail;
    if (zmq_send(sock, buf, len, flags) < 0)
        goto fail;
    free(buf);
    return HEARTH_OK;
fail:
    hearth_cause_set(cause, "send failed: %s", zmq_strerror(errno));
    rc = errno == EAGAIN ? HEARTH_ERR_TIMEOUT : HEARTH_ERR_NET;
    free(buf);
    return rc;
}

static void drain(void *sock)
{
    int more = 1;
    size_t sz = sizeof more;
    while (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz) == 0 && more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        zmq_msg_recv(&m, sock, 0);
        zmq_msg_close(&m);
    }
}

hearth_err_t proto_recv(void *sock, proto_peer_t *peer, size_t max,
                        char *user_id, size_t user_id_cap,
                        Hearth__Envelope **env, char **cause)
{
    *env = NULL;
    zmq_msg_t msg;
    hearth_err_t rc;
    if (peer) {
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, sock, 0) < 0) {
            zmq_msg_close(&msg);
            hearth_cause_set(cause, "receive failed: %s", zmq_strerror(errno));
            return errno == EAGAIN ? HEARTH_ERR_TIMEOUT : HEARTH_ERR_NET;
        }
        size_t n = zmq_msg_size(&msg);
        if (n > PROTO_MAX_ROUTING_ID || !zmq_msg_more(&msg)) {
            zmq_msg_close(&msg);
            drain(sock);
            hearth_cause_set(cause, "message without a routing frame");
            return HEARTH_ERR_PROTO;
        }
        memcpy(peer->bytes, zmq_msg_data(&msg), n);
        peer->len = n;
        zmq_msg_close(&msg);
    }
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, sock, 0) < 0) {
        zmq_msg_close(&msg);
        hearth_cause_set(cause, "receive failed: %s", zmq_strerror(errno));
        return errno == EAGAIN ? HEARTH_ERR_TIMEOUT : HEARTH_ERR_NET;
    }
    if (zmq_msg_more(&msg)) {
        zmq_msg_close(&msg);
        drain(sock);
        hearth_cause_set(cause, "message has more than one body frame");
        return HEARTH_ERR_PROTO;
    }
    if (user_id && user_id_cap > 0) {
        const char *uid = zmq_msg_gets(&msg, "User-Id");
        user_id[0] = '\0';
        if (uid && strlen(uid) < user_id_cap)
            memcpy(user_id, uid, strlen(uid) + 1);
    }
    rc = proto_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), max, env, cause);
    zmq_msg_close(&msg);
    return rc;
}

uint16_t proto_monitor_event(void *monitor, int dontwait)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, monitor, dontwait ? ZMQ_DONTWAIT : 0) < 0) {
        zmq_msg_close(&m);
        return 0;
    }
    /* First frame: 16-bit event number then a 32-bit value (libzmq 4.x). */
    uint16_t event = 0;
    if (zmq_msg_size(&m) >= sizeof event)
        memcpy(&event, zmq_msg_data(&m), sizeof event);
    int more = zmq_msg_more(&m);
    zmq_msg_close(&m);
    if (more)
        drain(monitor);
    return event;
}
