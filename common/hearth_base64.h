/* hearth_base64 — standard base64 (RFC 4648 section 4, with '=' padding),
 * as signed notes and checkpoints write hashes, keys and signatures. */
#ifndef HEARTH_BASE64_H
#define HEARTH_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Characters hearth_base64_encode writes for len bytes, without the NUL. */
#define HEARTH_BASE64_LEN(len) ((((len) + 2) / 3) * 4)

/* Encodes in[0..len) into out, which must hold HEARTH_BASE64_LEN(len) + 1
 * bytes; NUL-terminates. */
void hearth_base64_encode(const uint8_t *in, size_t len, char *out);

/* Decodes exactly text[0..text_len) into out (room for cap bytes), setting
 * *out_len. Strict: padded, canonical (unused bits zero), no whitespace.
 * False for anything else or when the result does not fit. */
bool hearth_base64_decode(const char *text, size_t text_len, uint8_t *out, size_t cap,
                          size_t *out_len);

#endif
