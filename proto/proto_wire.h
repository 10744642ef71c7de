/* proto_wire — sending and receiving Envelopes on ZeroMQ sockets. A ROUTER
 * peer's routing id travels as a separate frame in front of the envelope. */
#ifndef PROTO_WIRE_H
#define PROTO_WIRE_H

#include "proto_codec.h"

#include <stddef.h>
#include <stdint.h>

/* The largest routing id libzmq produces (it allows 255 bytes). */
#define PROTO_MAX_ROUTING_ID 255

typedef struct {
    uint8_t bytes[PROTO_MAX_ROUTING_ID];
    size_t len;
} proto_peer_t;

/* Serialises env and sends it; when peer is not NULL, the routing frame goes
 * first (ROUTER sockets). Non-blocking when dontwait is set. */
hearth_err_t proto_send(void *sock, const proto_peer_t *peer,
                        Hearth__Envelope *env, int dontwait, char **cause);

/* Receives one message. With peer non-NULL, expects a routing frame first
 * (ROUTER) and stores it. When user_id is not NULL, copies the ZAP-provided
 * "User-Id" of the sender (NUL-terminated, at most user_id_cap bytes; empty
 * when none). Drops messages with unexpected frame counts. *env is set to a
 * decoded envelope on HEARTH_OK. */
hearth_err_t proto_recv(void *sock, proto_peer_t *peer, size_t max,
                        char *user_id, size_t user_id_cap,
                        Hearth__Envelope **env, char **cause);

/* Reads one event from a zmq_socket_monitor PAIR socket and returns its
 * event number (ZMQ_EVENT_*), or 0 when none is waiting (dontwait) or the
 * read failed. The event's address frame is read and discarded. */
uint16_t proto_monitor_event(void *monitor, int dontwait);

#endif
