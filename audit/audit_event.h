/* audit_event — the audit log's leaves: one event each, in a canonical
 * length-prefixed encoding that is stored and hashed byte for byte (never
 * re-serialised protobuf, whose encoding is not canonical).
 *
 * Encoding (all integers big-endian):
 *   u8  format version, 1
 *   u8  event type (audit_type_t)
 *   then every field the type has (table below), in ascending tag order:
 *   u8  tag
 *   u32 length of the value
 *       value: a string (UTF-8, no NUL, at most AUDIT_TEXT_MAX bytes), an
 *       integer (exactly 8 bytes, u64) or a hash (exactly 32 bytes)
 * Each type has a fixed set of fields, all present (an empty string is
 * encoded with length 0), so one event has exactly one encoding; the
 * decoder refuses anything else: another version or type, a missing,
 * repeated, unknown or out-of-order tag, a bad length, invalid UTF-8,
 * trailing bytes.
 *
 *   tag field         kind    types
 *   1   time_ms       int     all (milliseconds since the Unix epoch)
 *   2   query_id      string  all but GOVERNANCE
 *   3   analyst       string  RECEIVED (the name the gateway knows them by)
 *   4   analyst_key   string  RECEIVED (their CURVE public key, Z85)
 *   5   project       string  RECEIVED, ACCEPTED, DISPATCHED, GOVERNANCE
 *   6   text          string  RECEIVED (the query), ACCEPTED (the policy
 *                             applied), REFUSED and ERROR (the reason),
 *                             RECEIPT (the node's signed receipt note),
 *                             RELEASED (the disclosure summary),
 *                             GOVERNANCE (what changed, as key: value lines)
 *   7   node          string  DISPATCHED, RECEIPT
 *   8   dataset       string  ACCEPTED (every dataset, comma-separated,
 *                             as node.dataset), DISPATCHED (node.dataset)
 *   9   kind          string  DISPATCHED ("aggregate", "cohort", "target")
 *   10  part          int     DISPATCHED, RECEIPT
 *   11  nparts        int     DISPATCHED
 *   12  released      int     RELEASED (cells released, total included)
 *   13  suppressed    int     RELEASED (cells suppressed)
 *   14  result_hash   hash    RELEASED (SHA-256 of the result sent)
 *   15  actor         string  GOVERNANCE (who made the change)
 *   16  action        string  GOVERNANCE ("project add", "project suspend", ...)
 *   17  leaf          int     RECEIPT (index of the DISPATCHED leaf it answers)
 *   18  outcome       string  RECEIPT ("answered" or "refused"),
 *                             ERROR ("error" or "timeout")
 *
 * No field may hold a token, an identifier or an unreleased number: the
 * gateway writes only the query text, names, policy, reasons and counts
 * of cells. */
#ifndef AUDIT_EVENT_H
#define AUDIT_EVENT_H

#include "hearth_err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUDIT_FORMAT_VERSION 1
/* The longest string field. */
#define AUDIT_TEXT_MAX ((size_t)64 * 1024)
/* The longest encoded leaf (every field at its longest is far above this:
 * the encoder refuses events past it). */
#define AUDIT_LEAF_MAX ((size_t)256 * 1024)

typedef enum {
    AUDIT_RECEIVED = 1,    /* a query arrived; committed before anything else */
    AUDIT_ACCEPTED = 2,    /* the policy decision: may be asked, under these rules */
    AUDIT_REFUSED = 3,     /* refused, before or after dispatch; nothing released */
    AUDIT_DISPATCHED = 4,  /* one part sent to one node */
    AUDIT_RECEIPT = 5,     /* a node's signed receipt for one dispatched part */
    AUDIT_RELEASED = 6,    /* a result was released */
    AUDIT_ERROR = 7,       /* an error or timeout; nothing released */
    AUDIT_GOVERNANCE = 8   /* a project was added, changed, suspended ... */
} audit_type_t;

#define AUDIT_TYPE_MIN AUDIT_RECEIVED
#define AUDIT_TYPE_MAX AUDIT_GOVERNANCE

/* One event. For encoding, strings are borrowed (NULL is encoded as ""),
 * and fields the type does not have are ignored. From audit_event_decode,
 * every string the type has is an owned NUL-terminated copy and the others
 * are NULL. */
typedef struct {
    audit_type_t type;
    uint64_t time_ms;
    char *query_id;
    char *analyst;
    char *analyst_key;
    char *project;
    char *text;
    char *node;
    char *dataset;
    char *kind;
    uint64_t part;
    uint64_t nparts;
    uint64_t released;
    uint64_t suppressed;
    uint8_t result_hash[32];
    char *actor;
    char *action;
    uint64_t leaf;
    char *outcome;
} audit_event_t;

/* "received", "accepted", ... (static); "unknown" for anything else. */
const char *audit_type_name(audit_type_t type);

/* Encodes ev into a new buffer (*out, *len; caller frees). HEARTH_ERR_USAGE
 * for an unknown type; HEARTH_ERR_TOO_BIG for a string past AUDIT_TEXT_MAX
 * or a leaf past AUDIT_LEAF_MAX; HEARTH_ERR_FORMAT for a string that is not
 * valid UTF-8 (cause names the field). */
hearth_err_t audit_event_encode(const audit_event_t *ev, uint8_t **out, size_t *len,
                                char **cause) __attribute__((warn_unused_result));

/* Decodes leaf[0..len) into *ev (caller frees with audit_event_clear).
 * HEARTH_ERR_FORMAT (cause says what is wrong, never the content) for
 * anything but a canonical encoding as above; *ev is left cleared. */
hearth_err_t audit_event_decode(const uint8_t *leaf, size_t len, audit_event_t *ev,
                                char **cause) __attribute__((warn_unused_result));

/* Frees a decoded event's strings and zeroes it; NULL-safe. */
void audit_event_clear(audit_event_t *ev);

#endif
