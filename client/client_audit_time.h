/* client_audit_time — the times `hearth audit` reads from its command line
 * (--since, --until, --month) and writes in what it shows: UTC always,
 * as milliseconds since the epoch, the unit of an audit event's time. */
#ifndef CLIENT_AUDIT_TIME_H
#define CLIENT_AUDIT_TIME_H

#include <stdbool.h>
#include <stdint.h>

/* Parses a UTC date "YYYY-MM-DD" or date-time "YYYY-MM-DDTHH:MM[:SS][Z]"
 * into milliseconds since the epoch. A bare date is its midnight, or, when
 * end_of_day, the next midnight (so --until DATE includes that day). False
 * for anything else. */
bool client_audit_time_parse(const char *s, bool end_of_day, uint64_t *ms);

/* Parses "YYYY-MM" into [since, until) in milliseconds (UTC). False for
 * anything else. */
bool client_audit_time_parse_month(const char *s, uint64_t *since_ms, uint64_t *until_ms);

/* Writes ms as "YYYY-MM-DDTHH:MM:SSZ" (with_ms: ".mmm" before the Z) into
 * out, which holds 32 bytes. */
void client_audit_time_format(uint64_t ms, bool with_ms, char out[32]);

#endif
