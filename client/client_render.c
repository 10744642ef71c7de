#include "client_render.h"
#include "hearth_buf.h"
#include "hearth_mem.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for any "%.1f" of a finite double (about 309 digits, sign, ".0"). */
#define NUM_BUF 330

/* The output under construction. After the first failed append the rest
 * are skipped, so the renderers need no error check on every line; the
 * caller looks at failed once at the end. */
typedef struct {
    hearth_buf_t *buf;   /* borrowed */
    bool failed;
} out_t;

static void put_n(out_t *o, const char *s, size_t len)
{
    if (!o->failed && hearth_buf_add(o->buf, s, len) != HEARTH_OK)
        o->failed = true;
}

static void put(out_t *o, const char *s)
{
    put_n(o, s, strlen(s));
}

static void put_u64(out_t *o, uint64_t v)
{
    char num[32];
    snprintf(num, sizeof num, "%" PRIu64, v);
    put(o, num);
}

static void put_spaces(out_t *o, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put_n(o, " ", 1);
}

/* --- values, shared by every format ------------------------------------ */

static const char *str_or_empty(const char *s)
{
    return s ? s : "";
}

static bool status_has_table(Hearth__QueryStatus status)
{
    return status == HEARTH__QUERY_STATUS__STATUS_RELEASED ||
           status == HEARTH__QUERY_STATUS__STATUS_PARTIAL;
}

/* A status this client does not know (a newer gateway) is shown as an error:
 * it carries no table we could trust the shape of. */
static const char *status_name(Hearth__QueryStatus status)
{
    switch (status) {
    case HEARTH__QUERY_STATUS__STATUS_RELEASED:
        return "released";
    case HEARTH__QUERY_STATUS__STATUS_REFUSED:
        return "refused";
    case HEARTH__QUERY_STATUS__STATUS_PARTIAL:
        return "partial";
    case HEARTH__QUERY_STATUS__STATUS_ERROR:
    default:   /* an enum off the wire may hold any value */
        return "error";
    }
}

static bool node_missing(const Hearth__NodeStatus *n)
{
    return n && strcmp(str_or_empty(n->status), "ok") != 0;
}

/* Formats d with one decimal place into num (NUM_BUF bytes). Returns false
 * for NaN and infinities, which no format can carry as a number. The point
 * is forced to '.' whatever LC_NUMERIC the program has set, because JSON and
 * CSV readers expect it. */
static bool decimal_format(double d, char *num)
{
    if (!isfinite(d))
        return false;
    snprintf(num, NUM_BUF, "%.1f", d);
    for (char *p = num; *p; p++)
        if (*p != '-' && (*p < '0' || *p > '9'))
            *p = '.';
    return true;
}

/* The plain text of v: its text (borrowed) or its number formatted into num
 * (NUM_BUF bytes). Returns NULL when v is absent, SQL NULL, unset or a
 * non-finite decimal. */
static const char *value_plain(const Hearth__Value *v, char *num)
{
    if (!v)
        return NULL;
    switch (v->kind_case) {
    case HEARTH__VALUE__KIND_TEXT:
        return str_or_empty(v->text);
    case HEARTH__VALUE__KIND_INTEGER:
        snprintf(num, NUM_BUF, "%" PRId64, v->integer);
        return num;
    case HEARTH__VALUE__KIND_DECIMAL:
        return decimal_format(v->decimal, num) ? num : NULL;
    case HEARTH__VALUE__KIND_NULL:
    case HEARTH__VALUE__KIND__NOT_SET:
    default:   /* an enum off the wire may hold any value */
        return NULL;
    }
}

/* The value a cell may show: none when the cell is absent or suppressed. */
static const Hearth__Value *cell_value(const Hearth__Cell *c)
{
    return c && !c->suppressed ? c->value : NULL;
}

static bool cell_suppressed(const Hearth__Cell *c)
{
    return c && c->suppressed;
}

/* Column i of a row's group key; NULL when the row carries fewer values
 * than there are group columns. */
static const Hearth__Value *cell_group(const Hearth__Cell *c, size_t i)
{
    return c && i < c->n_group ? c->group[i] : NULL;
}

/* --- JSON ---------------------------------------------------------------- */

static void json_string(out_t *o, const char *s)
{
    put_n(o, "\"", 1);
    const char *run = s;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        put_n(o, run, (size_t)(p - run));
        run = p + 1;
        char esc[16];
        switch (c) {
        case '"':
            put(o, "\\\"");
            break;
        case '\\':
            put(o, "\\\\");
            break;
        case '\n':
            put(o, "\\n");
            break;
        case '\r':
            put(o, "\\r");
            break;
        case '\t':
            put(o, "\\t");
            break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", (unsigned)c);
            put(o, esc);
            break;
        }
    }
    put(o, run);
    put_n(o, "\"", 1);
}

static void json_value(out_t *o, const Hearth__Value *v)
{
    char num[NUM_BUF];
    const char *text = value_plain(v, num);
    if (!text)
        put(o, "null");
    else if (v->kind_case == HEARTH__VALUE__KIND_TEXT)
        json_string(o, text);
    else
        put(o, text);
}

static void json_cell_tail(out_t *o, const Hearth__Cell *c)
{
    put(o, "\"value\": ");
    json_value(o, cell_value(c));
    put(o, cell_suppressed(c) ? ", \"suppressed\": true}" : ", \"suppressed\": false}");
}

/* The linkage kinds in the order the JSON and the table show them. */
typedef struct {
    const char *json;    /* key in the "linkage" object */
    const char *label;   /* words in the table's footer */
} linkage_kind_t;

static const linkage_kind_t LINKAGE_KINDS[] = {
    {"nhs_number_only", "NHS number only"},
    {"dob_sex_postcode_only", "DOB+sex+postcode only"},
    {"both", "both"},
    {"not_linked", "not linked"},
};
#define NLINKAGE_KINDS (sizeof LINKAGE_KINDS / sizeof *LINKAGE_KINDS)

/* Cell i of l, in LINKAGE_KINDS order; NULL when absent. */
static const Hearth__Cell *linkage_cell(const Hearth__Linkage *l, size_t i)
{
    switch (i) {
    case 0: return l->nhs_only;
    case 1: return l->dsp_only;
    case 2: return l->both;
    default: return l->none;
    }
}

static void json_row(out_t *o, const Hearth__QueryResult *r, const Hearth__Cell *c)
{
    put(o, "{\"group\": {");
    for (size_t i = 0; i < r->n_group_by; i++) {
        if (i)
            put(o, ", ");
        json_string(o, str_or_empty(r->group_by[i]));
        put(o, ": ");
        json_value(o, cell_group(c, i));
    }
    put(o, "}, ");
    json_cell_tail(o, c);
}

static void json_nodes(out_t *o, const Hearth__QueryResult *r)
{
    put(o, "\"nodes\": [");
    for (size_t i = 0; i < r->n_nodes; i++) {
        const Hearth__NodeStatus *n = r->nodes[i];
        if (i)
            put(o, ", ");
        put(o, "{\"node\": ");
        json_string(o, n ? str_or_empty(n->node) : "");
        put(o, ", \"status\": ");
        json_string(o, n ? str_or_empty(n->status) : "");
        put(o, ", \"ms\": ");
        put_u64(o, n ? n->ms : 0);
        put(o, "}");
    }
    put(o, "]");
}

static void json_missing(out_t *o, const Hearth__QueryResult *r)
{
    put(o, "\"missing\": [");
    bool first = true;
    for (size_t i = 0; i < r->n_nodes; i++) {
        if (!node_missing(r->nodes[i]))
            continue;
        if (!first)
            put(o, ", ");
        first = false;
        json_string(o, str_or_empty(r->nodes[i]->node));
    }
    put(o, "]");
}

/* The "disclosure" object: the rules the gateway applied. Its keys always
 * come in this order, each always present, so that R and Python can read
 * them without checking: "threshold", "rounding", "suppressed_cells" (as
 * before issue 5), then "zeros" ("released" or "disclosive"), "protection",
 * "dominance" ("off", "p% P" or "n,k N K") and "project" (the project's
 * name, or null when the query named none). Only "dp" is conditional: it
 * appears last, as {"epsilon": "0.5", "budget_remaining": "1.5"} (decimal
 * strings, exact to six places, the budget rounded down), only when noise
 * was added. An absent section reads as all defaults of the wire. */
static void json_disclosure(out_t *o, const Hearth__Disclosure *d)
{
    put(o, "\"disclosure\": {\"threshold\": ");
    put_u64(o, d ? d->threshold : 0);
    put(o, ", \"rounding\": ");
    put_u64(o, d ? d->rounding : 0);
    put(o, ", \"suppressed_cells\": ");
    put_u64(o, d ? d->suppressed_cells : 0);
    put(o, d && d->zeros_disclosive ? ", \"zeros\": \"disclosive\"" : ", \"zeros\": \"released\"");
    put(o, ", \"protection\": ");
    put_u64(o, d ? d->protection : 0);
    put(o, ", \"dominance\": ");
    const char *dominance = d ? str_or_empty(d->dominance) : "";
    json_string(o, *dominance ? dominance : "off");
    put(o, ", \"project\": ");
    const char *project = d ? str_or_empty(d->project) : "";
    if (*project)
        json_string(o, project);
    else
        put(o, "null");
    if (d && d->dp_epsilon && *d->dp_epsilon) {
        put(o, ", \"dp\": {\"epsilon\": ");
        json_string(o, d->dp_epsilon);
        put(o, ", \"budget_remaining\": ");
        json_string(o, str_or_empty(d->dp_budget_remaining));
        put(o, "}");
    }
    put(o, "}");
}

static void json_render(out_t *o, const Hearth__QueryResult *r)
{
    put(o, "{\"query_id\": ");
    json_string(o, str_or_empty(r->query_id));
    put(o, ", \"status\": ");
    json_string(o, status_name(r->status));

    if (!status_has_table(r->status)) {
        put(o, ", \"reason\": ");
        json_string(o, str_or_empty(r->reason));
        put(o, ", ");
        json_nodes(o, r);
        put(o, "}\n");
        return;
    }

    put(o, ", \"measure\": ");
    json_string(o, str_or_empty(r->measure));
    put(o, ", \"group_by\": [");
    for (size_t i = 0; i < r->n_group_by; i++) {
        if (i)
            put(o, ", ");
        json_string(o, str_or_empty(r->group_by[i]));
    }
    put(o, "], \"rows\": [");
    for (size_t i = 0; i < r->n_rows; i++) {
        if (i)
            put(o, ", ");
        json_row(o, r, r->rows[i]);
    }
    put(o, "], \"total\": {");
    json_cell_tail(o, r->total);

    put(o, ", ");
    json_disclosure(o, r->disclosure);
    put(o, ", ");

    if (r->linkage) {
        put(o, "\"linkage\": {");
        for (size_t i = 0; i < NLINKAGE_KINDS; i++) {
            if (i)
                put(o, ", ");
            json_string(o, LINKAGE_KINDS[i].json);
            put(o, ": {");
            json_cell_tail(o, linkage_cell(r->linkage, i));
        }
        put(o, "}, ");
    }

    json_nodes(o, r);
    if (r->status == HEARTH__QUERY_STATUS__STATUS_PARTIAL) {
        put(o, ", ");
        json_missing(o, r);
    }
    put(o, "}\n");
}

/* --- CSV ----------------------------------------------------------------- */

hearth_err_t client_render_csv_field(hearth_buf_t *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n"))
        return hearth_buf_adds(b, s);
    hearth_err_t rc = hearth_buf_add(b, "\"", 1);
    const char *run = s;
    for (const char *p = s; *p && rc == HEARTH_OK; p++) {
        if (*p != '"')
            continue;
        rc = hearth_buf_add(b, run, (size_t)(p - run + 1));   /* the quote, then doubled */
        if (rc == HEARTH_OK)
            rc = hearth_buf_add(b, "\"", 1);
        run = p + 1;
    }
    if (rc == HEARTH_OK)
        rc = hearth_buf_adds(b, run);
    if (rc == HEARTH_OK)
        rc = hearth_buf_add(b, "\"", 1);
    return rc;
}

static void csv_field(out_t *o, const char *s)
{
    if (!o->failed && client_render_csv_field(o->buf, s) != HEARTH_OK)
        o->failed = true;
}

static void csv_value(out_t *o, const Hearth__Value *v)
{
    char num[NUM_BUF];
    const char *text = value_plain(v, num);
    csv_field(o, text ? text : "");
}

static void csv_cell_tail(out_t *o, const Hearth__Cell *c)
{
    csv_value(o, cell_value(c));
    put(o, cell_suppressed(c) ? ",true\n" : ",false\n");
}

static void csv_render(out_t *o, const Hearth__QueryResult *r)
{
    if (!status_has_table(r->status)) {
        put(o, "status,reason\n");
        put(o, status_name(r->status));
        put_n(o, ",", 1);
        csv_field(o, str_or_empty(r->reason));
        put_n(o, "\n", 1);
        return;
    }

    for (size_t i = 0; i < r->n_group_by; i++) {
        csv_field(o, str_or_empty(r->group_by[i]));
        put_n(o, ",", 1);
    }
    put(o, "value,suppressed\n");

    for (size_t i = 0; i < r->n_rows; i++) {
        for (size_t j = 0; j < r->n_group_by; j++) {
            csv_value(o, cell_group(r->rows[i], j));
            put_n(o, ",", 1);
        }
        csv_cell_tail(o, r->rows[i]);
    }

    for (size_t j = 0; j < r->n_group_by; j++)
        put(o, j == 0 ? "Total," : ",");
    csv_cell_tail(o, r->total);
}

/* --- table --------------------------------------------------------------- */

#define TABLE_GAP "  "
#define TABLE_NULL "(none)"
#define TABLE_SUPPRESSED "suppressed"
#define TABLE_TOTAL "Total"

/* Writes s for a terminal (when o is not NULL) and returns its width in
 * columns, counted as UTF-8 code points. Control characters from the network
 * must not reach the terminal, where they could move the cursor or rewrite
 * earlier lines: C0 and DEL are shown as \xHH, C1 (U+0080..U+009F) as
 * \u00HH. Wide characters count as one column; close enough for the
 * scripts partners' data uses. */
static size_t term_text(out_t *o, const char *s)
{
    size_t width = 0;
    const char *run = s;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        unsigned char next = (unsigned char)p[1];
        char esc[16];
        if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof esc, "\\x%02x", (unsigned)c);
        } else if (c == 0xc2 && next >= 0x80 && next <= 0x9f) {
            snprintf(esc, sizeof esc, "\\u%04x", (unsigned)next);
        } else {
            if ((c & 0xc0) != 0x80)
                width++;
            continue;
        }
        if (o) {
            put_n(o, run, (size_t)(p - run));
            put(o, esc);
        }
        width += strlen(esc);
        if (c == 0xc2)
            p++;
        run = p + 1;
    }
    if (o)
        put(o, run);
    return width;
}

/* Text of a table's group cell; num is NUM_BUF bytes. */
static const char *table_group_text(const Hearth__Cell *c, size_t i, char *num)
{
    const char *text = value_plain(cell_group(c, i), num);
    return text ? text : TABLE_NULL;
}

/* Text of a table's value cell; num is NUM_BUF bytes. */
static const char *table_value_text(const Hearth__Cell *c, char *num)
{
    if (cell_suppressed(c))
        return TABLE_SUPPRESSED;
    const char *text = value_plain(cell_value(c), num);
    return text ? text : TABLE_NULL;
}

static const char *table_value_header(const Hearth__QueryResult *r)
{
    return r->measure && *r->measure ? r->measure : "value";
}

/* Widths of the label columns (one per group column, or one for the Total
 * label when there is none) into widths[0..nlabels), and of the value
 * column into widths[nlabels]. */
static void table_widths(const Hearth__QueryResult *r, size_t nlabels, size_t *widths)
{
    char num[NUM_BUF];
    for (size_t j = 0; j < nlabels; j++) {
        widths[j] = j < r->n_group_by ? term_text(NULL, str_or_empty(r->group_by[j])) : 0;
        for (size_t i = 0; i < r->n_rows && j < r->n_group_by; i++) {
            size_t w = term_text(NULL, table_group_text(r->rows[i], j, num));
            if (w > widths[j])
                widths[j] = w;
        }
    }
    if (widths[0] < strlen(TABLE_TOTAL))
        widths[0] = strlen(TABLE_TOTAL);

    size_t *wv = &widths[nlabels];
    *wv = term_text(NULL, table_value_header(r));
    for (size_t i = 0; i < r->n_rows; i++) {
        size_t w = term_text(NULL, table_value_text(r->rows[i], num));
        if (w > *wv)
            *wv = w;
    }
    size_t w = term_text(NULL, table_value_text(r->total, num));
    if (w > *wv)
        *wv = w;
}

/* Labels left-aligned, the value right-aligned; the value column comes last,
 * so no line carries trailing spaces. */
static void table_line(out_t *o, const char *const *labels, size_t nlabels, const char *value,
                       const size_t *widths)
{
    for (size_t j = 0; j < nlabels; j++) {
        size_t w = term_text(o, labels[j]);
        put_spaces(o, widths[j] - w);
        put(o, TABLE_GAP);
    }
    put_spaces(o, widths[nlabels] - term_text(NULL, value));
    term_text(o, value);
    put_n(o, "\n", 1);
}

static void table_rule(out_t *o, size_t ncols, const size_t *widths)
{
    for (size_t j = 0; j < ncols; j++) {
        if (j)
            put(o, TABLE_GAP);
        for (size_t k = 0; k < widths[j]; k++)
            put_n(o, "-", 1);
    }
    put_n(o, "\n", 1);
}

/* Lines under the footer for the rules beyond the defaults, each only when
 * in force: zeros hidden, the dominance rule (for sums and means, the only
 * cells it acts on), and noise with the project's budget left. */
static void table_rules(out_t *o, const Hearth__QueryResult *r)
{
    const Hearth__Disclosure *d = r->disclosure;
    if (d == NULL)
        return;
    if (d->zeros_disclosive)
        put(o, "Zeros hidden like small counts.\n");
    const char *m = str_or_empty(r->measure);
    const char *dominance = str_or_empty(d->dominance);
    if (*dominance && (strcmp(m, "sum") == 0 || strcmp(m, "mean") == 0)) {
        put(o, "Cells dominated by a few contributors suppressed (dominance rule ");
        term_text(o, dominance);
        put(o, ").\n");
    }
    if (d->dp_epsilon && *d->dp_epsilon) {
        put(o, "Counts include random noise (differential privacy, epsilon ");
        term_text(o, d->dp_epsilon);
        put(o, " on each count); privacy budget left for project ");
        term_text(o, str_or_empty(d->project));
        put(o, ": ");
        term_text(o, str_or_empty(d->dp_budget_remaining));
        put(o, ".\n");
    }
}

static void table_footer(out_t *o, const Hearth__QueryResult *r)
{
    const Hearth__Disclosure *d = r->disclosure;
    uint32_t threshold = d ? d->threshold : 0;
    uint32_t rounding = d ? d->rounding : 0;

    put_n(o, "\n", 1);
    const char *m = str_or_empty(r->measure);
    if (strcmp(m, "sum") == 0 || strcmp(m, "mean") == 0) {
        /* SUM and MEAN cells follow the people behind them, and are rounded
         * their own way. */
        put(o, "Cells behind 1\u2013");
        put_u64(o, threshold);
        put(o, strcmp(m, "sum") == 0 ? " people suppressed; sums rounded to the nearest "
                                     : " people suppressed; means given to one decimal place; ");
        if (strcmp(m, "sum") == 0) {
            put_u64(o, rounding);
            put(o, "; ");
        }
    } else if (threshold == 0) {
        put(o, "No small counts suppressed");
    } else if (threshold == 1) {
        put(o, "Counts of 1 suppressed");
    } else {
        put(o, "Counts 1\u2013");
        put_u64(o, threshold);
        put(o, " suppressed");
    }
    if (strcmp(m, "sum") == 0 || strcmp(m, "mean") == 0) {
        /* said above */
    } else if (rounding <= 1) {
        put(o, "; released counts not rounded; ");
    } else {
        put(o, "; released counts rounded to the nearest ");
        put_u64(o, rounding);
        put(o, "; ");
    }
    put_u64(o, d ? d->suppressed_cells : 0);
    put(o, " cell(s) suppressed.\n");
    table_rules(o, r);

    if (r->linkage) {
        char num[NUM_BUF];
        put(o, "linkage: ");
        for (size_t i = 0; i < NLINKAGE_KINDS; i++) {
            const Hearth__Cell *c = linkage_cell(r->linkage, i);
            if (i)
                put(o, ", ");
            put(o, LINKAGE_KINDS[i].label);
            put(o, " ");
            if (cell_suppressed(c)) {
                put(o, "[suppressed]");
            } else {
                const char *text = value_plain(cell_value(c), num);
                term_text(o, text ? text : TABLE_NULL);
            }
        }
        put_n(o, "\n", 1);
    }

    if (r->status == HEARTH__QUERY_STATUS__STATUS_PARTIAL) {
        put(o, "partial: no answer from ");
        bool first = true;
        for (size_t i = 0; i < r->n_nodes; i++) {
            const Hearth__NodeStatus *n = r->nodes[i];
            if (!node_missing(n))
                continue;
            if (!first)
                put(o, ", ");
            first = false;
            term_text(o, str_or_empty(n->node));
            put(o, " (");
            term_text(o, str_or_empty(n->status));
            put(o, ")");
        }
        if (first)
            put(o, "an unnamed node");
        put_n(o, "\n", 1);
    }
}

static void table_render(out_t *o, const Hearth__QueryResult *r)
{
    if (!status_has_table(r->status)) {
        put(o, status_name(r->status));
        if (r->reason && *r->reason) {
            put(o, ": ");
            term_text(o, r->reason);
        }
        put(o, "\nquery ");
        term_text(o, str_or_empty(r->query_id));
        put_n(o, "\n", 1);
        return;
    }

    /* With no group columns there is still one label column, for "Total". */
    size_t nlabels = r->n_group_by ? r->n_group_by : 1;
    size_t *widths = hearth_calloc(nlabels + 1, sizeof *widths);
    const char **labels = hearth_calloc(nlabels, sizeof *labels);
    char(*nums)[NUM_BUF] = hearth_calloc(nlabels + 1, sizeof *nums);
    table_widths(r, nlabels, widths);

    for (size_t j = 0; j < nlabels; j++)
        labels[j] = j < r->n_group_by ? str_or_empty(r->group_by[j]) : "";
    table_line(o, labels, nlabels, table_value_header(r), widths);
    table_rule(o, nlabels + 1, widths);

    if (r->n_group_by) {
        for (size_t i = 0; i < r->n_rows; i++) {
            for (size_t j = 0; j < nlabels; j++)
                labels[j] = table_group_text(r->rows[i], j, nums[j]);
            table_line(o, labels, nlabels, table_value_text(r->rows[i], nums[nlabels]),
                       widths);
        }
        table_rule(o, nlabels + 1, widths);
    }

    for (size_t j = 0; j < nlabels; j++)
        labels[j] = j == 0 ? TABLE_TOTAL : "";
    table_line(o, labels, nlabels, table_value_text(r->total, nums[nlabels]), widths);

    table_footer(o, r);
    put(o, "query ");
    term_text(o, str_or_empty(r->query_id));
    put_n(o, "\n", 1);

    free(nums);
    free(labels);
    free(widths);
}

/* --- entry points -------------------------------------------------------- */

bool client_format_parse(const char *name, client_format_t *out)
{
    if (!name)
        return false;
    if (strcmp(name, "table") == 0)
        *out = CLIENT_FORMAT_TABLE;
    else if (strcmp(name, "csv") == 0)
        *out = CLIENT_FORMAT_CSV;
    else if (strcmp(name, "json") == 0)
        *out = CLIENT_FORMAT_JSON;
    else
        return false;
    return true;
}

char *client_render_result(const Hearth__QueryResult *r, client_format_t fmt)
{
    if (!r)
        return NULL;
    hearth_buf_t buf;
    hearth_buf_init(&buf, CLIENT_RENDER_MAX);
    out_t o = {.buf = &buf, .failed = false};
    switch (fmt) {
    case CLIENT_FORMAT_TABLE:
        table_render(&o, r);
        break;
    case CLIENT_FORMAT_CSV:
        csv_render(&o, r);
        break;
    case CLIENT_FORMAT_JSON:
        json_render(&o, r);
        break;
    default:
        o.failed = true;   /* not a client_format_t: a caller's bug */
        break;
    }
    if (o.failed) {
        hearth_buf_free(&buf);
        return NULL;
    }
    return hearth_buf_take(&buf);
}

hearth_err_t client_render_json_string(hearth_buf_t *b, const char *s)
{
    out_t o = {.buf = b, .failed = false};
    json_string(&o, s ? s : "");
    return o.failed ? HEARTH_ERR_TOO_BIG : HEARTH_OK;
}

hearth_err_t client_render_term_text(hearth_buf_t *b, const char *s)
{
    out_t o = {.buf = b, .failed = false};
    term_text(&o, s ? s : "");
    return o.failed ? HEARTH_ERR_TOO_BIG : HEARTH_OK;
}

size_t client_render_term_width(const char *s)
{
    return term_text(NULL, s ? s : "");
}
