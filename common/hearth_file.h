/* hearth_file — small, careful file I/O: secret files created O_EXCL and
 * mode 0600 and refused on load when others can read them (as ssh does),
 * and bounded whole-file reads. */
#ifndef HEARTH_FILE_H
#define HEARTH_FILE_H

#include "hearth_err.h"

#include <stddef.h>

/* Creates path with O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600, writes len bytes
 * and fsyncs. Refuses (HEARTH_ERR_EXISTS) if path exists. */
hearth_err_t hearth_file_write_secret(const char *path, const void *data,
                                      size_t len, char **cause)
    __attribute__((warn_unused_result));

/* As hearth_file_write_secret, but mode 0644 (public keys, configs). */
hearth_err_t hearth_file_write_public(const char *path, const void *data,
                                      size_t len, char **cause)
    __attribute__((warn_unused_result));

/* Reads a secret file of at most cap bytes into buf; *len gets its size.
 * Refuses with HEARTH_ERR_PERM when the file is not a regular file owned by
 * the caller, or when its group or world permission bits are set. */
hearth_err_t hearth_file_read_secret(const char *path, void *buf, size_t cap,
                                     size_t *len, char **cause)
    __attribute__((warn_unused_result));

/* Reads a whole file of at most max bytes into a new NUL-terminated buffer
 * (*data, caller frees). HEARTH_ERR_TOO_BIG when larger. */
hearth_err_t hearth_file_read_all(const char *path, size_t max, char **data,
                                  size_t *len, char **cause)
    __attribute__((warn_unused_result));

/* Creates directory path (and missing parents) with the given mode.
 * Existing directories are accepted. */
hearth_err_t hearth_file_mkdirs(const char *path, unsigned mode, char **cause)
    __attribute__((warn_unused_result));

/* Resolves path against dir when path is relative; a new string (caller
 * frees). Config files use this so that paths are relative to the file. */
char *hearth_path_resolve(const char *dir, const char *path);

/* The directory part of path ("." when there is none); caller frees. */
char *hearth_path_dirname(const char *path);

#endif
