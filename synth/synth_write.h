/* synth_write — the four partner extracts and the truth file.
 *
 * Writes OUT/trust/ae_attendances.csv, OUT/council/housing.csv,
 * OUT/charity/referrals.csv and OUT/university/wellbeing_survey.csv (see
 * docs/synthetic-data.md for their columns and quirks), and, when asked,
 * a truth file mapping every data row to its true person id. */
#ifndef SYNTH_WRITE_H
#define SYNTH_WRITE_H

#include "hearth_err.h"
#include "synth_people.h"
#include "synth_rng.h"

#define SYNTH_WRITE_DATASETS 4

/* Data rows written to each extract, in the order of synth_write_name. */
typedef struct {
    unsigned long rows[SYNTH_WRITE_DATASETS];
} synth_write_counts_t;

/* "node/dataset" of extract i (static), i < SYNTH_WRITE_DATASETS. */
const char *synth_write_name(unsigned i);

/* Creates out_dir and its node folders as needed and writes every extract,
 * overwriting earlier output, drawing the rows from rng (borrowed) about
 * people (borrowed). When truth_path is not NULL, also writes the truth
 * CSV (node,dataset,record,person) there. Fills *counts when not NULL.
 * Returns HEARTH_ERR_USAGE when truth_path lies inside a node folder
 * (where it would be loaded as an extract), HEARTH_ERR_IO when a folder
 * or file cannot be written, HEARTH_ERR_INTERNAL on a bug; *cause (caller
 * frees) says which path, never any data. */
hearth_err_t synth_write_all(const synth_people_t *people, synth_rng_t *rng,
                             const char *out_dir, const char *truth_path,
                             synth_write_counts_t *counts, char **cause)
    __attribute__((warn_unused_result));

#endif
