#include "proto_cohort.h"

#include <string.h>

/* ---- writing ------------------------------------------------------------ */

static hearth_err_t put_u32(hearth_buf_t *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return hearth_buf_add(b, x, sizeof x);
}

static hearth_err_t put_u64(hearth_buf_t *b, uint64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    return hearth_buf_add(b, x, sizeof x);
}

hearth_err_t proto_cohort_put_person(hearth_buf_t *b, size_t nnhs, size_t ndsp,
                                     const uint8_t *tokens, uint32_t ncells)
{
    if (nnhs > PROTO_COHORT_MAX_KIND_TOKENS || ndsp > PROTO_COHORT_MAX_KIND_TOKENS ||
        (nnhs + ndsp > 0 && tokens == NULL))
        return HEARTH_ERR_USAGE;
    size_t need = 6 + (nnhs + ndsp) * PROTO_COHORT_TOKEN_LEN;
    if (b->max - b->len < need)
        return HEARTH_ERR_TOO_BIG;
    uint8_t head[2] = {(uint8_t)nnhs, (uint8_t)ndsp};
    (void)hearth_buf_add(b, head, sizeof head);
    (void)put_u32(b, ncells);
    return hearth_buf_add(b, tokens, (nnhs + ndsp) * PROTO_COHORT_TOKEN_LEN);
}

hearth_err_t proto_cohort_put_cell(hearth_buf_t *b, uint32_t cell, uint64_t mask)
{
    if (mask == 0)
        return HEARTH_ERR_USAGE;
    if (b->max - b->len < 12)
        return HEARTH_ERR_TOO_BIG;
    (void)put_u32(b, cell);
    return put_u64(b, mask);
}

hearth_err_t proto_cohort_put_values(hearth_buf_t *b, proto_cohort_payload_t payload,
                                     uint32_t records, double sum)
{
    if (payload == PROTO_COHORT_PERSONS_ONLY)
        return HEARTH_OK;
    if (b->max - b->len < 12)
        return HEARTH_ERR_TOO_BIG;
    hearth_err_t rc = put_u32(b, records);
    if (rc == HEARTH_OK && payload == PROTO_COHORT_SUMS) {
        uint64_t bits;
        memcpy(&bits, &sum, sizeof bits);
        rc = put_u64(b, bits);
    }
    return rc;
}

/* ---- reading ------------------------------------------------------------ */

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static size_t value_size(proto_cohort_payload_t payload)
{
    return payload == PROTO_COHORT_SUMS ? 12 : payload == PROTO_COHORT_RECORDS ? 4 : 0;
}

void proto_cohort_reader_init(proto_cohort_reader_t *r, const void *data, size_t len,
                              proto_cohort_payload_t payload, unsigned atoms,
                              uint32_t ncells_max)
{
    r->p = data;
    r->end = r->p + (data ? len : 0);
    r->payload = payload;
    if (atoms > PROTO_COHORT_MAX_ATOMS)
        atoms = PROTO_COHORT_MAX_ATOMS;
    size_t nassign = (size_t)1 << atoms;
    r->valid_mask = nassign >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << nassign) - 1;
    r->ncells_max = ncells_max;
    r->cells_left = 0;
}

hearth_err_t proto_cohort_next_person(proto_cohort_reader_t *r, proto_cohort_person_t *out,
                                      char **cause)
{
    if (r->cells_left > 0) {
        hearth_cause_set(cause, "cohort: a person's cells were not all read");
        return HEARTH_ERR_PROTO;
    }
    size_t left = (size_t)(r->end - r->p);
    if (left == 0)
        return HEARTH_ERR_NOT_FOUND;
    if (left < 6)
        goto truncated;
    out->nnhs = r->p[0];
    out->ndsp = r->p[1];
    out->ncells = get_u32(r->p + 2);
    size_t ntok = (out->nnhs + out->ndsp) * PROTO_COHORT_TOKEN_LEN;
    if (left - 6 < ntok)
        goto truncated;
    if (out->ncells > 0 && r->ncells_max == 0) {
        hearth_cause_set(cause, "cohort: a person has cells in a part that has none");
        return HEARTH_ERR_PROTO;
    }
    /* Each cell takes at least 12 bytes: a count beyond what is left is a lie. */
    if (out->ncells > (left - 6 - ntok) / 12)
        goto truncated;
    out->tokens = r->p + 6;
    r->p += 6 + ntok;
    r->cells_left = out->ncells;
    return HEARTH_OK;
truncated:
    hearth_cause_set(cause, "cohort: truncated person");
    return HEARTH_ERR_PROTO;
}

hearth_err_t proto_cohort_next_cell(proto_cohort_reader_t *r, proto_cohort_cell_t *out,
                                    char **cause)
{
    if (r->cells_left == 0) {
        hearth_cause_set(cause, "cohort: no cell left for this person");
        return HEARTH_ERR_PROTO;
    }
    size_t left = (size_t)(r->end - r->p);
    if (left < 12) {
        hearth_cause_set(cause, "cohort: truncated cell");
        return HEARTH_ERR_PROTO;
    }
    out->cell = get_u32(r->p);
    out->mask = get_u64(r->p + 4);
    if (out->cell >= r->ncells_max) {
        hearth_cause_set(cause, "cohort: cell %u is not among the %u cells listed",
                         (unsigned)out->cell, (unsigned)r->ncells_max);
        return HEARTH_ERR_PROTO;
    }
    if (out->mask == 0 || (out->mask & ~r->valid_mask) != 0) {
        hearth_cause_set(cause, "cohort: a cell's mask has no bit or a bit out of range");
        return HEARTH_ERR_PROTO;
    }
    size_t vals = (size_t)__builtin_popcountll(out->mask) * value_size(r->payload);
    if (left - 12 < vals) {
        hearth_cause_set(cause, "cohort: truncated cell");
        return HEARTH_ERR_PROTO;
    }
    out->values = r->p + 12;
    r->p += 12 + vals;
    r->cells_left--;
    return HEARTH_OK;
}

void proto_cohort_values_at(const proto_cohort_reader_t *r, const proto_cohort_cell_t *c,
                            unsigned j, uint32_t *records, double *sum)
{
    size_t sz = value_size(r->payload);
    *records = 0;
    *sum = 0;
    if (sz == 0 || j >= (unsigned)__builtin_popcountll(c->mask))
        return;
    const uint8_t *v = c->values + (size_t)j * sz;
    *records = get_u32(v);
    if (r->payload == PROTO_COHORT_SUMS) {
        uint64_t bits = get_u64(v + 4);
        memcpy(sum, &bits, sizeof *sum);
    }
}
