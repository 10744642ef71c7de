#include "synth_people.h"
#include "hearth_mem.h"
#include "synth_date.h"
#include "synth_nhs.h"
#include "synth_place.h"

#include <stdlib.h>

#define MAX_AGE 100
/* Redraws allowed for one resident's identifier triple. With over a
 * billion possible triples a second draw is already rare; reaching this
 * would mean a bug, not bad luck. */
#define MAX_REDRAWS 1000

struct synth_people {
    synth_person_t *people; /* owned; people[0] is person id 1 */
    size_t count;
    int32_t ref_day;
};

/* Open-addressing set of packed identifier triples, used only while the
 * residents are drawn. */
typedef struct {
    uint64_t *slots; /* 0 marks an empty slot; keys are never 0 */
    size_t mask;     /* capacity - 1; capacity a power of two */
} triple_set_t;

/* Relative weight of each single year of age, 0-100: roughly the shape of
 * an English urban population, so about a fifth of residents are 65+. */
static unsigned age_weight(int age)
{
    if (age < 18) return 120;
    if (age < 45) return 130;
    if (age < 65) return 128;
    if (age < 75) return 105;
    if (age < 85) return 75;
    if (age < 95) return 28;
    return 6;
}

static uint64_t triple_key(int32_t dob, uint8_t sex, uint32_t pc)
{
    /* dob offset by 2^31 so the key is never 0; pc < 2^15 (checked by
     * the static assertion below). */
    uint64_t day = (uint64_t)((int64_t)dob + INT64_C(0x80000000));
    return (day << 16) | ((uint64_t)(sex == 'F') << 15) | pc;
}

_Static_assert(SYNTH_PLACE_POSTCODES <= 0x8000, "postcode index must fit 15 bits");
_Static_assert(SYNTH_PEOPLE_MAX <= (uint64_t)SYNTH_NHS_BLOCKS * SYNTH_NHS_BLOCK_VALID,
               "every resident needs a distinct NHS number");

/* Adds key; returns 0 when added, -1 when already present. */
static int triple_set_add(triple_set_t *set, uint64_t key)
{
    size_t i = (size_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> 20) & set->mask;
    while (set->slots[i] != 0) {
        if (set->slots[i] == key)
            return -1;
        i = (i + 1) & set->mask;
    }
    set->slots[i] = key;
    return 0;
}

static void draw_identity(synth_rng_t *rng, const unsigned *age_weights,
                          int32_t ref_day, synth_person_t *p)
{
    int age = (int)synth_rng_pick(rng, age_weights, MAX_AGE + 1);
    /* Born in (ref - (age+1) years, ref - age years], so the age at the
     * reference date is exactly age; never on the reference day itself,
     * so every resident has a day on which to attend or be referred. */
    int32_t lo = synth_date_years_before(ref_day, age + 1) + 1;
    int32_t hi = synth_date_years_before(ref_day, age);
    if (hi >= ref_day)
        hi = ref_day - 1;
    p->dob = (int32_t)synth_rng_range(rng, lo, hi);
    p->age = (uint8_t)synth_date_age(p->dob, ref_day);
    /* Women outlive men, so the oldest residents are mostly women. */
    p->sex = synth_rng_chance(rng, age >= 75 ? 430 : 495) ? 'M' : 'F';
    p->postcode = synth_place_draw(rng);
    p->ward = (uint8_t)synth_place_ward_of(p->postcode);
}

/* The latent facts behind the attributes: home, damp, household and
 * loneliness, correlated with age and ward the way the demo questions
 * expect (older people alone are lonelier; social housing is damper). */
static void draw_circumstances(synth_rng_t *rng, synth_person_t *p)
{
    unsigned social = synth_place_social_permille(p->ward) + (p->age >= 65 ? 60 : 0);
    unsigned renting = p->age >= 18 && p->age < 45 ? 350 : 120;
    if (synth_rng_chance(rng, social))
        p->tenure = SYNTH_TENURE_SOCIAL;
    else if (synth_rng_chance(rng, renting))
        p->tenure = SYNTH_TENURE_PRIVATE_RENTED;
    else
        p->tenure = SYNTH_TENURE_OWNER_OCCUPIED;

    static const unsigned damp_permille[3] = { 350, 250, 70 };
    p->damp = (uint8_t)synth_rng_chance(rng, damp_permille[p->tenure]);

    static const unsigned household_child[6] = { 0, 6, 22, 38, 22, 12 };
    static const unsigned household_adult[6] = { 16, 32, 18, 20, 10, 4 };
    static const unsigned household_young_old[6] = { 30, 50, 10, 6, 3, 1 };
    static const unsigned household_old[6] = { 45, 40, 8, 4, 2, 1 };
    const unsigned *hw = p->age < 18 ? household_child
                       : p->age < 65 ? household_adult
                       : p->age < 75 ? household_young_old : household_old;
    p->household = (uint8_t)(1 + synth_rng_pick(rng, hw, 6));

    static const unsigned lonely_alone[4] = { 220, 320, 260, 200 };
    static const unsigned lonely_old[4] = { 190, 300, 280, 230 };
    static const unsigned lonely_young_old[4] = { 100, 260, 330, 310 };
    static const unsigned lonely_other[4] = { 70, 220, 350, 360 };
    const unsigned *lw = p->household == 1 ? lonely_alone
                       : p->age >= 75 ? lonely_old
                       : p->age >= 65 ? lonely_young_old : lonely_other;
    p->lonely = (uint8_t)synth_rng_pick(rng, lw, 4);
}

hearth_err_t synth_people_new(size_t count, int32_t ref_day, synth_rng_t *rng,
                              synth_people_t **out, char **cause)
{
    hearth_err_t rc = HEARTH_OK;
    synth_people_t *self = NULL;
    synth_nhs_seq_t *nhs = NULL;
    triple_set_t set = { NULL, 0 };

    *out = NULL;
    if (count < 1 || count > SYNTH_PEOPLE_MAX) {
        hearth_cause_set(cause, "the number of people must be 1 to %u", SYNTH_PEOPLE_MAX);
        return HEARTH_ERR_USAGE;
    }
    self = hearth_calloc(1, sizeof *self);
    self->people = hearth_calloc(count, sizeof *self->people);
    self->count = count;
    self->ref_day = ref_day;

    size_t capacity = 1024;
    while (capacity < 2 * count)
        capacity *= 2;
    set.slots = hearth_calloc(capacity, sizeof *set.slots);
    set.mask = capacity - 1;

    unsigned age_weights[MAX_AGE + 1];
    for (int a = 0; a <= MAX_AGE; a++)
        age_weights[a] = age_weight(a);
    nhs = synth_nhs_seq_new(synth_rng_next(rng));

    for (size_t i = 0; i < count; i++) {
        synth_person_t *p = &self->people[i];
        int redraws = 0;
        for (;;) {
            draw_identity(rng, age_weights, ref_day, p);
            if (triple_set_add(&set, triple_key(p->dob, p->sex, p->postcode)) == 0)
                break;
            if (++redraws == MAX_REDRAWS) {
                hearth_cause_set(cause, "could not draw a unique date of birth, "
                                 "sex and postcode for person %zu", i + 1);
                rc = HEARTH_ERR_INTERNAL;
                goto fail;
            }
        }
        if (synth_nhs_seq_next(nhs, &p->nhs_base) != 0) {
            hearth_cause_set(cause, "ran out of synthetic NHS numbers at person %zu", i + 1);
            rc = HEARTH_ERR_INTERNAL;
            goto fail;
        }
        draw_circumstances(rng, p);
    }
    *out = self;
    self = NULL;
fail:
    free(set.slots);
    synth_nhs_seq_destroy(&nhs);
    synth_people_destroy(&self);
    return rc;
}

void synth_people_destroy(synth_people_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    synth_people_t *self = *self_p;
    free(self->people);
    free(self);
    *self_p = NULL;
}

size_t synth_people_count(const synth_people_t *self)
{
    return self->count;
}

int32_t synth_people_ref_day(const synth_people_t *self)
{
    return self->ref_day;
}

const synth_person_t *synth_people_get(const synth_people_t *self, size_t id)
{
    return &self->people[id - 1];
}

const char *synth_people_age_band(const synth_person_t *p)
{
    if (p->age < 18) return "0-17";
    if (p->age < 45) return "18-44";
    if (p->age < 65) return "45-64";
    if (p->age < 75) return "65-74";
    return "75+";
}
