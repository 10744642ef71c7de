/* synth_place — the neighbourhood's geography: postcodes and wards.
 *
 * Postcodes are built from SYNTH_PLACE_OUTWARDS plausible outward codes
 * (LS6, LS7, ...) and an inward part shaped "9AA". Each postcode sector
 * (outward code plus inward digit) belongs to exactly one of the eight
 * wards, so a resident's ward follows from their postcode as it does in
 * real life. A postcode is held as an index; distinct indices always
 * normalise (upper case, no spaces) to distinct strings. */
#ifndef SYNTH_PLACE_H
#define SYNTH_PLACE_H

#include "synth_rng.h"

#include <stdint.h>

#define SYNTH_PLACE_WARDS 8
#define SYNTH_PLACE_OUTWARDS 6
/* Distinct postcodes: outward codes x 10 sector digits x 20 x 20 letters. */
#define SYNTH_PLACE_POSTCODES (SYNTH_PLACE_OUTWARDS * 10 * 20 * 20)
/* Bytes for a postcode in any generated spelling (two spaces) and NUL. */
#define SYNTH_PLACE_TEXT 10

/* The ward's display name (static), e.g. "St Mary's"; w < SYNTH_PLACE_WARDS. */
const char *synth_place_ward_name(unsigned w);

/* The ward that postcode index pc lies in. */
unsigned synth_place_ward_of(uint32_t pc);

/* Share of the ward's households in social housing, per mille: the wards
 * differ in deprivation, as real wards do. */
unsigned synth_place_social_permille(unsigned w);

/* Draws a postcode index: a ward by its population weight, then a sector
 * of that ward, then an inward unit, all uniformly. */
uint32_t synth_place_draw(synth_rng_t *rng);

/* Writes the canonical spelling, upper case with one space ("LS16 4AB"),
 * into out (SYNTH_PLACE_TEXT bytes). */
void synth_place_postcode(uint32_t pc, char out[SYNTH_PLACE_TEXT]);

#endif
