/* client_audit_parse — the strict field readers `hearth audit` shares
 * between the text files it reads (the export file, a node's receipts
 * file): base64 with a bound on what it decodes to (canonical decimals
 * are common/hearth_util.h's hearth_parse_u64). */
#ifndef CLIENT_AUDIT_PARSE_H
#define CLIENT_AUDIT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes the strict base64 (hearth_base64) s[0..len) into a new buffer
 * (caller frees) of *out_len bytes. NULL for anything not base64, or when
 * it would decode to more than max bytes (refused before decoding). */
uint8_t *client_audit_parse_base64(const char *s, size_t len, size_t max, size_t *out_len);

#endif
