#include "client_render.h"
#include "hearth_mem.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Results are built on the heap exactly as protobuf-c would unpack them, so
 * hearth__query_result__free_unpacked releases everything and the sanitiser
 * sees no leak. */

static Hearth__Value *val_new(Hearth__Value__KindCase kind)
{
    Hearth__Value *v = hearth_malloc(sizeof *v);
    hearth__value__init(v);
    v->kind_case = kind;
    return v;
}

static Hearth__Value *val_text(const char *s)
{
    Hearth__Value *v = val_new(HEARTH__VALUE__KIND_TEXT);
    v->text = hearth_strdup(s);
    return v;
}

static Hearth__Value *val_int(int64_t i)
{
    Hearth__Value *v = val_new(HEARTH__VALUE__KIND_INTEGER);
    v->integer = i;
    return v;
}

static Hearth__Value *val_dec(double d)
{
    Hearth__Value *v = val_new(HEARTH__VALUE__KIND_DECIMAL);
    v->decimal = d;
    return v;
}

static Hearth__Value *val_null(void)
{
    Hearth__Value *v = val_new(HEARTH__VALUE__KIND_NULL);
    v->null = 1;
    return v;
}

/* A cell holding value (taken; may be NULL) and ngroup group values. */
static Hearth__Cell *cell_new(Hearth__Value *value, bool suppressed, size_t ngroup, ...)
{
    Hearth__Cell *c = hearth_malloc(sizeof *c);
    hearth__cell__init(c);
    c->value = value;
    c->suppressed = suppressed;
    c->n_group = ngroup;
    c->group = ngroup ? hearth_calloc(ngroup, sizeof *c->group) : NULL;
    va_list ap;
    va_start(ap, ngroup);
    for (size_t i = 0; i < ngroup; i++)
        c->group[i] = va_arg(ap, Hearth__Value *);
    va_end(ap);
    return c;
}

static Hearth__QueryResult *result_new(const char *id, Hearth__QueryStatus status,
                                       const char *measure)
{
    Hearth__QueryResult *r = hearth_malloc(sizeof *r);
    hearth__query_result__init(r);
    r->query_id = hearth_strdup(id);
    r->status = status;
    r->measure = hearth_strdup(measure);
    return r;
}

static void result_group_by(Hearth__QueryResult *r, const char *name)
{
    r->group_by = hearth_reallocarray(r->group_by, r->n_group_by + 1, sizeof *r->group_by);
    r->group_by[r->n_group_by++] = hearth_strdup(name);
}

static void result_row(Hearth__QueryResult *r, Hearth__Cell *c)
{
    r->rows = hearth_reallocarray(r->rows, r->n_rows + 1, sizeof *r->rows);
    r->rows[r->n_rows++] = c;
}

static void result_disclosure(Hearth__QueryResult *r, uint32_t threshold, uint32_t rounding,
                              uint32_t suppressed_cells)
{
    r->disclosure = hearth_malloc(sizeof *r->disclosure);
    hearth__disclosure__init(r->disclosure);
    r->disclosure->threshold = threshold;
    r->disclosure->rounding = rounding;
    r->disclosure->suppressed_cells = suppressed_cells;
    /* What a gateway with the default rules sends besides. */
    r->disclosure->protection = 3;
}

static void result_node(Hearth__QueryResult *r, const char *node, const char *status,
                        uint32_t ms)
{
    Hearth__NodeStatus *n = hearth_malloc(sizeof *n);
    hearth__node_status__init(n);
    n->node = hearth_strdup(node);
    n->status = hearth_strdup(status);
    n->ms = ms;
    r->nodes = hearth_reallocarray(r->nodes, r->n_nodes + 1, sizeof *r->nodes);
    r->nodes[r->n_nodes++] = n;
}

static void result_reason(Hearth__QueryResult *r, const char *reason)
{
    r->reason = hearth_strdup(reason);
}

static void result_free(Hearth__QueryResult *r)
{
    hearth__query_result__free_unpacked(r, NULL);
}

/* The product brief's example result. */
static Hearth__QueryResult *brief_example(void)
{
    Hearth__QueryResult *r = result_new("q", HEARTH__QUERY_STATUS__STATUS_RELEASED,
                                        "count_persons");
    result_group_by(r, "ward");
    result_row(r, cell_new(val_int(120), false, 1, val_text("Abbey")));
    result_row(r, cell_new(NULL, true, 1, val_text("Priory")));
    r->total = cell_new(val_int(1405), false, 0);
    result_disclosure(r, 7, 5, 1);
    result_node(r, "trust", "ok", 12);
    return r;
}

static Hearth__QueryResult *no_group_example(void)
{
    Hearth__QueryResult *r = result_new("q2", HEARTH__QUERY_STATUS__STATUS_RELEASED,
                                        "count_records");
    r->total = cell_new(val_int(85), false, 0);
    result_disclosure(r, 7, 5, 0);
    result_node(r, "trust", "ok", 3);
    result_node(r, "council", "ok", 4);
    return r;
}

static Hearth__QueryResult *partial_example(void)
{
    Hearth__QueryResult *r = result_new("q4", HEARTH__QUERY_STATUS__STATUS_PARTIAL,
                                        "count_persons");
    result_group_by(r, "ward");
    result_row(r, cell_new(val_int(40), false, 1, val_text("Abbey")));
    r->total = cell_new(val_int(40), false, 0);
    result_disclosure(r, 7, 5, 0);
    result_node(r, "trust", "ok", 12);
    result_node(r, "council", "timeout", 5000);
    result_node(r, "charity", "ok", 9);
    return r;
}

static Hearth__QueryResult *refused_example(const char *reason)
{
    Hearth__QueryResult *r = result_new("q3", HEARTH__QUERY_STATUS__STATUS_REFUSED, "");
    result_reason(r, reason);
    return r;
}

/* Renders r, compares with want, frees both. */
static void expect_render(Hearth__QueryResult *r, client_format_t fmt, const char *want)
{
    char *got = client_render_result(r, fmt);
    cr_assert_not_null(got);
    cr_expect_str_eq(got, want);
    free(got);
    result_free(r);
}

/* --- format names -------------------------------------------------------- */

Test(client_render, parses_format_names)
{
    client_format_t f = CLIENT_FORMAT_JSON;
    cr_expect(client_format_parse("table", &f));
    cr_expect_eq(f, CLIENT_FORMAT_TABLE);
    cr_expect(client_format_parse("csv", &f));
    cr_expect_eq(f, CLIENT_FORMAT_CSV);
    cr_expect(client_format_parse("json", &f));
    cr_expect_eq(f, CLIENT_FORMAT_JSON);
}

Test(client_render, refuses_unknown_format_names)
{
    client_format_t f = CLIENT_FORMAT_CSV;
    cr_expect_not(client_format_parse("JSON", &f));
    cr_expect_not(client_format_parse("xml", &f));
    cr_expect_not(client_format_parse("", &f));
    cr_expect_not(client_format_parse(NULL, &f));
    cr_expect_eq(f, CLIENT_FORMAT_CSV);
}

Test(client_render, returns_null_for_null_result_or_bad_format)
{
    cr_expect_null(client_render_result(NULL, CLIENT_FORMAT_JSON));
    Hearth__QueryResult *r = brief_example();
    cr_expect_null(client_render_result(r, (client_format_t)42));
    result_free(r);
}

/* --- JSON ---------------------------------------------------------------- */

Test(client_render, json_reproduces_brief_example)
{
    expect_render(brief_example(), CLIENT_FORMAT_JSON,
                  "{\"query_id\": \"q\", \"status\": \"released\", \"measure\": "
                  "\"count_persons\", \"group_by\": [\"ward\"], \"rows\": [{\"group\": "
                  "{\"ward\": \"Abbey\"}, \"value\": 120, \"suppressed\": false}, "
                  "{\"group\": {\"ward\": \"Priory\"}, \"value\": null, \"suppressed\": "
                  "true}], \"total\": {\"value\": 1405, \"suppressed\": false}, "
                  "\"disclosure\": {\"threshold\": 7, \"rounding\": 5, "
                  "\"suppressed_cells\": 1, \"zeros\": "
                  "\"released\", \"protection\": 3, \"dominance\": \"off\", "
                  "\"project\": null}, \"nodes\": [{\"node\": \"trust\", "
                  "\"status\": \"ok\", \"ms\": 12}]}\n");
}

Test(client_render, json_without_group_by_has_empty_rows_and_total)
{
    expect_render(no_group_example(), CLIENT_FORMAT_JSON,
                  "{\"query_id\": \"q2\", \"status\": \"released\", \"measure\": "
                  "\"count_records\", \"group_by\": [], \"rows\": [], \"total\": "
                  "{\"value\": 85, \"suppressed\": false}, \"disclosure\": {\"threshold\": "
                  "7, \"rounding\": 5, \"suppressed_cells\": 0, \"zeros\": "
                  "\"released\", \"protection\": 3, \"dominance\": \"off\", "
                  "\"project\": null}, \"nodes\": [{\"node\": "
                  "\"trust\", \"status\": \"ok\", \"ms\": 3}, {\"node\": \"council\", "
                  "\"status\": \"ok\", \"ms\": 4}]}\n");
}

Test(client_render, json_refused_carries_reason_and_no_table)
{
    Hearth__QueryResult *r = refused_example("dataset charity.referrals is not approved");
    result_node(r, "trust", "ok", 1);
    /* Even if a refused result carried cells, none is rendered. */
    r->total = cell_new(val_int(5), false, 0);
    expect_render(r, CLIENT_FORMAT_JSON,
                  "{\"query_id\": \"q3\", \"status\": \"refused\", \"reason\": "
                  "\"dataset charity.referrals is not approved\", \"nodes\": [{\"node\": "
                  "\"trust\", \"status\": \"ok\", \"ms\": 1}]}\n");
}

Test(client_render, json_error_has_refused_shape)
{
    Hearth__QueryResult *r = result_new("q5", HEARTH__QUERY_STATUS__STATUS_ERROR, "");
    result_reason(r, "no node answered");
    expect_render(r, CLIENT_FORMAT_JSON,
                  "{\"query_id\": \"q5\", \"status\": \"error\", \"reason\": "
                  "\"no node answered\", \"nodes\": []}\n");
}

Test(client_render, json_partial_lists_missing_nodes_after_nodes)
{
    Hearth__QueryResult *r = partial_example();
    result_node(r, "university", "error", 20);
    expect_render(r, CLIENT_FORMAT_JSON,
                  "{\"query_id\": \"q4\", \"status\": \"partial\", \"measure\": "
                  "\"count_persons\", \"group_by\": [\"ward\"], \"rows\": [{\"group\": "
                  "{\"ward\": \"Abbey\"}, \"value\": 40, \"suppressed\": false}], "
                  "\"total\": {\"value\": 40, \"suppressed\": false}, \"disclosure\": "
                  "{\"threshold\": 7, \"rounding\": 5, \"suppressed_cells\": 0, \"zeros\": "
                  "\"released\", \"protection\": 3, \"dominance\": \"off\", "
                  "\"project\": null}, "
                  "\"nodes\": [{\"node\": \"trust\", \"status\": \"ok\", \"ms\": 12}, "
                  "{\"node\": \"council\", \"status\": \"timeout\", \"ms\": 5000}, "
                  "{\"node\": \"charity\", \"status\": \"ok\", \"ms\": 9}, {\"node\": "
                  "\"university\", \"status\": \"error\", \"ms\": 20}], \"missing\": "
                  "[\"council\", \"university\"]}\n");
}

Test(client_render, json_escapes_group_values_and_names)
{
    Hearth__QueryResult *r = result_new("q\"6", HEARTH__QUERY_STATUS__STATUS_RELEASED,
                                        "count_persons");
    result_group_by(r, "w\\a\"rd");
    result_row(r, cell_new(val_int(10), false, 1,
                           val_text("say \"hi\"\nto\tC:\\x\r\x01\x1f\x7f Ynys M\xc3\xb4n")));
    r->total = cell_new(val_int(10), false, 0);
    result_disclosure(r, 7, 5, 0);
    expect_render(r, CLIENT_FORMAT_JSON,
                  "{\"query_id\": \"q\\\"6\", \"status\": \"released\", \"measure\": "
                  "\"count_persons\", \"group_by\": [\"w\\\\a\\\"rd\"], \"rows\": "
                  "[{\"group\": {\"w\\\\a\\\"rd\": \"say \\\"hi\\\"\\nto\\tC:\\\\x\\r"
                  "\\u0001\\u001f\x7f Ynys M\xc3\xb4n\"}, \"value\": 10, \"suppressed\": "
                  "false}], \"total\": {\"value\": 10, \"suppressed\": false}, "
                  "\"disclosure\": {\"threshold\": 7, \"rounding\": 5, "
                  "\"suppressed_cells\": 0, \"zeros\": "
                  "\"released\", \"protection\": 3, \"dominance\": \"off\", "
                  "\"project\": null}, \"nodes\": []}\n");
}

Test(client_render, json_escapes_reason)
{
    expect_render(refused_example("column \"nhs\"\nis an identifier\x02"), CLIENT_FORMAT_JSON,
                  "{\"query_id\": \"q3\", \"status\": \"refused\", \"reason\": "
                  "\"column \\\"nhs\\\"\\nis an identifier\\u0002\", \"nodes\": []}\n");
}

Test(client_render, json_format_directives_in_strings_are_data)
{
    expect_render(refused_example("%s%n%x"), CLIENT_FORMAT_JSON,
                  "{\"query_id\": \"q3\", \"status\": \"refused\", \"reason\": "
                  "\"%s%n%x\", \"nodes\": []}\n");
}

Test(client_render, json_value_kinds)
{
    Hearth__QueryResult *r = result_new("q7", HEARTH__QUERY_STATUS__STATUS_RELEASED, "mean");
    result_group_by(r, "band");
    result_group_by(r, "year");
    result_row(r, cell_new(val_dec(12.34), false, 2, val_null(), val_int(2024)));
    result_row(r, cell_new(val_dec(-0.06), false, 2, val_text("75+"), val_dec(1.5)));
    result_row(r, cell_new(val_text("n/a"), false, 2, val_text("65-74"), val_int(-3)));
    /* Fewer group values than columns, and a value with no kind set. */
    result_row(r, cell_new(val_new(HEARTH__VALUE__KIND__NOT_SET), false, 1, val_text("x")));
    result_row(r, cell_new(val_dec(NAN), false, 2, val_text("y"), val_null()));
    r->total = cell_new(val_dec(1e6), false, 0);
    result_disclosure(r, 7, 5, 0);
    expect_render(r, CLIENT_FORMAT_JSON,
                  "{\"query_id\": \"q7\", \"status\": \"released\", \"measure\": \"mean\", "
                  "\"group_by\": [\"band\", \"year\"], \"rows\": ["
                  "{\"group\": {\"band\": null, \"year\": 2024}, \"value\": 12.3, "
                  "\"suppressed\": false}, "
                  "{\"group\": {\"band\": \"75+\", \"year\": 1.5}, \"value\": -0.1, "
                  "\"suppressed\": false}, "
                  "{\"group\": {\"band\": \"65-74\", \"year\": -3}, \"value\": \"n/a\", "
                  "\"suppressed\": false}, "
                  "{\"group\": {\"band\": \"x\", \"year\": null}, \"value\": null, "
                  "\"suppressed\": false}, "
                  "{\"group\": {\"band\": \"y\", \"year\": null}, \"value\": null, "
                  "\"suppressed\": false}], "
                  "\"total\": {\"value\": 1000000.0, \"suppressed\": false}, "
                  "\"disclosure\": {\"threshold\": 7, \"rounding\": 5, "
                  "\"suppressed_cells\": 0, \"zeros\": "
                  "\"released\", \"protection\": 3, \"dominance\": \"off\", "
                  "\"project\": null}, \"nodes\": []}\n");
}

Test(client_render, suppressed_cell_value_is_never_rendered)
{
    Hearth__QueryResult *r = brief_example();
    /* A buggy gateway leaves the true count in a suppressed cell. */
    r->rows[1]->value = val_int(3);
    r->total->suppressed = true;
    char *json = client_render_result(r, CLIENT_FORMAT_JSON);
    char *csv = client_render_result(r, CLIENT_FORMAT_CSV);
    char *table = client_render_result(r, CLIENT_FORMAT_TABLE);
    cr_assert(json && csv && table);
    cr_expect_not_null(strstr(json, "{\"ward\": \"Priory\"}, \"value\": null, "
                                    "\"suppressed\": true}"));
    cr_expect_not_null(strstr(json, "\"total\": {\"value\": null, \"suppressed\": true}"));
    cr_expect_not_null(strstr(csv, "\nPriory,,true\nTotal,,true\n"));
    cr_expect_null(strchr(table, '3'));
    cr_expect_null(strstr(table, "1405"));
    free(json);
    free(csv);
    free(table);
    result_free(r);
}

Test(client_render, json_absent_total_and_disclosure_read_as_defaults)
{
    Hearth__QueryResult *r = result_new("q8", HEARTH__QUERY_STATUS__STATUS_RELEASED,
                                        "count_records");
    expect_render(r, CLIENT_FORMAT_JSON,
                  "{\"query_id\": \"q8\", \"status\": \"released\", \"measure\": "
                  "\"count_records\", \"group_by\": [], \"rows\": [], \"total\": "
                  "{\"value\": null, \"suppressed\": false}, \"disclosure\": {\"threshold\": "
                  "0, \"rounding\": 0, \"suppressed_cells\": 0, \"zeros\": "
                  "\"released\", \"protection\": 0, \"dominance\": \"off\", "
                  "\"project\": null}, \"nodes\": []}\n");
}

/* A result under a project with every rule beyond the defaults in force. */
static Hearth__QueryResult *strict_example(const char *measure, bool dp)
{
    Hearth__QueryResult *r = result_new("q9", HEARTH__QUERY_STATUS__STATUS_RELEASED, measure);
    r->total = cell_new(val_int(120), false, 0);
    result_disclosure(r, 10, 10, 0);
    r->disclosure->zeros_disclosive = true;
    r->disclosure->protection = 4;
    r->disclosure->dominance = hearth_strdup("n,k 2 85");
    r->disclosure->project = hearth_strdup("audit");
    if (dp) {
        r->disclosure->dp_epsilon = hearth_strdup("0.5");
        r->disclosure->dp_budget_remaining = hearth_strdup("1.5");
    }
    return r;
}

Test(client_render, json_states_every_rule_applied_and_dp_last)
{
    expect_render(strict_example("count_persons", true), CLIENT_FORMAT_JSON,
                  "{\"query_id\": \"q9\", \"status\": \"released\", \"measure\": "
                  "\"count_persons\", \"group_by\": [], \"rows\": [], \"total\": "
                  "{\"value\": 120, \"suppressed\": false}, \"disclosure\": {\"threshold\": "
                  "10, \"rounding\": 10, \"suppressed_cells\": 0, \"zeros\": \"disclosive\", "
                  "\"protection\": 4, \"dominance\": \"n,k 2 85\", \"project\": \"audit\", "
                  "\"dp\": {\"epsilon\": \"0.5\", \"budget_remaining\": \"1.5\"}}, "
                  "\"nodes\": []}\n");
}

Test(client_render, json_has_no_dp_object_without_noise)
{
    expect_render(strict_example("count_persons", false), CLIENT_FORMAT_JSON,
                  "{\"query_id\": \"q9\", \"status\": \"released\", \"measure\": "
                  "\"count_persons\", \"group_by\": [], \"rows\": [], \"total\": "
                  "{\"value\": 120, \"suppressed\": false}, \"disclosure\": {\"threshold\": "
                  "10, \"rounding\": 10, \"suppressed_cells\": 0, \"zeros\": \"disclosive\", "
                  "\"protection\": 4, \"dominance\": \"n,k 2 85\", \"project\": \"audit\"}, "
                  "\"nodes\": []}\n");
}

Test(client_render, json_escapes_the_disclosure_strings)
{
    Hearth__QueryResult *r = strict_example("count_persons", true);
    free(r->disclosure->project);
    r->disclosure->project = hearth_strdup("a\"b\n");
    char *json = client_render_result(r, CLIENT_FORMAT_JSON);
    cr_assert_not_null(json);
    cr_expect_not_null(strstr(json, "\"project\": \"a\\\"b\\n\""), "%s", json);
    free(json);
    result_free(r);
}

Test(client_render, table_footer_states_the_rules_beyond_the_defaults)
{
    /* A count: zeros and noise are stated; the dominance rule, which acts
     * on sums and means only, is not. */
    expect_render(strict_example("count_persons", true), CLIENT_FORMAT_TABLE,
                  "       count_persons\n"
                  "-----  -------------\n"
                  "Total            120\n"
                  "\n"
                  "Counts 1\u201310 suppressed; released counts rounded to the nearest 10; "
                  "0 cell(s) suppressed.\n"
                  "Zeros hidden like small counts.\n"
                  "Counts include random noise (differential privacy, epsilon 0.5 on each "
                  "count); privacy budget left for project audit: 1.5.\n"
                  "query q9\n");
}

Test(client_render, table_footer_states_the_dominance_rule_for_sums)
{
    expect_render(strict_example("sum", false), CLIENT_FORMAT_TABLE,
                  "       sum\n"
                  "-----  ---\n"
                  "Total  120\n"
                  "\n"
                  "Cells behind 1\u201310 people suppressed; sums rounded to the nearest 10; "
                  "0 cell(s) suppressed.\n"
                  "Zeros hidden like small counts.\n"
                  "Cells dominated by a few contributors suppressed (dominance rule n,k 2 "
                  "85).\n"
                  "query q9\n");
}

Test(client_render, table_footer_is_unchanged_under_the_default_rules)
{
    Hearth__QueryResult *r = brief_example();
    char *out = client_render_result(r, CLIENT_FORMAT_TABLE);
    cr_assert_not_null(out);
    cr_expect_null(strstr(out, "Zeros"));
    cr_expect_null(strstr(out, "noise"));
    cr_expect_null(strstr(out, "dominan"));
    free(out);
    result_free(r);
}

/* --- CSV ----------------------------------------------------------------- */

Test(client_render, csv_brief_example_with_total_row)
{
    expect_render(brief_example(), CLIENT_FORMAT_CSV,
                  "ward,value,suppressed\n"
                  "Abbey,120,false\n"
                  "Priory,,true\n"
                  "Total,1405,false\n");
}

Test(client_render, csv_quotes_fields_with_commas_quotes_and_line_breaks)
{
    Hearth__QueryResult *r = result_new("q9", HEARTH__QUERY_STATUS__STATUS_RELEASED,
                                        "count_persons");
    result_group_by(r, "ward, old");
    result_group_by(r, "tenure");
    result_row(r, cell_new(val_int(15), false, 2, val_text("St \"Mary's\""),
                           val_text("social\nrented")));
    result_row(r, cell_new(val_int(20), false, 2, val_text("Abbey,North"),
                           val_text("cr\rhere")));
    result_row(r, cell_new(NULL, true, 2, val_null(), val_text("plain")));
    result_row(r, cell_new(val_dec(2.25e1), false, 2, val_int(7), val_text("")));
    r->total = cell_new(NULL, true, 0);
    result_disclosure(r, 7, 5, 2);
    expect_render(r, CLIENT_FORMAT_CSV,
                  "\"ward, old\",tenure,value,suppressed\n"
                  "\"St \"\"Mary's\"\"\",\"social\nrented\",15,false\n"
                  "\"Abbey,North\",\"cr\rhere\",20,false\n"
                  ",plain,,true\n"
                  "7,,22.5,false\n"
                  "Total,,,true\n");
}

Test(client_render, csv_without_group_by_is_one_total_row)
{
    expect_render(no_group_example(), CLIENT_FORMAT_CSV, "value,suppressed\n85,false\n");
}

Test(client_render, csv_refused_is_status_and_reason)
{
    expect_render(refused_example("dataset \"x\", not approved"), CLIENT_FORMAT_CSV,
                  "status,reason\nrefused,\"dataset \"\"x\"\", not approved\"\n");
}

Test(client_render, csv_partial_renders_the_table)
{
    expect_render(partial_example(), CLIENT_FORMAT_CSV,
                  "ward,value,suppressed\nAbbey,40,false\nTotal,40,false\n");
}

/* --- table --------------------------------------------------------------- */

Test(client_render, table_brief_example)
{
    expect_render(brief_example(), CLIENT_FORMAT_TABLE,
                  "ward    count_persons\n"
                  "------  -------------\n"
                  "Abbey             120\n"
                  "Priory     suppressed\n"
                  "------  -------------\n"
                  "Total            1405\n"
                  "\n"
                  "Counts 1\u20137 suppressed; released counts rounded to the nearest 5; "
                  "1 cell(s) suppressed.\n"
                  "query q\n");
}

Test(client_render, table_aligns_by_code_points_over_two_group_columns)
{
    Hearth__QueryResult *r = result_new("q10", HEARTH__QUERY_STATUS__STATUS_RELEASED,
                                        "count_records");
    result_group_by(r, "ward");
    result_group_by(r, "sex");
    result_row(r, cell_new(val_int(25), false, 2, val_text("Ynys M\xc3\xb4n"), val_text("F")));
    result_row(r, cell_new(val_int(30), false, 2, val_text("Abbey"), val_null()));
    r->total = cell_new(val_int(55), false, 0);
    result_disclosure(r, 10, 10, 0);
    expect_render(r, CLIENT_FORMAT_TABLE,
                  "ward      sex     count_records\n"
                  "--------  ------  -------------\n"
                  "Ynys M\xc3\xb4n  F                  25\n"
                  "Abbey     (none)             30\n"
                  "--------  ------  -------------\n"
                  "Total                        55\n"
                  "\n"
                  "Counts 1\u201310 suppressed; released counts rounded to the nearest 10; "
                  "0 cell(s) suppressed.\n"
                  "query q10\n");
}

Test(client_render, table_without_group_by_shows_total_only)
{
    expect_render(no_group_example(), CLIENT_FORMAT_TABLE,
                  "       count_records\n"
                  "-----  -------------\n"
                  "Total             85\n"
                  "\n"
                  "Counts 1\u20137 suppressed; released counts rounded to the nearest 5; "
                  "0 cell(s) suppressed.\n"
                  "query q2\n");
}

Test(client_render, table_refused_shows_reason_and_query_id)
{
    expect_render(refused_example("dataset charity.referrals is not approved"),
                  CLIENT_FORMAT_TABLE,
                  "refused: dataset charity.referrals is not approved\nquery q3\n");
}

Test(client_render, table_partial_names_missing_nodes)
{
    expect_render(partial_example(), CLIENT_FORMAT_TABLE,
                  "ward   count_persons\n"
                  "-----  -------------\n"
                  "Abbey             40\n"
                  "-----  -------------\n"
                  "Total             40\n"
                  "\n"
                  "Counts 1\u20137 suppressed; released counts rounded to the nearest 5; "
                  "0 cell(s) suppressed.\n"
                  "partial: no answer from council (timeout)\n"
                  "query q4\n");
}

Test(client_render, table_shows_control_characters_visibly)
{
    Hearth__QueryResult *r = result_new("q\n11", HEARTH__QUERY_STATUS__STATUS_RELEASED,
                                        "count_persons");
    result_group_by(r, "ward");
    /* An escape sequence that would clear the screen, and a C1 CSI. */
    result_row(r, cell_new(val_int(10), false, 1, val_text("a\x1b[2Jb\xc2\x9b")));
    r->total = cell_new(val_int(10), false, 0);
    result_disclosure(r, 7, 5, 0);
    expect_render(r, CLIENT_FORMAT_TABLE,
                  "ward             count_persons\n"
                  "---------------  -------------\n"
                  "a\\x1b[2Jb\\u009b             10\n"
                  "---------------  -------------\n"
                  "Total                       10\n"
                  "\n"
                  "Counts 1\u20137 suppressed; released counts rounded to the nearest 5; "
                  "0 cell(s) suppressed.\n"
                  "query q\\x0a11\n");
}

/* --- linkage ------------------------------------------------------------- */

/* The brief's example as a linked query: NHS number only 120, DOB+sex+
 * postcode only 35, both 400, not linked suppressed. */
static Hearth__QueryResult *linked_example(void)
{
    Hearth__QueryResult *r = brief_example();
    r->linkage = hearth_malloc(sizeof *r->linkage);
    hearth__linkage__init(r->linkage);
    r->linkage->nhs_only = cell_new(val_int(120), false, 0);
    r->linkage->dsp_only = cell_new(val_int(35), false, 0);
    r->linkage->both = cell_new(val_int(400), false, 0);
    r->linkage->none = cell_new(NULL, true, 0);
    return r;
}

Test(client_render, json_places_linkage_after_disclosure)
{
    expect_render(linked_example(), CLIENT_FORMAT_JSON,
                  "{\"query_id\": \"q\", \"status\": \"released\", \"measure\": "
                  "\"count_persons\", \"group_by\": [\"ward\"], \"rows\": [{\"group\": "
                  "{\"ward\": \"Abbey\"}, \"value\": 120, \"suppressed\": false}, "
                  "{\"group\": {\"ward\": \"Priory\"}, \"value\": null, \"suppressed\": "
                  "true}], \"total\": {\"value\": 1405, \"suppressed\": false}, "
                  "\"disclosure\": {\"threshold\": 7, \"rounding\": 5, "
                  "\"suppressed_cells\": 1, \"zeros\": "
                  "\"released\", \"protection\": 3, \"dominance\": \"off\", "
                  "\"project\": null}, \"linkage\": {\"nhs_number_only\": "
                  "{\"value\": 120, \"suppressed\": false}, \"dob_sex_postcode_only\": "
                  "{\"value\": 35, \"suppressed\": false}, \"both\": {\"value\": 400, "
                  "\"suppressed\": false}, \"not_linked\": {\"value\": null, "
                  "\"suppressed\": true}}, \"nodes\": [{\"node\": \"trust\", "
                  "\"status\": \"ok\", \"ms\": 12}]}\n");
}

Test(client_render, a_suppressed_or_absent_linkage_value_is_never_rendered)
{
    /* A buggy gateway leaves the true count in a suppressed cell; an absent
     * cell reads as neither value nor suppressed. */
    Hearth__QueryResult *r = linked_example();
    r->linkage->none->value = val_int(3);
    hearth__cell__free_unpacked(r->linkage->both, NULL);
    r->linkage->both = NULL;
    char *json = client_render_result(r, CLIENT_FORMAT_JSON);
    char *table = client_render_result(r, CLIENT_FORMAT_TABLE);
    cr_assert(json && table);
    cr_expect_not_null(strstr(json, "\"both\": {\"value\": null, \"suppressed\": false}, "
                                    "\"not_linked\": {\"value\": null, \"suppressed\": true}}"));
    cr_expect_not_null(strstr(table, "linkage: NHS number only 120, DOB+sex+postcode only 35, "
                                     "both (none), not linked [suppressed]\n"));
    free(json);
    free(table);
    result_free(r);
}

Test(client_render, table_prints_a_linkage_footer)
{
    expect_render(linked_example(), CLIENT_FORMAT_TABLE,
                  "ward    count_persons\n"
                  "------  -------------\n"
                  "Abbey             120\n"
                  "Priory     suppressed\n"
                  "------  -------------\n"
                  "Total            1405\n"
                  "\n"
                  "Counts 1\u20137 suppressed; released counts rounded to the nearest 5; "
                  "1 cell(s) suppressed.\n"
                  "linkage: NHS number only 120, DOB+sex+postcode only 35, both 400, "
                  "not linked [suppressed]\n"
                  "query q\n");
}

Test(client_render, csv_carries_no_linkage)
{
    expect_render(linked_example(), CLIENT_FORMAT_CSV,
                  "ward,value,suppressed\n"
                  "Abbey,120,false\n"
                  "Priory,,true\n"
                  "Total,1405,false\n");
}
