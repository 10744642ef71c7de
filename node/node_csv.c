/* node_csv — streaming RFC 4180 reader; see node_csv.h.
 *
 * How it works: the input is read in NODE_CSV_BLOCK blocks into one buffer
 * whose byte past the data is always NUL (a sentinel), so the scanning loops
 * test one table per byte and no bound: they stop at a separator, a quote, a
 * line end or a NUL, and only then ask whether the NUL was the sentinel (time
 * to read the next block) or a NUL in the data (a malformed record). Each run
 * of ordinary bytes is copied into the arena with one memcpy, so a record may
 * straddle any number of blocks and the block buffer is simply overwritten by
 * the next read.
 *
 * A malformed record switches the parser into "skip" mode: it keeps parsing
 * (quote-aware, so a quoted field with a line end inside does not split into
 * spurious records) but stores nothing and checks nothing, until the record
 * ends. Memory is therefore the block buffer plus the arena, whatever the
 * input. */
#include "node_csv.h"

#include "hearth_mem.h"
#include "proto_codec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Bytes asked of each read(2): large blocks keep system calls rare. */
#define NODE_CSV_BLOCK (1u << 20)

/* The messages below spell the limits out; keep them in step. */
_Static_assert(NODE_CSV_MAX_FIELD == 65536, "update ERR_FIELD");
_Static_assert(NODE_CSV_MAX_FIELDS == 1024, "update ERR_FIELDS");
_Static_assert(NODE_CSV_MAX_RECORD == 1048576, "update ERR_RECORD");

/* Static reasons for a malformed record. None quotes the input: a field may
 * be an NHS number. */
static const char ERR_UNTERMINATED[] = "unterminated quoted field";
static const char ERR_QUOTE[] = "quote inside an unquoted field";
static const char ERR_AFTER_QUOTE[] = "text after a closing quote";
static const char ERR_FIELD[] = "field longer than 65536 bytes";
static const char ERR_FIELDS[] = "more than 1024 fields";
static const char ERR_RECORD[] = "record longer than 1 MiB";
static const char ERR_UTF8[] = "invalid UTF-8";
static const char ERR_NUL[] = "NUL byte";

/* Bytes that end a run inside an unquoted field and inside a quoted one.
 * Read-only tables, not mutable state. */
static const unsigned char SPECIAL_UNQUOTED[256] = {
    [0] = 1, ['\n'] = 1, ['\r'] = 1, [','] = 1, ['"'] = 1,
};
static const unsigned char SPECIAL_QUOTED[256] = {
    [0] = 1, ['\n'] = 1, ['\r'] = 1, ['"'] = 1,
};

struct node_csv_t {
    int fd;
    bool owns_fd;        /* node_csv_open opened fd, so destroy closes it */
    bool started;        /* the byte-order mark has been looked for */
    bool eof;            /* read(2) has returned 0 */
    bool failed;         /* read(2) has failed: every later call fails */
    bool after_cr;       /* the last record ended at a CR, so an LF right
                          * after it is part of the same line end */
    unsigned char *buf;  /* NODE_CSV_BLOCK + 1 bytes; buf[end] is always 0 */
    size_t pos;          /* next unread byte in buf */
    size_t end;          /* bytes of data in buf */
    char *arena;         /* the current record's fields, NUL-terminated:
                          * NODE_CSV_MAX_RECORD + NODE_CSV_MAX_FIELDS bytes */
    char *fields[NODE_CSV_MAX_FIELDS];   /* point into arena */
    size_t lens[NODE_CSV_MAX_FIELDS];
    uint64_t line;       /* physical line of buf[pos], 1-based */
    uint64_t record;     /* records returned so far */
};

/* The record being parsed (lives on the stack of node_csv_next). */
typedef struct {
    char *arena;
    size_t alen;         /* arena bytes used, terminating NULs included */
    size_t fstart;       /* arena offset where the current field starts */
    size_t content;      /* field bytes in the record, NULs excluded */
    size_t nf;           /* fields completed */
    unsigned char hi;    /* OR of the current field's bytes: bit 7 set means
                          * non-ASCII, so the field needs a UTF-8 check */
    const char *err;     /* first reason the record is malformed; set means
                          * skip mode */
} csv_parse_t;

enum { ST_START, ST_UNQUOTED, ST_QUOTED, ST_QUOTE_SEEN };

node_csv_t *node_csv_new_fd(int fd)
{
    node_csv_t *self = hearth_calloc(1, sizeof *self);
    self->fd = fd;
    self->buf = hearth_malloc(NODE_CSV_BLOCK + 1);
    self->buf[0] = 0;
    self->arena = hearth_malloc(NODE_CSV_MAX_RECORD + NODE_CSV_MAX_FIELDS);
    self->line = 1;
    return self;
}

hearth_err_t node_csv_open(const char *path, node_csv_t **out, char **cause)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        hearth_cause_set(cause, "cannot open '%s': %s", path, strerror(errno));
        return HEARTH_ERR_IO;
    }
    /* Only a hint: the kernel may read ahead further. */
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    node_csv_t *self = node_csv_new_fd(fd);
    self->owns_fd = true;
    *out = self;
    return HEARTH_OK;
}

void node_csv_destroy(node_csv_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    node_csv_t *self = *self_p;
    if (self->owns_fd)
        close(self->fd);
    free(self->buf);
    free(self->arena);
    free(self);
    *self_p = NULL;
}

/* read(2) retried on EINTR. Returns bytes read, 0 at end of input, or -1
 * with *cause set and the reader marked failed. */
static ssize_t csv_read(node_csv_t *self, unsigned char *dst, size_t cap, char **cause)
{
    if (self->eof)
        return 0;
    ssize_t n;
    do
        n = read(self->fd, dst, cap);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        hearth_cause_set(cause, "cannot read the CSV input: %s", strerror(errno));
        self->failed = true;
        return -1;
    }
    if (n == 0)
        self->eof = true;
    return n;
}

/* Replaces the (fully consumed) buffer with the next block. Returns 1 when
 * there is more data, 0 at end of input, -1 on a read error. */
static int csv_refill(node_csv_t *self, char **cause)
{
    self->pos = 0;
    self->end = 0;
    self->buf[0] = 0;
    ssize_t n = csv_read(self, self->buf, NODE_CSV_BLOCK, cause);
    if (n <= 0)
        return (int)n;
    self->end = (size_t)n;
    self->buf[n] = 0;
    return 1;
}

/* First call: reads until three bytes are there (a pipe may hand them over
 * one at a time) and skips a UTF-8 byte-order mark. */
static hearth_err_t csv_start(node_csv_t *self, char **cause)
{
    self->started = true;
    while (self->end < 3) {
        ssize_t n = csv_read(self, self->buf + self->end, NODE_CSV_BLOCK - self->end, cause);
        if (n < 0)
            return HEARTH_ERR_IO;
        if (n == 0)
            break;
        self->end += (size_t)n;
    }
    self->buf[self->end] = 0;
    if (self->end >= 3 && memcmp(self->buf, "\xEF\xBB\xBF", 3) == 0)
        self->pos = 3;
    return HEARTH_OK;
}

/* Appends n bytes to the current field unless that breaks a bound (then the
 * record is malformed). Called once per run of bytes, not per byte. */
static inline void csv_store(csv_parse_t *ps, const unsigned char *s, size_t n)
{
    if (ps->err != NULL || n == 0)
        return;
    if (ps->alen - ps->fstart + n > NODE_CSV_MAX_FIELD) {
        ps->err = ERR_FIELD;
        return;
    }
    if (ps->content + n > NODE_CSV_MAX_RECORD) {
        ps->err = ERR_RECORD;
        return;
    }
    /* alen <= content + nf <= MAX_RECORD + MAX_FIELDS: fits the arena. */
    memcpy(ps->arena + ps->alen, s, n);
    ps->alen += n;
    ps->content += n;
}

/* Ends the current field: checks the field count and UTF-8, terminates it
 * and records it. */
static inline void csv_end_field(node_csv_t *self, csv_parse_t *ps)
{
    if (ps->err != NULL)
        return;
    if (ps->nf == NODE_CSV_MAX_FIELDS) {
        ps->err = ERR_FIELDS;
        return;
    }
    size_t len = ps->alen - ps->fstart;
    if ((ps->hi & 0x80) != 0 && !proto_utf8_valid(ps->arena + ps->fstart, len)) {
        ps->err = ERR_UTF8;
        return;
    }
    ps->arena[ps->alen++] = '\0';
    self->fields[ps->nf] = ps->arena + ps->fstart;
    self->lens[ps->nf] = len;
    ps->nf++;
    ps->fstart = ps->alen;
    ps->hi = 0;
}

hearth_err_t node_csv_next(node_csv_t *self, node_csv_record_t *rec, char **cause)
{
    rec->nfields = 0;
    rec->fields = self->fields;
    rec->lens = self->lens;
    rec->line = 0;
    rec->record = 0;
    rec->error = NULL;
    if (self->failed) {
        hearth_cause_set(cause, "an earlier read of the CSV input failed");
        return HEARTH_ERR_IO;
    }
    if (!self->started && csv_start(self, cause) != HEARTH_OK)
        return HEARTH_ERR_IO;

    const unsigned char *p = self->buf + self->pos;
    const unsigned char *e = self->buf + self->end;
    int r;

    /* Skip the LF of a CRLF that ended the last record, and empty lines. */
    for (;;) {
        unsigned char c = *p;
        if (c == '\n') {
            if (!self->after_cr)
                self->line++;
            self->after_cr = false;
            p++;
        } else if (c == '\r') {
            self->line++;
            self->after_cr = true;
            p++;
        } else if (c == 0 && p == e) {
            r = csv_refill(self, cause);
            if (r < 0)
                return HEARTH_ERR_IO;
            if (r == 0)
                return HEARTH_ERR_NOT_FOUND;
            p = self->buf;
            e = self->buf + self->end;
        } else {
            break;
        }
    }
    self->after_cr = false;

    uint64_t start_line = self->line;
    self->record++;
    csv_parse_t ps = {.arena = self->arena};
    bool prev_cr = false;  /* inside quotes: the last byte was a CR */
    int st = ST_START;

    for (;;) {
        const unsigned char *s;
        unsigned char c, h;
        switch (st) {
        case ST_START:
            if (*p == '"') {
                p++;
                prev_cr = false;
                st = ST_QUOTED;
                break;
            }
            if (*p == 0 && p == e) {
                /* The field starts in the next block, which may open it
                 * with a quote. */
                r = csv_refill(self, cause);
                if (r < 0)
                    return HEARTH_ERR_IO;
                p = self->buf;
                e = self->buf + self->end;
                if (r == 0) {
                    csv_end_field(self, &ps);
                    goto done;
                }
                break;
            }
            st = ST_UNQUOTED;
            /* fall through */
        case ST_UNQUOTED:
            s = p;
            h = 0;
            while (!SPECIAL_UNQUOTED[c = *p]) {
                h |= c;
                p++;
            }
            ps.hi |= h;
            csv_store(&ps, s, (size_t)(p - s));
            if (c == ',') {
                csv_end_field(self, &ps);
                p++;
                st = ST_START;
            } else if (c == '\n' || c == '\r') {
                csv_end_field(self, &ps);
                goto line_end;
            } else if (c == '"') {
                /* In skip mode a quote mid-field is just skipped. */
                if (ps.err == NULL)
                    ps.err = ERR_QUOTE;
                p++;
            } else if (p != e) {
                if (ps.err == NULL)
                    ps.err = ERR_NUL;
                p++;
            } else {
                r = csv_refill(self, cause);
                if (r < 0)
                    return HEARTH_ERR_IO;
                p = self->buf;
                e = self->buf + self->end;
                if (r == 0) {
                    csv_end_field(self, &ps);
                    goto done;
                }
            }
            break;
        case ST_QUOTED:
            s = p;
            h = 0;
            while (!SPECIAL_QUOTED[c = *p]) {
                h |= c;
                p++;
            }
            if (p != s) {
                ps.hi |= h;
                csv_store(&ps, s, (size_t)(p - s));
                prev_cr = false;
            }
            if (c == '"') {
                p++;
                prev_cr = false;
                st = ST_QUOTE_SEEN;
            } else if (c == '\n') {
                /* Line ends inside quotes are kept as they are, but still
                 * counted so later records report the right line. */
                if (!prev_cr)
                    self->line++;
                prev_cr = false;
                csv_store(&ps, p, 1);
                p++;
            } else if (c == '\r') {
                self->line++;
                prev_cr = true;
                csv_store(&ps, p, 1);
                p++;
            } else if (p != e) {
                if (ps.err == NULL)
                    ps.err = ERR_NUL;
                prev_cr = false;
                p++;
            } else {
                r = csv_refill(self, cause);
                if (r < 0)
                    return HEARTH_ERR_IO;
                p = self->buf;
                e = self->buf + self->end;
                if (r == 0) {
                    if (ps.err == NULL)
                        ps.err = ERR_UNTERMINATED;
                    goto done;
                }
            }
            break;
        case ST_QUOTE_SEEN:
            /* A quote inside a quoted field: either the first of "" or the
             * closing quote. The next byte says which; it may be in the
             * next block. */
            c = *p;
            if (c == '"') {
                csv_store(&ps, p, 1);
                p++;
                st = ST_QUOTED;
            } else if (c == ',') {
                csv_end_field(self, &ps);
                p++;
                st = ST_START;
            } else if (c == '\n' || c == '\r') {
                csv_end_field(self, &ps);
                goto line_end;
            } else if (c == 0 && p == e) {
                r = csv_refill(self, cause);
                if (r < 0)
                    return HEARTH_ERR_IO;
                p = self->buf;
                e = self->buf + self->end;
                if (r == 0) {
                    csv_end_field(self, &ps);
                    goto done;
                }
            } else {
                if (ps.err == NULL)
                    ps.err = ERR_AFTER_QUOTE;
                /* Skip the rest of the field as if it were unquoted. */
                st = ST_UNQUOTED;
            }
            break;
        default:
            abort();  /* unreachable: st only takes the values above */
        }
    }

line_end:
    /* A record-ending LF never directly follows a CR of the same record (a
     * CR outside quotes would have ended it), so it always counts. */
    self->line++;
    if (*p == '\r')
        self->after_cr = true;
    p++;

done:
    self->pos = (size_t)(p - self->buf);
    rec->line = start_line;
    rec->record = self->record;
    rec->error = ps.err;
    rec->nfields = ps.err != NULL ? 0 : ps.nf;
    return HEARTH_OK;
}
