#include "synth_place.h"

#include <string.h>

#define SECTORS (SYNTH_PLACE_OUTWARDS * 10)
#define LETTERS 20
#define UNITS (LETTERS * LETTERS)

static const char *const outward_codes[SYNTH_PLACE_OUTWARDS] = {
    "LS6", "LS7", "LS8", "LS12", "LS16", "LS17",
};

/* The letters Royal Mail uses in the inward part (never C I K M O V). */
static const char inward_letters[LETTERS + 1] = "ABDEFGHJLNPQRSTUWXYZ";

/* The apostrophe in St Mary's is deliberate: names with quotes must travel
 * through CSV, SQL literals and JSON untouched. */
static const char *const ward_names[SYNTH_PLACE_WARDS] = {
    "Abbey", "Priory", "Castle", "Riverside",
    "St Mary's", "Northgate", "Westfield", "Kingsmead",
};

/* Unequal populations, so that some wards' small counts get suppressed
 * in the demo while others are released. */
static const unsigned ward_weight[SYNTH_PLACE_WARDS] = {
    16, 14, 13, 15, 12, 11, 10, 9,
};

static const unsigned ward_social_permille[SYNTH_PLACE_WARDS] = {
    180, 150, 200, 300, 220, 320, 160, 120,
};

const char *synth_place_ward_name(unsigned w)
{
    return ward_names[w];
}

/* Sectors are dealt to wards in contiguous runs: ward w owns sectors
 * [first_sector(w), first_sector(w + 1)). */
static unsigned first_sector(unsigned w)
{
    return (w * SECTORS + SYNTH_PLACE_WARDS - 1) / SYNTH_PLACE_WARDS;
}

unsigned synth_place_ward_of(uint32_t pc)
{
    return (pc / UNITS) * SYNTH_PLACE_WARDS / SECTORS;
}

unsigned synth_place_social_permille(unsigned w)
{
    return ward_social_permille[w];
}

uint32_t synth_place_draw(synth_rng_t *rng)
{
    unsigned w = (unsigned)synth_rng_pick(rng, ward_weight, SYNTH_PLACE_WARDS);
    unsigned lo = first_sector(w), hi = first_sector(w + 1);
    uint32_t sector = lo + (uint32_t)synth_rng_below(rng, hi - lo);
    return sector * UNITS + (uint32_t)synth_rng_below(rng, UNITS);
}

void synth_place_postcode(uint32_t pc, char out[SYNTH_PLACE_TEXT])
{
    uint32_t sector = pc / UNITS, unit = pc % UNITS;
    const char *outward = outward_codes[sector / 10];
    size_t n = strlen(outward);
    memcpy(out, outward, n);
    out[n++] = ' ';
    out[n++] = (char)('0' + sector % 10);
    out[n++] = inward_letters[unit / LETTERS];
    out[n++] = inward_letters[unit % LETTERS];
    out[n] = '\0';
}
