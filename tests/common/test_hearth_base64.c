/* Tests for hearth_base64: the RFC 4648 section 10 vectors both ways, and
 * the strict decoder's refusals (padding, canonical bits, whitespace,
 * alphabet, room). */
#include "hearth_base64.h"

#include <criterion/criterion.h>

#include <string.h>

static const struct {
    const char *plain;
    const char *encoded;
} rfc4648[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

Test(hearth_base64, encodes_rfc4648_vectors)
{
    for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
        char out[16];
        size_t len = strlen(rfc4648[i].plain);
        memset(out, 'X', sizeof out);
        hearth_base64_encode((const uint8_t *)rfc4648[i].plain, len, out);
        cr_assert_str_eq(out, rfc4648[i].encoded, "vector %zu", i);
        cr_assert_eq(strlen(out), HEARTH_BASE64_LEN(len));
    }
}

Test(hearth_base64, decodes_rfc4648_vectors)
{
    for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
        uint8_t out[16];
        size_t out_len = 99;
        const char *enc = rfc4648[i].encoded;
        cr_assert(hearth_base64_decode(enc, strlen(enc), out, sizeof out, &out_len),
                  "vector %zu", i);
        cr_assert_eq(out_len, strlen(rfc4648[i].plain));
        cr_assert_eq(memcmp(out, rfc4648[i].plain, out_len), 0, "vector %zu", i);
    }
}

Test(hearth_base64, round_trips_every_byte_value_at_every_length_mod_3)
{
    uint8_t in[258], out[258];
    char text[HEARTH_BASE64_LEN(sizeof in) + 1];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(255 - i);
    for (size_t len = 253; len <= sizeof in; len++) {
        size_t out_len = 0;
        hearth_base64_encode(in, len, text);
        cr_assert_eq(strlen(text), HEARTH_BASE64_LEN(len));
        cr_assert(hearth_base64_decode(text, strlen(text), out, sizeof out, &out_len));
        cr_assert_eq(out_len, len);
        cr_assert_eq(memcmp(in, out, len), 0);
    }
}

Test(hearth_base64, encodes_the_alphabets_last_characters)
{
    const uint8_t in[] = {0xfb, 0xff, 0xbf};
    char out[8];
    hearth_base64_encode(in, sizeof in, out);
    cr_assert_str_eq(out, "+/+/");
}

static bool decodes(const char *text)
{
    uint8_t out[64];
    size_t out_len = 0;
    return hearth_base64_decode(text, strlen(text), out, sizeof out, &out_len);
}

Test(hearth_base64, refuses_missing_padding)
{
    cr_assert_not(decodes("Zg"));
    cr_assert_not(decodes("Zm8"));
    cr_assert_not(decodes("Zm9vYg"));
}

Test(hearth_base64, refuses_padding_anywhere_but_the_end)
{
    cr_assert_not(decodes("Zg==Zm9v"));
    cr_assert_not(decodes("Zm=v"));
    cr_assert_not(decodes("Z==="));
    cr_assert_not(decodes("===="));
    cr_assert_not(decodes("Zg=a"));
}

Test(hearth_base64, refuses_non_canonical_unused_bits)
{
    /* "Zh==" and "Zm9=" decode to "f" / "fo" in a lax decoder. */
    cr_assert_not(decodes("Zh=="));
    cr_assert_not(decodes("Zm9="));
    cr_assert(decodes("Zg=="));
    cr_assert(decodes("Zm8="));
}

Test(hearth_base64, refuses_whitespace_and_foreign_characters)
{
    cr_assert_not(decodes("Zm9v\n"));
    cr_assert_not(decodes("Zm9v YmFy"));
    cr_assert_not(decodes(" Zm9v"));
    cr_assert_not(decodes("Zm9v\r\n"));
    cr_assert_not(decodes("-_-_")); /* the URL-safe alphabet is not this one */
    cr_assert_not(decodes("Zm9*"));
}

Test(hearth_base64, refuses_a_result_that_does_not_fit)
{
    uint8_t out[6];
    size_t out_len = 0;
    cr_assert(hearth_base64_decode("Zm9vYmFy", 8, out, 6, &out_len));
    cr_assert_eq(out_len, 6);
    cr_assert_not(hearth_base64_decode("Zm9vYmFy", 8, out, 5, &out_len));
    cr_assert_not(hearth_base64_decode("Zm9vYg==", 8, out, 3, &out_len));
    cr_assert(hearth_base64_decode("Zm9vYg==", 8, out, 4, &out_len));
    cr_assert_eq(out_len, 4);
}

Test(hearth_base64, decodes_only_the_given_length)
{
    uint8_t out[8];
    size_t out_len = 0;
    cr_assert(hearth_base64_decode("Zm9vYmFy", 4, out, sizeof out, &out_len));
    cr_assert_eq(out_len, 3);
    cr_assert_eq(memcmp(out, "foo", 3), 0);
}
