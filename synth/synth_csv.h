/* synth_csv — writing CSV rows (RFC 4180) quickly: a row is assembled in a
 * fixed buffer, quoting only fields that need it, then handed to stdio in
 * one call. Rows are the generator's own, so their size is known; the
 * bound is still checked. */
#ifndef SYNTH_CSV_H
#define SYNTH_CSV_H

#include <stddef.h>

/* Longest row the generator writes, line ending included, with room to
 * spare; a longer row marks the builder as overflowed. */
#define SYNTH_CSV_ROW_MAX 512

typedef struct {
    char text[SYNTH_CSV_ROW_MAX]; /* the row so far; not NUL-terminated */
    size_t len;                   /* bytes used in text */
    int fields;                   /* fields added since the last reset */
    int overflow;                 /* set when a row did not fit */
} synth_csv_row_t;

/* Empties the row. The overflow flag stays set, so a writer can check it
 * once per file instead of once per row. */
void synth_csv_row_reset(synth_csv_row_t *row);

/* Appends one field, preceded by a comma unless it is the first; quotes it
 * (doubling inner quotes) when it holds a comma, quote, CR or LF. An empty
 * string is an empty (missing) field. */
void synth_csv_row_field(synth_csv_row_t *row, const char *value);

/* Appends an unsigned integer field. */
void synth_csv_row_uint(synth_csv_row_t *row, unsigned long value);

/* Ends the row with eol ("\n" or "\r\n"). */
void synth_csv_row_end(synth_csv_row_t *row, const char *eol);

#endif
