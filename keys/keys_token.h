/* keys_token — the token function every partner must compute identically
 * (see the token specification in the product brief).
 *
 *   t_nhs = HMAC-SHA256(K, "nhs:" + digits)
 *   t_dsp = HMAC-SHA256(K, "dsp:" + dob + "|" + sex + "|" + postcode)
 *   K_q   = HMAC-SHA256(K, "query:" + query_id)
 *   per-query token = first 16 bytes of HMAC-SHA256(K_q, t)
 *
 * A keys_token_t holds the HMAC inner and outer SHA-256 states for one key,
 * computed once, so each token costs two SHA-256 compressions for a short
 * message. Results are exactly standard HMAC-SHA256 for any message length:
 * anyone can check them with `openssl dgst -sha256 -mac HMAC`.
 *
 * A keys_token_t is read-only after keys_token_new, so one context may be
 * shared by several threads. */
#ifndef KEYS_TOKEN_H
#define KEYS_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define KEYS_LINKAGE_KEY_LEN 32
#define KEYS_TOKEN_LEN 32       /* HMAC-SHA256 output */
#define KEYS_QUERY_TOKEN_LEN 16 /* per-query token, truncated */
#define KEYS_KEY_ID_LEN 8       /* hex digits in a key id, without the NUL */

/* Opaque; holds the precomputed HMAC inner/outer SHA-256 states for one key. */
typedef struct keys_token_t keys_token_t;

/* Returns a new context keyed with key. The key is not kept: only the two
 * SHA-256 states derived from it are, so the caller may wipe key at once.
 * Never returns NULL (out of memory aborts). Caller destroys. */
keys_token_t *keys_token_new(const uint8_t key[KEYS_LINKAGE_KEY_LEN]);

/* Wipes the context's key-derived state with OPENSSL_cleanse, frees it and
 * sets *self_p to NULL. Accepts NULL and a pointer to NULL. */
void keys_token_destroy(keys_token_t **self_p);

/* Writes HMAC-SHA256(key, msg[0..len)) to out. msg may be NULL when len is 0. */
void keys_token_hmac(const keys_token_t *self, const void *msg, size_t len,
                     uint8_t out[KEYS_TOKEN_LEN]);

/* Writes t_nhs = HMAC(K, "nhs:" + digits) to out. digits are the ten
 * normalised digits from keys_ident_nhs (no NUL needed). */
void keys_token_nhs(const keys_token_t *self, const char digits[10],
                    uint8_t out[KEYS_TOKEN_LEN]);

/* Writes t_dsp = HMAC(K, "dsp:" + dob + "|" + sex + "|" + postcode) to out.
 * dob is "YYYY-MM-DD" (no NUL needed), sex 'M' or 'F', postcode the
 * postcode_len normalised bytes from keys_ident_postcode. */
void keys_token_dsp(const keys_token_t *self, const char dob[10], char sex,
                    const char *postcode, size_t postcode_len,
                    uint8_t out[KEYS_TOKEN_LEN]);

/* Derives K_q = HMAC-SHA256(K, "query:" + query_id) (query_id is a
 * NUL-terminated string) and returns a new context keyed with K_q. K_q
 * itself is wiped before returning. Caller destroys the result. */
keys_token_t *keys_token_for_query(const keys_token_t *self, const char *query_id);

/* Writes the per-query token, the first 16 bytes of HMAC-SHA256(K_q, t), to
 * out. query_ctx comes from keys_token_for_query. */
void keys_token_requery(const keys_token_t *query_ctx, const uint8_t t[KEYS_TOKEN_LEN],
                        uint8_t out[KEYS_QUERY_TOKEN_LEN]);

/* Re-keys n tokens at once: in holds n * KEYS_TOKEN_LEN bytes, out receives
 * n * KEYS_QUERY_TOKEN_LEN. Same result as n keys_token_requery calls, at
 * a fraction of the cost per token (a node re-keys millions per query):
 * two tokens at a time on the x86 SHA extensions where the CPU has them
 * (keys_sha_ni.h), else two raw compressions per token. The environment
 * variable HEARTH_SHA_NI=0, read by keys_token_new, forces the latter. */
void keys_token_requery_many(const keys_token_t *query_ctx, const uint8_t *in, size_t n,
                             uint8_t *out);

/* Writes the key id, the first 8 lower-case hex digits of SHA-256(key), and
 * a NUL to out. A key id names a key in logs and configs without revealing
 * it. */
void keys_key_id(const uint8_t key[KEYS_LINKAGE_KEY_LEN], char out[KEYS_KEY_ID_LEN + 1]);

#endif
