/* audit_receipt — a node's receipt for one dispatched part of a query: the
 * text a node signs (as a C2SP signed note, with its own Ed25519 key) after
 * verifying the dispatch's audit proof, keeps in its own ledger, and sends
 * back for the gateway to append to the audit log.
 *
 *   hearth-receipt v1
 *   node <node name>
 *   query <query id>
 *   part <part>/<nparts>
 *   leaf <index of the DISPATCHED leaf>
 *   checkpoint <size> <base64 root>      (the checkpoint the node verified)
 *   outcome <answered|refused>
 *
 * Every line is required, in this order, with single spaces; numbers are
 * canonical decimal. Names and ids are 1..64 of [A-Za-z0-9._:-]. */
#ifndef AUDIT_RECEIPT_H
#define AUDIT_RECEIPT_H

#include "hearth_err.h"
#include "tlog_merkle.h"

#include <stdbool.h>
#include <stdint.h>

#define AUDIT_RECEIPT_ID_MAX 64

typedef struct {
    char node[AUDIT_RECEIPT_ID_MAX + 1];
    char query_id[AUDIT_RECEIPT_ID_MAX + 1];
    uint32_t part, nparts;
    uint64_t leaf;
    uint64_t size;
    uint8_t root[TLOG_HASH_LEN];
    bool answered;          /* outcome: answered, or refused */
} audit_receipt_t;

/* The receipt's text (caller frees); NULL when a name or id is invalid or
 * part >= nparts. */
char *audit_receipt_format(const audit_receipt_t *r);

/* Parses a receipt's text exactly as above. HEARTH_ERR_FORMAT otherwise. */
hearth_err_t audit_receipt_parse(const char *text, audit_receipt_t *out, char **cause)
    __attribute__((warn_unused_result));

#endif
