#include "client_audit_time.h"

#include <criterion/criterion.h>
#include <stdint.h>

/* Dates and times as `hearth audit` reads them (--since, --until,
 * --month) and shows them: UTC, in milliseconds since the epoch. */

#define MARCH_4 1741083302000ull   /* 2025-03-04T10:15:02Z */
#define APRIL_1 1743465600000ull   /* 2025-04-01T00:00:00Z */

Test(client_audit_time, times_parse_as_utc_dates_and_date_times)
{
    uint64_t ms = 0;
    cr_assert(client_audit_time_parse("2025-03-04", false, &ms));
    cr_assert_eq(ms, 1741046400000ull);
    cr_assert(client_audit_time_parse("2025-03-04", true, &ms));
    cr_assert_eq(ms, 1741132800000ull);
    cr_assert(client_audit_time_parse("2025-03-04T10:15", true, &ms));
    cr_assert_eq(ms, 1741083300000ull);
    cr_assert(client_audit_time_parse("2025-03-04T10:15:02Z", false, &ms));
    cr_assert_eq(ms, MARCH_4);
    cr_assert(client_audit_time_parse("2025-03-04T10:15:02", false, &ms));
    cr_assert_eq(ms, MARCH_4);
    cr_assert_not(client_audit_time_parse("04/03/2025", false, &ms));
    cr_assert_not(client_audit_time_parse("2025-02-30", false, &ms));
    cr_assert_not(client_audit_time_parse("2025-03-04T24:00", false, &ms));
    cr_assert_not(client_audit_time_parse("2025-03-04 10:15", false, &ms));
    cr_assert_not(client_audit_time_parse("2025-03-04T10:1", false, &ms));
    cr_assert_not(client_audit_time_parse("2025-03-04T10:15:02ZZ", false, &ms));
    cr_assert_not(client_audit_time_parse(NULL, false, &ms));
}

Test(client_audit_time, months_span_first_midnight_to_next_first_midnight)
{
    uint64_t since = 0, until = 0;
    cr_assert(client_audit_time_parse_month("2025-03", &since, &until));
    cr_assert_eq(since, 1740787200000ull);
    cr_assert_eq(until, APRIL_1);
    cr_assert(client_audit_time_parse_month("2024-12", &since, &until));
    cr_assert_eq(until, 1735689600000ull);   /* 2025-01-01 */
    cr_assert_not(client_audit_time_parse_month("2025-13", &since, &until));
    cr_assert_not(client_audit_time_parse_month("2025-3", &since, &until));
    cr_assert_not(client_audit_time_parse_month("2025-03-01", &since, &until));
}

Test(client_audit_time, times_format_as_iso_8601_utc)
{
    char out[32];
    client_audit_time_format(MARCH_4 + 7, false, out);
    cr_assert_str_eq(out, "2025-03-04T10:15:02Z");
    client_audit_time_format(MARCH_4 + 7, true, out);
    cr_assert_str_eq(out, "2025-03-04T10:15:02.007Z");
}
