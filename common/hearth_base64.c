#include "hearth_base64.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void hearth_base64_encode(const uint8_t *in, size_t len, char *out)
{
    size_t o = 0;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = alphabet[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
}

/* The 6-bit value of c, or -1 when c is not in the alphabet. A switch
 * rather than a table keeps this free of mutable state and obviously
 * right. */
static int sextet(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

bool hearth_base64_decode(const char *text, size_t text_len, uint8_t *out, size_t cap,
                          size_t *out_len)
{
    if (text_len % 4 != 0)
        return false;
    size_t o = 0;
    for (size_t i = 0; i < text_len; i += 4) {
        bool last = i + 4 == text_len;
        /* '=' may only pad the last group: "xx==" or "xxx=". */
        size_t pad = 0;
        if (last && text[i + 3] == '=')
            pad = text[i + 2] == '=' ? 2 : 1;
        uint32_t v = 0;
        for (size_t j = 0; j < 4 - pad; j++) {
            int s = sextet(text[i + j]);
            if (s < 0)
                return false;
            v = v << 6 | (uint32_t)s;
        }
        v <<= 6 * pad;
        size_t n = 3 - pad;
        /* Canonical: the bits the padding leaves unused must be zero, so
         * that every byte string has exactly one encoding. */
        if ((pad == 1 && (v & 0xff) != 0) || (pad == 2 && (v & 0xffff) != 0))
            return false;
        if (cap - o < n) /* o <= cap always holds here */
            return false;
        out[o++] = (uint8_t)(v >> 16);
        if (n > 1)
            out[o++] = (uint8_t)(v >> 8);
        if (n > 2)
            out[o++] = (uint8_t)v;
    }
    *out_len = o;
    return true;
}
