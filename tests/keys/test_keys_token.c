/* Tests for keys_token: every expected value below was computed with the
 * openssl command line (the exact command is beside it), so a partner can
 * reproduce them without hearth. K is the key 000102...1f:
 *   K=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f */
#include "keys_token.h"
#include "hearth_hex.h"

#include <criterion/criterion.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdlib.h>
#include <string.h>

static const uint8_t key_k[KEYS_LINKAGE_KEY_LEN] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
    0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
    0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

/* Asserts that the len bytes at got are the lower-case hex string want. */
static void assert_hex(const uint8_t *got, size_t len, const char *want)
{
    char hex[2 * KEYS_TOKEN_LEN + 1];
    cr_assert_leq(len, (size_t)KEYS_TOKEN_LEN);
    hearth_hex_encode(got, len, hex);
    cr_assert_str_eq(hex, want);
}

Test(keys_token, nhs_token_matches_openssl)
{
    /* printf 'nhs:9434765919' | openssl dgst -sha256 -mac HMAC -macopt hexkey:$K */
    keys_token_t *tk = keys_token_new(key_k);
    uint8_t out[KEYS_TOKEN_LEN];
    keys_token_nhs(tk, "9434765919", out);
    assert_hex(out, sizeof out,
               "802eae953ba6a3bce3566aa433ccf39d89c473d060ba328d7f91bece22a22d67");
    keys_token_destroy(&tk);
}

Test(keys_token, dsp_token_matches_openssl)
{
    /* printf 'dsp:1980-02-29|F|SW1A1AA' | openssl dgst -sha256 -mac HMAC -macopt hexkey:$K */
    keys_token_t *tk = keys_token_new(key_k);
    uint8_t out[KEYS_TOKEN_LEN];
    keys_token_dsp(tk, "1980-02-29", 'F', "SW1A1AA", 7, out);
    assert_hex(out, sizeof out,
               "f22996beb4487dcd25733f7ca9c49bddd6460c8b0d2e37db7277a2810a12a58b");
    keys_token_destroy(&tk);
}

Test(keys_token, dsp_token_equals_hmac_of_the_spelled_out_message)
{
    keys_token_t *tk = keys_token_new(key_k);
    uint8_t a[KEYS_TOKEN_LEN], b[KEYS_TOKEN_LEN];
    keys_token_dsp(tk, "1980-02-29", 'F', "SW1A1AA", 7, a);
    const char *msg = "dsp:1980-02-29|F|SW1A1AA";
    keys_token_hmac(tk, msg, strlen(msg), b);
    cr_assert_arr_eq(a, b, sizeof a);
    keys_token_destroy(&tk);
}

Test(keys_token, empty_message_matches_openssl)
{
    /* printf '' | openssl dgst -sha256 -mac HMAC -macopt hexkey:$K */
    keys_token_t *tk = keys_token_new(key_k);
    uint8_t out[KEYS_TOKEN_LEN];
    keys_token_hmac(tk, NULL, 0, out);
    assert_hex(out, sizeof out,
               "d38b42096d80f45f826b44a9d5607de72496a415d3f4a1a8c88e3bb9da8dc1cb");
    keys_token_destroy(&tk);
}

Test(keys_token, multi_block_message_matches_openssl)
{
    /* 200 bytes, the alphabet repeated (four SHA-256 blocks with padding):
     * yes abcdefghijklmnopqrstuvwxyz | tr -d '\n' | head -c 200 \
     *   | openssl dgst -sha256 -mac HMAC -macopt hexkey:$K */
    char msg[200];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (char)('a' + i % 26);
    keys_token_t *tk = keys_token_new(key_k);
    uint8_t out[KEYS_TOKEN_LEN];
    keys_token_hmac(tk, msg, sizeof msg, out);
    assert_hex(out, sizeof out,
               "44eadd5f8b411415b2ae53ef8bdc318aa9a7e1df259509580f2a45a7980a1cad");
    keys_token_destroy(&tk);
}

Test(keys_token, agrees_with_openssl_hmac_at_every_length_to_300)
{
    /* Covers every padding boundary (55, 56, 63, 64, 119, 120, ...) with a
     * random key whose bytes include the high bit. */
    uint8_t key[KEYS_LINKAGE_KEY_LEN], msg[300];
    cr_assert_eq(RAND_bytes(key, sizeof key), 1);
    cr_assert_eq(RAND_bytes(msg, sizeof msg), 1);
    keys_token_t *tk = keys_token_new(key);
    for (size_t len = 0; len <= sizeof msg; len++) {
        uint8_t got[KEYS_TOKEN_LEN], want[KEYS_TOKEN_LEN];
        unsigned want_len = 0;
        keys_token_hmac(tk, msg, len, got);
        cr_assert_not_null(HMAC(EVP_sha256(), key, sizeof key, msg, len, want, &want_len));
        cr_assert_eq(want_len, KEYS_TOKEN_LEN);
        cr_assert_arr_eq(got, want, sizeof got, "length %zu", len);
    }
    keys_token_destroy(&tk);
}

Test(keys_token, key_may_be_wiped_after_new)
{
    uint8_t key[KEYS_LINKAGE_KEY_LEN];
    memcpy(key, key_k, sizeof key);
    keys_token_t *tk = keys_token_new(key);
    memset(key, 0, sizeof key);
    uint8_t out[KEYS_TOKEN_LEN];
    keys_token_nhs(tk, "9434765919", out);
    assert_hex(out, sizeof out,
               "802eae953ba6a3bce3566aa433ccf39d89c473d060ba328d7f91bece22a22d67");
    keys_token_destroy(&tk);
}

Test(keys_token, query_key_is_hmac_of_query_id)
{
    /* K_q: printf 'query:abc' | openssl dgst -sha256 -mac HMAC -macopt hexkey:$K
     *   = cea37764a2b35187cc422aabc8460b5ac1a142c362d64572992016f503cf8fef
     * A context keyed with K_q therefore hashes '' as:
     * printf '' | openssl dgst -sha256 -mac HMAC \
     *   -macopt hexkey:cea37764a2b35187cc422aabc8460b5ac1a142c362d64572992016f503cf8fef */
    keys_token_t *tk = keys_token_new(key_k);
    keys_token_t *q = keys_token_for_query(tk, "abc");
    static const uint8_t k_q[KEYS_LINKAGE_KEY_LEN] = {
        0xce, 0xa3, 0x77, 0x64, 0xa2, 0xb3, 0x51, 0x87, 0xcc, 0x42, 0x2a,
        0xab, 0xc8, 0x46, 0x0b, 0x5a, 0xc1, 0xa1, 0x42, 0xc3, 0x62, 0xd6,
        0x45, 0x72, 0x99, 0x20, 0x16, 0xf5, 0x03, 0xcf, 0x8f, 0xef,
    };
    keys_token_t *direct = keys_token_new(k_q);
    uint8_t via_query[KEYS_TOKEN_LEN], via_key[KEYS_TOKEN_LEN], k_q_check[KEYS_TOKEN_LEN];
    keys_token_hmac(q, "x", 1, via_query);
    keys_token_hmac(direct, "x", 1, via_key);
    cr_assert_arr_eq(via_query, via_key, sizeof via_query);
    keys_token_hmac(tk, "query:abc", 9, k_q_check);
    cr_assert_arr_eq(k_q_check, k_q, sizeof k_q);
    keys_token_destroy(&direct);
    keys_token_destroy(&q);
    keys_token_destroy(&tk);
}

Test(keys_token, requery_is_hmac_under_query_key_truncated_to_16)
{
    /* T=$(printf 'nhs:9434765919' | openssl dgst -sha256 -mac HMAC -macopt hexkey:$K \
     *     | awk '{print $NF}')
     * printf '%s' "$T" | xxd -r -p | openssl dgst -sha256 -mac HMAC \
     *   -macopt hexkey:cea37764a2b35187cc422aabc8460b5ac1a142c362d64572992016f503cf8fef
     *   = 50e03e55615c7103e7b55198150e4354f67f35fbc9e58f50943bcc644d972b16
     * of which the per-query token is the first 16 bytes. */
    keys_token_t *tk = keys_token_new(key_k);
    keys_token_t *q = keys_token_for_query(tk, "abc");
    uint8_t t[KEYS_TOKEN_LEN], out[KEYS_QUERY_TOKEN_LEN];
    keys_token_nhs(tk, "9434765919", t);
    keys_token_requery(q, t, out);
    assert_hex(out, sizeof out, "50e03e55615c7103e7b55198150e4354");
    keys_token_destroy(&q);
    keys_token_destroy(&tk);
}

/* The batch path (two raw compressions per token) agrees with the generic
 * HMAC path (SHA256_Update/Final) on many different tokens. */
Test(keys_token, requery_many_equals_hmac_truncated_for_every_token)
{
    keys_token_t *tk = keys_token_new(key_k);
    keys_token_t *q = keys_token_for_query(tk, "0123456789abcdef0123456789abcdef");
    enum { N = 257 };
    static uint8_t in[N * KEYS_TOKEN_LEN], out[N * KEYS_QUERY_TOKEN_LEN];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(i * 131 + (i >> 5) * 7);
    keys_token_requery_many(q, in, N, out);
    for (size_t i = 0; i < N; i++) {
        uint8_t full[KEYS_TOKEN_LEN];
        keys_token_hmac(q, in + i * KEYS_TOKEN_LEN, KEYS_TOKEN_LEN, full);
        cr_assert_arr_eq(out + i * KEYS_QUERY_TOKEN_LEN, full, KEYS_QUERY_TOKEN_LEN,
                         "token %zu", i);
    }
    keys_token_requery_many(q, in, 0, out);   /* nothing to do is fine */
    keys_token_destroy(&q);
    keys_token_destroy(&tk);
}

/* Both re-keying paths (the SHA extensions where present, and the portable
 * one) give the generic HMAC's bytes, for odd and even counts. */
Test(keys_token, requery_many_paths_agree_with_hmac)
{
    enum { N = 41 };
    static uint8_t in[N * KEYS_TOKEN_LEN], out[N * KEYS_QUERY_TOKEN_LEN];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(i * 7 + 3);
    for (int portable = 0; portable <= 1; portable++) {
        setenv("HEARTH_SHA_NI", portable ? "0" : "1", 1);
        keys_token_t *tk = keys_token_new(key_k);
        keys_token_t *q = keys_token_for_query(tk, "paths");
        for (size_t n = 0; n <= N; n += (n < 4 ? 1 : 9)) {
            memset(out, 0xEE, sizeof out);
            keys_token_requery_many(q, in, n, out);
            for (size_t i = 0; i < n; i++) {
                uint8_t full[KEYS_TOKEN_LEN];
                keys_token_hmac(q, in + i * KEYS_TOKEN_LEN, KEYS_TOKEN_LEN, full);
                cr_assert_arr_eq(out + i * KEYS_QUERY_TOKEN_LEN, full, KEYS_QUERY_TOKEN_LEN,
                                 "portable %d, n %zu, token %zu", portable, n, i);
            }
            /* Nothing written past the n tokens asked for. */
            for (size_t k = n * KEYS_QUERY_TOKEN_LEN; k < sizeof out; k++)
                cr_assert_eq(out[k], 0xEE);
        }
        keys_token_destroy(&q);
        keys_token_destroy(&tk);
    }
    unsetenv("HEARTH_SHA_NI");
}

Test(keys_token, different_query_ids_give_unlinkable_tokens)
{
    keys_token_t *tk = keys_token_new(key_k);
    keys_token_t *q1 = keys_token_for_query(tk, "abc");
    keys_token_t *q2 = keys_token_for_query(tk, "abd");
    uint8_t t[KEYS_TOKEN_LEN], a[KEYS_QUERY_TOKEN_LEN], b[KEYS_QUERY_TOKEN_LEN];
    keys_token_nhs(tk, "9434765919", t);
    keys_token_requery(q1, t, a);
    keys_token_requery(q2, t, b);
    cr_assert_arr_neq(a, b, sizeof a);
    keys_token_destroy(&q2);
    keys_token_destroy(&q1);
    keys_token_destroy(&tk);
}

Test(keys_token, key_id_is_first_8_hex_of_sha256_of_key)
{
    /* printf '%s' $K | xxd -r -p | sha256sum
     *   = 630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd */
    char id[KEYS_KEY_ID_LEN + 1];
    memset(id, 'z', sizeof id);
    keys_key_id(key_k, id);
    cr_assert_str_eq(id, "630dcd29");
}

Test(keys_token, destroy_is_null_safe_and_clears_pointer)
{
    keys_token_destroy(NULL);
    keys_token_t *tk = NULL;
    keys_token_destroy(&tk);
    tk = keys_token_new(key_k);
    keys_token_destroy(&tk);
    cr_assert_null(tk);
}
