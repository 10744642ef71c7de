#include "client_catalogue.h"
#include "hearth_buf.h"
#include "hearth_mem.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The table wraps value lists to this many terminal columns... */
#define LINE_WIDTH 80
/* ...but always leaves the values at least this much room, however long
 * the column names beside them. */
#define MIN_VALUES_ROOM 24
#define COLUMN_GAP "  "
#define NODE_INDENT "  "
#define COLUMN_INDENT "    "
#define MORE_VALUES "\u2026 and more"

/* The output under construction, as in client_render: after the first
 * failed append the rest are skipped and the caller looks at failed once. */
typedef struct {
    hearth_buf_t buf;
    bool failed;
} out_t;

static void put(out_t *o, const char *s)
{
    if (!o->failed && hearth_buf_adds(&o->buf, s) != HEARTH_OK)
        o->failed = true;
}

static void put_spaces(out_t *o, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put(o, " ");
}

/* A string from the network, as a JSON string literal. */
static void put_json(out_t *o, const char *s)
{
    if (!o->failed && client_render_json_string(&o->buf, s) != HEARTH_OK)
        o->failed = true;
}

/* A string from the network, for a terminal; returns its width. */
static size_t put_term(out_t *o, const char *s)
{
    if (!o->failed && client_render_term_text(&o->buf, s) != HEARTH_OK)
        o->failed = true;
    return client_render_term_width(s);
}

/* --- the reply, NULLs read as protobuf defaults -------------------------- */

static const Hearth__NodeCatalogue NO_NODE = HEARTH__NODE_CATALOGUE__INIT;
static const Hearth__Dataset NO_DATASET = HEARTH__DATASET__INIT;
static const Hearth__Column NO_COLUMN = HEARTH__COLUMN__INIT;

static const char *str_or_empty(const char *s)
{
    return s ? s : "";
}

static const Hearth__NodeCatalogue *node_at(const Hearth__CatalogueReply *r, size_t i)
{
    return r->nodes[i] ? r->nodes[i] : &NO_NODE;
}

static const Hearth__Dataset *dataset_at(const Hearth__NodeCatalogue *n, size_t i)
{
    return n->datasets[i] ? n->datasets[i] : &NO_DATASET;
}

static const Hearth__Column *column_at(const Hearth__Dataset *d, size_t i)
{
    return d->columns[i] ? d->columns[i] : &NO_COLUMN;
}

/* The name an analyst writes in FROM: "node.dataset" (caller frees). */
static char *dataset_full_name(const Hearth__NodeCatalogue *n, const Hearth__Dataset *d)
{
    return hearth_asprintf("%s.%s", str_or_empty(n->node), str_or_empty(d->name));
}

static bool is_categorical(const Hearth__Column *c)
{
    return c->type == HEARTH__COLUMN_TYPE__COLUMN_CATEGORICAL;
}

/* A type this client does not know (a newer node) is named "unknown"
 * rather than guessed at. */
static const char *type_name(Hearth__ColumnType type)
{
    switch (type) {
    case HEARTH__COLUMN_TYPE__COLUMN_CATEGORICAL:
        return "categorical";
    case HEARTH__COLUMN_TYPE__COLUMN_INTEGER:
        return "integer";
    case HEARTH__COLUMN_TYPE__COLUMN_DECIMAL:
        return "decimal";
    case HEARTH__COLUMN_TYPE__COLUMN_DATE:
        return "date";
    default:   /* an enum off the wire may hold any value */
        return "unknown";
    }
}

/* --- JSON ---------------------------------------------------------------- */

static void json_column(out_t *o, const Hearth__Column *c)
{
    put(o, "{\"name\": ");
    put_json(o, str_or_empty(c->name));
    put(o, ", \"type\": ");
    put_json(o, type_name(c->type));
    if (is_categorical(c)) {
        put(o, ", \"values\": [");
        for (size_t i = 0; i < c->n_values; i++) {
            if (i)
                put(o, ", ");
            put_json(o, str_or_empty(c->values[i]));
        }
        put(o, c->values_truncated ? "], \"values_truncated\": true"
                                   : "], \"values_truncated\": false");
    }
    put(o, "}");
}

static void json_dataset(out_t *o, const Hearth__NodeCatalogue *n, const Hearth__Dataset *d)
{
    char *full = dataset_full_name(n, d);
    put(o, "{\"dataset\": ");
    put_json(o, full);
    free(full);
    put(o, ", \"columns\": [");
    for (size_t i = 0; i < d->n_columns; i++) {
        if (i)
            put(o, ", ");
        json_column(o, column_at(d, i));
    }
    put(o, "]}");
}

static void json_render(out_t *o, const Hearth__CatalogueReply *r)
{
    put(o, "{\"nodes\": [");
    for (size_t i = 0; i < r->n_nodes; i++) {
        const Hearth__NodeCatalogue *n = node_at(r, i);
        if (i)
            put(o, ", ");
        put(o, "{\"node\": ");
        put_json(o, str_or_empty(n->node));
        put(o, n->connected ? ", \"connected\": true" : ", \"connected\": false");
        put(o, ", \"datasets\": [");
        for (size_t j = 0; j < n->n_datasets; j++) {
            if (j)
                put(o, ", ");
            json_dataset(o, n, dataset_at(n, j));
        }
        put(o, "]}");
    }
    put(o, "]}\n");
}

/* --- table --------------------------------------------------------------- */

/* s as an SQL string literal, quotes doubled (caller frees). The table
 * quotes values because they may hold ", " themselves ("debt, benefits
 * advice"), and because that is how the analyst writes them in WHERE. */
static char *sql_literal(const char *s)
{
    size_t quotes = 0;
    for (const char *p = s; *p; p++)
        quotes += *p == '\'';
    char *lit = hearth_malloc(strlen(s) + quotes + 3);
    char *q = lit;
    *q++ = '\'';
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            *q++ = '\'';
        *q++ = *p;
    }
    *q++ = '\'';
    *q = '\0';
    return lit;
}

/* The listed values after the type, each an SQL literal, separated by ", ".
 * A value that would
 * run past LINE_WIDTH starts a new line under the first value; a value is
 * never split, so one longer than the room has a line of its own. */
static void table_values(out_t *o, const Hearth__Column *c, size_t values_col)
{
    if (c->n_values == 0 && !c->values_truncated) {
        char none[64];
        snprintf(none, sizeof none, "(no value held by at least %d people)",
                 CLIENT_CATALOGUE_MIN_PERSONS);
        put(o, none);
        return;
    }
    size_t room = LINE_WIDTH > values_col + MIN_VALUES_ROOM ? LINE_WIDTH - values_col
                                                             : MIN_VALUES_ROOM;
    size_t nitems = c->n_values + (c->values_truncated ? 1 : 0);
    size_t used = 0;
    for (size_t k = 0; k < nitems; k++) {
        char *lit = k < c->n_values ? sql_literal(str_or_empty(c->values[k])) : NULL;
        const char *text = lit ? lit : MORE_VALUES;
        size_t w = client_render_term_width(text);
        size_t comma = k + 1 < nitems ? 1 : 0;   /* the "," that will follow */
        if (k > 0 && used + 2 + w + comma > room) {
            put(o, ",\n");
            put_spaces(o, values_col);
            used = 0;
        } else if (k > 0) {
            put(o, ", ");
            used += 2;
        }
        put_term(o, text);
        used += w;
        free(lit);
    }
}

/* Columns line up within a dataset: names padded to the longest name, and
 * the type padded only where values follow, so no line ends in spaces. */
static void table_dataset(out_t *o, const Hearth__NodeCatalogue *n, const Hearth__Dataset *d)
{
    char *full = dataset_full_name(n, d);
    put(o, NODE_INDENT);
    put_term(o, full);
    put(o, "\n");
    free(full);
    if (d->n_columns == 0) {
        put(o, COLUMN_INDENT "(no columns)\n");
        return;
    }
    size_t name_w = 0, type_w = 0;
    for (size_t i = 0; i < d->n_columns; i++) {
        const Hearth__Column *c = column_at(d, i);
        size_t w = client_render_term_width(str_or_empty(c->name));
        name_w = w > name_w ? w : name_w;
        w = strlen(type_name(c->type));
        type_w = w > type_w ? w : type_w;
    }
    size_t values_col = strlen(COLUMN_INDENT) + name_w + strlen(COLUMN_GAP) + type_w +
                        strlen(COLUMN_GAP);
    for (size_t i = 0; i < d->n_columns; i++) {
        const Hearth__Column *c = column_at(d, i);
        const char *type = type_name(c->type);
        put(o, COLUMN_INDENT);
        put_spaces(o, name_w - put_term(o, str_or_empty(c->name)));
        put(o, COLUMN_GAP);
        put(o, type);
        if (is_categorical(c)) {
            put_spaces(o, type_w - strlen(type));
            put(o, COLUMN_GAP);
            table_values(o, c, values_col);
        }
        put(o, "\n");
    }
}

static void table_render(out_t *o, const Hearth__CatalogueReply *r)
{
    if (r->n_nodes == 0)
        put(o, "(no partner nodes known to the gateway)\n");
    for (size_t i = 0; i < r->n_nodes; i++) {
        const Hearth__NodeCatalogue *n = node_at(r, i);
        if (i)
            put(o, "\n");
        put_term(o, str_or_empty(n->node));
        put(o, n->connected ? " (connected)\n" : " (not connected)\n");
        if (n->n_datasets == 0)
            put(o, NODE_INDENT "(no datasets known to the gateway)\n");
        for (size_t j = 0; j < n->n_datasets; j++)
            table_dataset(o, n, dataset_at(n, j));
    }
    char footer[256];
    snprintf(footer, sizeof footer,
             "\nA categorical column lists only the values held by at least %d people in\n"
             "its dataset, so that the catalogue discloses no small number.\n",
             CLIENT_CATALOGUE_MIN_PERSONS);
    put(o, footer);
}

/* --- entry point --------------------------------------------------------- */

char *client_catalogue_render(const Hearth__CatalogueReply *reply, client_format_t fmt)
{
    if (!reply)
        return NULL;
    out_t o = {.failed = false};
    hearth_buf_init(&o.buf, CLIENT_RENDER_MAX);
    switch (fmt) {
    case CLIENT_FORMAT_TABLE:
        table_render(&o, reply);
        break;
    case CLIENT_FORMAT_JSON:
        json_render(&o, reply);
        break;
    case CLIENT_FORMAT_CSV:
    default:   /* CSV is refused by the command; anything else is a bug */
        o.failed = true;
        break;
    }
    if (o.failed) {
        hearth_buf_free(&o.buf);
        return NULL;
    }
    return hearth_buf_take(&o.buf);
}
