/* proto_codec — the hand-written layer around the generated protobuf-c
 * code: bounded decoding, version checks and structural validation. Nothing
 * outside proto/ calls hearth__envelope__unpack directly. */
#ifndef PROTO_CODEC_H
#define PROTO_CODEC_H

#include "hearth.pb-c.h"
#include "hearth_err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The wire protocol version carried in every Envelope. Bump it when a
 * change to hearth.proto would make an older peer misread a message (see
 * the comment at the top of hearth.proto). */
#define HEARTH_PROTOCOL_VERSION 3u   /* 3: audit proofs and receipts (issue 6) */

/* Largest frame a node link carries (sub-results hold one row per group). */
#define PROTO_MAX_NODE_MSG (64u << 20)
/* Largest frame an analyst link carries. */
#define PROTO_MAX_CLIENT_MSG (4u << 20)
/* Bounds checked on every decoded message, whatever its type. */
#define PROTO_MAX_STRING (64u << 10)
#define PROTO_MAX_REPEATED (1u << 20)

/* Decodes one frame of at most max bytes into a new Envelope (*out; free
 * with proto_free). Refuses frames over max, undecodable bytes, another
 * protocol version, an envelope with no body, strings over PROTO_MAX_STRING
 * or not valid UTF-8, and repeated fields over PROTO_MAX_REPEATED. */
hearth_err_t proto_decode(const void *data, size_t len, size_t max,
                          Hearth__Envelope **out, char **cause)
    __attribute__((warn_unused_result));

/* Stamps env with HEARTH_PROTOCOL_VERSION and serialises it into a new
 * buffer (*len bytes; caller frees). */
uint8_t *proto_encode(Hearth__Envelope *env, size_t *len);

/* Frees an Envelope from proto_decode; NULL-safe; nulls the pointer. */
void proto_free(Hearth__Envelope **env_p);

/* Frees a string field of a hand-built message. protobuf-c's *__init()
 * points unset string fields at a shared static empty string, which must
 * not be passed to free(). NULL-safe. */
void proto_free_string(char *s);

/* "aggregate", "cohort" or "target" (static): a sub-query kind as the
 * audit log's dispatch leaves and the nodes' ledgers write it, so that
 * gateway and node compare the same words. NULL for any other value. */
const char *proto_kind_name(Hearth__SubQueryKind kind);

/* True when s[0..len) is well-formed UTF-8 without NUL bytes. */
bool proto_utf8_valid(const char *s, size_t len);

#endif
