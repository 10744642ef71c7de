/* hearth_hex — lower-case hexadecimal encoding of fixed-size buffers. */
#ifndef HEARTH_HEX_H
#define HEARTH_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Writes 2*len hex digits and a NUL to out (size at least 2*len+1). */
void hearth_hex_encode(const uint8_t *in, size_t len, char *out);

/* Decodes exactly 2*len hex digits (either case) from in into out.
 * Returns false (out unspecified) when in is not that. */
bool hearth_hex_decode(const char *in, size_t in_len, uint8_t *out, size_t len)
    __attribute__((warn_unused_result));

#endif
