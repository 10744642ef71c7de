#include "client_audit_out.h"

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdlib.h>

/* The bounded, escaped renderings behind list, show, report and the
 * findings `hearth audit` prints. */

Test(client_audit_out, csv_fields_are_quoted_only_when_they_must_be)
{
    client_audit_out_t o;
    client_audit_out_init(&o);
    client_audit_out_csv(&o, "plain");
    client_audit_out_add(&o, ",");
    client_audit_out_csv(&o, "trust,council");
    client_audit_out_add(&o, ",");
    client_audit_out_csv(&o, "say \"no\"");
    client_audit_out_add(&o, ",");
    client_audit_out_csv(&o, "two\nlines");
    char *text = client_audit_out_take(&o);
    cr_assert_str_eq(text, "plain,\"trust,council\",\"say \"\"no\"\"\",\"two\nlines\"");
    free(text);
}

Test(client_audit_out, strings_are_escaped_for_the_terminal_and_json)
{
    client_audit_out_t o;
    client_audit_out_init(&o);
    client_audit_out_term(&o, "a\x1b[2Jb");
    client_audit_out_add(&o, " ");
    client_audit_out_json(&o, "q\"\n");
    client_audit_out_add(&o, " ");
    client_audit_out_u64(&o, UINT64_MAX);
    client_audit_out_spaces(&o, 2);
    client_audit_out_add_n(&o, "xyz", 1);
    char *text = client_audit_out_take(&o);
    cr_assert_str_eq(text, "a\\x1b[2Jb \"q\\\"\\n\" 18446744073709551615  x");
    free(text);
}

Test(client_audit_out, tables_pad_columns_and_end_no_line_in_spaces)
{
    static const char *const header[] = {"NAME", "N", "NOTE"};
    static const bool right[] = {false, true, false};
    static const char *const cells[] = {"alice", "7", "", "bob", "12345", "late"};
    client_audit_out_t o;
    client_audit_out_init(&o);
    client_audit_out_table(&o, 3, header, right, cells, 2);
    char *text = client_audit_out_take(&o);
    cr_assert_str_eq(text,
                     "NAME       N  NOTE\n"
                     "alice      7\n"
                     "bob    12345  late\n");
    free(text);
}
