#include "client_catalogue.h"
#include "hearth_mem.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Replies are built on the heap exactly as protobuf-c would unpack them, so
 * hearth__catalogue_reply__free_unpacked releases everything and the
 * sanitiser sees no leak. */

/* A column with nvalues values (copied) after the last named argument. */
static Hearth__Column *col_new(const char *name, Hearth__ColumnType type, bool truncated,
                               size_t nvalues, ...)
{
    Hearth__Column *c = hearth_malloc(sizeof *c);
    hearth__column__init(c);
    c->name = hearth_strdup(name);
    c->type = type;
    c->values_truncated = truncated;
    c->n_values = nvalues;
    c->values = nvalues ? hearth_calloc(nvalues, sizeof *c->values) : NULL;
    va_list ap;
    va_start(ap, nvalues);
    for (size_t i = 0; i < nvalues; i++)
        c->values[i] = hearth_strdup(va_arg(ap, const char *));
    va_end(ap);
    return c;
}

static Hearth__Column *col_plain(const char *name, Hearth__ColumnType type)
{
    return col_new(name, type, false, 0);
}

/* A dataset taking ncolumns columns. */
static Hearth__Dataset *dataset_new(const char *name, size_t ncolumns, ...)
{
    Hearth__Dataset *d = hearth_malloc(sizeof *d);
    hearth__dataset__init(d);
    d->name = hearth_strdup(name);
    d->n_columns = ncolumns;
    d->columns = ncolumns ? hearth_calloc(ncolumns, sizeof *d->columns) : NULL;
    va_list ap;
    va_start(ap, ncolumns);
    for (size_t i = 0; i < ncolumns; i++)
        d->columns[i] = va_arg(ap, Hearth__Column *);
    va_end(ap);
    return d;
}

/* A node taking ndatasets datasets. */
static Hearth__NodeCatalogue *node_new(const char *name, bool connected, size_t ndatasets, ...)
{
    Hearth__NodeCatalogue *n = hearth_malloc(sizeof *n);
    hearth__node_catalogue__init(n);
    n->node = hearth_strdup(name);
    n->connected = connected;
    n->n_datasets = ndatasets;
    n->datasets = ndatasets ? hearth_calloc(ndatasets, sizeof *n->datasets) : NULL;
    va_list ap;
    va_start(ap, ndatasets);
    for (size_t i = 0; i < ndatasets; i++)
        n->datasets[i] = va_arg(ap, Hearth__Dataset *);
    va_end(ap);
    return n;
}

/* A reply taking nnodes nodes. */
static Hearth__CatalogueReply *reply_new(size_t nnodes, ...)
{
    Hearth__CatalogueReply *r = hearth_malloc(sizeof *r);
    hearth__catalogue_reply__init(r);
    r->n_nodes = nnodes;
    r->nodes = nnodes ? hearth_calloc(nnodes, sizeof *r->nodes) : NULL;
    va_list ap;
    va_start(ap, nnodes);
    for (size_t i = 0; i < nnodes; i++)
        r->nodes[i] = va_arg(ap, Hearth__NodeCatalogue *);
    va_end(ap);
    return r;
}

static void reply_free(Hearth__CatalogueReply *r)
{
    hearth__catalogue_reply__free_unpacked(r, NULL);
}

#define CATEGORICAL HEARTH__COLUMN_TYPE__COLUMN_CATEGORICAL
#define INTEGER HEARTH__COLUMN_TYPE__COLUMN_INTEGER
#define DECIMAL HEARTH__COLUMN_TYPE__COLUMN_DECIMAL
#define DATE HEARTH__COLUMN_TYPE__COLUMN_DATE

static const char FOOTER[] =
    "\n"
    "A categorical column lists only the values held by at least 8 people in\n"
    "its dataset, so that the catalogue discloses no small number.\n";

/* Two nodes, one disconnected with nothing announced; every type; a
 * truncated list; control characters, quotes and backslashes from the
 * network in a column name and in values. */
static Hearth__CatalogueReply *partnership(void)
{
    return reply_new(
        2,
        node_new("trust", true, 1,
                 dataset_new("ae_attendances", 6,
                             col_new("ward", CATEGORICAL, false, 3, "Abbey", "St Mary's", ""),
                             col_plain("attendance_date", DATE),
                             col_plain("length_of_stay", INTEGER), col_plain("cost", DECIMAL),
                             col_new("age_band", CATEGORICAL, true, 2, "0-17", "18-64"),
                             col_new("esc\x1b[2J", CATEGORICAL, false, 3, "say \"hi\"\\",
                                     "tab\there", "c1\xc2\x85"))),
        node_new("council", false, 0));
}

static void assert_render(const Hearth__CatalogueReply *r, client_format_t fmt,
                          const char *expected)
{
    char *got = client_catalogue_render(r, fmt);
    cr_assert_not_null(got);
    cr_assert_str_eq(got, expected);
    free(got);
}

Test(client_catalogue, json_lists_nodes_datasets_columns_types_and_values)
{
    Hearth__CatalogueReply *r = partnership();
    assert_render(
        r, CLIENT_FORMAT_JSON,
        "{\"nodes\": [{\"node\": \"trust\", \"connected\": true, \"datasets\": [{\"dataset\": "
        "\"trust.ae_attendances\", \"columns\": [{\"name\": \"ward\", \"type\": \"categorical\", "
        "\"values\": [\"Abbey\", \"St Mary's\", \"\"], \"values_truncated\": false}, {\"name\": "
        "\"attendance_date\", \"type\": \"date\"}, {\"name\": \"length_of_stay\", \"type\": "
        "\"integer\"}, {\"name\": \"cost\", \"type\": \"decimal\"}, {\"name\": \"age_band\", "
        "\"type\": \"categorical\", \"values\": [\"0-17\", \"18-64\"], \"values_truncated\": "
        "true}, {\"name\": \"esc\\u001b[2J\", \"type\": \"categorical\", \"values\": [\"say "
        "\\\"hi\\\"\\\\\", \"tab\\there\", \"c1\xc2\x85\"], \"values_truncated\": false}]}]}, "
        "{\"node\": \"council\", \"connected\": false, \"datasets\": []}]}\n");
    reply_free(r);
}

Test(client_catalogue, table_lists_each_node_dataset_and_column_aligned)
{
    Hearth__CatalogueReply *r = partnership();
    char expected[2048];
    snprintf(expected, sizeof expected, "%s%s",
             "trust (connected)\n"
             "  trust.ae_attendances\n"
             "    ward             categorical  'Abbey', 'St Mary''s', ''\n"
             "    attendance_date  date\n"
             "    length_of_stay   integer\n"
             "    cost             decimal\n"
             "    age_band         categorical  '0-17', '18-64', \u2026 and more\n"
             "    esc\\x1b[2J       categorical  'say \"hi\"\\', 'tab\\x09here', 'c1\\u0085'\n"
             "\n"
             "council (not connected)\n"
             "  (no datasets known to the gateway)\n",
             FOOTER);
    assert_render(r, CLIENT_FORMAT_TABLE, expected);
    reply_free(r);
}

Test(client_catalogue, table_wraps_long_value_lists_under_the_first_value)
{
    Hearth__CatalogueReply *r = reply_new(
        1, node_new("n", true, 1,
                    dataset_new("d", 1,
                                col_new("c", CATEGORICAL, true, 11, "value-0001", "value-0002",
                                        "value-0003", "value-0004", "value-0005", "value-0006",
                                        "value-0007", "value-0008", "value-0009", "value-0010",
                                        "value-0011"))));
    char expected[2048];
    snprintf(expected, sizeof expected, "%s%s",
             "n (connected)\n"
             "  n.d\n"
             "    c  categorical  'value-0001', 'value-0002', 'value-0003', 'value-0004',\n"
             "                    'value-0005', 'value-0006', 'value-0007', 'value-0008',\n"
             "                    'value-0009', 'value-0010', 'value-0011', \u2026 and more\n",
             FOOTER);
    assert_render(r, CLIENT_FORMAT_TABLE, expected);
    reply_free(r);
}

Test(client_catalogue, table_gives_a_value_wider_than_the_room_a_line_of_its_own)
{
    const char *wide = "a-value-of-sixty-one-characters-that-cannot-fit-beside-others";
    cr_assert_eq(strlen(wide), 61);
    Hearth__CatalogueReply *r = reply_new(
        1, node_new("n", true, 1,
                    dataset_new("d", 1, col_new("c", CATEGORICAL, false, 3, "x", wide, "y"))));
    char expected[2048];
    snprintf(expected, sizeof expected,
             "n (connected)\n"
             "  n.d\n"
             "    c  categorical  'x',\n"
             "                    '%s',\n"
             "                    'y'\n"
             "%s",
             wide, FOOTER);
    assert_render(r, CLIENT_FORMAT_TABLE, expected);
    reply_free(r);
}

Test(client_catalogue, table_keeps_some_room_for_values_beside_very_long_names)
{
    /* 60 + 4 + 2 + 11 + 2 = 79 columns before the values: they get 24. */
    char name[61];
    memset(name, 'n', 60);
    name[60] = '\0';
    Hearth__CatalogueReply *r = reply_new(
        1, node_new("n", true, 1,
                    dataset_new("d", 1,
                                col_new(name, CATEGORICAL, false, 3, "alpha", "bravo-bravo",
                                        "charlie-charlie"))));
    char *got = client_catalogue_render(r, CLIENT_FORMAT_TABLE);
    cr_assert_not_null(got);
    char expected[1024];
    snprintf(expected, sizeof expected,
             "    %s  categorical  'alpha', 'bravo-bravo',\n"
             "%79s'charlie-charlie'\n",
             name, "");
    cr_assert_not_null(strstr(got, expected), "got:\n%s", got);
    free(got);
    reply_free(r);
}

Test(client_catalogue, categorical_column_with_no_listed_value_says_so)
{
    Hearth__CatalogueReply *r = reply_new(
        1, node_new("n", true, 1, dataset_new("d", 1, col_plain("rare", CATEGORICAL))));
    char expected[1024];
    snprintf(expected, sizeof expected, "%s%s",
             "n (connected)\n"
             "  n.d\n"
             "    rare  categorical  (no value held by at least 8 people)\n",
             FOOTER);
    assert_render(r, CLIENT_FORMAT_TABLE, expected);
    assert_render(r, CLIENT_FORMAT_JSON,
                  "{\"nodes\": [{\"node\": \"n\", \"connected\": true, \"datasets\": "
                  "[{\"dataset\": \"n.d\", \"columns\": [{\"name\": \"rare\", \"type\": "
                  "\"categorical\", \"values\": [], \"values_truncated\": false}]}]}]}\n");
    reply_free(r);
}

Test(client_catalogue, type_unknown_to_this_client_is_named_unknown_without_values)
{
    Hearth__CatalogueReply *r = reply_new(
        1, node_new("n", true, 1,
                    dataset_new("d", 2, col_new("future", (Hearth__ColumnType)42, false, 1, "v"),
                                col_plain("x", INTEGER))));
    char expected[1024];
    snprintf(expected, sizeof expected, "%s%s",
             "n (connected)\n"
             "  n.d\n"
             "    future  unknown\n"
             "    x       integer\n",
             FOOTER);
    assert_render(r, CLIENT_FORMAT_TABLE, expected);
    assert_render(r, CLIENT_FORMAT_JSON,
                  "{\"nodes\": [{\"node\": \"n\", \"connected\": true, \"datasets\": "
                  "[{\"dataset\": \"n.d\", \"columns\": [{\"name\": \"future\", \"type\": "
                  "\"unknown\"}, {\"name\": \"x\", \"type\": \"integer\"}]}]}]}\n");
    reply_free(r);
}

Test(client_catalogue, dataset_without_columns_and_empty_reply_render)
{
    Hearth__CatalogueReply *r = reply_new(1, node_new("n", false, 1, dataset_new("d", 0)));
    char expected[1024];
    snprintf(expected, sizeof expected, "%s%s",
             "n (not connected)\n"
             "  n.d\n"
             "    (no columns)\n",
             FOOTER);
    assert_render(r, CLIENT_FORMAT_TABLE, expected);
    assert_render(r, CLIENT_FORMAT_JSON,
                  "{\"nodes\": [{\"node\": \"n\", \"connected\": false, \"datasets\": "
                  "[{\"dataset\": \"n.d\", \"columns\": []}]}]}\n");
    reply_free(r);

    r = reply_new(0);
    snprintf(expected, sizeof expected, "%s%s", "(no partner nodes known to the gateway)\n",
             FOOTER);
    assert_render(r, CLIENT_FORMAT_TABLE, expected);
    assert_render(r, CLIENT_FORMAT_JSON, "{\"nodes\": []}\n");
    reply_free(r);
}

Test(client_catalogue, null_strings_and_absent_messages_read_as_defaults)
{
    Hearth__CatalogueReply *r = reply_new(
        2, node_new("n", true, 2, dataset_new("d", 2, col_plain("c", DATE), NULL), NULL), NULL);
    free(r->nodes[0]->node);
    r->nodes[0]->node = NULL;
    assert_render(r, CLIENT_FORMAT_JSON,
                  "{\"nodes\": [{\"node\": \"\", \"connected\": true, \"datasets\": "
                  "[{\"dataset\": \".d\", \"columns\": [{\"name\": \"c\", \"type\": \"date\"}, "
                  "{\"name\": \"\", \"type\": \"categorical\", \"values\": [], "
                  "\"values_truncated\": false}]}, {\"dataset\": \".\", \"columns\": []}]}, "
                  "{\"node\": \"\", \"connected\": false, \"datasets\": []}]}\n");
    char *table = client_catalogue_render(r, CLIENT_FORMAT_TABLE);
    cr_assert_not_null(table);
    free(table);
    reply_free(r);
}

Test(client_catalogue, refuses_null_reply_csv_and_unknown_format)
{
    Hearth__CatalogueReply *r = reply_new(0);
    cr_assert_null(client_catalogue_render(NULL, CLIENT_FORMAT_JSON));
    cr_assert_null(client_catalogue_render(r, CLIENT_FORMAT_CSV));
    cr_assert_null(client_catalogue_render(r, (client_format_t)99));
    reply_free(r);
}
