/* synth_nhs — NHS numbers for synthetic residents: the modulus-11 check
 * digit, and a stream of distinct valid numbers from the test range.
 *
 * Numbers beginning 999 are never issued to patients, so synthetic data
 * cannot collide with a real person's number. That range holds only
 * SYNTH_NHS_BLOCK_VALID valid numbers (one nine-digit base in eleven has
 * no valid check digit); a larger neighbourhood continues into 998, 997,
 * ... — also never issued in England, but not an official test range. */
#ifndef SYNTH_NHS_H
#define SYNTH_NHS_H

#include <stdint.h>

/* Valid numbers in one three-digit prefix block (999xxxxxx + check). */
#define SYNTH_NHS_BLOCK_VALID 909091u
/* Prefix blocks the stream may use: 999 down to 994. */
#define SYNTH_NHS_BLOCKS 6u

/* Bytes needed for a formatted number with separators and its NUL. */
#define SYNTH_NHS_TEXT 13

typedef struct synth_nhs_seq synth_nhs_seq_t;

/* The check digit for the nine-digit base (first nine digits as an
 * integer): weights 10..2, 11 - sum mod 11, 11 becomes 0. Returns 0-9, or
 * 10 when no check digit can make the base valid. */
int synth_nhs_check_digit(uint32_t base);

/* A stream of distinct valid NHS numbers in a pseudo-random order fixed by
 * key (the generator passes a value drawn from its seeded stream); caller
 * destroys. */
synth_nhs_seq_t *synth_nhs_seq_new(uint64_t key);

/* Frees *self_p (NULL-safe) and sets it to NULL. */
void synth_nhs_seq_destroy(synth_nhs_seq_t **self_p);

/* Puts the next number's nine-digit base in *base (its check digit is
 * synth_nhs_check_digit(*base)). Returns 0, or -1 once every block is
 * used up (after SYNTH_NHS_BLOCKS * SYNTH_NHS_BLOCK_VALID numbers). */
int synth_nhs_seq_next(synth_nhs_seq_t *self, uint32_t *base);

/* Writes the ten digits of base and check (0-9) into out, grouped 3-3-4
 * by sep when sep is not '\0' ("943 476 5919", "943-476-5919"). */
void synth_nhs_format(uint32_t base, int check, char sep, char out[SYNTH_NHS_TEXT]);

#endif
