/* synth_people — the residents of the synthetic neighbourhood, each with a
 * true identity and the latent facts the partner extracts are drawn from.
 *
 * Two invariants make token linkage equal true identity: every resident
 * has a distinct NHS number, and a distinct (date of birth, sex,
 * normalised postcode) triple (a colliding draw is redrawn). */
#ifndef SYNTH_PEOPLE_H
#define SYNTH_PEOPLE_H

#include "hearth_err.h"
#include "synth_rng.h"

#include <stddef.h>
#include <stdint.h>

/* The most residents one run may generate; kept below the NHS numbers
 * available (see synth_nhs.h). */
#define SYNTH_PEOPLE_MAX 5000000u

typedef enum {
    SYNTH_TENURE_SOCIAL,
    SYNTH_TENURE_PRIVATE_RENTED,
    SYNTH_TENURE_OWNER_OCCUPIED
} synth_tenure_t;

typedef enum {
    SYNTH_LONELY_OFTEN,
    SYNTH_LONELY_SOMETIMES,
    SYNTH_LONELY_RARELY,
    SYNTH_LONELY_NEVER
} synth_lonely_t;

/* One resident. Plain data: the fields are read directly. */
typedef struct {
    uint32_t nhs_base;  /* first nine NHS digits; check digit by synth_nhs_check_digit */
    int32_t dob;        /* date of birth, a synth_date day number */
    uint32_t postcode;  /* synth_place postcode index */
    uint8_t sex;        /* 'M' or 'F' */
    uint8_t ward;       /* synth_place ward, implied by the postcode */
    uint8_t age;        /* completed years at the reference date, 0-100 */
    uint8_t tenure;     /* synth_tenure_t of the home */
    uint8_t damp;       /* 1 when the home has damp */
    uint8_t lonely;     /* synth_lonely_t */
    uint8_t household;  /* people in the household, 1-6 */
} synth_person_t;

typedef struct synth_people synth_people_t;

/* Generates count residents (1..SYNTH_PEOPLE_MAX) as at reference day
 * ref_day, drawing from rng (borrowed). On success *out is a new set the
 * caller destroys. HEARTH_ERR_USAGE for a count out of range; never fails
 * otherwise within the bounds (HEARTH_ERR_INTERNAL would mean a bug). */
hearth_err_t synth_people_new(size_t count, int32_t ref_day, synth_rng_t *rng,
                              synth_people_t **out, char **cause)
    __attribute__((warn_unused_result));

/* Frees *self_p (NULL-safe) and sets it to NULL. */
void synth_people_destroy(synth_people_t **self_p);

/* Number of residents; true person ids run from 1 to this. */
size_t synth_people_count(const synth_people_t *self);

/* The reference date the ages were computed at (a day number). */
int32_t synth_people_ref_day(const synth_people_t *self);

/* Resident with true person id (1-based); borrowed, valid until destroy. */
const synth_person_t *synth_people_get(const synth_people_t *self, size_t id);

/* Age band label at the reference date: "0-17", "18-44", "45-64",
 * "65-74" or "75+" (static). */
const char *synth_people_age_band(const synth_person_t *p);

#endif
