#include "audit_event.h"
#include "client_audit_events.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decoding a log's leaves and walking its events query by query, as list,
 * reconcile and verify do. */

static client_audit_leaf_t leaf(uint64_t index, audit_event_t e)
{
    client_audit_leaf_t l = {.index = index};
    char *cause = NULL;
    cr_assert_eq(audit_event_encode(&e, &l.data, &l.len, &cause), HEARTH_OK, "%s", cause);
    return l;
}

/* Each call's query id and positions, as "id:pos,pos;". */
static void record(void *ctx, const client_audit_events_pos_t *g, size_t n)
{
    char *out = ctx;
    size_t len = strlen(out);
    len += (size_t)snprintf(out + len, 256 - len, "%s:", g[0].query_id);
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(g[i].query_id, g[0].query_id);
        len += (size_t)snprintf(out + len, 256 - len, "%s%zu", i ? "," : "", g[i].pos);
    }
    snprintf(out + len, 256 - len, ";");
}

Test(client_audit_events, groups_decoded_queries_by_id_skipping_governance_and_junk)
{
    client_audit_leaf_t leaves[6] = {
        leaf(0, (audit_event_t){.type = AUDIT_RECEIVED, .time_ms = 1, .query_id = "q2"}),
        leaf(1, (audit_event_t){.type = AUDIT_RECEIVED, .time_ms = 2, .query_id = "q1"}),
        leaf(2, (audit_event_t){.type = AUDIT_GOVERNANCE, .time_ms = 3, .actor = "admin",
                                .action = "project add"}),
        {.index = 3, .data = (uint8_t *)strdup("\x07\x07\x07"), .len = 3},
        leaf(4, (audit_event_t){.type = AUDIT_REFUSED, .time_ms = 5, .query_id = "q1",
                                .text = "no"}),
        leaf(5, (audit_event_t){.type = AUDIT_REFUSED, .time_ms = 6, .query_id = "q2",
                                .text = "no"}),
    };
    bool *ok = NULL;
    size_t bad = 99;
    audit_event_t *ev = client_audit_events_decode(leaves, 6, &ok, &bad);
    cr_assert_eq(bad, 1);
    cr_assert(ok[0] && ok[1] && ok[2] && !ok[3] && ok[4] && ok[5]);
    cr_assert_eq(ev[2].type, AUDIT_GOVERNANCE);
    cr_assert_str_eq(ev[5].text, "no");
    char seen[256] = "";
    client_audit_events_by_query(ev, ok, 6, record, seen);
    cr_assert_str_eq(seen, "q1:1,4;q2:0,5;");
    client_audit_events_free(ev, 6);
    free(ok);
    for (size_t i = 0; i < 6; i++)
        free(leaves[i].data);
}

Test(client_audit_events, an_empty_log_has_no_queries)
{
    bool *ok = NULL;
    size_t bad = 99;
    audit_event_t *ev = client_audit_events_decode(NULL, 0, &ok, &bad);
    cr_assert_eq(bad, 0);
    char seen[256] = "";
    client_audit_events_by_query(ev, ok, 0, record, seen);
    cr_assert_str_eq(seen, "");
    client_audit_events_free(ev, 0);
    free(ok);
}
