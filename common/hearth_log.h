/* hearth_log — one line per event on standard error:
 *   2026-11-23T10:00:00Z gateway info: message
 * Logging happens at the edges (main loops, CLIs), never deep inside a
 * module. Callers must never pass identifiers, tokens, keys or unreleased
 * numbers; the format is always a literal. */
#ifndef HEARTH_LOG_H
#define HEARTH_LOG_H

typedef enum { HEARTH_LOG_DEBUG, HEARTH_LOG_INFO, HEARTH_LOG_WARN, HEARTH_LOG_ERROR } hearth_log_level_t;

void hearth_log(hearth_log_level_t level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
