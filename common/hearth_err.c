#include "hearth_err.h"
#include "hearth_mem.h"

#include <stdio.h>
#include <stdlib.h>

/* No default: the compiler flags any code added to the enum without a
 * message here. */
const char *hearth_strerror(hearth_err_t err)
{
    switch (err) {
    case HEARTH_OK: return "success";
    case HEARTH_ERR_USAGE: return "usage error";
    case HEARTH_ERR_IO: return "input/output error";
    case HEARTH_ERR_PERM: return "insecure file permissions";
    case HEARTH_ERR_EXISTS: return "file already exists";
    case HEARTH_ERR_NOT_FOUND: return "not found";
    case HEARTH_ERR_FORMAT: return "malformed file";
    case HEARTH_ERR_CONFIG: return "configuration error";
    case HEARTH_ERR_CRYPTO: return "cryptographic operation failed";
    case HEARTH_ERR_DB: return "database error";
    case HEARTH_ERR_CSV: return "CSV error";
    case HEARTH_ERR_PROTO: return "malformed message";
    case HEARTH_ERR_VERSION: return "protocol version mismatch";
    case HEARTH_ERR_TOO_BIG: return "input exceeds a limit";
    case HEARTH_ERR_TIMEOUT: return "timed out";
    case HEARTH_ERR_NET: return "network error";
    case HEARTH_ERR_PARSE: return "query error";
    case HEARTH_ERR_REFUSED: return "refused";
    case HEARTH_ERR_INTERNAL: return "internal error";
    }
    return "unknown error";
}

void hearth_cause_vset(char **cause, const char *fmt, va_list ap)
{
    if (cause == NULL)
        return;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        n = 0;
    char *s = hearth_malloc((size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    free(*cause);
    *cause = s;
}

void hearth_cause_set(char **cause, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hearth_cause_vset(cause, fmt, ap);
    va_end(ap);
}
