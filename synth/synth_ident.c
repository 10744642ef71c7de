#include "synth_ident.h"
#include "synth_date.h"

#include <ctype.h>

void synth_ident_date(synth_rng_t *rng, int32_t day, unsigned iso_permille, char *out)
{
    if (synth_rng_chance(rng, iso_permille))
        synth_date_format_iso(day, out);
    else
        synth_date_format_uk(day, out);
}

const char *synth_ident_sex(synth_rng_t *rng, uint8_t sex)
{
    static const char *const male[4] = { "M", "male", "Male", "1" };
    static const char *const female[4] = { "F", "female", "Female", "2" };
    static const unsigned weight[4] = { 45, 15, 15, 25 };
    size_t style = synth_rng_pick(rng, weight, 4);
    return sex == 'M' ? male[style] : female[style];
}

void synth_ident_postcode(synth_rng_t *rng, uint32_t pc, char *out)
{
    static const unsigned case_weight[3] = { 60, 20, 20 };  /* upper, lower, mixed */
    static const unsigned space_weight[3] = { 70, 20, 10 }; /* one, none, two */
    char canon[SYNTH_PLACE_TEXT];
    synth_place_postcode(pc, canon);
    size_t letter_case = synth_rng_pick(rng, case_weight, 3);
    size_t spaces = synth_rng_pick(rng, space_weight, 3);
    size_t o = 0;
    for (const char *s = canon; *s != '\0'; s++) {
        if (*s == ' ') {
            if (spaces == 0) {
                out[o++] = ' ';
            } else if (spaces == 2) {
                out[o++] = ' ';
                out[o++] = ' ';
            }
            continue;
        }
        int lower = letter_case == 1 || (letter_case == 2 && (synth_rng_next(rng) & 1));
        out[o++] = lower ? (char)tolower((unsigned char)*s) : *s;
    }
    out[o] = '\0';
}

void synth_ident_nhs(synth_rng_t *rng, uint32_t base, int typo, char *out)
{
    static const unsigned sep_weight[3] = { 50, 30, 20 };
    static const char seps[3] = { '\0', ' ', '-' };
    int check = synth_nhs_check_digit(base);
    if (typo)
        check = (check + 1 + (int)synth_rng_below(rng, 9)) % 10;
    synth_nhs_format(base, check, seps[synth_rng_pick(rng, sep_weight, 3)], out);
}
