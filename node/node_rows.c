#include "node_rows.h"
#include "hearth_mem.h"
#include "keys_ident.h"
#include "node_schema.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node_rows_t {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    node_rows_chunk_t *head, *tail;   /* ready chunks, guarded by mu */
    size_t queued;
    bool finished;                    /* worker done (guarded by mu) */
    bool cancel;                      /* consumer gave up (guarded by mu) */
    /* Worker-owned until it finishes: */
    node_csv_t *csv;
    const keys_token_t *tok;
    const node_rows_col_t *cols;
    size_t ncols, nattr;
    node_link_t *link;
    node_ingest_report_t *r;
    node_rows_stats_t *stats;         /* nattr */
    node_rows_cell_t *parsed;         /* ncols: declared numbers of the row being read */
    char (*dates)[NODE_SCHEMA_DATE_LEN + 1];  /* ncols: declared dates, likewise */
    size_t nrows;
    hearth_err_t rc;
    char *cause;
};

/* Attribute text held by one chunk; far above what 8192 rows of a sane
 * extract need, but bounded. */
#define CHUNK_TEXT_MAX ((size_t)1 << 31)

static void reject(node_ingest_report_t *r, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reject(node_ingest_report_t *r, uint64_t line, const char *fmt, ...)
{
    r->rows_rejected++;
    if (r->nrejects >= NODE_INGEST_MAX_LISTED)
        return;
    node_ingest_reject_t *j = &r->rejects[r->nrejects++];
    j->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->reason, sizeof j->reason, fmt, ap);
    va_end(ap);
}

/* Trims ASCII blanks: " Abbey " and "Abbey" are the same category. */
static void trim(const char **s, size_t *len)
{
    while (*len > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

static node_rows_chunk_t *chunk_new(size_t first, size_t nattr)
{
    node_rows_chunk_t *c = hearth_malloc(sizeof *c);
    c->next = NULL;
    c->nrows = 0;
    c->first = first;
    size_t cells = NODE_ROWS_CHUNK * (nattr ? nattr : 1);
    c->kind = hearth_reallocarray(NULL, cells, sizeof *c->kind);
    c->cell = hearth_reallocarray(NULL, cells, sizeof *c->cell);
    hearth_buf_init(&c->text, CHUNK_TEXT_MAX);
    return c;
}

void node_rows_chunk_free(node_rows_chunk_t **chunk_p)
{
    if (chunk_p == NULL || *chunk_p == NULL)
        return;
    node_rows_chunk_t *c = *chunk_p;
    OPENSSL_cleanse(c->nhs, sizeof c->nhs);
    OPENSSL_cleanse(c->dsp, sizeof c->dsp);
    free(c->kind);
    free(c->cell);
    hearth_buf_free(&c->text);
    free(c);
    *chunk_p = NULL;
}

/* Hands a full chunk over; false when the consumer has gone away. */
static bool push(node_rows_t *self, node_rows_chunk_t *c)
{
    pthread_mutex_lock(&self->mu);
    while (self->queued >= NODE_ROWS_IN_FLIGHT && !self->cancel)
        pthread_cond_wait(&self->cv, &self->mu);
    bool ok = !self->cancel;
    if (ok) {
        if (self->tail)
            self->tail->next = c;
        else
            self->head = c;
        self->tail = c;
        self->queued++;
        pthread_cond_broadcast(&self->cv);
    }
    pthread_mutex_unlock(&self->mu);
    if (!ok)
        node_rows_chunk_free(&c);
    return ok;
}

node_col_type_t node_rows_stats_type(const node_rows_stats_t *s)
{
    if (s->values == 0)
        return NODE_COL_CATEGORICAL;
    if (s->fits & NODE_ROWS_FITS_INT)
        return NODE_COL_INTEGER;
    if (s->fits & NODE_ROWS_FITS_DEC)
        return NODE_COL_DECIMAL;
    if (s->fits & NODE_ROWS_FITS_DATE)
        return NODE_COL_DATE;
    return NODE_COL_CATEGORICAL;
}

/* The declared type with its article, for reject reasons. */
static const char *a_type(int type)
{
    switch (type) {
    case NODE_COL_INTEGER: return "an integer";
    case NODE_COL_DECIMAL: return "a decimal";
    case NODE_COL_DATE: return "a date";
    default: return "a value";
    }
}

/* Parses the record's values of declared types into self->parsed and
 * self->dates. False, with the row rejected, at the first that does not
 * parse: before anything about the row has been counted. */
static bool parse_declared(node_rows_t *self, const node_csv_record_t *rec)
{
    for (size_t k = 0; k < self->ncols; k++) {
        const node_rows_col_t *col = &self->cols[k];
        if (col->attr < 0 || col->type == NODE_ROWS_INFER || col->type == NODE_COL_CATEGORICAL)
            continue;
        const char *v = rec->fields[k];
        size_t len = rec->lens[k];
        trim(&v, &len);
        if (len == 0)
            continue;
        bool canonical;
        bool ok = col->type == NODE_COL_INTEGER
                      ? node_schema_integer(v, len, &self->parsed[k].i, &canonical)
                  : col->type == NODE_COL_DECIMAL
                      ? node_schema_decimal(v, len, &self->parsed[k].d)
                      : node_schema_date(v, len, self->dates[k], NULL);
        if (!ok) {
            reject(self->r, rec->line, "column '%s': not %s", col->name, a_type(col->type));
            return false;
        }
    }
    return true;
}

/* Notes which types a value of an inferred column fits, and says how it
 * goes over: as an integer while the column may still be integer and the
 * text is exactly how the value prints (so it can be turned back into the
 * same text if the column ends up categorical), else as text. */
static node_rows_kind_t infer(node_rows_stats_t *s, const char *v, size_t len,
                              node_rows_cell_t *num)
{
    s->values++;
    if (s->fits == 0)
        return NODE_ROWS_TEXT;
    bool canonical = false, is_int = false;
    if (s->fits & NODE_ROWS_FITS_INT) {
        is_int = node_schema_integer(v, len, &num->i, &canonical);
        if (!is_int)
            s->fits &= ~NODE_ROWS_FITS_INT;
    }
    /* Every integer is a decimal. */
    if (!is_int && (s->fits & NODE_ROWS_FITS_DEC) && !node_schema_decimal(v, len, NULL))
        s->fits &= ~NODE_ROWS_FITS_DEC;
    if (s->fits & NODE_ROWS_FITS_DATE) {
        bool iso = false;
        if (is_int || !node_schema_date(v, len, NULL, &iso))
            s->fits &= ~NODE_ROWS_FITS_DATE;
        else if (!iso)
            s->slash_dates++;
    }
    if (!is_int)
        return NODE_ROWS_TEXT;
    if (canonical) {
        s->bound_int++;
        return NODE_ROWS_INT;
    }
    s->text_int++;
    return NODE_ROWS_TEXT;
}

/* Puts attribute column k's cell of the record into row i of c. */
static hearth_err_t take_cell(node_rows_t *self, size_t k, const char *v, size_t len,
                              node_rows_chunk_t *c, size_t i)
{
    const node_rows_col_t *col = &self->cols[k];
    size_t at = i * self->nattr + (size_t)col->attr;
    node_rows_cell_t *cell = &c->cell[at];
    trim(&v, &len);
    if (len == 0) {
        c->kind[at] = NODE_ROWS_NULL;
        return HEARTH_OK;
    }
    node_rows_kind_t kind = NODE_ROWS_TEXT;
    switch (col->type) {
    case NODE_COL_INTEGER:
        cell->i = self->parsed[k].i;
        kind = NODE_ROWS_INT;
        break;
    case NODE_COL_DECIMAL:
        cell->d = self->parsed[k].d;
        kind = NODE_ROWS_REAL;
        break;
    case NODE_COL_DATE:
        v = self->dates[k];
        len = NODE_SCHEMA_DATE_LEN;
        break;
    case NODE_COL_CATEGORICAL:
        break;
    default:
        kind = infer(&self->stats[col->attr], v, len, cell);
    }
    c->kind[at] = (uint8_t)kind;
    if (kind != NODE_ROWS_TEXT)
        return HEARTH_OK;
    /* The text's bound keeps offsets and lengths within 32 bits. */
    cell->text.off = (uint32_t)c->text.len;
    cell->text.len = (uint32_t)len;
    return hearth_buf_add(&c->text, v, len) == HEARTH_OK ? HEARTH_OK : HEARTH_ERR_TOO_BIG;
}

/* Reads one good record, whose declared values are parsed, into row i of c. */
static hearth_err_t take_row(node_rows_t *self, const node_csv_record_t *rec,
                             node_rows_chunk_t *c, size_t i)
{
    node_ingest_report_t *r = self->r;
    char nhs[KEYS_NHS_LEN + 1], dob[KEYS_DOB_LEN + 1], pc[KEYS_POSTCODE_MAX + 1];
    char sex = 0;
    size_t pc_len = 0;
    keys_ident_status_t st[NODE_ID_COUNT] = {KEYS_IDENT_EMPTY, KEYS_IDENT_EMPTY,
                                             KEYS_IDENT_EMPTY, KEYS_IDENT_EMPTY};
    hearth_err_t rc = HEARTH_OK;
    for (size_t k = 0; k < self->ncols && rc == HEARTH_OK; k++) {
        const char *v = rec->fields[k];
        size_t len = rec->lens[k];
        switch (self->cols[k].role) {
        case NODE_ID_NHS: st[NODE_ID_NHS] = keys_ident_nhs(v, len, nhs); break;
        case NODE_ID_DOB: st[NODE_ID_DOB] = keys_ident_dob(v, len, dob); break;
        case NODE_ID_SEX: st[NODE_ID_SEX] = keys_ident_sex(v, len, &sex); break;
        case NODE_ID_POSTCODE:
            st[NODE_ID_POSTCODE] = keys_ident_postcode(v, len, pc, &pc_len);
            break;
        default:
            if (self->cols[k].attr >= 0)
                rc = take_cell(self, k, v, len, c, i);
        }
    }
    uint8_t flags = 0;
    if (rc == HEARTH_OK) {
        for (int f = 0; f < NODE_ID_COUNT; f++)
            if (r->has_id[f])
                r->id_status[f][st[f]]++;
        if (st[NODE_ID_NHS] == KEYS_IDENT_OK) {
            keys_token_nhs(self->tok, nhs, c->nhs[i]);
            flags |= 1;
        }
        if (st[NODE_ID_DOB] == KEYS_IDENT_OK && st[NODE_ID_SEX] == KEYS_IDENT_OK &&
            st[NODE_ID_POSTCODE] == KEYS_IDENT_OK) {
            keys_token_dsp(self->tok, dob, sex, pc, pc_len, c->dsp[i]);
            flags |= 2;
        }
    }
    /* The normalised identifiers live on this stack only for this row. */
    OPENSSL_cleanse(nhs, sizeof nhs);
    OPENSSL_cleanse(dob, sizeof dob);
    OPENSSL_cleanse(pc, sizeof pc);
    if (rc != HEARTH_OK)
        return rc;
    c->flags[i] = flags;
    r->with_nhs += (flags & 1) != 0;
    r->with_dsp += (flags & 2) != 0;
    r->with_both += flags == 3;
    r->with_none += flags == 0;
    size_t idx = node_link_add(self->link, (flags & 1) ? c->nhs[i] : NULL,
                               (flags & 2) ? c->dsp[i] : NULL, 0);
    c->person[i] = node_link_provisional(self->link, idx);
    return HEARTH_OK;
}

static void *run(void *arg)
{
    node_rows_t *self = arg;
    node_ingest_report_t *r = self->r;
    node_rows_chunk_t *c = chunk_new(0, self->nattr);
    node_csv_record_t rec;
    hearth_err_t rc;
    while ((rc = node_csv_next(self->csv, &rec, &self->cause)) == HEARTH_OK) {
        r->rows_read++;
        if (rec.error) {
            reject(r, rec.line, "%s", rec.error);
            continue;
        }
        if (rec.nfields != self->ncols) {
            reject(r, rec.line, "expected %zu fields, found %zu", self->ncols, rec.nfields);
            continue;
        }
        if (!parse_declared(self, &rec))
            continue;
        if ((rc = take_row(self, &rec, c, c->nrows)) != HEARTH_OK) {
            hearth_cause_set(&self->cause, "line %llu: the attributes of 8192 rows exceed "
                             "%zu bytes", (unsigned long long)rec.line, CHUNK_TEXT_MAX);
            break;
        }
        c->nrows++;
        self->nrows++;
        if (c->nrows == NODE_ROWS_CHUNK) {
            if (!push(self, c)) {
                c = NULL;
                rc = HEARTH_ERR_INTERNAL;
                hearth_cause_set(&self->cause, "ingest cancelled");
                break;
            }
            c = chunk_new(self->nrows, self->nattr);
        }
    }
    if (rc == HEARTH_ERR_NOT_FOUND) {
        rc = HEARTH_OK;
        if (c && c->nrows > 0) {
            if (!push(self, c))
                rc = HEARTH_ERR_INTERNAL;
            c = NULL;
        }
    }
    node_rows_chunk_free(&c);
    pthread_mutex_lock(&self->mu);
    self->rc = rc;
    self->finished = true;
    pthread_cond_broadcast(&self->cv);
    pthread_mutex_unlock(&self->mu);
    return NULL;
}

node_rows_t *node_rows_start(node_csv_t *csv, const keys_token_t *tok,
                             const node_rows_col_t *cols, size_t ncols, size_t nattr,
                             node_link_t *link, node_ingest_report_t *report,
                             node_rows_stats_t *stats)
{
    node_rows_t *self = hearth_calloc(1, sizeof *self);
    pthread_mutex_init(&self->mu, NULL);
    pthread_cond_init(&self->cv, NULL);
    self->csv = csv;
    self->tok = tok;
    self->cols = cols;
    self->ncols = ncols;
    self->nattr = nattr;
    self->link = link;
    self->r = report;
    self->stats = stats;
    for (size_t a = 0; a < nattr; a++)
        stats[a] = (node_rows_stats_t){
            .fits = NODE_ROWS_FITS_INT | NODE_ROWS_FITS_DEC | NODE_ROWS_FITS_DATE};
    self->parsed = hearth_reallocarray(NULL, ncols ? ncols : 1, sizeof *self->parsed);
    self->dates = hearth_reallocarray(NULL, ncols ? ncols : 1, sizeof *self->dates);
    if (pthread_create(&self->thread, NULL, run, self) != 0) {
        self->thread = pthread_self(); /* marks "nothing to join" */
        self->rc = HEARTH_ERR_INTERNAL;
        self->cause = hearth_strdup("cannot start the reader thread");
        self->finished = true;
    }
    return self;
}

node_rows_chunk_t *node_rows_next(node_rows_t *self)
{
    pthread_mutex_lock(&self->mu);
    while (self->head == NULL && !self->finished)
        pthread_cond_wait(&self->cv, &self->mu);
    node_rows_chunk_t *c = self->head;
    if (c) {
        self->head = c->next;
        if (self->head == NULL)
            self->tail = NULL;
        self->queued--;
        c->next = NULL;
        pthread_cond_broadcast(&self->cv);
    }
    pthread_mutex_unlock(&self->mu);
    return c;
}

hearth_err_t node_rows_finish(node_rows_t **self_p, char **cause)
{
    if (self_p == NULL || *self_p == NULL)
        return HEARTH_OK;
    node_rows_t *self = *self_p;
    pthread_mutex_lock(&self->mu);
    self->cancel = true;
    pthread_cond_broadcast(&self->cv);
    pthread_mutex_unlock(&self->mu);
    if (!pthread_equal(self->thread, pthread_self()))
        pthread_join(self->thread, NULL);
    while (self->head) {
        node_rows_chunk_t *c = self->head;
        self->head = c->next;
        node_rows_chunk_free(&c);
    }
    hearth_err_t rc = self->rc;
    if (rc != HEARTH_OK && cause)
        hearth_cause_set(cause, "%s", self->cause ? self->cause : hearth_strerror(rc));
    free(self->cause);
    free(self->parsed);
    free(self->dates);
    pthread_mutex_destroy(&self->mu);
    pthread_cond_destroy(&self->cv);
    free(self);
    *self_p = NULL;
    return rc;
}
