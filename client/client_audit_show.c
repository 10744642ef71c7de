#include "client_audit_show.h"
#include "audit_event.h"
#include "client_audit_out.h"
#include "client_audit_time.h"
#include "hearth_hex.h"
#include "hearth_mem.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
static void put_multiline(client_audit_out_t *o, const char *s, size_t indent)
{
    const char *p = s;
    bool first = true;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char *line = hearth_strndup(p, n);
        if (!first && n > 0)
            client_audit_out_spaces(o, indent);
        client_audit_out_term(o, line);
        client_audit_out_add(o, "\n");
        free(line);
        first = false;
        p += n + (nl ? 1 : 0);
    }
    if (first)
        client_audit_out_add(o, "\n");
}

char *client_audit_show_render(const client_audit_log_t *log, client_format_t fmt)
{
    if (fmt == CLIENT_FORMAT_CSV)
        return NULL;
    client_audit_out_t o;
    client_audit_out_init(&o);
    bool json = fmt == CLIENT_FORMAT_JSON;
    if (json)
        client_audit_out_add(&o, log->n_leaves ? "[" : "[]\n");
    for (size_t i = 0; i < log->n_leaves; i++) {
        audit_event_t e;
        char *cause = NULL;
        bool ok = audit_event_decode(log->leaves[i].data, log->leaves[i].len, &e, &cause) ==
                  HEARTH_OK;
        if (json) {
            client_audit_out_add(&o, i ? ",\n  {\"leaf\": " : "\n  {\"leaf\": ");
            client_audit_out_u64(&o, log->leaves[i].index);
        } else {
            client_audit_out_add(&o, i ? "\nleaf " : "leaf ");
            client_audit_out_u64(&o, log->leaves[i].index);
        }
        if (!ok) {
            if (json) {
                client_audit_out_add(&o, ", \"error\": ");
                client_audit_out_json(&o, cause ? cause : "does not decode");
                client_audit_out_add(&o, "}");
            } else {
                client_audit_out_add(&o, "  does not decode: ");
                client_audit_out_term(&o, cause ? cause : "malformed");
                client_audit_out_add(&o, "\n");
            }
            free(cause);
            continue;
        }
        char when[32];
        client_audit_time_format(e.time_ms, true, when);
        if (json) {
            client_audit_out_add(&o, ", \"time\": \"");
            client_audit_out_add(&o, when);
            client_audit_out_add(&o, "\", \"type\": \"");
            client_audit_out_add(&o, audit_type_name(e.type));
            client_audit_out_add(&o, "\"");
        } else {
            client_audit_out_add(&o, "  ");
            client_audit_out_add(&o, when);
            client_audit_out_add(&o, "  ");
            client_audit_out_add(&o, audit_type_name(e.type));
            client_audit_out_add(&o, "\n");
        }
        for (size_t k = 0; k < sizeof FIELDS / sizeof *FIELDS; k++) {
            if (!(FIELDS[k].types & (1u << e.type)))
                continue;
            bool is_num;
            uint64_t num = 0;
            char hash[65];
            const char *s = field_value(&e, FIELDS[k].field, &is_num, &num, hash);
            if (json) {
                client_audit_out_add(&o, ", \"");
                client_audit_out_add(&o, FIELDS[k].name);
                client_audit_out_add(&o, "\": ");
                if (is_num)
                    client_audit_out_u64(&o, num);
                else
                    client_audit_out_json(&o, s ? s : "");
                continue;
            }
            client_audit_out_add(&o, "    ");
            client_audit_out_add(&o, FIELDS[k].name);
            client_audit_out_spaces(&o, 18 - strlen(FIELDS[k].name));
            if (is_num) {
                client_audit_out_u64(&o, num);
                client_audit_out_add(&o, "\n");
            } else {
                put_multiline(&o, s ? s : "", 22);
            }
        }
        if (json)
            client_audit_out_add(&o, "}");
        audit_event_clear(&e);
    }
    if (json && log->n_leaves)
        client_audit_out_add(&o, "\n]\n");
    return client_audit_out_take(&o);
}
