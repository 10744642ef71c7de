/* node_csv — a streaming RFC 4180 CSV reader for partners' extracts.
 *
 * Every byte is treated as hostile. The reader reads the file in large
 * blocks, copies each record's fields into one arena it owns (no allocation
 * per record or per field), and bounds everything: a field, a record and the
 * number of fields in a record. Memory stays the same whatever the input: a
 * 100 MB line is skipped, not buffered.
 *
 * Accepted syntax: an optional UTF-8 byte-order mark at the very start;
 * records ending at LF, CRLF or a lone CR; quoted fields ("a,b",
 * "he said ""hi""", line ends inside quotes kept as they are); a final record
 * with no line end. Completely empty lines are skipped. A malformed record is
 * returned with an error and the reader carries on at the next record
 * boundary, so one bad row never loses the rows after it.
 *
 * The number of fields is not compared across records: the ingest compares
 * each record with the header and reports the difference. */
#ifndef NODE_CSV_H
#define NODE_CSV_H

#include "hearth_err.h"

#include <stddef.h>
#include <stdint.h>

/* Most bytes in one field, after quotes are removed. */
#define NODE_CSV_MAX_FIELD (64u * 1024)
/* Most fields in one record. */
#define NODE_CSV_MAX_FIELDS 1024
/* Most bytes in one record: the sum of its fields' lengths after quotes are
 * removed (separators not counted). */
#define NODE_CSV_MAX_RECORD (1u << 20)

typedef struct node_csv_t node_csv_t;

/* One record, filled by node_csv_next. Everything it points to is owned by
 * the reader and borrowed until the next call to node_csv_next or
 * node_csv_destroy. */
typedef struct {
    size_t nfields;        /* fields in the record; 0 when error is set */
    char *const *fields;   /* NUL-terminated copies: quotes removed, "" unescaped.
                            * A field never contains a NUL byte (one makes the
                            * record malformed) and is always valid UTF-8. */
    const size_t *lens;    /* byte length of each field */
    uint64_t line;         /* 1-based physical line on which the record starts */
    uint64_t record;       /* 1-based record number; the header is record 1 and
                            * malformed records are counted too */
    const char *error;     /* NULL, or a static string saying why the record is
                            * malformed; it never quotes the input. The fields
                            * are then unusable; the reader has already moved
                            * past the record and the next call carries on. */
} node_csv_record_t;

/* Opens path for reading and returns a new reader in *out (free with
 * node_csv_destroy; it closes the file). HEARTH_ERR_IO with *cause set
 * (caller frees) when the file cannot be opened. */
hearth_err_t node_csv_open(const char *path, node_csv_t **out, char **cause)
    __attribute__((warn_unused_result));

/* Returns a new reader on fd, which it borrows: node_csv_destroy does not
 * close it. For pipes and memfds in tests, or standard input. */
node_csv_t *node_csv_new_fd(int fd);

/* Frees the reader (closing the file if node_csv_open opened it); NULL-safe;
 * sets *self_p to NULL. Records already returned become invalid. */
void node_csv_destroy(node_csv_t **self_p);

/* Reads the next record into *rec. Returns HEARTH_OK with *rec filled (a
 * malformed record is HEARTH_OK with rec->error set); HEARTH_ERR_NOT_FOUND at
 * the end of the input (no record); HEARTH_ERR_IO when a read fails (*cause
 * set, caller frees). After a read error every later call fails the same
 * way. */
hearth_err_t node_csv_next(node_csv_t *self, node_csv_record_t *rec, char **cause)
    __attribute__((warn_unused_result));

#endif
