/* synth_ident — identifiers spelled the many ways real extracts spell
 * them. Every spelling produced here normalises (per the token
 * specification in the product brief) to the resident's true value, except
 * synth_ident_nhs with typo set, which is deliberately invalid. */
#ifndef SYNTH_IDENT_H
#define SYNTH_IDENT_H

#include "synth_nhs.h"
#include "synth_place.h"
#include "synth_rng.h"

#include <stdint.h>

/* Date of birth as "YYYY-MM-DD" with probability iso_permille / 1000,
 * else "DD/MM/YYYY"; out holds SYNTH_DATE_TEXT bytes. */
void synth_ident_date(synth_rng_t *rng, int32_t day, unsigned iso_permille, char *out);

/* Sex 'M' or 'F' as one of M/F, male/female, Male/Female, 1/2; returns a
 * static string. */
const char *synth_ident_sex(synth_rng_t *rng, uint8_t sex);

/* Postcode in upper, lower or mixed case, with one space, none or two;
 * out holds SYNTH_PLACE_TEXT bytes. */
void synth_ident_postcode(synth_rng_t *rng, uint32_t pc, char *out);

/* NHS number as ten digits, or grouped 3-3-4 by spaces or dashes. With
 * typo set, the check digit is replaced by a different, wrong digit, so
 * the number fails validation and can never be another resident's.
 * out holds SYNTH_NHS_TEXT bytes. */
void synth_ident_nhs(synth_rng_t *rng, uint32_t base, int typo, char *out);

#endif
