#include "hearth_file.h"
#include "hearth_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static hearth_err_t write_new(const char *path, const void *data, size_t len,
                              mode_t mode, char **cause)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        hearth_cause_set(cause, "cannot create '%s': %s", path, strerror(errno));
        return errno == EEXIST ? HEARTH_ERR_EXISTS : HEARTH_ERR_IO;
    }
    /* The umask may have cleared bits we asked for, never added any; set
     * the exact mode so a public file is readable as intended. */
    (void)fchmod(fd, mode);
    const unsigned char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            goto fail;
        }
        p += n;
        left -= (size_t)n;
    }
    if (fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    return HEARTH_OK;
fail:
    hearth_cause_set(cause, "cannot write '%s': %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    unlink(path);
    return HEARTH_ERR_IO;
}

hearth_err_t hearth_file_write_secret(const char *path, const void *data,
                                      size_t len, char **cause)
{
    return write_new(path, data, len, 0600, cause);
}

hearth_err_t hearth_file_write_public(const char *path, const void *data,
                                      size_t len, char **cause)
{
    return write_new(path, data, len, 0644, cause);
}

static hearth_err_t read_fd(int fd, const char *path, void *buf, size_t cap,
                            size_t *len, char **cause)
{
    size_t got = 0;
    for (;;) {
        if (got == cap) {
            /* Probe one byte more to tell "exactly cap" from "too big". */
            char extra;
            ssize_t n = read(fd, &extra, 1);
            if (n < 0 && errno == EINTR)
                continue;
            if (n > 0) {
                hearth_cause_set(cause, "'%s' is larger than %zu bytes", path, cap);
                return HEARTH_ERR_TOO_BIG;
            }
            break;
        }
        ssize_t n = read(fd, (char *)buf + got, cap - got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            hearth_cause_set(cause, "cannot read '%s': %s", path, strerror(errno));
            return HEARTH_ERR_IO;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    *len = got;
    return HEARTH_OK;
}

hearth_err_t hearth_file_read_secret(const char *path, void *buf, size_t cap,
                                     size_t *len, char **cause)
{
    hearth_err_t rc;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        hearth_cause_set(cause, "cannot open secret file '%s': %s", path,
                         strerror(errno));
        return errno == ENOENT ? HEARTH_ERR_NOT_FOUND : HEARTH_ERR_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        hearth_cause_set(cause, "cannot stat '%s': %s", path, strerror(errno));
        rc = HEARTH_ERR_IO;
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        hearth_cause_set(cause, "secret file '%s' is not a regular file", path);
        rc = HEARTH_ERR_PERM;
        goto done;
    }
    if (st.st_uid != geteuid()) {
        hearth_cause_set(cause, "secret file '%s' is not owned by the user "
                         "running this program; refusing to use it", path);
        rc = HEARTH_ERR_PERM;
        goto done;
    }
    if ((st.st_mode & 077) != 0) {
        hearth_cause_set(cause, "permissions %04o for '%s' are too open: a "
                         "secret file must be readable by its owner only; "
                         "run: chmod 600 '%s'", (unsigned)(st.st_mode & 07777),
                         path, path);
        rc = HEARTH_ERR_PERM;
        goto done;
    }
    rc = read_fd(fd, path, buf, cap, len, cause);
done:
    close(fd);
    return rc;
}

hearth_err_t hearth_file_read_all(const char *path, size_t max, char **data,
                                  size_t *len, char **cause)
{
    *data = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        hearth_cause_set(cause, "cannot open '%s': %s", path, strerror(errno));
        return errno == ENOENT ? HEARTH_ERR_NOT_FOUND : HEARTH_ERR_IO;
    }
    char *buf = hearth_malloc(max + 1);
    size_t got = 0;
    hearth_err_t rc = read_fd(fd, path, buf, max, &got, cause);
    close(fd);
    if (rc != HEARTH_OK) {
        free(buf);
        return rc;
    }
    buf[got] = '\0';
    *data = buf;
    if (len)
        *len = got;
    return HEARTH_OK;
}

hearth_err_t hearth_file_mkdirs(const char *path, unsigned mode, char **cause)
{
    char *p = hearth_strdup(path);
    hearth_err_t rc = HEARTH_OK;
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST) {
                hearth_cause_set(cause, "cannot create directory '%s': %s", p,
                                 strerror(errno));
                rc = HEARTH_ERR_IO;
                break;
            }
            *s = c;
            if (c == '\0')
                break;
        }
    }
    free(p);
    return rc;
}

char *hearth_path_resolve(const char *dir, const char *path)
{
    if (path[0] == '/' || dir == NULL || dir[0] == '\0')
        return hearth_strdup(path);
    return hearth_asprintf("%s/%s", dir, path);
}

char *hearth_path_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return hearth_strdup(".");
    if (slash == path)
        return hearth_strdup("/");
    return hearth_strndup(path, (size_t)(slash - path));
}
