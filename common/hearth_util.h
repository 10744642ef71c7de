/* hearth_util — tiny helpers every program needs: a monotonic clock and
 * the rule for names that appear in queries (nodes, datasets). */
#ifndef HEARTH_UTIL_H
#define HEARTH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when s[0..len) is well-formed UTF-8 without NUL bytes: no overlong
 * forms, surrogates or code points past U+10FFFF. */
bool hearth_utf8_valid(const char *s, size_t len);

/* Parses canonical decimal s[0..len) into *out: digits only, no sign, no
 * leading zero (except "0" itself), no overflow. False otherwise. */
bool hearth_parse_u64(const char *s, size_t len, uint64_t *out);

/* Milliseconds on the monotonic clock (for timeouts, never for dates). */
uint64_t hearth_now_ms(void);

/* Milliseconds since the Unix epoch on the wall clock: for times that are
 * recorded (audit events, ledgers), never for timeouts. */
uint64_t hearth_wall_ms(void);

/* Sleeps for ms milliseconds (interrupted early by a signal). */
void hearth_sleep_ms(long ms);

/* True when s is a valid node or dataset name: 1..63 of [a-z0-9_],
 * starting with a letter. Names appear in queries, so they stay plain. */
bool hearth_name_valid(const char *s);

/* Installs handler for SIGINT and SIGTERM (no SA_RESTART, so blocking
 * calls return EINTR and loops notice the stop promptly). */
void hearth_catch_stop_signals(void (*handler)(int));

#endif
