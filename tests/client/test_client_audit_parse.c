#include "client_audit_parse.h"
#include "hearth_util.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The strict readers behind the export file, the receipts file and
 * `hearth audit show INDEX`. */

static bool u64(const char *s, uint64_t *out)
{
    return hearth_parse_u64(s, strlen(s), out);
}

Test(client_audit_parse, decimals_must_be_canonical)
{
    uint64_t v = 7;
    cr_assert(u64("0", &v));
    cr_assert_eq(v, 0);
    cr_assert(u64("18446744073709551615", &v));
    cr_assert_eq(v, UINT64_MAX);
    v = 7;
    cr_assert_not(u64("", &v));
    cr_assert_not(u64("00", &v));
    cr_assert_not(u64("012", &v));
    cr_assert_not(u64("+1", &v));
    cr_assert_not(u64("1 ", &v));
    cr_assert_not(u64("18446744073709551616", &v));
    cr_assert_not(u64("184467440737095516150", &v));
    cr_assert_eq(v, 7, "a refused decimal leaves the output alone");
    cr_assert(hearth_parse_u64("123 rest", 3, &v));
    cr_assert_eq(v, 123);
}

Test(client_audit_parse, base64_decodes_strictly_within_its_bound)
{
    size_t len = 0;
    uint8_t *data = client_audit_parse_base64("AQID", 4, 3, &len);
    cr_assert_not_null(data);
    cr_assert_eq(len, 3);
    cr_assert(memcmp(data, "\x01\x02\x03", 3) == 0);
    free(data);
    cr_assert_null(client_audit_parse_base64("AQID", 4, 2, &len));
    cr_assert_null(client_audit_parse_base64("AQE", 3, 16, &len));
    cr_assert_null(client_audit_parse_base64("AQ E=", 5, 16, &len));
    cr_assert_null(client_audit_parse_base64("!!!!", 4, 16, &len));
    data = client_audit_parse_base64("", 0, 0, &len);
    cr_assert_not_null(data);
    cr_assert_eq(len, 0);
    free(data);
}
