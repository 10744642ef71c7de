#include "synth_nhs.h"
#include "hearth_mem.h"

#include <stdlib.h>

#define SUFFIXES 1000000u /* six free digits after the prefix */
#define HALF_BITS 10      /* the Feistel network permutes 20-bit values */
#define HALF_MASK ((1u << HALF_BITS) - 1)
#define ROUNDS 4

struct synth_nhs_seq {
    uint64_t key;   /* fixes the order; mixed with the block number */
    uint32_t block; /* 0 for prefix 999, 1 for 998, ... */
    uint32_t index; /* next position in the block's permutation */
};

int synth_nhs_check_digit(uint32_t base)
{
    unsigned sum = 0;
    for (unsigned weight = 2; weight <= 10; weight++) {
        sum += (base % 10) * weight;
        base /= 10;
    }
    int check = 11 - (int)(sum % 11);
    return check == 11 ? 0 : check;
}

synth_nhs_seq_t *synth_nhs_seq_new(uint64_t key)
{
    synth_nhs_seq_t *self = hearth_calloc(1, sizeof *self);
    self->key = key;
    return self;
}

void synth_nhs_seq_destroy(synth_nhs_seq_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    free(*self_p);
    *self_p = NULL;
}

static uint32_t round_fn(uint32_t half, uint64_t key, unsigned round)
{
    uint64_t z = half ^ (key + UINT64_C(0x9e3779b97f4a7c15) * (round + 1));
    z = (z ^ (z >> 31)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 29)) * UINT64_C(0x94d049bb133111eb);
    return (uint32_t)(z ^ (z >> 32)) & HALF_MASK;
}

/* A keyed permutation of [0, SUFFIXES): a balanced Feistel network over
 * 20 bits, applied again while the result lands above the range (cycle
 * walking), so distinct indices always give distinct suffixes without a
 * table or a set of numbers already used. */
static uint32_t permute(uint32_t x, uint64_t key)
{
    do {
        uint32_t left = x >> HALF_BITS, right = x & HALF_MASK;
        for (unsigned r = 0; r < ROUNDS; r++) {
            uint32_t next = left ^ round_fn(right, key, r);
            left = right;
            right = next;
        }
        x = (left << HALF_BITS) | right;
    } while (x >= SUFFIXES);
    return x;
}

int synth_nhs_seq_next(synth_nhs_seq_t *self, uint32_t *base)
{
    while (self->block < SYNTH_NHS_BLOCKS) {
        uint64_t block_key = self->key ^ (UINT64_C(0xd1b54a32d192ed03) * (self->block + 1));
        while (self->index < SUFFIXES) {
            uint32_t suffix = permute(self->index++, block_key);
            uint32_t candidate = (999u - self->block) * SUFFIXES + suffix;
            if (synth_nhs_check_digit(candidate) != 10) {
                *base = candidate;
                return 0;
            }
        }
        self->block++;
        self->index = 0;
    }
    return -1;
}

void synth_nhs_format(uint32_t base, int check, char sep, char out[SYNTH_NHS_TEXT])
{
    char d[10];
    for (int i = 8; i >= 0; i--) {
        d[i] = (char)('0' + base % 10);
        base /= 10;
    }
    d[9] = (char)('0' + check);
    size_t o = 0;
    for (int i = 0; i < 10; i++) {
        if (sep != '\0' && (i == 3 || i == 6))
            out[o++] = sep;
        out[o++] = d[i];
    }
    out[o] = '\0';
}
