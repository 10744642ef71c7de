#include "client_audit_parse.h"
#include "hearth_base64.h"
#include "hearth_mem.h"

#include <stdlib.h>

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
