#include "client_audit_parse.h"
#include "hearth_base64.h"
#include "hearth_mem.h"

#include <stdlib.h>

bool client_audit_parse_u64(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

uint8_t *client_audit_parse_base64(const char *s, size_t len, size_t max, size_t *out_len)
{
    if (len > HEARTH_BASE64_LEN(max))
        return NULL;
    size_t cap = len / 4 * 3 + 1;
    uint8_t *buf = hearth_malloc(cap);
    if (!hearth_base64_decode(s, len, buf, cap, out_len) || *out_len > max) {
        free(buf);
        return NULL;
    }
    return buf;
}
