#include "client_audit_findings.h"

#include <criterion/criterion.h>
#include <stdint.h>

/* The findings list verify and reconcile fill and `hearth audit` prints. */

Test(client_audit_findings, sorting_by_leaf_keeps_the_order_within_a_leaf)
{
    client_audit_findings_t f = {0};
    client_audit_findings_add(&f, CLIENT_AUDIT_SEMANTICS, 9, "nine %s", "a");
    client_audit_findings_add(&f, CLIENT_AUDIT_NOTE, 2, "two a");
    client_audit_findings_add(&f, CLIENT_AUDIT_INTEGRITY, 9, "nine b");
    client_audit_findings_add(&f, CLIENT_AUDIT_SEMANTICS, 2, "two %u", 2u);
    client_audit_findings_sort_by_leaf(&f);
    cr_assert_eq(f.n, 4);
    cr_assert_str_eq(f.items[0].message, "two a");
    cr_assert_str_eq(f.items[1].message, "two 2");
    cr_assert_str_eq(f.items[2].message, "nine a");
    cr_assert_str_eq(f.items[3].message, "nine b");
    cr_assert_eq(f.items[3].severity, CLIENT_AUDIT_INTEGRITY);
    cr_assert_eq(f.n_errors, 3);
    client_audit_findings_clear(&f);
    cr_assert_eq(f.n, 0);
    cr_assert_null(f.items);
    client_audit_findings_clear(NULL);
}

Test(client_audit_findings, past_the_bound_findings_are_counted_not_kept)
{
    client_audit_findings_t f = {0}, more = {0};
    for (size_t i = 0; i < CLIENT_AUDIT_MAX_FINDINGS; i++)
        client_audit_findings_add(&f, CLIENT_AUDIT_NOTE, i, "note");
    client_audit_findings_add(&f, CLIENT_AUDIT_INTEGRITY, 1, "dropped");
    cr_assert_eq(f.n, CLIENT_AUDIT_MAX_FINDINGS);
    cr_assert_eq(f.n_dropped, 1);
    cr_assert_eq(f.n_errors, 1);
    client_audit_findings_add(&more, CLIENT_AUDIT_SEMANTICS, CLIENT_AUDIT_NO_LEAF, "moved");
    client_audit_findings_move(&f, &more);
    cr_assert_eq(f.n, CLIENT_AUDIT_MAX_FINDINGS);
    cr_assert_eq(f.n_dropped, 2);
    cr_assert_eq(f.n_errors, 2);
    cr_assert_eq(more.n, 0);
    cr_assert_null(more.items);
    client_audit_findings_clear(&f);
}

Test(client_audit_findings, severities_have_names)
{
    cr_assert_str_eq(client_audit_findings_severity_name(CLIENT_AUDIT_INTEGRITY),
                     "integrity error");
    cr_assert_str_eq(client_audit_findings_severity_name(CLIENT_AUDIT_SEMANTICS),
                     "semantic error");
    cr_assert_str_eq(client_audit_findings_severity_name(CLIENT_AUDIT_NOTE), "note");
}
