#include "synth_csv.h"

#include <stdio.h>
#include <string.h>

void synth_csv_row_reset(synth_csv_row_t *row)
{
    row->len = 0;
    row->fields = 0;
}

static void put(synth_csv_row_t *row, const char *s, size_t n)
{
    if (row->overflow || n > SYNTH_CSV_ROW_MAX - row->len) {
        row->overflow = 1;
        return;
    }
    memcpy(row->text + row->len, s, n);
    row->len += n;
}

void synth_csv_row_field(synth_csv_row_t *row, const char *value)
{
    if (row->fields++ > 0)
        put(row, ",", 1);
    if (strpbrk(value, ",\"\r\n") == NULL) {
        put(row, value, strlen(value));
        return;
    }
    put(row, "\"", 1);
    for (const char *s = value; *s != '\0'; s++) {
        if (*s == '"')
            put(row, "\"", 1);
        put(row, s, 1);
    }
    put(row, "\"", 1);
}

void synth_csv_row_uint(synth_csv_row_t *row, unsigned long value)
{
    char text[24];
    snprintf(text, sizeof text, "%lu", value);
    synth_csv_row_field(row, text);
}

void synth_csv_row_end(synth_csv_row_t *row, const char *eol)
{
    put(row, eol, strlen(eol));
}
