/* keys_sha_ni — HMAC-SHA256 of 32-byte messages from precomputed midstates,
 * two messages at a time on the x86 SHA extensions.
 *
 * A node re-keys every stored token of every matching person for each
 * linked query: millions of HMACs of a 32-byte token under K_q. Each is two
 * SHA-256 compressions whose blocks are fixed except for 32 bytes, and a
 * compression on the SHA extensions is a chain of dependent instructions:
 * running two independent tokens' chains side by side keeps the unit busy
 * and nearly halves the time per token. Results are bit-for-bit standard
 * HMAC-SHA256 (tests compare them with OpenSSL's). */
#ifndef KEYS_SHA_NI_H
#define KEYS_SHA_NI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when this CPU has the SHA extensions and SSE4.1, so that
 * keys_sha_ni_hmac32 may be called. */
bool keys_sha_ni_available(void);

/* For each of the n 32-byte messages at in, writes the first out_len
 * (<= 32) bytes of HMAC-SHA256 to out (out_len bytes per message). inner
 * and outer are the SHA-256 states h0..h7 after the key's ipad and opad
 * blocks. Only when keys_sha_ni_available(). Leaves no message- or
 * key-derived value on the stack beyond what the caller passed. */
void keys_sha_ni_hmac32(const uint32_t inner[8], const uint32_t outer[8], const uint8_t *in,
                        size_t n, uint8_t *out, size_t out_len);

#endif
