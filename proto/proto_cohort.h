/* proto_cohort — the packed encoding of the persons a node sends for a
 * linked query (SubResult.persons), and a bounds-checked reader for it.
 *
 * A million persons as protobuf messages would cost a million allocations
 * on each side; packed, a chunk is one bytes field that is written and read
 * in place. All integers are little-endian; nothing is aligned.
 *
 *   person := u8 nnhs, u8 ndsp, u32 ncells,
 *             (nnhs + ndsp) tokens of PROTO_COHORT_TOKEN_LEN bytes (NHS first),
 *             ncells cells                      (TARGET parts: ncells = 0)
 *   cell   := u32 cell, u64 mask, then for each set bit of mask, lowest first:
 *             u32 records   (payload RECORDS and SUMS)
 *             f64 sum       (payload SUMS)
 *
 * A token is the first 16 bytes of HMAC-SHA256(K_q, stored token). `cell`
 * indexes the cells listed in the part's chunk 0 (SubResult.groups). Bit a
 * of `mask` is set when the person has a matching record in that cell if the
 * query's EXISTS atoms took the truth values a (bit i of a = atom i); with
 * no atoms only bit 0 exists. For COUNT(*) and SUM/MEAN the person's
 * records under that assignment follow (for SUM/MEAN: records with a
 * non-NULL measure, and their sum, and the mask counts only those). */
#ifndef PROTO_COHORT_H
#define PROTO_COHORT_H

#include "hearth_buf.h"
#include "hearth_err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_COHORT_TOKEN_LEN 16
/* EXISTS atoms per query: 2^6 assignments fit one uint64 mask. */
#define PROTO_COHORT_MAX_ATOMS 6
/* Distinct tokens of one kind sent for one person (a node sends at most
 * this many; more would need 256 different NHS numbers for one person). */
#define PROTO_COHORT_MAX_KIND_TOKENS 255
/* A node closes a chunk once its persons field passes this size. */
#define PROTO_COHORT_CHUNK_BYTES ((size_t)1 << 20)

typedef enum {
    PROTO_COHORT_PERSONS_ONLY,  /* COUNT(PERSONS), and TARGET parts */
    PROTO_COHORT_RECORDS,       /* COUNT(*): records per set bit */
    PROTO_COHORT_SUMS           /* SUM, MEAN: records and sum per set bit */
} proto_cohort_payload_t;

/* ---- writing (nodes) ---------------------------------------------------- */

/* Each put returns HEARTH_ERR_TOO_BIG (b unchanged) past b's maximum, and
 * HEARTH_ERR_USAGE for counts out of range. */

/* Appends a person's header and tokens: nnhs NHS-number tokens then ndsp
 * DOB+sex+postcode tokens, (nnhs + ndsp) * PROTO_COHORT_TOKEN_LEN bytes at
 * tokens. ncells cells must follow, each written with proto_cohort_put_cell
 * and its per-bit values. nnhs and ndsp are at most
 * PROTO_COHORT_MAX_KIND_TOKENS. */
hearth_err_t proto_cohort_put_person(hearth_buf_t *b, size_t nnhs, size_t ndsp,
                                     const uint8_t *tokens, uint32_t ncells);

/* Appends a cell header; popcount(mask) proto_cohort_put_values calls (for
 * payload RECORDS or SUMS) must follow. */
hearth_err_t proto_cohort_put_cell(hearth_buf_t *b, uint32_t cell, uint64_t mask);

/* Appends one set bit's values: records, and sum when payload is SUMS.
 * Nothing for PERSONS_ONLY. */
hearth_err_t proto_cohort_put_values(hearth_buf_t *b, proto_cohort_payload_t payload,
                                     uint32_t records, double sum);

/* ---- reading (gateway) --------------------------------------------------- */

typedef struct {
    const uint8_t *p, *end;
    proto_cohort_payload_t payload;
    uint64_t valid_mask;   /* bits allowed in a cell mask: 2^(2^atoms) - 1 */
    uint32_t ncells_max;   /* cells listed in chunk 0; 0 for TARGET parts */
    uint32_t cells_left;   /* of the current person */
} proto_cohort_reader_t;

typedef struct {
    size_t nnhs, ndsp;
    const uint8_t *tokens;  /* into the chunk: NHS tokens first */
    uint32_t ncells;
} proto_cohort_person_t;

typedef struct {
    uint32_t cell;
    uint64_t mask;
    const uint8_t *values;  /* into the chunk: per set bit, see proto_cohort_record_at */
} proto_cohort_cell_t;

/* Starts reading len bytes at data (borrowed; must outlive the reader). */
void proto_cohort_reader_init(proto_cohort_reader_t *r, const void *data, size_t len,
                              proto_cohort_payload_t payload, unsigned atoms,
                              uint32_t ncells_max);

/* Reads the next person's header and tokens into *out. Returns HEARTH_OK,
 * HEARTH_ERR_NOT_FOUND at the end of the chunk, or HEARTH_ERR_PROTO with
 * *cause set when the bytes are malformed (truncated, a cell count on a
 * TARGET part, the previous person's cells not all read). */
hearth_err_t proto_cohort_next_person(proto_cohort_reader_t *r, proto_cohort_person_t *out,
                                      char **cause) __attribute__((warn_unused_result));

/* Reads the current person's next cell into *out. HEARTH_ERR_PROTO when
 * truncated, the cell index is not below ncells_max, the mask is zero or
 * has a bit beyond the atoms' assignments, or the person has no cell left. */
hearth_err_t proto_cohort_next_cell(proto_cohort_reader_t *r, proto_cohort_cell_t *out,
                                    char **cause) __attribute__((warn_unused_result));

/* The values of the j-th set bit (0-based, lowest bit first) of a cell read
 * with payload RECORDS or SUMS. *sum is 0 unless payload is SUMS. */
void proto_cohort_values_at(const proto_cohort_reader_t *r, const proto_cohort_cell_t *c,
                            unsigned j, uint32_t *records, double *sum);

#endif
