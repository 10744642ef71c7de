#include "client_audit.h"
#include "audit_event.h"
#include "audit_receipt.h"
#include "client_config.h"
#include "client_rpc.h"
#include "hearth_base64.h"
#include "hearth_buf.h"
#include "hearth_date.h"
#include "hearth_file.h"
#include "hearth_hex.h"
#include "hearth_mem.h"
#include "hearth_util.h"
#include "proto_codec.h"
#include "tlog_checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef unsigned long long ull;

/* The largest rendering (list, show, report) built in memory. */
#define OUT_MAX ((size_t)1 << 30)

/* ---- output -------------------------------------------------------------- */

/* A bounded output buffer that remembers it overflowed, so renderers can
 * write without checking every append. */
typedef struct {
    hearth_buf_t b;
    bool full;
} out_t;

static void out_init(out_t *o)
{
    hearth_buf_init(&o->b, OUT_MAX);
    o->full = false;
}

static void put(out_t *o, const char *s)
{
    if (!o->full && hearth_buf_adds(&o->b, s) != HEARTH_OK)
        o->full = true;
}

static void put_n(out_t *o, const char *s, size_t n)
{
    if (!o->full && hearth_buf_add(&o->b, s, n) != HEARTH_OK)
        o->full = true;
}

static void put_u64(out_t *o, uint64_t v)
{
    char num[24];
    snprintf(num, sizeof num, "%llu", (ull)v);
    put(o, num);
}

static void put_json(out_t *o, const char *s)
{
    if (!o->full && client_render_json_string(&o->b, s) != HEARTH_OK)
        o->full = true;
}

static void put_term(out_t *o, const char *s)
{
    if (!o->full && client_render_term_text(&o->b, s) != HEARTH_OK)
        o->full = true;
}

static void put_spaces(out_t *o, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put_n(o, " ", 1);
}

/* One CSV field, quoted as RFC 4180 asks (as client_render writes CSV). */
static void put_csv(out_t *o, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        put(o, s);
        return;
    }
    put_n(o, "\"", 1);
    for (const char *p = s; *p; p++)
        put_n(o, *p == '"' ? "\"\"" : p, *p == '"' ? 2 : 1);   /* a quote is doubled */
    put_n(o, "\"", 1);
}

/* The rendering, or NULL (freed) when it overflowed. */
static char *out_take(out_t *o)
{
    if (o->full) {
        hearth_buf_free(&o->b);
        return NULL;
    }
    return hearth_buf_take(&o->b);
}

/* A table: header and cells (strings borrowed), columns padded to their
 * widest cell, every string escaped for the terminal. `right` marks
 * right-aligned (numeric) columns. */
static void put_table(out_t *o, size_t ncols, const char *const *header, const bool *right,
                      const char *const *cells, size_t nrows)
{
    size_t *w = hearth_calloc(ncols, sizeof *w);
    for (size_t c = 0; c < ncols; c++) {
        w[c] = client_render_term_width(header[c]);
        for (size_t r = 0; r < nrows; r++) {
            size_t cw = client_render_term_width(cells[r * ncols + c]);
            if (cw > w[c])
                w[c] = cw;
        }
    }
    for (size_t r = 0; r <= nrows; r++) {
        const char *const *row = r == 0 ? header : cells + (r - 1) * ncols;
        size_t start = o->b.len;
        for (size_t c = 0; c < ncols; c++) {
            size_t pad = w[c] - client_render_term_width(row[c]);
            bool last = c + 1 == ncols;
            if (right[c])
                put_spaces(o, pad);
            put_term(o, row[c]);
            if (!right[c] && !last)
                put_spaces(o, pad);
            if (!last)
                put(o, "  ");
        }
        /* Empty last cells leave padding behind: no line ends in spaces. */
        while (!o->full && o->b.len > start && o->b.data[o->b.len - 1] == ' ')
            o->b.data[--o->b.len] = '\0';
        put(o, "\n");
    }
    free(w);
}

/* ---- a log in memory --------------------------------------------------------- */

client_audit_log_t *client_audit_log_new(void)
{
    return hearth_calloc(1, sizeof(client_audit_log_t));
}

void client_audit_log_destroy(client_audit_log_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    client_audit_log_t *self = *self_p;
    for (size_t i = 0; i < self->n_leaves; i++)
        free(self->leaves[i].data);
    free(self->leaves);
    for (size_t i = 0; i < self->n_notes; i++)
        free(self->notes[i]);
    free(self->notes);
    free(self);
    *self_p = NULL;
}

hearth_err_t client_audit_log_add_leaf(client_audit_log_t *self, uint64_t index,
                                       const uint8_t *data, size_t len, char **cause)
{
    if (len > AUDIT_LEAF_MAX || len > CLIENT_AUDIT_MAX_BYTES - self->bytes) {
        hearth_cause_set(cause, len > AUDIT_LEAF_MAX ? "leaf %llu is larger than any audit event"
                         : "the audit log is larger than this client holds (leaf %llu)",
                         (ull)index);
        return HEARTH_ERR_TOO_BIG;
    }
    if (self->n_leaves == self->cap_leaves) {
        self->cap_leaves = self->cap_leaves ? self->cap_leaves * 2 : 64;
        self->leaves = hearth_reallocarray(self->leaves, self->cap_leaves, sizeof *self->leaves);
    }
    uint8_t *copy = hearth_malloc(len ? len : 1);
    if (len)
        memcpy(copy, data, len);
    self->leaves[self->n_leaves++] = (client_audit_leaf_t){index, copy, len};
    self->bytes += len;
    return HEARTH_OK;
}

hearth_err_t client_audit_log_add_note(client_audit_log_t *self, const char *note, size_t len,
                                       char **cause)
{
    if (len > TLOG_NOTE_MAX || len > CLIENT_AUDIT_MAX_BYTES - self->bytes) {
        hearth_cause_set(cause, "a checkpoint is larger than any signed note");
        return HEARTH_ERR_TOO_BIG;
    }
    if (memchr(note, '\0', len)) {
        hearth_cause_set(cause, "a checkpoint holds a NUL byte");
        return HEARTH_ERR_FORMAT;
    }
    if (self->n_notes == self->cap_notes) {
        self->cap_notes = self->cap_notes ? self->cap_notes * 2 : 16;
        self->notes = hearth_reallocarray(self->notes, self->cap_notes, sizeof *self->notes);
    }
    self->notes[self->n_notes++] = hearth_strndup(note, len);
    self->bytes += len;
    return HEARTH_OK;
}

/* ---- the export file ----------------------------------------------------------- */

#define EXPORT_HEADER "hearth-audit-export 1"

static void put_base64(hearth_buf_t *b, const uint8_t *data, size_t len)
{
    char *text = hearth_malloc(HEARTH_BASE64_LEN(len) + 1);
    hearth_base64_encode(data, len, text);
    /* The buffer's bound is SIZE_MAX: it cannot refuse. */
    (void)hearth_buf_adds(b, text);
    free(text);
}

char *client_audit_export_format(const client_audit_log_t *self, size_t *len)
{
    hearth_buf_t b;
    hearth_buf_init(&b, SIZE_MAX);
    (void)hearth_buf_adds(&b, EXPORT_HEADER "\n");
    for (size_t i = 0; i < self->n_notes; i++) {
        (void)hearth_buf_adds(&b, "checkpoint ");
        put_base64(&b, (const uint8_t *)self->notes[i], strlen(self->notes[i]));
        (void)hearth_buf_adds(&b, "\n");
    }
    for (size_t i = 0; i < self->n_leaves; i++) {
        (void)hearth_buf_printf(&b, "leaf %llu ", (ull)self->leaves[i].index);
        put_base64(&b, self->leaves[i].data, self->leaves[i].len);
        (void)hearth_buf_adds(&b, "\n");
    }
    (void)hearth_buf_printf(&b, "end %zu %zu\n", self->n_notes, self->n_leaves);
    if (len)
        *len = b.len;
    return hearth_buf_take(&b);
}

/* Parses a canonical decimal s[0..len) (no sign, no leading zero). */
static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* Decodes base64 s[0..len) into a new buffer of at most max bytes. */
static uint8_t *decode_base64(const char *s, size_t len, size_t max, size_t *out_len)
{
    if (len > HEARTH_BASE64_LEN(max))
        return NULL;
    size_t cap = len / 4 * 3 + 1;
    uint8_t *buf = hearth_malloc(cap);
    if (!hearth_base64_decode(s, len, buf, cap, out_len) || *out_len > max) {
        free(buf);
        return NULL;
    }
    return buf;
}

hearth_err_t client_audit_export_parse(const char *text, size_t len, client_audit_log_t **out,
                                       char **cause)
{
    *out = NULL;
    client_audit_log_t *log = client_audit_log_new();
    hearth_err_t rc = HEARTH_ERR_FORMAT;
    size_t line = 0, pos = 0;
    bool ended = false;
    while (pos < len) {
        line++;
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        if (nl == NULL) {
            hearth_cause_set(cause, "line %zu: the file does not end in a newline (truncated?)",
                             line);
            goto fail;
        }
        size_t n = (size_t)(nl - s);
        pos += n + 1;
        if (ended) {
            hearth_cause_set(cause, "line %zu: something follows the end line", line);
            goto fail;
        }
        if (line == 1) {
            if (n != strlen(EXPORT_HEADER) || memcmp(s, EXPORT_HEADER, n) != 0) {
                hearth_cause_set(cause, "line 1: not a hearth audit export (it must begin "
                                 "\"" EXPORT_HEADER "\")");
                goto fail;
            }
            continue;
        }
        const char *sp = memchr(s, ' ', n);
        size_t word = sp ? (size_t)(sp - s) : n;
        const char *rest = sp ? sp + 1 : s + n;
        size_t rest_len = sp ? n - word - 1 : 0;
        if (word == 10 && memcmp(s, "checkpoint", 10) == 0) {
            size_t nlen = 0;
            uint8_t *note = decode_base64(rest, rest_len, TLOG_NOTE_MAX, &nlen);
            if (note == NULL) {
                hearth_cause_set(cause, "line %zu: the checkpoint is not valid base64 of a "
                                 "signed note", line);
                goto fail;
            }
            rc = client_audit_log_add_note(log, (const char *)note, nlen, cause);
            free(note);
            if (rc != HEARTH_OK)
                goto fail;
        } else if (word == 4 && memcmp(s, "leaf", 4) == 0) {
            const char *sp2 = memchr(rest, ' ', rest_len);
            uint64_t index;
            size_t dlen = 0;
            uint8_t *data = NULL;
            if (sp2 == NULL || !parse_u64(rest, (size_t)(sp2 - rest), &index) ||
                (data = decode_base64(sp2 + 1, rest_len - (size_t)(sp2 - rest) - 1,
                                      AUDIT_LEAF_MAX, &dlen)) == NULL) {
                hearth_cause_set(cause, "line %zu: expected \"leaf <index> <base64>\"", line);
                rc = HEARTH_ERR_FORMAT;
                goto fail;
            }
            rc = client_audit_log_add_leaf(log, index, data, dlen, cause);
            free(data);
            if (rc != HEARTH_OK)
                goto fail;
        } else if (word == 3 && memcmp(s, "end", 3) == 0) {
            const char *sp2 = memchr(rest, ' ', rest_len);
            uint64_t nc, nl2;
            if (sp2 == NULL || !parse_u64(rest, (size_t)(sp2 - rest), &nc) ||
                !parse_u64(sp2 + 1, rest_len - (size_t)(sp2 - rest) - 1, &nl2)) {
                hearth_cause_set(cause, "line %zu: expected \"end <checkpoints> <leaves>\"",
                                 line);
                rc = HEARTH_ERR_FORMAT;
                goto fail;
            }
            if (nc != log->n_notes || nl2 != log->n_leaves) {
                hearth_cause_set(cause, "line %zu: the file says it holds %llu checkpoints and "
                                 "%llu leaves, but %zu and %zu were read", line, (ull)nc,
                                 (ull)nl2, log->n_notes, log->n_leaves);
                rc = HEARTH_ERR_FORMAT;
                goto fail;
            }
            ended = true;
        } else {
            hearth_cause_set(cause, "line %zu: expected a checkpoint, leaf or end line", line);
            rc = HEARTH_ERR_FORMAT;
            goto fail;
        }
    }
    if (!ended) {
        hearth_cause_set(cause, line == 0 ? "the file is empty"
                                          : "the file has no end line (truncated?)");
        rc = HEARTH_ERR_FORMAT;
        goto fail;
    }
    *out = log;
    return HEARTH_OK;
fail:
    client_audit_log_destroy(&log);
    return rc;
}

/* ---- times ----------------------------------------------------------------------- */

static uint64_t days_ms(int year, int month, int day)
{
    struct tm tm = {.tm_year = year - 1900, .tm_mon = month - 1, .tm_mday = day};
    return (uint64_t)timegm(&tm) * 1000u;
}

bool client_audit_time_parse(const char *s, bool end_of_day, uint64_t *ms)
{
    if (s == NULL)
        return false;
    size_t len = strlen(s);
    if (len < HEARTH_DATE_LEN)
        return false;
    char iso[HEARTH_DATE_LEN + 1];
    bool was_iso = false;
    if (hearth_date_parse(s, HEARTH_DATE_LEN, 1970, 9999, iso, &was_iso) != HEARTH_DATE_OK ||
        !was_iso)
        return false;
    int y = atoi(iso), m = atoi(iso + 5), d = atoi(iso + 8);
    uint64_t day = days_ms(y, m, d);
    if (len == HEARTH_DATE_LEN) {
        *ms = end_of_day ? day + 86400000u : day;
        return true;
    }
    /* "THH:MM", then ":SS", then "Z", each optional after the first. */
    const char *t = s + HEARTH_DATE_LEN;
    size_t tl = len - HEARTH_DATE_LEN;
    if (tl > 0 && t[tl - 1] == 'Z')
        tl--;
    unsigned hh, mm, ss = 0;
    bool digits = true;
    for (size_t i = 1; i < tl; i++)
        if (!((i == 3 || i == 6) ? t[i] == ':' : (t[i] >= '0' && t[i] <= '9')))
            digits = false;
    if (t[0] != 'T' || !digits || (tl != 6 && tl != 9))
        return false;
    hh = (unsigned)atoi(t + 1);
    mm = (unsigned)atoi(t + 4);
    if (tl == 9)
        ss = (unsigned)atoi(t + 7);
    if (hh > 23 || mm > 59 || ss > 59)
        return false;
    *ms = day + ((uint64_t)hh * 3600u + mm * 60u + ss) * 1000u;
    return true;
}

bool client_audit_month_parse(const char *s, uint64_t *since_ms, uint64_t *until_ms)
{
    if (s == NULL || strlen(s) != 7)
        return false;
    char date[HEARTH_DATE_LEN + 1];
    snprintf(date, sizeof date, "%s-01", s);
    uint64_t since;
    if (!client_audit_time_parse(date, false, &since))
        return false;
    int y = atoi(s), m = atoi(s + 5);
    *since_ms = since;
    *until_ms = m == 12 ? days_ms(y + 1, 1, 1) : days_ms(y, m + 1, 1);
    return true;
}

void client_audit_time_format(uint64_t ms, bool with_ms, char out[32])
{
    time_t t = (time_t)(ms / 1000u);
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL) {
        snprintf(out, 32, "?");
        return;
    }
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    if (with_ms)
        snprintf(out + n, 32 - n, ".%03uZ", (unsigned)(ms % 1000u));
    else
        snprintf(out + n, 32 - n, "Z");
}

/* ---- rows ----------------------------------------------------------------------- */

const char *client_audit_outcome_name(client_audit_outcome_t o)
{
    switch (o) {
    case CLIENT_AUDIT_RELEASED: return "released";
    case CLIENT_AUDIT_REFUSED: return "refused";
    case CLIENT_AUDIT_ERRORED: return "error";
    case CLIENT_AUDIT_INCOMPLETE: return "incomplete";
    case CLIENT_AUDIT_GOVERNANCE: return "governance";
    }
    return "incomplete";
}

bool client_audit_outcome_parse(const char *s, client_audit_outcome_t *out)
{
    static const client_audit_outcome_t all[] = {CLIENT_AUDIT_RELEASED, CLIENT_AUDIT_REFUSED,
                                                 CLIENT_AUDIT_ERRORED, CLIENT_AUDIT_INCOMPLETE,
                                                 CLIENT_AUDIT_GOVERNANCE};
    for (size_t i = 0; s && i < sizeof all / sizeof *all; i++)
        if (strcmp(s, client_audit_outcome_name(all[i])) == 0) {
            *out = all[i];
            return true;
        }
    return false;
}

typedef struct {
    const char *query_id;
    size_t pos;
} qpos_t;

static int qpos_cmp(const void *a, const void *b)
{
    const qpos_t *x = a, *y = b;
    int d = strcmp(x->query_id, y->query_id);
    if (d != 0)
        return d;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int row_cmp(const void *a, const void *b)
{
    const client_audit_row_t *x = a, *y = b;
    return x->leaf < y->leaf ? -1 : x->leaf > y->leaf;
}

/* The log's leaves decoded (ok[i] false for those that do not decode). */
static audit_event_t *decode_log(const client_audit_log_t *log, bool **ok, size_t *bad)
{
    size_t n = log->n_leaves;
    audit_event_t *ev = hearth_calloc(n ? n : 1, sizeof *ev);
    *ok = hearth_calloc(n ? n : 1, sizeof **ok);
    *bad = 0;
    for (size_t i = 0; i < n; i++) {
        (*ok)[i] = audit_event_decode(log->leaves[i].data, log->leaves[i].len, &ev[i], NULL) ==
                   HEARTH_OK;
        if (!(*ok)[i])
            (*bad)++;
    }
    return ev;
}

static void free_events(audit_event_t *ev, size_t n)
{
    for (size_t i = 0; i < n; i++)
        audit_event_clear(&ev[i]);
    free(ev);
}

static char *dup_or_empty(const char *s)
{
    return hearth_strdup(s ? s : "");
}

/* One query's row from its events (positions g[0..n), ascending). */
static void query_row(const client_audit_log_t *log, const audit_event_t *ev, const qpos_t *g,
                      size_t n, client_audit_row_t *row)
{
    const audit_event_t *rec = NULL, *acc = NULL, *out = NULL;
    size_t rec_pos = g[0].pos;
    hearth_buf_t nodes;
    hearth_buf_init(&nodes, SIZE_MAX);
    for (size_t i = 0; i < n; i++) {
        const audit_event_t *e = &ev[g[i].pos];
        if (e->type == AUDIT_RECEIVED && rec == NULL) {
            rec = e;
            rec_pos = g[i].pos;
        } else if (e->type == AUDIT_ACCEPTED && acc == NULL) {
            acc = e;
        } else if ((e->type == AUDIT_RELEASED || e->type == AUDIT_REFUSED ||
                    e->type == AUDIT_ERROR) && out == NULL) {
            out = e;
        } else if (e->type == AUDIT_DISPATCHED) {
            /* Distinct nodes, in the order first dispatched to. */
            bool seen = false;
            for (size_t j = 0; j < i && !seen; j++) {
                const audit_event_t *p = &ev[g[j].pos];
                seen = p->type == AUDIT_DISPATCHED && strcmp(p->node, e->node) == 0;
            }
            if (!seen)
                (void)hearth_buf_printf(&nodes, "%s%s", nodes.len ? "," : "", e->node);
        }
    }
    const audit_event_t *first = rec ? rec : &ev[g[0].pos];
    row->leaf = log->leaves[rec_pos].index;
    row->time_ms = first->time_ms;
    row->received = rec != NULL;
    row->id = dup_or_empty(g[0].query_id);
    row->analyst = dup_or_empty(rec ? rec->analyst : NULL);
    row->project = dup_or_empty(rec && rec->project[0] ? rec->project
                                : acc ? acc->project : NULL);
    row->nodes = hearth_buf_take(&nodes);
    row->outcome = CLIENT_AUDIT_INCOMPLETE;
    if (out && out->type == AUDIT_RELEASED) {
        row->outcome = CLIENT_AUDIT_RELEASED;
        row->released = out->released;
        row->suppressed = out->suppressed;
        row->reason = hearth_strdup("");
    } else if (out && out->type == AUDIT_REFUSED) {
        row->outcome = CLIENT_AUDIT_REFUSED;
        row->reason = dup_or_empty(out->text);
    } else if (out) {
        row->outcome = CLIENT_AUDIT_ERRORED;
        bool timeout = out->outcome && strcmp(out->outcome, "timeout") == 0;
        row->reason = !timeout ? dup_or_empty(out->text)
                      : out->text[0] ? hearth_asprintf("timeout: %s", out->text)
                                     : hearth_strdup("timeout");
    } else {
        row->reason = hearth_strdup("");
    }
}

client_audit_rows_t *client_audit_rows_build(const client_audit_log_t *log)
{
    client_audit_rows_t *rows = hearth_calloc(1, sizeof *rows);
    size_t n = log->n_leaves, m = 0;
    bool *ok = NULL;
    audit_event_t *ev = decode_log(log, &ok, &rows->undecodable);
    rows->rows = hearth_calloc(n ? n : 1, sizeof *rows->rows);
    qpos_t *qp = hearth_calloc(n ? n : 1, sizeof *qp);
    for (size_t i = 0; i < n; i++) {
        if (!ok[i])
            continue;
        if (ev[i].type != AUDIT_GOVERNANCE) {
            qp[m++] = (qpos_t){ev[i].query_id, i};
            continue;
        }
        client_audit_row_t *r = &rows->rows[rows->n++];
        r->outcome = CLIENT_AUDIT_GOVERNANCE;
        r->leaf = log->leaves[i].index;
        r->time_ms = ev[i].time_ms;
        r->id = hearth_asprintf("%llu", (ull)r->leaf);
        r->analyst = dup_or_empty(ev[i].actor);
        r->project = dup_or_empty(ev[i].project);
        r->reason = dup_or_empty(ev[i].action);
        r->nodes = hearth_strdup("");
        r->received = true;
    }
    qsort(qp, m, sizeof *qp, qpos_cmp);
    for (size_t lo = 0; lo < m;) {
        size_t hi = lo + 1;
        while (hi < m && strcmp(qp[hi].query_id, qp[lo].query_id) == 0)
            hi++;
        query_row(log, ev, qp + lo, hi - lo, &rows->rows[rows->n++]);
        lo = hi;
    }
    qsort(rows->rows, rows->n, sizeof *rows->rows, row_cmp);
    free(qp);
    free_events(ev, n);
    free(ok);
    return rows;
}

void client_audit_rows_destroy(client_audit_rows_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    client_audit_rows_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++) {
        client_audit_row_t *r = &self->rows[i];
        free(r->id);
        free(r->analyst);
        free(r->project);
        free(r->reason);
        free(r->nodes);
    }
    free(self->rows);
    free(self);
    *self_p = NULL;
}

bool client_audit_row_matches(const client_audit_row_t *row, const client_audit_filter_t *f)
{
    if (f == NULL)
        return true;
    if (f->since_ms && row->time_ms < f->since_ms)
        return false;
    if (f->until_ms && row->time_ms >= f->until_ms)
        return false;
    if (f->project && strcmp(row->project, f->project) != 0)
        return false;
    if (f->analyst && (row->outcome == CLIENT_AUDIT_GOVERNANCE ||
                       strcmp(row->analyst, f->analyst) != 0))
        return false;
    if (f->has_outcome && row->outcome != f->outcome)
        return false;
    return true;
}

static const char *const ROW_HEADER[] = {"ID", "TIME (UTC)", "ANALYST", "PROJECT", "OUTCOME",
                                         "RELEASED", "SUPPRESSED", "NODES", "REASON"};
static const char *const ROW_CSV[] = {"id", "time", "analyst", "project", "outcome",
                                      "cells_released", "cells_suppressed", "nodes", "reason"};
#define ROW_COLS 9

char *client_audit_rows_render(const client_audit_rows_t *rows, const client_audit_filter_t *f,
                               client_format_t fmt)
{
    out_t o;
    out_init(&o);
    size_t n = 0;
    char (*num)[2][24] = hearth_calloc(rows->n ? rows->n : 1, sizeof *num);
    char (*when)[32] = hearth_calloc(rows->n ? rows->n : 1, sizeof *when);
    const char **cells = hearth_calloc(rows->n ? rows->n * ROW_COLS : 1, sizeof *cells);
    for (size_t i = 0; i < rows->n; i++) {
        const client_audit_row_t *r = &rows->rows[i];
        if (!client_audit_row_matches(r, f))
            continue;
        client_audit_time_format(r->time_ms, false, when[n]);
        bool cells_known = r->outcome == CLIENT_AUDIT_RELEASED;
        snprintf(num[n][0], 24, "%llu", (ull)r->released);
        snprintf(num[n][1], 24, "%llu", (ull)r->suppressed);
        const char *row[ROW_COLS] = {r->id, when[n], r->analyst, r->project,
                                     client_audit_outcome_name(r->outcome),
                                     cells_known ? num[n][0] : "", cells_known ? num[n][1] : "",
                                     r->nodes, r->reason};
        if (fmt == CLIENT_FORMAT_JSON) {
            put(&o, n ? ",\n  {" : "[\n  {");
            put(&o, "\"kind\": ");
            put(&o, r->outcome == CLIENT_AUDIT_GOVERNANCE ? "\"governance\"" : "\"query\"");
            put(&o, ", \"leaf\": ");
            put_u64(&o, r->leaf);
            for (size_t c = 0; c < ROW_COLS; c++) {
                put(&o, ", ");
                put_json(&o, ROW_CSV[c]);
                put(&o, ": ");
                if (c == 5 || c == 6) {
                    if (cells_known)
                        put(&o, row[c]);
                    else
                        put(&o, "null");
                } else {
                    put_json(&o, row[c]);
                }
            }
            put(&o, "}");
        } else if (fmt == CLIENT_FORMAT_CSV) {
            if (n == 0) {
                for (size_t c = 0; c < ROW_COLS; c++) {
                    put(&o, c ? "," : "");
                    put(&o, ROW_CSV[c]);
                }
                put(&o, "\n");
            }
            for (size_t c = 0; c < ROW_COLS; c++) {
                put(&o, c ? "," : "");
                put_csv(&o, row[c]);
            }
            put(&o, "\n");
        } else {
            memcpy(cells + n * ROW_COLS, row, sizeof row);
        }
        n++;
    }
    if (fmt == CLIENT_FORMAT_JSON) {
        put(&o, n ? "\n]\n" : "[]\n");
    } else if (fmt == CLIENT_FORMAT_CSV && n == 0) {
        for (size_t c = 0; c < ROW_COLS; c++) {
            put(&o, c ? "," : "");
            put(&o, ROW_CSV[c]);
        }
        put(&o, "\n");
    } else if (fmt == CLIENT_FORMAT_TABLE) {
        static const bool right[ROW_COLS] = {false, false, false, false, false, true, true,
                                             false, false};
        if (n == 0)
            put(&o, "no audit entries match\n");
        else
            put_table(&o, ROW_COLS, ROW_HEADER, right, cells, n);
    }
    free(cells);
    free(num);
    free(when);
    return out_take(&o);
}

/* ---- report -------------------------------------------------------------------- */

static int row_project_cmp(const void *a, const void *b)
{
    const client_audit_row_t *const *x = a, *const *y = b;
    int d = strcmp((*x)->project, (*y)->project);
    return d ? d : row_cmp(*x, *y);
}

client_audit_report_t *client_audit_report_build(const client_audit_rows_t *rows,
                                                 const char *month, const char *project)
{
    uint64_t since, until;
    if (!client_audit_month_parse(month, &since, &until))
        return NULL;
    client_audit_report_t *r = hearth_calloc(1, sizeof *r);
    snprintf(r->month, sizeof r->month, "%s", month);
    const client_audit_row_t **sel = hearth_calloc(rows->n ? rows->n : 1, sizeof *sel);
    size_t m = 0;
    client_audit_filter_t f = {.since_ms = since, .until_ms = until, .project = project};
    for (size_t i = 0; i < rows->n; i++)
        if (rows->rows[i].outcome != CLIENT_AUDIT_GOVERNANCE &&
            client_audit_row_matches(&rows->rows[i], &f))
            sel[m++] = &rows->rows[i];
    qsort(sel, m, sizeof *sel, row_project_cmp);
    r->lines = hearth_calloc(m ? m : 1, sizeof *r->lines);
    for (size_t i = 0; i < m; i++) {
        const client_audit_row_t *q = sel[i];
        if (r->n == 0 || strcmp(r->lines[r->n - 1].project, q->project) != 0)
            r->lines[r->n++].project = hearth_strdup(q->project);
        client_audit_report_line_t *l = &r->lines[r->n - 1];
        l->queries++;
        switch (q->outcome) {
        case CLIENT_AUDIT_RELEASED:
            l->released++;
            l->cells_released += q->released;
            l->cells_suppressed += q->suppressed;
            break;
        case CLIENT_AUDIT_REFUSED: l->refused++; break;
        case CLIENT_AUDIT_ERRORED: l->errors++; break;
        case CLIENT_AUDIT_INCOMPLETE: l->incomplete++; break;
        case CLIENT_AUDIT_GOVERNANCE: break;
        }
    }
    free(sel);
    return r;
}

void client_audit_report_destroy(client_audit_report_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    for (size_t i = 0; i < (*self_p)->n; i++)
        free((*self_p)->lines[i].project);
    free((*self_p)->lines);
    free(*self_p);
    *self_p = NULL;
}

static const char *const REPORT_CSV[] = {"project", "queries", "released", "refused", "errors",
                                         "incomplete", "cells_released", "cells_suppressed"};
#define REPORT_COLS 8

static void line_numbers(const client_audit_report_line_t *l, uint64_t v[REPORT_COLS - 1])
{
    v[0] = l->queries;
    v[1] = l->released;
    v[2] = l->refused;
    v[3] = l->errors;
    v[4] = l->incomplete;
    v[5] = l->cells_released;
    v[6] = l->cells_suppressed;
}

char *client_audit_report_render(const client_audit_report_t *r, client_format_t fmt)
{
    out_t o;
    out_init(&o);
    uint64_t v[REPORT_COLS - 1];
    if (fmt == CLIENT_FORMAT_JSON) {
        put(&o, "{\"month\": ");
        put_json(&o, r->month);
        put(&o, ", \"projects\": [");
        for (size_t i = 0; i < r->n; i++) {
            put(&o, i ? ",\n  {\"project\": " : "\n  {\"project\": ");
            put_json(&o, r->lines[i].project);
            line_numbers(&r->lines[i], v);
            for (size_t c = 1; c < REPORT_COLS; c++) {
                put(&o, ", \"");
                put(&o, REPORT_CSV[c]);
                put(&o, "\": ");
                put_u64(&o, v[c - 1]);
            }
            put(&o, "}");
        }
        put(&o, r->n ? "\n]}\n" : "]}\n");
        return out_take(&o);
    }
    if (fmt == CLIENT_FORMAT_CSV) {
        for (size_t c = 0; c < REPORT_COLS; c++) {
            put(&o, c ? "," : "");
            put(&o, REPORT_CSV[c]);
        }
        put(&o, "\n");
        for (size_t i = 0; i < r->n; i++) {
            put_csv(&o, r->lines[i].project);
            line_numbers(&r->lines[i], v);
            for (size_t c = 1; c < REPORT_COLS; c++) {
                put(&o, ",");
                put_u64(&o, v[c - 1]);
            }
            put(&o, "\n");
        }
        return out_take(&o);
    }
    static const char *const header[REPORT_COLS] = {"PROJECT", "QUERIES", "RELEASED",
                                                    "REFUSED", "ERRORS", "INCOMPLETE",
                                                    "CELLS RELEASED", "CELLS SUPPRESSED"};
    static const bool right[REPORT_COLS] = {false, true, true, true, true, true, true, true};
    size_t rows = r->n + 1;
    char (*num)[REPORT_COLS - 1][24] = hearth_calloc(rows, sizeof *num);
    const char **cells = hearth_calloc(rows * REPORT_COLS, sizeof *cells);
    uint64_t total[REPORT_COLS - 1] = {0};
    for (size_t i = 0; i < rows; i++) {
        if (i < r->n) {
            line_numbers(&r->lines[i], v);
            for (size_t c = 0; c < REPORT_COLS - 1; c++)
                total[c] += v[c];
        }
        cells[i * REPORT_COLS] = i < r->n ? r->lines[i].project : "total";
        for (size_t c = 0; c < REPORT_COLS - 1; c++) {
            snprintf(num[i][c], 24, "%llu", (ull)(i < r->n ? v[c] : total[c]));
            cells[i * REPORT_COLS + c + 1] = num[i][c];
        }
    }
    put(&o, "audit report for ");
    put(&o, r->month);
    put(&o, " (UTC)\n");
    put_table(&o, REPORT_COLS, header, right, cells, rows);
    free(cells);
    free(num);
    return out_take(&o);
}

/* ---- show -------------------------------------------------------------------------- */

typedef enum {
    F_QUERY_ID, F_ANALYST, F_ANALYST_KEY, F_PROJECT, F_TEXT, F_NODE, F_DATASET, F_KIND, F_PART,
    F_NPARTS, F_RELEASED, F_SUPPRESSED, F_RESULT_HASH, F_ACTOR, F_ACTION, F_LEAF, F_OUTCOME
} field_t;

#define T(x) (1u << (x))

/* Which types have which field (audit_event.h's table), in tag order. */
static const struct {
    field_t field;
    const char *name;
    unsigned types;
} FIELDS[] = {
    {F_QUERY_ID, "query_id", ~T(AUDIT_GOVERNANCE)},
    {F_ANALYST, "analyst", T(AUDIT_RECEIVED)},
    {F_ANALYST_KEY, "analyst_key", T(AUDIT_RECEIVED)},
    {F_PROJECT, "project", T(AUDIT_RECEIVED) | T(AUDIT_ACCEPTED) | T(AUDIT_DISPATCHED) |
                           T(AUDIT_GOVERNANCE)},
    {F_NODE, "node", T(AUDIT_DISPATCHED) | T(AUDIT_RECEIPT)},
    {F_DATASET, "dataset", T(AUDIT_ACCEPTED) | T(AUDIT_DISPATCHED)},
    {F_KIND, "kind", T(AUDIT_DISPATCHED)},
    {F_PART, "part", T(AUDIT_DISPATCHED) | T(AUDIT_RECEIPT)},
    {F_NPARTS, "nparts", T(AUDIT_DISPATCHED)},
    {F_RELEASED, "cells_released", T(AUDIT_RELEASED)},
    {F_SUPPRESSED, "cells_suppressed", T(AUDIT_RELEASED)},
    {F_RESULT_HASH, "result_hash", T(AUDIT_RELEASED)},
    {F_ACTOR, "actor", T(AUDIT_GOVERNANCE)},
    {F_ACTION, "action", T(AUDIT_GOVERNANCE)},
    {F_LEAF, "dispatch_leaf", T(AUDIT_RECEIPT)},
    {F_OUTCOME, "outcome", T(AUDIT_RECEIPT) | T(AUDIT_ERROR)},
    /* The text last: it may run over many lines. */
    {F_TEXT, "text", T(AUDIT_RECEIVED) | T(AUDIT_ACCEPTED) | T(AUDIT_REFUSED) | T(AUDIT_ERROR) |
                     T(AUDIT_RECEIPT) | T(AUDIT_RELEASED) | T(AUDIT_GOVERNANCE)},
};

#undef T

/* A field's value: a string (borrowed), or a number (*is_num). hash is
 * 65 bytes for the result hash in hex. */
static const char *field_value(const audit_event_t *e, field_t f, bool *is_num, uint64_t *num,
                               char hash[65])
{
    *is_num = false;
    switch (f) {
    case F_QUERY_ID: return e->query_id;
    case F_ANALYST: return e->analyst;
    case F_ANALYST_KEY: return e->analyst_key;
    case F_PROJECT: return e->project;
    case F_TEXT: return e->text;
    case F_NODE: return e->node;
    case F_DATASET: return e->dataset;
    case F_KIND: return e->kind;
    case F_ACTOR: return e->actor;
    case F_ACTION: return e->action;
    case F_OUTCOME: return e->outcome;
    case F_RESULT_HASH:
        hearth_hex_encode(e->result_hash, sizeof e->result_hash, hash);
        return hash;
    case F_PART: *num = e->part; break;
    case F_NPARTS: *num = e->nparts; break;
    case F_RELEASED: *num = e->released; break;
    case F_SUPPRESSED: *num = e->suppressed; break;
    case F_LEAF: *num = e->leaf; break;
    }
    *is_num = true;
    return NULL;
}

/* A text value over several lines, each escaped, continuation lines
 * indented to the value column. */
static void put_multiline(out_t *o, const char *s, size_t indent)
{
    const char *p = s;
    bool first = true;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char *line = hearth_strndup(p, n);
        if (!first && n > 0)
            put_spaces(o, indent);
        put_term(o, line);
        put(o, "\n");
        free(line);
        first = false;
        p += n + (nl ? 1 : 0);
    }
    if (first)
        put(o, "\n");
}

char *client_audit_events_render(const client_audit_log_t *log, client_format_t fmt)
{
    if (fmt == CLIENT_FORMAT_CSV)
        return NULL;
    out_t o;
    out_init(&o);
    bool json = fmt == CLIENT_FORMAT_JSON;
    if (json)
        put(&o, log->n_leaves ? "[" : "[]\n");
    for (size_t i = 0; i < log->n_leaves; i++) {
        audit_event_t e;
        char *cause = NULL;
        bool ok = audit_event_decode(log->leaves[i].data, log->leaves[i].len, &e, &cause) ==
                  HEARTH_OK;
        if (json) {
            put(&o, i ? ",\n  {\"leaf\": " : "\n  {\"leaf\": ");
            put_u64(&o, log->leaves[i].index);
        } else {
            put(&o, i ? "\nleaf " : "leaf ");
            put_u64(&o, log->leaves[i].index);
        }
        if (!ok) {
            if (json) {
                put(&o, ", \"error\": ");
                put_json(&o, cause ? cause : "does not decode");
                put(&o, "}");
            } else {
                put(&o, "  does not decode: ");
                put_term(&o, cause ? cause : "malformed");
                put(&o, "\n");
            }
            free(cause);
            continue;
        }
        char when[32];
        client_audit_time_format(e.time_ms, true, when);
        if (json) {
            put(&o, ", \"time\": \"");
            put(&o, when);
            put(&o, "\", \"type\": \"");
            put(&o, audit_type_name(e.type));
            put(&o, "\"");
        } else {
            put(&o, "  ");
            put(&o, when);
            put(&o, "  ");
            put(&o, audit_type_name(e.type));
            put(&o, "\n");
        }
        for (size_t k = 0; k < sizeof FIELDS / sizeof *FIELDS; k++) {
            if (!(FIELDS[k].types & (1u << e.type)))
                continue;
            bool is_num;
            uint64_t num = 0;
            char hash[65];
            const char *s = field_value(&e, FIELDS[k].field, &is_num, &num, hash);
            if (json) {
                put(&o, ", \"");
                put(&o, FIELDS[k].name);
                put(&o, "\": ");
                if (is_num)
                    put_u64(&o, num);
                else
                    put_json(&o, s ? s : "");
                continue;
            }
            put(&o, "    ");
            put(&o, FIELDS[k].name);
            put_spaces(&o, 18 - strlen(FIELDS[k].name));
            if (is_num) {
                put_u64(&o, num);
                put(&o, "\n");
            } else {
                put_multiline(&o, s ? s : "", 22);
            }
        }
        if (json)
            put(&o, "}");
        audit_event_clear(&e);
    }
    if (json && log->n_leaves)
        put(&o, "\n]\n");
    return out_take(&o);
}

/* ---- reconcile -------------------------------------------------------------------------- */

hearth_err_t client_audit_receipts_parse(const char *text, size_t len, char ***notes, size_t *n,
                                         char **cause)
{
    *notes = NULL;
    *n = 0;
    size_t cap = 0, line = 0, pos = 0;
    char **list = NULL;
    while (pos < len) {
        line++;
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t l = nl ? (size_t)(nl - s) : len - pos;
        pos += l + (nl ? 1 : 0);
        if (l > 0 && s[l - 1] == '\r')
            l--;
        if (l == 0)
            continue;
        size_t nlen = 0;
        uint8_t *note = decode_base64(s, l, TLOG_NOTE_MAX, &nlen);
        if (note == NULL || memchr(note, '\0', nlen)) {
            free(note);
            hearth_cause_set(cause, "line %zu: not the base64 of a signed receipt", line);
            for (size_t i = 0; i < *n; i++)
                free(list[i]);
            free(list);
            *n = 0;
            return HEARTH_ERR_FORMAT;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            list = hearth_reallocarray(list, cap, sizeof *list);
        }
        list[(*n)++] = hearth_strndup((const char *)note, nlen);
        free(note);
    }
    *notes = list;
    return HEARTH_OK;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

client_audit_reconcile_t *client_audit_reconcile(const client_audit_log_t *log, const char *node,
                                                 const char *const *receipts, size_t n,
                                                 const tlog_verifier_t *key)
{
    client_audit_reconcile_t *r = hearth_calloc(1, sizeof *r);
    client_audit_findings_t *f = &r->findings;
    size_t nl = log->n_leaves, bad = 0;
    bool *ok = NULL;
    audit_event_t *ev = decode_log(log, &ok, &bad);
    if (bad)
        client_audit_findings_add(f, CLIENT_AUDIT_NOTE, CLIENT_AUDIT_NO_LEAF,
                                  "%zu leaves of the log do not decode and were skipped (run "
                                  "hearth audit verify)", bad);

    /* The log's receipts from this node (texts, sorted), and the queries
     * with an outcome (sorted ids), for lookups. */
    const char **logged = hearth_calloc(nl ? nl : 1, sizeof *logged);
    const char **done = hearth_calloc(nl ? nl : 1, sizeof *done);
    size_t n_logged = 0, n_done = 0;
    for (size_t i = 0; i < nl; i++) {
        if (!ok[i])
            continue;
        if (ev[i].type == AUDIT_RECEIPT && strcmp(ev[i].node, node) == 0)
            logged[n_logged++] = ev[i].text;
        if (ev[i].type == AUDIT_RELEASED || ev[i].type == AUDIT_REFUSED ||
            ev[i].type == AUDIT_ERROR)
            done[n_done++] = ev[i].query_id;
    }
    qsort(logged, n_logged, sizeof *logged, str_cmp);
    qsort(done, n_done, sizeof *done, str_cmp);

    /* Each receipt the node holds must verify and be in the log. */
    uint64_t *answered = hearth_calloc(n ? n : 1, sizeof *answered);
    size_t n_answered = 0;
    for (size_t i = 0; i < n; i++) {
        r->receipts++;
        char *text = NULL, *cause = NULL;
        audit_receipt_t rc;
        if (tlog_note_open(receipts[i], strlen(receipts[i]), key, &text, &cause) != HEARTH_OK) {
            client_audit_findings_add(f, CLIENT_AUDIT_INTEGRITY, CLIENT_AUDIT_NO_LEAF,
                                      "receipt %zu does not verify against node %s's key: %s",
                                      i + 1, node, cause ? cause : "invalid");
        } else if (audit_receipt_parse(text, &rc, &cause) != HEARTH_OK) {
            client_audit_findings_add(f, CLIENT_AUDIT_INTEGRITY, CLIENT_AUDIT_NO_LEAF,
                                      "receipt %zu is not a node receipt: %s", i + 1,
                                      cause ? cause : "malformed");
        } else if (strcmp(rc.node, node) != 0) {
            client_audit_findings_add(f, CLIENT_AUDIT_SEMANTICS, rc.leaf,
                                      "receipt %zu is node %s's, not %s's", i + 1, rc.node, node);
        } else {
            answered[n_answered++] = rc.leaf;
            const char *key_text = receipts[i];
            if (bsearch(&key_text, logged, n_logged, sizeof *logged, str_cmp)) {
                r->in_log++;
            } else {
                client_audit_findings_add(f, CLIENT_AUDIT_SEMANTICS, rc.leaf,
                                          "node %s holds a receipt (number %zu) for query %s "
                                          "part %u, dispatched at leaf %llu, that the gateway "
                                          "log lacks", node, i + 1, rc.query_id,
                                          (unsigned)rc.part, (ull)rc.leaf);
            }
        }
        free(text);
        free(cause);
    }
    qsort(answered, n_answered, sizeof *answered, u64_cmp);

    /* Each dispatch to the node must have the node's receipt. */
    for (size_t i = 0; i < nl; i++) {
        if (!ok[i] || ev[i].type != AUDIT_DISPATCHED || strcmp(ev[i].node, node) != 0)
            continue;
        r->dispatches++;
        uint64_t idx = log->leaves[i].index;
        if (bsearch(&idx, answered, n_answered, sizeof *answered, u64_cmp)) {
            r->answered++;
            continue;
        }
        const char *qid = ev[i].query_id;
        bool completed = bsearch(&qid, done, n_done, sizeof *done, str_cmp) != NULL;
        client_audit_findings_add(f, CLIENT_AUDIT_SEMANTICS, idx,
                                  "the dispatch at leaf %llu (query %s part %llu) has no receipt "
                                  "in node %s's file%s", (ull)idx, qid, (ull)ev[i].part, node,
                                  completed ? "" : " (the query was not completed)");
    }
    r->ok = f->n_errors == 0;
    free(answered);
    free(logged);
    free(done);
    free_events(ev, nl);
    free(ok);
    return r;
}

void client_audit_reconcile_destroy(client_audit_reconcile_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    client_audit_findings_clear(&(*self_p)->findings);
    free(*self_p);
    *self_p = NULL;
}

/* ---- talking to the gateway ---------------------------------------------------------- */

typedef struct {
    const client_config_t *cfg;
    client_rpc_t *rpc;
} conn_t;

/* One request and its reply, which must be `want`; the gateway's Error
 * reply (a key without the auditor role) becomes HEARTH_ERR_REFUSED with
 * the gateway's message. */
static hearth_err_t ask(conn_t *c, Hearth__Envelope *req, Hearth__Envelope__BodyCase want,
                        Hearth__Envelope **rep, char **cause)
{
    hearth_err_t rc = client_rpc_call(c->rpc, req, c->cfg->timeout_ms, rep, cause);
    if (rc != HEARTH_OK)
        return rc;
    if ((*rep)->body_case == HEARTH__ENVELOPE__BODY_ERROR) {
        const char *m = (*rep)->error && (*rep)->error->message ? (*rep)->error->message : "";
        hearth_cause_set(cause, "the gateway refused the audit request: %s (audit commands "
                         "need a key with the auditor role)", m[0] ? m : "no reason given");
        proto_free(rep);
        return HEARTH_ERR_REFUSED;
    }
    if ((*rep)->body_case != want) {
        hearth_cause_set(cause, "the gateway sent an unexpected reply to an audit request");
        proto_free(rep);
        return HEARTH_ERR_PROTO;
    }
    return HEARTH_OK;
}

/* Every checkpoint, ascending; *newest is the largest size their texts
 * claim (signatures are verify's business, not paging's). */
static hearth_err_t fetch_checkpoints(conn_t *c, client_audit_log_t *log, uint64_t *newest,
                                      char **cause)
{
    uint64_t after = 0;
    *newest = 0;
    for (;;) {
        Hearth__AuditCheckpointsRequest q = HEARTH__AUDIT_CHECKPOINTS_REQUEST__INIT;
        q.after = after;
        q.limit = CLIENT_AUDIT_PAGE;
        Hearth__Envelope req = HEARTH__ENVELOPE__INIT, *rep = NULL;
        req.body_case = HEARTH__ENVELOPE__BODY_AUDIT_CHECKPOINTS_REQUEST;
        req.audit_checkpoints_request = &q;
        hearth_err_t rc = ask(c, &req, HEARTH__ENVELOPE__BODY_AUDIT_CHECKPOINTS_REPLY, &rep,
                              cause);
        if (rc != HEARTH_OK)
            return rc;
        const Hearth__AuditCheckpointsReply *r = rep->audit_checkpoints_reply;
        uint64_t top = after;
        for (size_t i = 0; i < r->n_notes && rc == HEARTH_OK; i++) {
            const char *note = r->notes[i] ? r->notes[i] : "";
            rc = client_audit_log_add_note(log, note, strlen(note), cause);
            char *text = client_audit_note_text(note, strlen(note));
            tlog_checkpoint_t cp;
            if (text && tlog_checkpoint_parse(text, &cp, NULL) == HEARTH_OK && cp.size > top)
                top = cp.size;
            free(text);
        }
        bool more = r->more;
        proto_free(&rep);
        if (rc != HEARTH_OK)
            return rc;
        if (top > *newest)
            *newest = top;
        if (!more)
            return HEARTH_OK;
        if (top <= after) {
            hearth_cause_set(cause, "the gateway's list of checkpoints does not advance");
            return HEARTH_ERR_PROTO;
        }
        after = top;
    }
}

typedef struct {
    uint64_t since_ms, until_ms;
    const char *project, *analyst, *query_id;
} leaf_query_t;

/* Leaves from start on passing q (NULL: all), keeping those below stop,
 * page by page until the gateway has no more or stop is reached. */
static hearth_err_t fetch_leaves(conn_t *c, const leaf_query_t *q, uint64_t start,
                                 uint64_t stop, uint32_t limit, client_audit_log_t *log,
                                 char **cause)
{
    for (;;) {
        Hearth__AuditLeavesRequest lq = HEARTH__AUDIT_LEAVES_REQUEST__INIT;
        lq.start = start;
        lq.limit = limit;
        if (q) {
            lq.since_ms = q->since_ms;
            lq.until_ms = q->until_ms;
            lq.project = (char *)(q->project ? q->project : "");
            lq.analyst = (char *)(q->analyst ? q->analyst : "");
            lq.query_id = (char *)(q->query_id ? q->query_id : "");
        }
        Hearth__Envelope req = HEARTH__ENVELOPE__INIT, *rep = NULL;
        req.body_case = HEARTH__ENVELOPE__BODY_AUDIT_LEAVES_REQUEST;
        req.audit_leaves_request = &lq;
        hearth_err_t rc = ask(c, &req, HEARTH__ENVELOPE__BODY_AUDIT_LEAVES_REPLY, &rep, cause);
        if (rc != HEARTH_OK)
            return rc;
        const Hearth__AuditLeavesReply *r = rep->audit_leaves_reply;
        log->log_size = r->size;
        for (size_t i = 0; i < r->n_leaves && rc == HEARTH_OK; i++) {
            const Hearth__AuditLeaf *l = r->leaves[i];
            if (l && l->index < stop)
                rc = client_audit_log_add_leaf(log, l->index, l->data.data, l->data.len, cause);
        }
        uint64_t next = r->next, size = r->size;
        proto_free(&rep);
        if (rc != HEARTH_OK)
            return rc;
        if (next >= size || next >= stop)
            return HEARTH_OK;
        if (next <= start) {
            hearth_cause_set(cause, "the gateway's audit leaves do not advance");
            return HEARTH_ERR_PROTO;
        }
        start = next;
    }
}

static hearth_err_t fetch_consistency(conn_t *c, uint64_t from, uint64_t to,
                                      uint8_t proof[TLOG_MAX_PROOF][TLOG_HASH_LEN], size_t *n,
                                      char **cause)
{
    *n = 0;
    Hearth__AuditConsistencyRequest q = HEARTH__AUDIT_CONSISTENCY_REQUEST__INIT;
    q.from = from;
    q.to = to;
    Hearth__Envelope req = HEARTH__ENVELOPE__INIT, *rep = NULL;
    req.body_case = HEARTH__ENVELOPE__BODY_AUDIT_CONSISTENCY_REQUEST;
    req.audit_consistency_request = &q;
    hearth_err_t rc = ask(c, &req, HEARTH__ENVELOPE__BODY_AUDIT_CONSISTENCY_REPLY, &rep, cause);
    if (rc != HEARTH_OK)
        return rc;
    const Hearth__AuditConsistencyReply *r = rep->audit_consistency_reply;
    if (r->n_proof > TLOG_MAX_PROOF) {
        hearth_cause_set(cause, "the gateway's consistency proof is too long");
        rc = HEARTH_ERR_PROTO;
    }
    for (size_t i = 0; rc == HEARTH_OK && i < r->n_proof; i++) {
        if (r->proof[i].len != TLOG_HASH_LEN) {
            hearth_cause_set(cause, "the gateway's consistency proof holds a malformed hash");
            rc = HEARTH_ERR_PROTO;
            break;
        }
        memcpy(proof[i], r->proof[i].data, TLOG_HASH_LEN);
        *n = i + 1;
    }
    proto_free(&rep);
    return rc;
}

/* Checkpoints, then the leaves they cover: every leaf the gateway commits
 * is signed in its batch's checkpoint before the commit, so this order
 * fetches a log whose newest checkpoint covers every leaf fetched. With no
 * checkpoint at all, every leaf is fetched (verify then says nothing is
 * proven). */
static hearth_err_t fetch_signed_log(conn_t *c, client_audit_log_t *log, uint64_t *newest,
                                     char **cause)
{
    hearth_err_t rc = fetch_checkpoints(c, log, newest, cause);
    if (rc != HEARTH_OK)
        return rc;
    if (*newest == 0 && log->n_notes > 0)
        return HEARTH_OK;
    return fetch_leaves(c, NULL, 0, log->n_notes ? *newest : UINT64_MAX, CLIENT_AUDIT_PAGE, log,
                        cause);
}

/* ---- the commands ---------------------------------------------------------------------- */

enum { EXIT_DONE = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

/* Prints a cause from anywhere (it may quote the gateway) safely. */
static void print_error(const char *cause, hearth_err_t rc)
{
    hearth_buf_t b;
    hearth_buf_init(&b, 1u << 20);
    if (client_render_term_text(&b, cause ? cause : hearth_strerror(rc)) != HEARTH_OK)
        hearth_buf_reset(&b);
    fprintf(stderr, "hearth: %s\n", hearth_buf_str(&b));
    hearth_buf_free(&b);
}

static int fail_with(char *cause, hearth_err_t rc)
{
    print_error(cause, rc);
    free(cause);
    return rc == HEARTH_ERR_USAGE ? EXIT_USAGE : EXIT_FAILED;
}

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("hearth audit: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n(see hearth --help and docs/audit-commands.md)\n", stderr);
    return EXIT_USAGE;
}

static void print_findings(const client_audit_findings_t *f)
{
    out_t o;
    out_init(&o);
    for (size_t i = 0; i < f->n; i++) {
        const client_audit_finding_t *x = &f->items[i];
        put(&o, client_audit_severity_name(x->severity));
        put(&o, ": ");
        if (x->leaf != CLIENT_AUDIT_NO_LEAF) {
            put(&o, "leaf ");
            put_u64(&o, x->leaf);
            put(&o, ": ");
        }
        put_term(&o, x->message);
        put(&o, "\n");
    }
    if (f->n_dropped) {
        put(&o, "... and ");
        put_u64(&o, f->n_dropped);
        put(&o, " more findings not shown\n");
    }
    char *text = out_take(&o);
    if (text)
        fputs(text, stdout);
    free(text);
}

/* The command line, parsed once for every subcommand. */
typedef struct {
    const char *config, *format, *since, *until, *project, *analyst, *outcome, *out, *file;
    const char *audit_key, *node, *receipts, *month;
    const char **node_keys;
    size_t n_node_keys;
    unsigned given;      /* OPT_* bits of the options present */
} args_t;

enum {
    OPT_CONFIG = 1u << 0, OPT_FORMAT = 1u << 1, OPT_SINCE = 1u << 2, OPT_UNTIL = 1u << 3,
    OPT_PROJECT = 1u << 4, OPT_ANALYST = 1u << 5, OPT_OUTCOME = 1u << 6, OPT_OUT = 1u << 7,
    OPT_FILE = 1u << 8, OPT_AUDIT_KEY = 1u << 9, OPT_NODE_KEY = 1u << 10, OPT_NODE = 1u << 11,
    OPT_RECEIPTS = 1u << 12, OPT_MONTH = 1u << 13
};

static hearth_err_t load_config(const args_t *a, client_config_t **cfg, char **cause)
{
    return client_config_load(a->config, cfg, cause);
}

static int cmd_list(const args_t *a, int nargs)
{
    client_format_t fmt;
    client_audit_filter_t f = {0};
    if (nargs != 0 || !a->config)
        return usage("list takes --config and options only");
    if (!client_format_parse(a->format, &fmt))
        return usage("--format must be table, csv or json");
    if (a->since && !client_audit_time_parse(a->since, false, &f.since_ms))
        return usage("--since must be YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] (UTC)");
    if (a->until && !client_audit_time_parse(a->until, true, &f.until_ms))
        return usage("--until must be YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] (UTC)");
    if (a->outcome && !client_audit_outcome_parse(a->outcome, &f.outcome))
        return usage("--outcome must be released, refused, error, incomplete or governance");
    f.has_outcome = a->outcome != NULL;
    f.project = a->project;
    f.analyst = a->analyst;
    char *cause = NULL;
    client_config_t *cfg = NULL;
    client_audit_log_t *log = client_audit_log_new();
    client_audit_rows_t *rows = NULL;
    conn_t c = {0};
    hearth_err_t rc;
    if ((rc = load_config(a, &cfg, &cause)) != HEARTH_OK ||
        (rc = client_rpc_open(cfg, &c.rpc, &cause)) != HEARTH_OK)
        goto done;
    c.cfg = cfg;
    /* The gateway filters on its index columns; the rows are filtered again
     * here against the events themselves. */
    leaf_query_t q = {f.since_ms, f.until_ms, a->project, a->analyst, NULL};
    if ((rc = fetch_leaves(&c, &q, 0, UINT64_MAX, CLIENT_AUDIT_PAGE, log, &cause)) != HEARTH_OK)
        goto done;
    rows = client_audit_rows_build(log);
    char *text = client_audit_rows_render(rows, &f, fmt);
    if (text == NULL) {
        hearth_cause_set(&cause, "the list is too large to display; narrow it with --since, "
                         "--until or --project");
        rc = HEARTH_ERR_TOO_BIG;
        goto done;
    }
    fputs(text, stdout);
    free(text);
    if (rows->undecodable)
        fprintf(stderr, "hearth: %zu leaves do not decode and are not listed; run hearth "
                "audit verify\n", rows->undecodable);
done:
    client_audit_rows_destroy(&rows);
    client_audit_log_destroy(&log);
    client_rpc_destroy(&c.rpc);
    client_config_destroy(&cfg);
    return rc == HEARTH_OK ? EXIT_DONE : fail_with(cause, rc);
}

/* Keeps only the leaves whose query id is id. */
static void keep_query(client_audit_log_t *log, const char *id)
{
    size_t k = 0;
    for (size_t i = 0; i < log->n_leaves; i++) {
        audit_event_t e;
        bool keep = audit_event_decode(log->leaves[i].data, log->leaves[i].len, &e, NULL) ==
                        HEARTH_OK && e.query_id && strcmp(e.query_id, id) == 0;
        audit_event_clear(&e);
        if (keep)
            log->leaves[k++] = log->leaves[i];
        else
            free(log->leaves[i].data);
    }
    log->n_leaves = k;
}

static int cmd_show(const args_t *a, int nargs, const char *id)
{
    client_format_t fmt;
    if (nargs != 1 || !a->config)
        return usage("show takes --config and one query id or leaf index");
    const char *format = a->given & OPT_FORMAT ? a->format : "text";
    if (strcmp(format, "text") == 0)
        fmt = CLIENT_FORMAT_TABLE;
    else if (strcmp(format, "json") == 0)
        fmt = CLIENT_FORMAT_JSON;
    else
        return usage("show's --format must be text or json");
    char *cause = NULL;
    client_config_t *cfg = NULL;
    client_audit_log_t *log = client_audit_log_new();
    conn_t c = {0};
    hearth_err_t rc;
    if ((rc = load_config(a, &cfg, &cause)) != HEARTH_OK ||
        (rc = client_rpc_open(cfg, &c.rpc, &cause)) != HEARTH_OK)
        goto done;
    c.cfg = cfg;
    leaf_query_t q = {0, 0, NULL, NULL, id};
    if ((rc = fetch_leaves(&c, &q, 0, UINT64_MAX, CLIENT_AUDIT_PAGE, log, &cause)) != HEARTH_OK)
        goto done;
    keep_query(log, id);
    uint64_t index;
    if (log->n_leaves == 0 && parse_u64(id, strlen(id), &index)) {
        /* Not a query id: a leaf index (a governance change, say). */
        if ((rc = fetch_leaves(&c, NULL, index, index + 1, 1, log, &cause)) != HEARTH_OK)
            goto done;
    }
    if (log->n_leaves == 0) {
        hearth_cause_set(&cause, "no query or leaf '%s' in the audit log", id);
        rc = HEARTH_ERR_NOT_FOUND;
        goto done;
    }
    char *text = client_audit_events_render(log, fmt);
    if (text == NULL) {
        hearth_cause_set(&cause, "the events are too large to display");
        rc = HEARTH_ERR_TOO_BIG;
        goto done;
    }
    fputs(text, stdout);
    free(text);
done:
    client_audit_log_destroy(&log);
    client_rpc_destroy(&c.rpc);
    client_config_destroy(&cfg);
    return rc == HEARTH_OK ? EXIT_DONE : fail_with(cause, rc);
}

static int cmd_export(const args_t *a, int nargs)
{
    if (nargs != 0 || !a->config)
        return usage("export takes --config and optionally --out FILE");
    char *cause = NULL, *text = NULL;
    client_config_t *cfg = NULL;
    client_audit_log_t *log = client_audit_log_new();
    conn_t c = {0};
    uint64_t newest = 0;
    size_t len = 0;
    hearth_err_t rc;
    if ((rc = load_config(a, &cfg, &cause)) != HEARTH_OK ||
        (rc = client_rpc_open(cfg, &c.rpc, &cause)) != HEARTH_OK)
        goto done;
    c.cfg = cfg;
    if ((rc = fetch_signed_log(&c, log, &newest, &cause)) != HEARTH_OK)
        goto done;
    text = client_audit_export_format(log, &len);
    if (a->out) {
        /* Query texts and analysts' names: the export is kept private. */
        if ((rc = hearth_file_write_secret(a->out, text, len, &cause)) != HEARTH_OK)
            goto done;
        fprintf(stderr, "hearth: exported %zu leaves and %zu checkpoints to %s\n",
                log->n_leaves, log->n_notes, a->out);
    } else if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
        hearth_cause_set(&cause, "cannot write the export: %s", strerror(errno));
        rc = HEARTH_ERR_IO;
    }
done:
    free(text);
    client_audit_log_destroy(&log);
    client_rpc_destroy(&c.rpc);
    client_config_destroy(&cfg);
    return rc == HEARTH_OK ? EXIT_DONE : fail_with(cause, rc);
}

/* Loads every --node-key NAME=FILE into keys (n of them). */
static hearth_err_t load_node_keys(const args_t *a, client_audit_node_key_t *keys, char **names,
                                   char **cause)
{
    for (size_t i = 0; i < a->n_node_keys; i++) {
        const char *eq = strchr(a->node_keys[i], '=');
        if (eq == NULL || eq == a->node_keys[i] || eq[1] == '\0') {
            hearth_cause_set(cause, "--node-key must be NAME=FILE (the node's name and its "
                             "receipt verifier key file)");
            return HEARTH_ERR_USAGE;
        }
        names[i] = hearth_strndup(a->node_keys[i], (size_t)(eq - a->node_keys[i]));
        keys[i].node = names[i];
        hearth_err_t rc = tlog_verifier_load(eq + 1, &keys[i].key, cause);
        if (rc != HEARTH_OK)
            return rc;
    }
    return HEARTH_OK;
}

/* The checkpoint an earlier verify accepted, from path; *has false when
 * there is none yet. */
static hearth_err_t state_read(const char *path, const tlog_verifier_t *v, tlog_checkpoint_t *cp,
                               bool *has, char **cause)
{
    *has = false;
    char *data = NULL;
    size_t len = 0;
    hearth_err_t rc = hearth_file_read_all(path, TLOG_NOTE_MAX, &data, &len, cause);
    if (rc == HEARTH_ERR_NOT_FOUND) {
        /* No verify has accepted a checkpoint yet. */
        free(data);
        if (cause) {
            free(*cause);
            *cause = NULL;
        }
        return HEARTH_OK;
    }
    if (rc == HEARTH_OK) {
        char *why = NULL;
        rc = tlog_checkpoint_open(data, len, v, cp, &why);
        if (rc != HEARTH_OK)
            hearth_cause_set(cause, "%s: the checkpoint accepted before does not verify against "
                             "the gateway audit key (%s); if the key was rightly replaced, "
                             "move the file aside", path, why ? why : "invalid");
        free(why);
        *has = rc == HEARTH_OK;
    }
    free(data);
    return rc;
}

/* Replaces path with note atomically: a new 0600 file beside it, synced,
 * renamed over it, and the folder synced. */
static hearth_err_t state_write(const char *path, const char *note, char **cause)
{
    char *tmp = hearth_asprintf("%s.tmp.%ld", path, (long)getpid());
    (void)unlink(tmp);   /* a leftover from a crashed run with this pid */
    hearth_err_t rc = hearth_file_write_secret(tmp, note, strlen(note), cause);
    if (rc == HEARTH_OK && rename(tmp, path) != 0) {
        hearth_cause_set(cause, "cannot replace %s: %s", path, strerror(errno));
        (void)unlink(tmp);
        rc = HEARTH_ERR_IO;
    }
    if (rc == HEARTH_OK) {
        char *dir = hearth_path_dirname(path);
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
            (void)fsync(fd);
            close(fd);
        }
        free(dir);
    }
    free(tmp);
    return rc;
}

static void print_summary(const client_audit_verdict_t *v, size_t n_node_keys)
{
    if (v->ok)
        printf("verified %llu leaves, %llu checkpoints; %llu queries received but not "
               "completed\n", (ull)v->leaves, (ull)v->checkpoints, (ull)v->incomplete);
    else
        printf("verification FAILED: %zu errors in %llu leaves, %llu checkpoints\n",
               v->findings.n_errors, (ull)v->leaves, (ull)v->checkpoints);
    printf("queries %llu (released %llu, refused %llu, error %llu, not completed %llu); "
           "dispatches %llu; receipts %llu (%llu signatures checked); governance changes %llu\n",
           (ull)v->queries, (ull)v->released, (ull)v->refused, (ull)v->errors,
           (ull)v->incomplete, (ull)v->dispatched, (ull)v->receipts, (ull)v->receipts_signed,
           (ull)v->governance);
    if (v->receipts > v->receipts_signed && n_node_keys == 0)
        printf("receipt signatures were not checked: pass --node-key NAME=FILE for each node\n");
}

static int cmd_verify(const args_t *a, int nargs)
{
    if (nargs != 0 || (!a->config == !a->file))
        return usage("verify takes either --config client.ini or --file EXPORT (with "
                     "--audit-key)");
    if (a->file && !a->audit_key)
        return usage("verify --file needs --audit-key gateway-audit.vkey");
    char *cause = NULL, *data = NULL;
    client_config_t *cfg = NULL;
    client_audit_log_t *log = NULL;
    client_audit_verdict_t *v = NULL;
    conn_t c = {0};
    tlog_verifier_t gw;
    client_audit_node_key_t *keys = hearth_calloc(a->n_node_keys + 1, sizeof *keys);
    char **names = hearth_calloc(a->n_node_keys + 1, sizeof *names);
    uint8_t proof[TLOG_MAX_PROOF][TLOG_HASH_LEN];
    client_audit_verify_in_t in = {0};
    uint64_t newest = 0;
    int status = EXIT_FAILED;
    hearth_err_t rc = HEARTH_OK;
    if (a->config && (rc = load_config(a, &cfg, &cause)) != HEARTH_OK)
        goto done;
    const char *key_path = a->audit_key ? a->audit_key : cfg->audit_key;
    if (key_path == NULL) {
        hearth_cause_set(&cause, "%s: no [client] audit_key (the gateway's audit verifier key, "
                         "gateway-audit.vkey); set it or pass --audit-key", a->config);
        rc = HEARTH_ERR_USAGE;
        goto done;
    }
    if ((rc = tlog_verifier_load(key_path, &gw, &cause)) != HEARTH_OK ||
        (rc = load_node_keys(a, keys, names, &cause)) != HEARTH_OK)
        goto done;
    in.gateway = &gw;
    in.node_keys = keys;
    in.n_node_keys = a->n_node_keys;
    if (a->file) {
        size_t len = 0;
        if ((rc = hearth_file_read_all(a->file, CLIENT_AUDIT_EXPORT_MAX, &data, &len,
                                       &cause)) != HEARTH_OK ||
            (rc = client_audit_export_parse(data, len, &log, &cause)) != HEARTH_OK)
            goto done;
    } else {
        if ((rc = state_read(cfg->audit_state, &gw, &in.previous, &in.has_previous, &cause)) !=
                HEARTH_OK ||
            (rc = client_rpc_open(cfg, &c.rpc, &cause)) != HEARTH_OK)
            goto done;
        c.cfg = cfg;
        log = client_audit_log_new();
        if ((rc = fetch_signed_log(&c, log, &newest, &cause)) != HEARTH_OK)
            goto done;
        if (in.has_previous && in.previous.size <= newest) {
            in.has_proof = true;
            in.proof_size = newest;
            in.proof = (const uint8_t (*)[TLOG_HASH_LEN])proof;
            if (in.previous.size < newest && in.previous.size > 0 &&
                (rc = fetch_consistency(&c, in.previous.size, newest, proof, &in.n_proof,
                                        &cause)) != HEARTH_OK)
                goto done;
        }
    }
    in.leaves = log->leaves;
    in.n_leaves = log->n_leaves;
    in.checkpoints = (const char *const *)log->notes;
    in.n_checkpoints = log->n_notes;
    v = client_audit_verify(&in);
    print_findings(&v->findings);
    print_summary(v, a->n_node_keys);
    status = v->ok ? EXIT_DONE : EXIT_FAILED;
    if (cfg && v->ok && v->has_newest) {
        if ((rc = state_write(cfg->audit_state, log->notes[v->newest_note], &cause)) !=
            HEARTH_OK)
            goto done;
        printf("accepted the checkpoint of size %llu (stored in %s)\n", (ull)v->newest.size,
               cfg->audit_state);
    }
    if (cfg && log->log_size > newest && log->n_notes > 0)
        printf("the log has grown to %llu leaves since its newest checkpoint was fetched; "
               "verify again to cover them\n", (ull)log->log_size);
done:
    for (size_t i = 0; i < a->n_node_keys; i++)
        free(names[i]);
    free(names);
    free(keys);
    free(data);
    client_audit_verdict_destroy(&v);
    client_audit_log_destroy(&log);
    client_rpc_destroy(&c.rpc);
    client_config_destroy(&cfg);
    return rc == HEARTH_OK ? status : fail_with(cause, rc);
}

static int cmd_reconcile(const args_t *a, int nargs)
{
    if (nargs != 0 || !a->config || !a->node || !a->receipts || a->n_node_keys != 1)
        return usage("reconcile takes --config client.ini --node NAME --receipts FILE "
                     "--node-key FILE");
    char *cause = NULL, *data = NULL;
    char **notes = NULL;
    size_t n_notes = 0, len = 0;
    client_config_t *cfg = NULL;
    client_audit_log_t *log = client_audit_log_new();
    client_audit_reconcile_t *r = NULL;
    conn_t c = {0};
    tlog_verifier_t key;
    int status = EXIT_FAILED;
    hearth_err_t rc;
    if ((rc = load_config(a, &cfg, &cause)) != HEARTH_OK ||
        (rc = tlog_verifier_load(a->node_keys[0], &key, &cause)) != HEARTH_OK ||
        (rc = hearth_file_read_all(a->receipts, CLIENT_AUDIT_RECEIPTS_MAX, &data, &len,
                                   &cause)) != HEARTH_OK ||
        (rc = client_audit_receipts_parse(data, len, &notes, &n_notes, &cause)) != HEARTH_OK ||
        (rc = client_rpc_open(cfg, &c.rpc, &cause)) != HEARTH_OK)
        goto done;
    c.cfg = cfg;
    if ((rc = fetch_leaves(&c, NULL, 0, UINT64_MAX, CLIENT_AUDIT_PAGE, log, &cause)) !=
        HEARTH_OK)
        goto done;
    r = client_audit_reconcile(log, a->node, (const char *const *)notes, n_notes, &key);
    print_findings(&r->findings);
    printf("node %s: %llu receipts, %llu of them in the gateway log; %llu dispatches to it, "
           "%llu with a receipt: %s\n", a->node, (ull)r->receipts, (ull)r->in_log,
           (ull)r->dispatches, (ull)r->answered, r->ok ? "reconciled" : "DISCREPANCIES FOUND");
    status = r->ok ? EXIT_DONE : EXIT_FAILED;
done:
    for (size_t i = 0; i < n_notes; i++)
        free(notes[i]);
    free(notes);
    free(data);
    client_audit_reconcile_destroy(&r);
    client_audit_log_destroy(&log);
    client_rpc_destroy(&c.rpc);
    client_config_destroy(&cfg);
    return rc == HEARTH_OK ? status : fail_with(cause, rc);
}

static int cmd_report(const args_t *a, int nargs)
{
    client_format_t fmt;
    uint64_t since, until;
    if (nargs != 0 || !a->config || !a->month)
        return usage("report takes --config client.ini --month YYYY-MM");
    if (!client_audit_month_parse(a->month, &since, &until))
        return usage("--month must be YYYY-MM");
    if (!client_format_parse(a->format, &fmt))
        return usage("--format must be table, csv or json");
    char *cause = NULL;
    client_config_t *cfg = NULL;
    client_audit_log_t *log = client_audit_log_new();
    client_audit_rows_t *rows = NULL;
    client_audit_report_t *report = NULL;
    conn_t c = {0};
    hearth_err_t rc;
    if ((rc = load_config(a, &cfg, &cause)) != HEARTH_OK ||
        (rc = client_rpc_open(cfg, &c.rpc, &cause)) != HEARTH_OK)
        goto done;
    c.cfg = cfg;
    leaf_query_t q = {since, until, a->project, NULL, NULL};
    if ((rc = fetch_leaves(&c, &q, 0, UINT64_MAX, CLIENT_AUDIT_PAGE, log, &cause)) != HEARTH_OK)
        goto done;
    rows = client_audit_rows_build(log);
    report = client_audit_report_build(rows, a->month, a->project);
    char *text = client_audit_report_render(report, fmt);
    if (text == NULL) {
        hearth_cause_set(&cause, "the report is too large to display");
        rc = HEARTH_ERR_TOO_BIG;
        goto done;
    }
    fputs(text, stdout);
    free(text);
done:
    client_audit_report_destroy(&report);
    client_audit_rows_destroy(&rows);
    client_audit_log_destroy(&log);
    client_rpc_destroy(&c.rpc);
    client_config_destroy(&cfg);
    return rc == HEARTH_OK ? EXIT_DONE : fail_with(cause, rc);
}

/* Which options each subcommand takes. */
static const struct {
    const char *name;
    unsigned allowed;
} COMMANDS[] = {
    {"list", OPT_CONFIG | OPT_FORMAT | OPT_SINCE | OPT_UNTIL | OPT_PROJECT | OPT_ANALYST |
             OPT_OUTCOME},
    {"show", OPT_CONFIG | OPT_FORMAT},
    {"export", OPT_CONFIG | OPT_OUT},
    {"verify", OPT_CONFIG | OPT_FILE | OPT_AUDIT_KEY | OPT_NODE_KEY},
    {"reconcile", OPT_CONFIG | OPT_NODE | OPT_RECEIPTS | OPT_NODE_KEY},
    {"report", OPT_CONFIG | OPT_MONTH | OPT_PROJECT | OPT_FORMAT},
};

int client_audit_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},     {"format", required_argument, NULL, 'f'},
        {"since", required_argument, NULL, 'S'},      {"until", required_argument, NULL, 'U'},
        {"project", required_argument, NULL, 'p'},    {"analyst", required_argument, NULL, 'a'},
        {"outcome", required_argument, NULL, 'O'},    {"out", required_argument, NULL, 'o'},
        {"file", required_argument, NULL, 'F'},       {"audit-key", required_argument, NULL, 'k'},
        {"node-key", required_argument, NULL, 'K'},   {"node", required_argument, NULL, 'n'},
        {"receipts", required_argument, NULL, 'r'},   {"month", required_argument, NULL, 'm'},
        {NULL, 0, NULL, 0}};
    if (argc < 2)
        return usage("which audit command? list, show, export, verify, reconcile or report");
    const char *sub = argv[1];
    size_t which = sizeof COMMANDS / sizeof *COMMANDS;
    for (size_t i = 0; i < sizeof COMMANDS / sizeof *COMMANDS; i++)
        if (strcmp(sub, COMMANDS[i].name) == 0)
            which = i;
    if (which == sizeof COMMANDS / sizeof *COMMANDS)
        return usage("unknown audit command '%s' (list, show, export, verify, reconcile, "
                     "report)", sub);
    args_t a = {.format = "table"};
    a.node_keys = hearth_calloc((size_t)argc, sizeof *a.node_keys);
    int c, status;
    optind = 2;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "c:f:", opts, NULL)) != -1) {
        const char **slot = NULL;
        unsigned bit = 0;
        switch (c) {
        case 'c': slot = &a.config; bit = OPT_CONFIG; break;
        case 'f': slot = &a.format; bit = OPT_FORMAT; break;
        case 'S': slot = &a.since; bit = OPT_SINCE; break;
        case 'U': slot = &a.until; bit = OPT_UNTIL; break;
        case 'p': slot = &a.project; bit = OPT_PROJECT; break;
        case 'a': slot = &a.analyst; bit = OPT_ANALYST; break;
        case 'O': slot = &a.outcome; bit = OPT_OUTCOME; break;
        case 'o': slot = &a.out; bit = OPT_OUT; break;
        case 'F': slot = &a.file; bit = OPT_FILE; break;
        case 'k': slot = &a.audit_key; bit = OPT_AUDIT_KEY; break;
        case 'n': slot = &a.node; bit = OPT_NODE; break;
        case 'r': slot = &a.receipts; bit = OPT_RECEIPTS; break;
        case 'm': slot = &a.month; bit = OPT_MONTH; break;
        case 'K':
            a.node_keys[a.n_node_keys++] = optarg;
            a.given |= OPT_NODE_KEY;
            continue;
        default:
            status = usage("%s: unknown option or missing value (%s)", sub,
                           argv[optind - 1] ? argv[optind - 1] : "?");
            goto done;
        }
        *slot = optarg;
        a.given |= bit;
    }
    if (a.given & ~COMMANDS[which].allowed) {
        status = usage("an option given is not one of audit %s's", sub);
        goto done;
    }
    int nargs = argc - optind;
    switch (which) {
    case 0: status = cmd_list(&a, nargs); break;
    case 1: status = cmd_show(&a, nargs, nargs == 1 ? argv[optind] : NULL); break;
    case 2: status = cmd_export(&a, nargs); break;
    case 3: status = cmd_verify(&a, nargs); break;
    case 4: status = cmd_reconcile(&a, nargs); break;
    default: status = cmd_report(&a, nargs); break;
    }
done:
    free(a.node_keys);
    return status;
}
