#include "synth_write.h"
#include "hearth_file.h"
#include "hearth_mem.h"
#include "synth_csv.h"
#include "synth_date.h"
#include "synth_ident.h"
#include "synth_nhs.h"
#include "synth_place.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* stdio buffer per open file: large writes keep a million-person run to a
 * few seconds. */
#define STREAM_BUFFER (1u << 20)
/* Events (attendances, referrals) fall in the year before the reference
 * date. Their dates are attributes, not identifiers, so they are always
 * written YYYY-MM-DD: only identifiers get messy spellings. */
#define EVENT_WINDOW_DAYS 365

enum { TRUST, COUNCIL, CHARITY, UNIVERSITY };

static const struct {
    const char *node;
    const char *dataset;
    const char *name;
} extracts[SYNTH_WRITE_DATASETS] = {
    [TRUST] = { "trust", "ae_attendances", "trust/ae_attendances" },
    [COUNCIL] = { "council", "housing", "council/housing" },
    [CHARITY] = { "charity", "referrals", "charity/referrals" },
    [UNIVERSITY] = { "university", "wellbeing_survey", "university/wellbeing_survey" },
};

/* One output file and its stdio buffer. */
typedef struct {
    FILE *f;       /* owned; NULL when closed */
    char *buffer;  /* owned stdio buffer */
    char *path;    /* owned, for messages */
} sink_t;

/* State shared by the extract writers. */
typedef struct {
    const synth_people_t *people; /* borrowed */
    synth_rng_t *rng;             /* borrowed */
    int32_t ref_day;
    sink_t out;                   /* the extract being written */
    sink_t truth;                 /* f is NULL when no truth was asked for */
    synth_csv_row_t row;          /* scratch for extract rows */
    synth_csv_row_t truth_row;    /* scratch for truth rows */
    unsigned long records;        /* data rows written to out */
    unsigned dataset;             /* index into extracts */
} writer_t;

/* An attendance or referral, held so the file can be sorted by date as
 * partners' own extracts are. */
typedef struct {
    uint32_t person;   /* true person id */
    int32_t date;      /* day number */
    uint32_t shuffle;  /* random tie-break within a day */
    uint32_t seq;      /* draw order: makes the sort order total */
    uint8_t kind;      /* diagnosis group or referral reason */
} event_t;

const char *synth_write_name(unsigned i)
{
    return extracts[i].name;
}

static hearth_err_t sink_open(sink_t *sink, char *path, char **cause)
{
    sink->path = path;
    sink->f = fopen(path, "wb");
    if (sink->f == NULL) {
        hearth_cause_set(cause, "cannot create '%s': %s", path, strerror(errno));
        return HEARTH_ERR_IO;
    }
    sink->buffer = hearth_malloc(STREAM_BUFFER);
    setvbuf(sink->f, sink->buffer, _IOFBF, STREAM_BUFFER);
    return HEARTH_OK;
}

/* Closes the sink (NULL-safe fields) and frees what it owns; reports a
 * write error that stdio held back until now, when cause is not NULL. */
static hearth_err_t sink_close(sink_t *sink, char **cause)
{
    hearth_err_t rc = HEARTH_OK;
    if (sink->f != NULL) {
        int failed = ferror(sink->f);
        if (fclose(sink->f) != 0 || failed) {
            if (cause != NULL)
                hearth_cause_set(cause, "cannot write '%s': %s", sink->path,
                                 strerror(errno != 0 ? errno : EIO));
            rc = HEARTH_ERR_IO;
        }
    }
    free(sink->buffer);
    free(sink->path);
    memset(sink, 0, sizeof *sink);
    return rc;
}

static void emit(sink_t *sink, const synth_csv_row_t *row)
{
    fwrite(row->text, 1, row->len, sink->f);
}

/* Writes the finished extract row and its truth line (record, person). */
static void emit_record(writer_t *w, size_t person)
{
    emit(&w->out, &w->row);
    w->records++;
    if (w->truth.f == NULL)
        return;
    synth_csv_row_t *t = &w->truth_row;
    synth_csv_row_reset(t);
    synth_csv_row_field(t, extracts[w->dataset].node);
    synth_csv_row_field(t, extracts[w->dataset].dataset);
    synth_csv_row_uint(t, w->records);
    synth_csv_row_uint(t, (unsigned long)person);
    synth_csv_row_end(t, "\n");
    emit(&w->truth, t);
}

static void header(writer_t *w, const char *const *columns, const char *eol)
{
    synth_csv_row_reset(&w->row);
    for (; *columns != NULL; columns++)
        synth_csv_row_field(&w->row, *columns);
    synth_csv_row_end(&w->row, eol);
    emit(&w->out, &w->row);
}

/* A day in the event window on which the person was already born. */
static int32_t event_day(writer_t *w, const synth_person_t *p)
{
    int32_t lo = w->ref_day - EVENT_WINDOW_DAYS;
    if (lo < p->dob)
        lo = p->dob;
    return (int32_t)synth_rng_range(w->rng, lo, w->ref_day - 1);
}

static int event_cmp(const void *a, const void *b)
{
    const event_t *x = a, *y = b;
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    if (x->shuffle != y->shuffle)
        return x->shuffle < y->shuffle ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void push_event(writer_t *w, event_t **events, size_t *n, size_t *cap,
                       size_t person, int32_t date, unsigned kind)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 4096;
        *events = hearth_reallocarray(*events, *cap, sizeof **events);
    }
    event_t *e = &(*events)[(*n)++];
    e->person = (uint32_t)person;
    e->date = date;
    e->shuffle = (uint32_t)synth_rng_next(w->rng);
    e->seq = (uint32_t)*n;
    e->kind = (uint8_t)kind;
}

/* Identifier fields of one row. A missing NHS number is an empty field;
 * so is a date of birth, sex or postcode dropped from a row that still has
 * a valid NHS number. */
typedef struct {
    char nhs[SYNTH_NHS_TEXT];
    char dob[SYNTH_DATE_TEXT];
    const char *sex;
    char postcode[SYNTH_PLACE_TEXT];
} ident_t;

static void spell_dsp(writer_t *w, const synth_person_t *p, unsigned iso_permille,
                      ident_t *id)
{
    synth_ident_date(w->rng, p->dob, iso_permille, id->dob);
    id->sex = synth_ident_sex(w->rng, p->sex);
    synth_ident_postcode(w->rng, p->postcode, id->postcode);
}

/* For the charity and survey: NHS number blank with probability
 * blank_permille; when present it is valid, and then one of the other
 * identifiers is occasionally missing, so that some rows link only
 * through the NHS number. Every row keeps one complete, valid route. */
static void spell_optional_nhs(writer_t *w, const synth_person_t *p,
                               unsigned blank_permille, unsigned iso_permille,
                               ident_t *id)
{
    spell_dsp(w, p, iso_permille, id);
    id->nhs[0] = '\0';
    if (synth_rng_chance(w->rng, blank_permille))
        return;
    synth_ident_nhs(w->rng, p->nhs_base, 0, id->nhs);
    if (synth_rng_chance(w->rng, 40)) {
        switch (synth_rng_below(w->rng, 3)) {
        case 0: id->dob[0] = '\0'; break;
        case 1: id->sex = ""; break;
        default: id->postcode[0] = '\0'; break;
        }
    }
}

static const char *const diagnosis_names[6] = {
    "falls", "respiratory", "cardiac", "injury", "mental_health", "other",
};

static void write_trust(writer_t *w)
{
    static const char *const columns[] = {
        "nhs_number", "date_of_birth", "sex", "postcode", "attendance_date",
        "age_band", "diagnosis_group", "ward", NULL,
    };
    static const unsigned visits_young[4] = { 60, 25, 10, 5 };
    static const unsigned visits_old[4] = { 45, 28, 17, 10 };
    static const unsigned diag_young[6] = { 60, 180, 60, 300, 120, 280 };
    static const unsigned diag_old[6] = { 330, 200, 160, 80, 40, 190 };
    /* Cold, damp homes: more falls and chest trouble among older people. */
    static const unsigned diag_old_damp[6] = { 430, 260, 160, 80, 40, 190 };
    event_t *events = NULL;
    size_t n = 0, cap = 0;
    size_t count = synth_people_count(w->people);

    for (size_t id = 1; id <= count; id++) {
        const synth_person_t *p = synth_people_get(w->people, id);
        unsigned attend = p->age < 45 ? 265 : p->age < 65 ? 340 : p->age < 75 ? 480 : 620;
        if (p->damp)
            attend += 60;
        if (!synth_rng_chance(w->rng, attend))
            continue;
        int old = p->age >= 65;
        size_t visits = 1 + synth_rng_pick(w->rng, old ? visits_old : visits_young, 4);
        const unsigned *dw = !old ? diag_young : p->damp ? diag_old_damp : diag_old;
        for (size_t v = 0; v < visits; v++)
            push_event(w, &events, &n, &cap, id, event_day(w, p),
                       (unsigned)synth_rng_pick(w->rng, dw, 6));
    }
    if (n > 0) /* qsort's pointer must not be NULL, even for no rows */
        qsort(events, n, sizeof *events, event_cmp);

    header(w, columns, "\n");
    for (size_t i = 0; i < n; i++) {
        const synth_person_t *p = synth_people_get(w->people, events[i].person);
        ident_t id;
        char date[SYNTH_DATE_TEXT];
        spell_dsp(w, p, 750, &id);
        /* 2% typo (present but invalid), 5% blank; the trust's date of
         * birth, sex and postcode are always complete. */
        unsigned r = (unsigned)synth_rng_below(w->rng, 1000);
        if (r < 50)
            id.nhs[0] = '\0';
        else
            synth_ident_nhs(w->rng, p->nhs_base, r < 70, id.nhs);
        synth_date_format_iso(events[i].date, date);

        synth_csv_row_reset(&w->row);
        synth_csv_row_field(&w->row, id.nhs);
        synth_csv_row_field(&w->row, id.dob);
        synth_csv_row_field(&w->row, id.sex);
        synth_csv_row_field(&w->row, id.postcode);
        synth_csv_row_field(&w->row, date);
        synth_csv_row_field(&w->row, synth_people_age_band(p));
        synth_csv_row_field(&w->row, diagnosis_names[events[i].kind]);
        synth_csv_row_field(&w->row, synth_place_ward_name(p->ward));
        synth_csv_row_end(&w->row, "\n");
        emit_record(w, events[i].person);
    }
    free(events);
}

/* Selects residents with probability chance(p) per mille and returns their
 * ids in a random order (caller frees), as survey returns and housing
 * lists come in no particular order. */
static uint32_t *select_shuffled(writer_t *w, unsigned (*chance)(const synth_person_t *),
                                 size_t *n_out)
{
    size_t count = synth_people_count(w->people), n = 0;
    uint32_t *ids = hearth_reallocarray(NULL, count, sizeof *ids);
    for (size_t id = 1; id <= count; id++) {
        if (synth_rng_chance(w->rng, chance(synth_people_get(w->people, id))))
            ids[n++] = (uint32_t)id;
    }
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)synth_rng_below(w->rng, i);
        uint32_t t = ids[i - 1];
        ids[i - 1] = ids[j];
        ids[j] = t;
    }
    *n_out = n;
    return ids;
}

/* The council knows its own tenants best. */
static unsigned council_chance(const synth_person_t *p)
{
    static const unsigned by_tenure[3] = { 750, 350, 300 };
    return by_tenure[p->tenure];
}

static void write_council(writer_t *w)
{
    static const char *const columns[] = {
        "date_of_birth", "sex", "postcode", "ward", "tenure", "damp_reported",
        "household_size", NULL,
    };
    static const char *const tenure_names[3] = {
        "social", "private_rented", "owner_occupied",
    };
    size_t n;
    uint32_t *ids = select_shuffled(w, council_chance, &n);

    /* CRLF throughout, as spreadsheet exports from council systems have. */
    header(w, columns, "\r\n");
    for (size_t i = 0; i < n; i++) {
        const synth_person_t *p = synth_people_get(w->people, ids[i]);
        ident_t id;
        spell_dsp(w, p, 300, &id);
        synth_csv_row_reset(&w->row);
        synth_csv_row_field(&w->row, id.dob);
        synth_csv_row_field(&w->row, id.sex);
        synth_csv_row_field(&w->row, id.postcode);
        synth_csv_row_field(&w->row, synth_place_ward_name(p->ward));
        synth_csv_row_field(&w->row, tenure_names[p->tenure]);
        synth_csv_row_field(&w->row, p->damp ? "Y" : "N");
        synth_csv_row_uint(&w->row, p->household);
        synth_csv_row_end(&w->row, "\r\n");
        emit_record(w, ids[i]);
    }
    free(ids);
}

enum {
    REASON_ISOLATION, REASON_BEREAVEMENT, REASON_FALLS, REASON_HOSPITAL,
    REASON_DEBT, REASON_MENTAL_HEALTH, REASON_CARER, REASON_HOUSING,
    REASON_BEFRIENDING, REASONS
};

/* Several need RFC 4180 quoting: commas, and one with inner quotes. */
static const char *const reason_names[REASONS] = {
    [REASON_ISOLATION] = "social isolation",
    [REASON_BEREAVEMENT] = "isolation, bereavement",
    [REASON_FALLS] = "falls prevention",
    [REASON_HOSPITAL] = "home from hospital",
    [REASON_DEBT] = "debt, benefits advice",
    [REASON_MENTAL_HEALTH] = "mental health support",
    [REASON_CARER] = "carer support",
    [REASON_HOUSING] = "housing, damp and mould",
    [REASON_BEFRIENDING] = "befriending (\"Good Neighbours\")",
};

static void write_charity(writer_t *w)
{
    static const char *const columns[] = {
        "nhs_number", "date_of_birth", "sex", "postcode", "referral_date",
        "referral_reason", "ward", NULL,
    };
    event_t *events = NULL;
    size_t n = 0, cap = 0;
    size_t count = synth_people_count(w->people);

    for (size_t id = 1; id <= count; id++) {
        const synth_person_t *p = synth_people_get(w->people, id);
        int old = p->age >= 65;
        unsigned refer = 60 + (old ? 60 : 0) + (p->household == 1 ? 30 : 0) +
                         (p->lonely == SYNTH_LONELY_OFTEN ? 110 :
                          p->lonely == SYNTH_LONELY_SOMETIMES ? 40 : 0);
        if (!synth_rng_chance(w->rng, refer))
            continue;
        unsigned weight[REASONS] = { 12, 10, 6, 10, 12, 12, 8, 5, 8 };
        if (old) {
            weight[REASON_FALLS] += 20;
            weight[REASON_HOSPITAL] += 10;
        }
        if (p->lonely == SYNTH_LONELY_OFTEN) {
            weight[REASON_ISOLATION] += 15;
            weight[REASON_BEREAVEMENT] += 10;
            weight[REASON_BEFRIENDING] += 10;
        }
        if (p->damp)
            weight[REASON_HOUSING] += 15;
        size_t referrals = synth_rng_chance(w->rng, 250) ? 2 : 1;
        for (size_t r = 0; r < referrals; r++)
            push_event(w, &events, &n, &cap, id, event_day(w, p),
                       (unsigned)synth_rng_pick(w->rng, weight, REASONS));
    }
    if (n > 0) /* qsort's pointer must not be NULL, even for no rows */
        qsort(events, n, sizeof *events, event_cmp);

    header(w, columns, "\n");
    for (size_t i = 0; i < n; i++) {
        const synth_person_t *p = synth_people_get(w->people, events[i].person);
        ident_t id;
        char date[SYNTH_DATE_TEXT];
        spell_optional_nhs(w, p, 300, 500, &id);
        synth_date_format_iso(events[i].date, date);

        synth_csv_row_reset(&w->row);
        synth_csv_row_field(&w->row, id.nhs);
        synth_csv_row_field(&w->row, id.dob);
        synth_csv_row_field(&w->row, id.sex);
        synth_csv_row_field(&w->row, id.postcode);
        synth_csv_row_field(&w->row, date);
        synth_csv_row_field(&w->row, reason_names[events[i].kind]);
        synth_csv_row_field(&w->row, synth_place_ward_name(p->ward));
        synth_csv_row_end(&w->row, "\n");
        emit_record(w, events[i].person);
    }
    free(events);
}

/* The wellbeing survey samples adults only. */
static unsigned survey_chance(const synth_person_t *p)
{
    return p->age >= 18 ? 190 : 0;
}

static void write_university(writer_t *w)
{
    static const char *const columns[] = {
        "nhs_number", "date_of_birth", "sex", "postcode", "wellbeing_score",
        "loneliness", "ward", NULL,
    };
    static const char *const lonely_names[4] = { "often", "sometimes", "rarely", "never" };
    static const int lonely_shift[4] = { -11, -5, 0, 3 };
    size_t n;
    uint32_t *ids = select_shuffled(w, survey_chance, &n);

    header(w, columns, "\n");
    for (size_t i = 0; i < n; i++) {
        const synth_person_t *p = synth_people_get(w->people, ids[i]);
        ident_t id;
        spell_optional_nhs(w, p, 200, 600, &id);
        /* WEMWBS-like: 14 items scored 1-5, so 14-70, centred near 51
         * and lower for lonelier people. */
        int score = 51 + lonely_shift[p->lonely];
        for (int k = 0; k < 3; k++)
            score += (int)synth_rng_range(w->rng, -5, 5);
        score = score < 14 ? 14 : score > 70 ? 70 : score;

        synth_csv_row_reset(&w->row);
        synth_csv_row_field(&w->row, id.nhs);
        synth_csv_row_field(&w->row, id.dob);
        synth_csv_row_field(&w->row, id.sex);
        synth_csv_row_field(&w->row, id.postcode);
        synth_csv_row_uint(&w->row, (unsigned long)score);
        synth_csv_row_field(&w->row, lonely_names[p->lonely]);
        synth_csv_row_field(&w->row, synth_place_ward_name(p->ward));
        synth_csv_row_end(&w->row, "\n");
        emit_record(w, ids[i]);
    }
    free(ids);
}

/* The truth file must never sit in a node folder, where `hearth sandbox`
 * would load it as an extract and so link true ids into the data. */
static hearth_err_t check_truth_outside(const char *out_dir, const char *truth_path,
                                        char **cause)
{
    hearth_err_t rc = HEARTH_OK;
    char *dir = hearth_path_dirname(truth_path);
    char *real_dir = realpath(dir, NULL);
    if (real_dir == NULL) {
        hearth_cause_set(cause, "cannot find the folder of truth file '%s': %s",
                         truth_path, strerror(errno));
        rc = HEARTH_ERR_IO;
        goto done;
    }
    for (unsigned i = 0; i < SYNTH_WRITE_DATASETS && rc == HEARTH_OK; i++) {
        char *node_dir = hearth_asprintf("%s/%s", out_dir, extracts[i].node);
        char *real_node = realpath(node_dir, NULL);
        if (real_node != NULL) {
            size_t len = strlen(real_node);
            if (strncmp(real_dir, real_node, len) == 0 &&
                (real_dir[len] == '\0' || real_dir[len] == '/')) {
                hearth_cause_set(cause, "the truth file '%s' is inside the extract "
                                 "folder '%s'; write it elsewhere", truth_path, node_dir);
                rc = HEARTH_ERR_USAGE;
            }
        }
        free(real_node);
        free(node_dir);
    }
done:
    free(real_dir);
    free(dir);
    return rc;
}

static void (*const writers[SYNTH_WRITE_DATASETS])(writer_t *) = {
    [TRUST] = write_trust,
    [COUNCIL] = write_council,
    [CHARITY] = write_charity,
    [UNIVERSITY] = write_university,
};

hearth_err_t synth_write_all(const synth_people_t *people, synth_rng_t *rng,
                             const char *out_dir, const char *truth_path,
                             synth_write_counts_t *counts, char **cause)
{
    hearth_err_t rc = HEARTH_OK;
    writer_t w;
    memset(&w, 0, sizeof w);
    w.people = people;
    w.rng = rng;
    w.ref_day = synth_people_ref_day(people);

    for (unsigned i = 0; i < SYNTH_WRITE_DATASETS; i++) {
        char *node_dir = hearth_asprintf("%s/%s", out_dir, extracts[i].node);
        rc = hearth_file_mkdirs(node_dir, 0755, cause);
        free(node_dir);
        if (rc != HEARTH_OK)
            goto fail;
    }
    if (truth_path != NULL) {
        if ((rc = check_truth_outside(out_dir, truth_path, cause)) != HEARTH_OK)
            goto fail;
        if ((rc = sink_open(&w.truth, hearth_strdup(truth_path), cause)) != HEARTH_OK)
            goto fail;
        synth_csv_row_t *t = &w.truth_row;
        synth_csv_row_field(t, "node");
        synth_csv_row_field(t, "dataset");
        synth_csv_row_field(t, "record");
        synth_csv_row_field(t, "person");
        synth_csv_row_end(t, "\n");
        emit(&w.truth, t);
    }
    for (unsigned i = 0; i < SYNTH_WRITE_DATASETS; i++) {
        char *path = hearth_asprintf("%s/%s/%s.csv", out_dir, extracts[i].node,
                                     extracts[i].dataset);
        if ((rc = sink_open(&w.out, path, cause)) != HEARTH_OK)
            goto fail;
        /* The charity's extract comes from a tool that writes a UTF-8
         * byte order mark; readers must skip it. */
        if (i == CHARITY)
            fputs("\xEF\xBB\xBF", w.out.f);
        w.dataset = i;
        w.records = 0;
        writers[i](&w);
        if (w.row.overflow || w.truth_row.overflow) {
            hearth_cause_set(cause, "a generated row exceeded %d bytes", SYNTH_CSV_ROW_MAX);
            rc = HEARTH_ERR_INTERNAL;
            goto fail;
        }
        if (counts != NULL)
            counts->rows[i] = w.records;
        if ((rc = sink_close(&w.out, cause)) != HEARTH_OK)
            goto fail;
    }
    rc = sink_close(&w.truth, cause);
fail:
    /* Both are no-ops for sinks already closed on the way here. */
    sink_close(&w.out, NULL);
    sink_close(&w.truth, NULL);
    return rc;
}
