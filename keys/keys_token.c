/* The low-level SHA256_Init/Update/Final and a copyable SHA256_CTX are
 * deprecated in OpenSSL 3, but they are what makes tokens cheap: HMAC with
 * precomputed inner/outer midstates costs two compressions per short
 * message, whereas EVP_MAC allocates and re-initialises per call and is
 * several times slower (see bench/run-tokens.sh). Ingest computes two tokens
 * per row and every node re-keys every token per query, so this file alone
 * opts back in to the deprecated API. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "keys_token.h"
#include "keys_sha_ni.h"
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
    bool sha_ni;      /* re-key on the SHA extensions (keys_sha_ni.h) */
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
    /* HEARTH_SHA_NI=0 forces the portable path (for tests and to compare
     * the two in benchmarks); results are the same either way. */
    const char *env = getenv("HEARTH_SHA_NI");
    self->sha_ni = keys_sha_ni_available() && !(env && strcmp(env, "0") == 0);
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
    keys_token_requery_many(query_ctx, t, 1, out);
}

/* A 32-byte message after a one-block midstate fits one more block, and so
 * does the 32-byte inner digest after the outer midstate: both blocks are
 * the 32 bytes, 0x80, zeros and the bit length 768 (64 + 32 bytes). So a
 * re-keyed token is exactly two SHA256_Transform calls on copies of the
 * midstates, with none of SHA256_Update/Final's buffering, padding and
 * wiping per call (which cost as much as the compressions themselves). */
static void block_for(uint8_t block[HMAC_BLOCK], const uint8_t msg[32])
{
    memcpy(block, msg, 32);
    block[32] = 0x80;
    memset(block + 33, 0, HMAC_BLOCK - 33 - 2);
    block[HMAC_BLOCK - 2] = 0x03;   /* 768 = 0x0300 bits, big-endian */
    block[HMAC_BLOCK - 1] = 0x00;
}

static void state_bytes(const SHA256_CTX *c, uint8_t *out, size_t words)
{
    for (size_t i = 0; i < words; i++) {
        uint32_t h = c->h[i];
        out[4 * i] = (uint8_t)(h >> 24);
        out[4 * i + 1] = (uint8_t)(h >> 16);
        out[4 * i + 2] = (uint8_t)(h >> 8);
        out[4 * i + 3] = (uint8_t)h;
    }
}

void keys_token_requery_many(const keys_token_t *query_ctx, const uint8_t *t, size_t n,
                             uint8_t *out)
{
    _Static_assert(KEYS_TOKEN_LEN == 32 && SHA256_DIGEST_LENGTH == 32, "one-block HMAC");
    _Static_assert(sizeof(SHA_LONG) == sizeof(uint32_t), "SHA-256 state words");
    if (query_ctx->sha_ni) {
        keys_sha_ni_hmac32(query_ctx->inner.h, query_ctx->outer.h, t, n, out,
                           KEYS_QUERY_TOKEN_LEN);
        return;
    }
    SHA256_CTX c;
    uint8_t block[HMAC_BLOCK], digest[SHA256_DIGEST_LENGTH];
    for (size_t i = 0; i < n; i++) {
        block_for(block, t + i * KEYS_TOKEN_LEN);
        c.h[0] = query_ctx->inner.h[0]; c.h[1] = query_ctx->inner.h[1];
        c.h[2] = query_ctx->inner.h[2]; c.h[3] = query_ctx->inner.h[3];
        c.h[4] = query_ctx->inner.h[4]; c.h[5] = query_ctx->inner.h[5];
        c.h[6] = query_ctx->inner.h[6]; c.h[7] = query_ctx->inner.h[7];
        SHA256_Transform(&c, block);
        state_bytes(&c, digest, 8);
        block_for(block, digest);
        c.h[0] = query_ctx->outer.h[0]; c.h[1] = query_ctx->outer.h[1];
        c.h[2] = query_ctx->outer.h[2]; c.h[3] = query_ctx->outer.h[3];
        c.h[4] = query_ctx->outer.h[4]; c.h[5] = query_ctx->outer.h[5];
        c.h[6] = query_ctx->outer.h[6]; c.h[7] = query_ctx->outer.h[7];
        SHA256_Transform(&c, block);
        state_bytes(&c, out + i * KEYS_QUERY_TOKEN_LEN, KEYS_QUERY_TOKEN_LEN / 4);
    }
    OPENSSL_cleanse(&c, sizeof c);
    OPENSSL_cleanse(block, sizeof block);
    OPENSSL_cleanse(digest, sizeof digest);
}

void keys_key_id(const uint8_t key[KEYS_LINKAGE_KEY_LEN], char out[KEYS_KEY_ID_LEN + 1])
{
    uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256(key, KEYS_LINKAGE_KEY_LEN, digest);
    hearth_hex_encode(digest, KEYS_KEY_ID_LEN / 2, out);
    OPENSSL_cleanse(digest, sizeof digest);
}
