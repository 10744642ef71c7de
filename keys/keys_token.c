/* The low-level SHA256_Init/Update/Final and a copyable SHA256_CTX are
 * deprecated in OpenSSL 3, but they are what makes tokens cheap: HMAC with
 * precomputed inner/outer midstates costs two compressions per short
 * message, whereas EVP_MAC allocates and re-initialises per call and is
 * several times slower (see bench/run-tokens.sh). Ingest computes two tokens
 * per row and every node re-keys every token per query, so this file alone
 * opts back in to the deprecated API. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "keys_token.h"
#include "hearth_hex.h"
#include "hearth_mem.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <stdlib.h>
#include <string.h>

#define HMAC_BLOCK 64 /* SHA-256 block size */

/* keys_token_for_query uses K_q, an HMAC output, as a linkage-sized key. */
_Static_assert(KEYS_TOKEN_LEN == KEYS_LINKAGE_KEY_LEN, "K_q must be a full key");
_Static_assert(KEYS_LINKAGE_KEY_LEN <= HMAC_BLOCK, "key must fit one block");

struct keys_token_t {
    SHA256_CTX inner; /* state after absorbing (key ^ ipad); read-only */
    SHA256_CTX outer; /* state after absorbing (key ^ opad); read-only */
};

/* Scratch for one HMAC computation, wiped as a whole afterwards: the copied
 * states are key-derived and the inner digest is a function of the message. */
typedef struct {
    SHA256_CTX ctx;
    uint8_t inner_digest[SHA256_DIGEST_LENGTH];
} hmac_scratch_t;

keys_token_t *keys_token_new(const uint8_t key[KEYS_LINKAGE_KEY_LEN])
{
    keys_token_t *self = hearth_malloc(sizeof *self);
    uint8_t pad[HMAC_BLOCK];

    /* A 32-byte key is shorter than the block, so HMAC pads it with zeros
     * rather than hashing it. */
    memset(pad, 0x36, sizeof pad);
    for (size_t i = 0; i < KEYS_LINKAGE_KEY_LEN; i++)
        pad[i] ^= key[i];
    SHA256_Init(&self->inner);
    SHA256_Update(&self->inner, pad, sizeof pad);

    memset(pad, 0x5c, sizeof pad);
    for (size_t i = 0; i < KEYS_LINKAGE_KEY_LEN; i++)
        pad[i] ^= key[i];
    SHA256_Init(&self->outer);
    SHA256_Update(&self->outer, pad, sizeof pad);

    OPENSSL_cleanse(pad, sizeof pad);
    return self;
}

void keys_token_destroy(keys_token_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    OPENSSL_cleanse(*self_p, sizeof **self_p);
    free(*self_p);
    *self_p = NULL;
}

/* Starts an HMAC: the scratch state continues from the inner midstate. The
 * caller feeds the message with SHA256_Update, then calls hmac_finish. */
static void hmac_start(const keys_token_t *self, hmac_scratch_t *s)
{
    s->ctx = self->inner;
}

static void hmac_finish(const keys_token_t *self, hmac_scratch_t *s,
                        uint8_t out[KEYS_TOKEN_LEN])
{
    SHA256_Final(s->inner_digest, &s->ctx);
    s->ctx = self->outer;
    SHA256_Update(&s->ctx, s->inner_digest, sizeof s->inner_digest);
    SHA256_Final(out, &s->ctx);
    OPENSSL_cleanse(s, sizeof *s);
}

void keys_token_hmac(const keys_token_t *self, const void *msg, size_t len,
                     uint8_t out[KEYS_TOKEN_LEN])
{
    hmac_scratch_t s;
    hmac_start(self, &s);
    if (len > 0)
        SHA256_Update(&s.ctx, msg, len);
    hmac_finish(self, &s, out);
}

void keys_token_nhs(const keys_token_t *self, const char digits[10],
                    uint8_t out[KEYS_TOKEN_LEN])
{
    hmac_scratch_t s;
    hmac_start(self, &s);
    SHA256_Update(&s.ctx, "nhs:", 4);
    SHA256_Update(&s.ctx, digits, 10);
    hmac_finish(self, &s, out);
}

void keys_token_dsp(const keys_token_t *self, const char dob[10], char sex,
                    const char *postcode, size_t postcode_len,
                    uint8_t out[KEYS_TOKEN_LEN])
{
    hmac_scratch_t s;
    hmac_start(self, &s);
    SHA256_Update(&s.ctx, "dsp:", 4);
    SHA256_Update(&s.ctx, dob, 10);
    SHA256_Update(&s.ctx, "|", 1);
    SHA256_Update(&s.ctx, &sex, 1);
    SHA256_Update(&s.ctx, "|", 1);
    if (postcode_len > 0)
        SHA256_Update(&s.ctx, postcode, postcode_len);
    hmac_finish(self, &s, out);
}

keys_token_t *keys_token_for_query(const keys_token_t *self, const char *query_id)
{
    uint8_t k_q[KEYS_TOKEN_LEN];
    hmac_scratch_t s;
    hmac_start(self, &s);
    SHA256_Update(&s.ctx, "query:", 6);
    SHA256_Update(&s.ctx, query_id, strlen(query_id));
    hmac_finish(self, &s, k_q);

    keys_token_t *q = keys_token_new(k_q);
    OPENSSL_cleanse(k_q, sizeof k_q);
    return q;
}

void keys_token_requery(const keys_token_t *query_ctx, const uint8_t t[KEYS_TOKEN_LEN],
                        uint8_t out[KEYS_QUERY_TOKEN_LEN])
{
    uint8_t full[KEYS_TOKEN_LEN];
    keys_token_hmac(query_ctx, t, KEYS_TOKEN_LEN, full);
    memcpy(out, full, KEYS_QUERY_TOKEN_LEN);
    OPENSSL_cleanse(full, sizeof full);
}

void keys_key_id(const uint8_t key[KEYS_LINKAGE_KEY_LEN], char out[KEYS_KEY_ID_LEN + 1])
{
    uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256(key, KEYS_LINKAGE_KEY_LEN, digest);
    hearth_hex_encode(digest, KEYS_KEY_ID_LEN / 2, out);
    OPENSSL_cleanse(digest, sizeof digest);
}
