#include "hearth_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

void hearth_log(hearth_log_level_t level, const char *component, const char *fmt, ...)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    /* Build the line first so that concurrent writers do not interleave. */
    char line[2048];
    int n = snprintf(line, sizeof line, "%s %s %s: ", ts, component,
                     names[level <= HEARTH_LOG_ERROR ? level : HEARTH_LOG_ERROR]);
    if (n < 0 || (size_t)n >= sizeof line)
        n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line);
    fflush(stderr);
}
