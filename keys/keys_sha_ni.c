#include "keys_sha_ni.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)

#include <cpuid.h>
#include <immintrin.h>

bool keys_sha_ni_available(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1) || !(c & bit_SSSE3))
        return false;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return false;
    return (b & bit_SHA) != 0;
}

#define TARGET __attribute__((target("sha,sse4.1,ssse3")))

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

/* Two independent compressions, step by step side by side. s0/s1 are the
 * states in the extensions' ABEF / CDGH layout; w[0..3] the message words
 * W0..W15 as four vectors (lane i of w[k] is W[4k + i]). */
#define ROUNDS4(g)                                                                   \
    do {                                                                             \
        __m128i k_ = _mm_loadu_si128((const __m128i *)&K[4 * (g)]);                 \
        __m128i ma_ = _mm_add_epi32(wa[(g) % 4], k_);                                \
        __m128i mb_ = _mm_add_epi32(wb[(g) % 4], k_);                                \
        a1 = _mm_sha256rnds2_epu32(a1, a0, ma_);                                     \
        b1 = _mm_sha256rnds2_epu32(b1, b0, mb_);                                     \
        if ((g) >= 3 && (g) <= 14) {                                                 \
            __m128i ta_ = _mm_alignr_epi8(wa[(g) % 4], wa[((g) + 3) % 4], 4);        \
            __m128i tb_ = _mm_alignr_epi8(wb[(g) % 4], wb[((g) + 3) % 4], 4);        \
            wa[((g) + 1) % 4] = _mm_add_epi32(wa[((g) + 1) % 4], ta_);               \
            wb[((g) + 1) % 4] = _mm_add_epi32(wb[((g) + 1) % 4], tb_);               \
            wa[((g) + 1) % 4] = _mm_sha256msg2_epu32(wa[((g) + 1) % 4], wa[(g) % 4]); \
            wb[((g) + 1) % 4] = _mm_sha256msg2_epu32(wb[((g) + 1) % 4], wb[(g) % 4]); \
        }                                                                            \
        ma_ = _mm_shuffle_epi32(ma_, 0x0E);                                          \
        mb_ = _mm_shuffle_epi32(mb_, 0x0E);                                          \
        a0 = _mm_sha256rnds2_epu32(a0, a1, ma_);                                     \
        b0 = _mm_sha256rnds2_epu32(b0, b1, mb_);                                     \
        if ((g) >= 1 && (g) <= 12) {                                                 \
            wa[((g) + 3) % 4] = _mm_sha256msg1_epu32(wa[((g) + 3) % 4], wa[(g) % 4]); \
            wb[((g) + 3) % 4] = _mm_sha256msg1_epu32(wb[((g) + 3) % 4], wb[(g) % 4]); \
        }                                                                            \
    } while (0)

/* (a0, a1) and (b0, b1) += one compression each over message words wa, wb. */
TARGET static inline void compress2(__m128i *pa0, __m128i *pa1, __m128i wa[4], __m128i *pb0,
                                    __m128i *pb1, __m128i wb[4])
{
    __m128i a0 = *pa0, a1 = *pa1, b0 = *pb0, b1 = *pb1;
    ROUNDS4(0); ROUNDS4(1); ROUNDS4(2); ROUNDS4(3);
    ROUNDS4(4); ROUNDS4(5); ROUNDS4(6); ROUNDS4(7);
    ROUNDS4(8); ROUNDS4(9); ROUNDS4(10); ROUNDS4(11);
    ROUNDS4(12); ROUNDS4(13); ROUNDS4(14); ROUNDS4(15);
    *pa0 = _mm_add_epi32(*pa0, a0);
    *pa1 = _mm_add_epi32(*pa1, a1);
    *pb0 = _mm_add_epi32(*pb0, b0);
    *pb1 = _mm_add_epi32(*pb1, b1);
}

/* h0..h7 to the ABEF / CDGH layout, and back to h0..h3 (DCBA) / h4..h7. */
TARGET static inline void to_abef(const uint32_t h[8], __m128i *s0, __m128i *s1)
{
    __m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xB1);
    __m128i u = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1B);
    *s0 = _mm_alignr_epi8(t, u, 8);
    *s1 = _mm_blend_epi16(u, t, 0xF0);
}

TARGET static inline void from_abef(__m128i s0, __m128i s1, __m128i *lo, __m128i *hi)
{
    __m128i t = _mm_shuffle_epi32(s0, 0x1B);
    s1 = _mm_shuffle_epi32(s1, 0xB1);
    *lo = _mm_blend_epi16(t, s1, 0xF0);
    *hi = _mm_alignr_epi8(s1, t, 8);
}

TARGET void keys_sha_ni_hmac32(const uint32_t inner[8], const uint32_t outer[8],
                               const uint8_t *in, size_t n, uint8_t *out, size_t out_len)
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    /* Words 8..15 of both blocks: 0x80, zeros, and the length 768 bits (a
     * key block of 64 bytes before 32 bytes of message). */
    const __m128i pad_a = _mm_set_epi32(0, 0, 0, (int)0x80000000u);
    const __m128i pad_b = _mm_set_epi32(768, 0, 0, 0);
    __m128i i0, i1, o0, o1;
    to_abef(inner, &i0, &i1);
    to_abef(outer, &o0, &o1);
    uint8_t last[2][32];
    for (size_t i = 0; i < n; i += 2) {
        /* An odd message out is paired with itself; only one is stored. */
        const uint8_t *ma = in + i * 32, *mb = i + 1 < n ? ma + 32 : ma;
        __m128i wa[4] = {_mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)ma), bswap),
                         _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(ma + 16)), bswap),
                         pad_a, pad_b};
        __m128i wb[4] = {_mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)mb), bswap),
                         _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(mb + 16)), bswap),
                         pad_a, pad_b};
        __m128i a0 = i0, a1 = i1, b0 = i0, b1 = i1;
        compress2(&a0, &a1, wa, &b0, &b1, wb);
        /* The inner digest's big-endian bytes, read back as words, are the
         * state words themselves: they are the outer block's W0..W7. */
        from_abef(a0, a1, &wa[0], &wa[1]);
        from_abef(b0, b1, &wb[0], &wb[1]);
        wa[2] = wb[2] = pad_a;
        wa[3] = wb[3] = pad_b;
        a0 = b0 = o0;
        a1 = b1 = o1;
        compress2(&a0, &a1, wa, &b0, &b1, wb);
        __m128i lo, hi;
        from_abef(a0, a1, &lo, &hi);
        _mm_storeu_si128((__m128i *)last[0], _mm_shuffle_epi8(lo, bswap));
        _mm_storeu_si128((__m128i *)(last[0] + 16), _mm_shuffle_epi8(hi, bswap));
        from_abef(b0, b1, &lo, &hi);
        _mm_storeu_si128((__m128i *)last[1], _mm_shuffle_epi8(lo, bswap));
        _mm_storeu_si128((__m128i *)(last[1] + 16), _mm_shuffle_epi8(hi, bswap));
        memcpy(out + i * out_len, last[0], out_len);
        if (i + 1 < n)
            memcpy(out + (i + 1) * out_len, last[1], out_len);
    }
    /* These hold only what the caller receives, but leave no copy behind
     * on the stack all the same. */
    volatile uint8_t *v = &last[0][0];
    for (size_t k = 0; k < sizeof last; k++)
        v[k] = 0;
}

#else

bool keys_sha_ni_available(void)
{
    return false;
}

void keys_sha_ni_hmac32(const uint32_t inner[8], const uint32_t outer[8], const uint8_t *in,
                        size_t n, uint8_t *out, size_t out_len)
{
    (void)inner, (void)outer, (void)in, (void)n, (void)out, (void)out_len;
}

#endif
