/* hearth_err — the one error enum every module returns, and its strerror.
 *
 * Out-of-memory policy (one for the whole project): allocation goes through
 * hearth_malloc/hearth_calloc/hearth_realloc/hearth_strdup (hearth_mem.h),
 * which abort the process with a fixed message when the allocator fails.
 * A data-protection process that cannot allocate cannot make progress safely,
 * and half-handled OOM paths are where leaks and use-after-free live. So no
 * function returns an out-of-memory error; HEARTH_ERR_* codes describe
 * conditions a caller can act on.
 *
 * Human-readable detail travels separately in a `char **cause` out-parameter
 * (tmux style): a heap string the caller frees, never containing an
 * identifier, a token, a key or an unreleased number. */
#ifndef HEARTH_ERR_H
#define HEARTH_ERR_H

#include <stdarg.h>

typedef enum {
    HEARTH_OK = 0,
    HEARTH_ERR_USAGE,      /* bad command line or argument */
    HEARTH_ERR_IO,         /* a file or socket operation failed */
    HEARTH_ERR_PERM,       /* a secret file is readable by others */
    HEARTH_ERR_EXISTS,     /* refusing to overwrite an existing file */
    HEARTH_ERR_NOT_FOUND,  /* a named thing does not exist */
    HEARTH_ERR_FORMAT,     /* a file's content is malformed */
    HEARTH_ERR_CONFIG,     /* a configuration value is missing or invalid */
    HEARTH_ERR_CRYPTO,     /* OpenSSL or CURVE failed */
    HEARTH_ERR_DB,         /* SQLite failed */
    HEARTH_ERR_CSV,        /* a CSV extract could not be read */
    HEARTH_ERR_PROTO,      /* a message failed to decode or validate */
    HEARTH_ERR_VERSION,    /* a peer speaks another protocol version */
    HEARTH_ERR_TOO_BIG,    /* input over a configured bound */
    HEARTH_ERR_TIMEOUT,    /* a peer did not answer in time */
    HEARTH_ERR_NET,        /* ZeroMQ failed */
    HEARTH_ERR_PARSE,      /* a query does not parse or names unknown things */
    HEARTH_ERR_REFUSED,    /* policy says no */
    HEARTH_ERR_INTERNAL    /* an invariant broke: a bug */
} hearth_err_t;

/* Returns a static, constant description of err. */
const char *hearth_strerror(hearth_err_t err);

/* If cause is not NULL, replaces *cause with a newly allocated formatted
 * string (freeing any previous one). The format must be a literal; values
 * from outside are passed only as arguments. */
void hearth_cause_set(char **cause, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void hearth_cause_vset(char **cause, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#endif
