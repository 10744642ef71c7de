/* e2e_util — process, file and CSV helpers for the end-to-end tests.
 * libc and POSIX only: this file is linked into every test binary. */
#include "e2e_util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#ifndef HEARTH_BIN_DIR
#error "HEARTH_BIN_DIR must name the folder of the built programs"
#endif

#define READ_CHUNK 65536
/* How long to wait for processes of a group to go after its leader exits
 * on its own; a sandbox reaps its children before it exits, so anything
 * still there after this is a leftover. */
#define LEFTOVER_GRACE_MS 1000u

/* --- small things ---------------------------------------------------------- */

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        abort(); /* a test cannot go on without memory */
    return q;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xrealloc(NULL, n), s, n);
}

char *e2e_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    char *s = xrealloc(NULL, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Milliseconds left before deadline, as poll() wants them. */
static int remaining(uint64_t deadline)
{
    uint64_t now = now_ms();
    if (now >= deadline)
        return 0;
    uint64_t left = deadline - now;
    return left > INT32_MAX ? INT32_MAX : (int)left;
}

char *e2e_bin(const char *prog)
{
    return e2e_asprintf("%s/%s", HEARTH_BIN_DIR, prog);
}

/* A growable byte string, bounded by E2E_OUTPUT_MAX. */
typedef struct {
    char *data;
    size_t len, cap;
    bool truncated;
} sbuf_t;

static void sbuf_add(sbuf_t *b, const char *s, size_t n)
{
    if (n > E2E_OUTPUT_MAX - b->len) {
        n = E2E_OUTPUT_MAX - b->len;
        b->truncated = true;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

/* Gives the buffer's text away (never NULL). */
static char *sbuf_take(sbuf_t *b, size_t *len)
{
    if (b->data == NULL)
        sbuf_add(b, "", 0);
    char *s = b->data;
    *len = b->len;
    memset(b, 0, sizeof *b);
    return s;
}

/* --- starting processes ------------------------------------------------ */

static int status_of(int wstatus)
{
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus))
        return 128 + WTERMSIG(wstatus);
    return E2E_NOT_STARTED;
}

static void close_fds_from(int lowest)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    if (close_range((unsigned)lowest, ~0u, 0) == 0)
        return;
#endif
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536)
        max = 65536;
    for (int fd = lowest; fd < max; fd++)
        close(fd);
}

/* In the child after fork: a fresh process group, the test's death
 * forwarded, clean signal state and descriptors, then exec. Never
 * returns. in_fd (or /dev/null when it is -1), out_fd and err_fd become
 * standard input, output and error. */
static void child_exec(char *const argv[], pid_t parent, int in_fd, int out_fd, int err_fd)
{
    setpgid(0, 0);
#ifdef __linux__
    /* If the test process dies (a crash, a criterion timeout), the child
     * is told to stop rather than left running. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(127);
#else
    (void)parent;
#endif
    if (in_fd < 0)
        in_fd = open("/dev/null", O_RDONLY);
    if (in_fd < 0 || dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
        _exit(127);
    close_fds_from(3);
    /* The test runner's dispositions and mask must not leak into the
     * program: a blocked or ignored SIGTERM would make it unstoppable. */
    for (int sig = 1; sig < NSIG; sig++)
        signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execv(argv[0], argv);
    dprintf(2, "e2e: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

static int cloexec_pipe(int fds[2])
{
    if (pipe(fds) != 0)
        return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Forks and execs argv with the given descriptors (in_fd -1: /dev/null).
 * Returns the pid or -1. */
static pid_t spawn(char *const argv[], int in_fd, int out_fd, int err_fd)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0)
        child_exec(argv, parent, in_fd, out_fd, err_fd);
    if (pid > 0)
        setpgid(pid, pid); /* both sides set it, so no kill(-pid) races the child */
    return pid;
}

/* Waits for pid until deadline; returns true with *wstatus once it has
 * been reaped. */
static bool reap_until(pid_t pid, uint64_t deadline, int *wstatus)
{
    for (;;) {
        pid_t r = waitpid(pid, wstatus, WNOHANG);
        if (r == pid)
            return true;
        if (r < 0 && errno != EINTR)
            return true; /* not our child any more; nothing to wait for */
        if (now_ms() >= deadline)
            return false;
        sleep_ms(10);
    }
}

/* Kills pid's whole group and reaps pid. */
static void kill_group(pid_t pid, int *wstatus)
{
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    while (waitpid(pid, wstatus, 0) < 0 && errno == EINTR)
        ;
}

/* After the leader exited by itself: true when its group is empty (within a
 * short grace); otherwise kills what is left and returns false. */
static bool group_gone(pid_t pgid)
{
    uint64_t deadline = now_ms() + LEFTOVER_GRACE_MS;
    while (kill(-pgid, 0) == 0) {
        if (now_ms() >= deadline) {
            kill(-pgid, SIGKILL);
            return false;
        }
        sleep_ms(20);
    }
    return true;
}

/* e2e_run with in_fd (or /dev/null when -1) as standard input. */
static int run_with_input(char *const argv[], int in_fd, unsigned timeout_ms, e2e_result_t *r)
{
    memset(r, 0, sizeof *r);
    r->status = E2E_NOT_STARTED;
    sbuf_t out = {0}, err = {0};
    int po[2] = {-1, -1}, pe[2] = {-1, -1};
    if (cloexec_pipe(po) != 0 || cloexec_pipe(pe) != 0) {
        sbuf_add(&err, "e2e: pipe failed\n", 17);
        goto done;
    }
    pid_t pid = spawn(argv, in_fd, po[1], pe[1]);
    close_fd(&po[1]);
    close_fd(&pe[1]);
    if (pid < 0) {
        sbuf_add(&err, "e2e: fork failed\n", 17);
        goto done;
    }
    uint64_t deadline = now_ms() + timeout_ms;
    char chunk[READ_CHUNK];
    while ((po[0] >= 0 || pe[0] >= 0) && now_ms() < deadline) {
        struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
        int n = poll(fds, 2, remaining(deadline));
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2 && n > 0; i++) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            int *fd = i == 0 ? &po[0] : &pe[0];
            ssize_t got = read(*fd, chunk, sizeof chunk);
            if (got > 0)
                sbuf_add(i == 0 ? &out : &err, chunk, (size_t)got);
            else if (got == 0 || errno != EINTR)
                close_fd(fd);
        }
    }
    int wstatus = 0;
    if (po[0] >= 0 || pe[0] >= 0 || !reap_until(pid, deadline, &wstatus)) {
        kill_group(pid, &wstatus);
        r->timed_out = true;
        r->status = E2E_KILLED;
    } else {
        r->status = status_of(wstatus);
        if (!group_gone(pid) && r->status == 0)
            r->status = E2E_LEFTOVER;
    }
done:
    close_fd(&po[0]);
    close_fd(&po[1]);
    close_fd(&pe[0]);
    close_fd(&pe[1]);
    r->truncated = out.truncated || err.truncated;
    r->out = sbuf_take(&out, &r->out_len);
    r->err = sbuf_take(&err, &r->err_len);
    return r->status;
}

int e2e_run(char *const argv[], unsigned timeout_ms, e2e_result_t *r)
{
    return run_with_input(argv, -1, timeout_ms, r);
}

int e2e_run_input(char *const argv[], const void *input, size_t len, unsigned timeout_ms,
                  e2e_result_t *r)
{
    /* A file rather than a pipe: a pipe holds only 64 KiB, and writing more
     * would wait on a child that is not yet reading. Unlinked at once, so
     * nothing is left behind whatever happens. */
    const char *base = getenv("TMPDIR");
    char *path = e2e_asprintf("%s/hearth-e2e-input-XXXXXX", base && *base ? base : "/tmp");
    int fd = mkstemp(path);
    if (fd >= 0)
        unlink(path);
    free(path);
    const char *p = input;
    size_t left = len;
    while (fd >= 0 && left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            fd = -1;
            break;
        }
        p += n;
        left -= (size_t)n;
    }
    if (fd < 0 || lseek(fd, 0, SEEK_SET) != 0) {
        if (fd >= 0)
            close(fd);
        memset(r, 0, sizeof *r);
        r->status = E2E_NOT_STARTED;
        r->out = xstrdup("");
        r->err = xstrdup("e2e: cannot write the input to a temporary file\n");
        r->err_len = strlen(r->err);
        return r->status;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    int status = run_with_input(argv, fd, timeout_ms, r);
    close(fd);
    return status;
}

void e2e_result_free(e2e_result_t *r)
{
    if (r == NULL)
        return;
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
    r->out_len = r->err_len = 0;
}

/* --- long-running processes ---------------------------------------------- */

struct e2e_proc_t {
    pid_t pid;
    int out_fd;      /* read end of its standard output; -1 after EOF */
    sbuf_t out;      /* standard output read so far */
    size_t scanned;  /* bytes of out already searched for whole lines */
};

e2e_proc_t *e2e_proc_start(char *const argv[], const char *err_path, char **why)
{
    *why = NULL;
    int po[2] = {-1, -1};
    int err_fd = err_path ? open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)
                          : open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (err_fd < 0) {
        *why = e2e_asprintf("cannot open '%s': %s", err_path ? err_path : "/dev/null",
                            strerror(errno));
        return NULL;
    }
    if (cloexec_pipe(po) != 0) {
        *why = e2e_asprintf("pipe failed: %s", strerror(errno));
        close(err_fd);
        return NULL;
    }
    pid_t pid = spawn(argv, -1, po[1], err_fd);
    close(err_fd);
    close_fd(&po[1]);
    if (pid < 0) {
        *why = e2e_asprintf("fork failed: %s", strerror(errno));
        close_fd(&po[0]);
        return NULL;
    }
    e2e_proc_t *p = xrealloc(NULL, sizeof *p);
    memset(p, 0, sizeof *p);
    p->pid = pid;
    p->out_fd = po[0];
    return p;
}

int e2e_proc_pid(const e2e_proc_t *p)
{
    return (int)p->pid;
}

/* A whole line of p->out starting with prefix, searched from the first
 * line not yet searched; NULL when there is none yet. */
static char *find_line(e2e_proc_t *p, const char *prefix)
{
    size_t plen = strlen(prefix);
    while (p->scanned < p->out.len) {
        const char *start = p->out.data + p->scanned;
        const char *nl = memchr(start, '\n', p->out.len - p->scanned);
        if (nl == NULL)
            return NULL;
        size_t len = (size_t)(nl - start);
        p->scanned += len + 1;
        if (len > 0 && start[len - 1] == '\r')
            len--;
        if (len >= plen && memcmp(start, prefix, plen) == 0) {
            char *line = xrealloc(NULL, len + 1);
            memcpy(line, start, len);
            line[len] = '\0';
            return line;
        }
    }
    return NULL;
}

int e2e_proc_wait_line(e2e_proc_t *p, const char *prefix, unsigned timeout_ms, char **line)
{
    *line = NULL;
    uint64_t deadline = now_ms() + timeout_ms;
    char chunk[READ_CHUNK];
    for (;;) {
        if ((*line = find_line(p, prefix)) != NULL)
            return E2E_LINE_FOUND;
        if (p->out_fd < 0)
            return E2E_LINE_EOF;
        if (now_ms() >= deadline)
            return E2E_LINE_TIMEOUT;
        struct pollfd fd = {p->out_fd, POLLIN, 0};
        int n = poll(&fd, 1, remaining(deadline));
        if (n < 0 && errno != EINTR)
            return E2E_LINE_EOF;
        if (n <= 0)
            continue;
        ssize_t got = read(p->out_fd, chunk, sizeof chunk);
        if (got > 0)
            sbuf_add(&p->out, chunk, (size_t)got);
        else if (got == 0 || errno != EINTR)
            close_fd(&p->out_fd);
    }
}

int e2e_proc_stop(e2e_proc_t **p_p, unsigned timeout_ms)
{
    if (p_p == NULL || *p_p == NULL)
        return 0;
    e2e_proc_t *p = *p_p;
    int wstatus = 0, status;
    kill(p->pid, SIGTERM);
    if (reap_until(p->pid, now_ms() + timeout_ms, &wstatus)) {
        status = status_of(wstatus);
        if (!group_gone(p->pid))
            status = E2E_LEFTOVER;
    } else {
        kill_group(p->pid, &wstatus);
        status = E2E_KILLED;
    }
    close_fd(&p->out_fd);
    free(p->out.data);
    free(p);
    *p_p = NULL;
    return status;
}

/* --- hearth sandbox -------------------------------------------------------- */

struct e2e_sandbox_t {
    e2e_proc_t *proc;
    char *config;   /* the path after HEARTH_CLIENT_CONFIG= */
    char *dir;      /* the folder it serves, for messages */
};

#define CONFIG_PREFIX "HEARTH_CLIENT_CONFIG="
/* How much of the end of the sandbox's log a failure message shows. */
#define LOG_TAIL 3000u

static char *log_tail(const char *path)
{
    size_t len = 0;
    char *text = path ? e2e_read_file(path, E2E_OUTPUT_MAX, &len) : NULL;
    if (text == NULL)
        return xstrdup("(no log)");
    char *tail = xstrdup(len > LOG_TAIL ? text + len - LOG_TAIL : text);
    free(text);
    return tail;
}

/* HEARTH_E2E_TRACE=1 prints how long sandboxes take to start and stop. */
static void trace(const char *what, const char *dir, uint64_t started, int status)
{
    if (getenv("HEARTH_E2E_TRACE"))
        fprintf(stderr, "e2e: sandbox %s %s in %llu ms (status %d)\n", dir, what,
                (unsigned long long)(now_ms() - started), status);
}

e2e_sandbox_t *e2e_sandbox_start(const char *dir, const char *log_path, char **why)
{
    *why = NULL;
    uint64_t started = now_ms();
    char *hearth = e2e_bin("hearth");
    char *argv[] = {hearth, "sandbox", (char *)dir, NULL};
    e2e_proc_t *proc = e2e_proc_start(argv, log_path, why);
    free(hearth);
    if (proc == NULL)
        return NULL;
    char *line = NULL;
    int got = e2e_proc_wait_line(proc, CONFIG_PREFIX, E2E_SANDBOX_READY_TIMEOUT_MS, &line);
    if (got != E2E_LINE_FOUND) {
        int status = e2e_proc_stop(&proc, E2E_SANDBOX_STOP_TIMEOUT_MS);
        char *tail = log_tail(log_path);
        *why = e2e_asprintf("hearth sandbox %s printed no %s line (%s; exit status %d); "
                            "end of its log:\n%s", dir, CONFIG_PREFIX,
                            got == E2E_LINE_TIMEOUT ? "timed out" : "its output ended",
                            status, tail);
        free(tail);
        return NULL;
    }
    trace("ready", dir, started, 0);
    e2e_sandbox_t *sb = xrealloc(NULL, sizeof *sb);
    sb->dir = xstrdup(dir);
    sb->proc = proc;
    sb->config = xstrdup(line + strlen(CONFIG_PREFIX));
    free(line);
    return sb;
}

const char *e2e_sandbox_config(const e2e_sandbox_t *sb)
{
    return sb->config;
}

int e2e_sandbox_stop(e2e_sandbox_t **sb_p, unsigned *elapsed_ms)
{
    if (elapsed_ms)
        *elapsed_ms = 0;
    if (sb_p == NULL || *sb_p == NULL)
        return 0;
    e2e_sandbox_t *sb = *sb_p;
    uint64_t started = now_ms();
    int status = e2e_proc_stop(&sb->proc, E2E_SANDBOX_STOP_TIMEOUT_MS);
    trace("stopped", sb->dir, started, status);
    if (elapsed_ms)
        *elapsed_ms = (unsigned)(now_ms() - started);
    free(sb->dir);
    free(sb->config);
    free(sb);
    *sb_p = NULL;
    return status;
}

int e2e_query(const char *config, const char *format, const char *sql, e2e_result_t *r)
{
    char *hearth = e2e_bin("hearth");
    char *argv[] = {hearth, "query", "--config", (char *)config, "--format", (char *)format,
                    (char *)sql, NULL};
    int status = e2e_run(argv, E2E_QUERY_TIMEOUT_MS, r);
    free(hearth);
    return status;
}

int e2e_synth(const char *out_dir, const char *truth, unsigned people, unsigned long seed,
              e2e_result_t *r)
{
    char *synth = e2e_bin("hearth-synth");
    char *n = e2e_asprintf("%u", people);
    char *s = e2e_asprintf("%lu", seed);
    char *argv[] = {synth, "--out", (char *)out_dir, "--truth", (char *)truth, "--people", n,
                    "--seed", s, NULL};
    int status = e2e_run(argv, E2E_QUERY_TIMEOUT_MS, r);
    free(synth);
    free(n);
    free(s);
    return status;
}

/* --- files ------------------------------------------------------------- */

char *e2e_tmpdir(const char *tag)
{
    const char *base = getenv("TMPDIR");
    if (base == NULL || *base == '\0')
        base = "/tmp";
    char *path = e2e_asprintf("%s/hearth-e2e-%s-XXXXXX", base, tag);
    if (mkdtemp(path) == NULL) {
        free(path);
        return NULL;
    }
    return path;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    int rc = type == FTW_DP ? rmdir(path) : unlink(path);
    return rc != 0 && errno != ENOENT ? -1 : 0;
}

int e2e_rmtree(const char *path)
{
    if (path == NULL)
        return 0;
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

char *e2e_read_file(const char *path, size_t max, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    sbuf_t b = {0};
    char chunk[READ_CHUNK];
    ssize_t got;
    bool ok = true;
    while ((got = read(fd, chunk, sizeof chunk)) != 0) {
        if (got < 0) {
            if (errno == EINTR)
                continue;
            ok = false;
            break;
        }
        if ((size_t)got > max - b.len) {
            ok = false;
            break;
        }
        sbuf_add(&b, chunk, (size_t)got);
    }
    close(fd);
    if (!ok) {
        free(b.data);
        return NULL;
    }
    size_t n;
    char *text = sbuf_take(&b, &n);
    if (len)
        *len = n;
    return text;
}

int e2e_write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return close(fd) == 0 ? 0 : -1;
}

/* --- CSV ----------------------------------------------------------------- */

static void row_add_field(e2e_csv_row_t *row, sbuf_t *field)
{
    row->fields = xrealloc(row->fields, (row->nfields + 1) * sizeof *row->fields);
    size_t n;
    row->fields[row->nfields++] = sbuf_take(field, &n);
}

static void table_add_row(e2e_csv_t *t, e2e_csv_row_t *row)
{
    t->rows = xrealloc(t->rows, (t->nrows + 1) * sizeof *t->rows);
    t->rows[t->nrows++] = *row;
    memset(row, 0, sizeof *row);
}

static void row_free(e2e_csv_row_t *row)
{
    for (size_t i = 0; i < row->nfields; i++)
        free(row->fields[i]);
    free(row->fields);
    memset(row, 0, sizeof *row);
}

int e2e_csv_parse(const char *text, size_t len, e2e_csv_t *t)
{
    memset(t, 0, sizeof *t);
    size_t i = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    e2e_csv_row_t row = {0};
    sbuf_t field = {0};
    bool in_row = false;     /* something of the current record was seen */
    while (i < len) {
        char c = text[i];
        if (c == '"' && field.len == 0) {
            /* A quoted field runs to the quote not followed by another. */
            i++;
            for (;;) {
                if (i >= len)
                    goto malformed;
                if (text[i] == '"') {
                    if (i + 1 < len && text[i + 1] == '"') {
                        sbuf_add(&field, "\"", 1);
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                sbuf_add(&field, &text[i], 1);
                i++;
            }
            if (field.data == NULL)
                sbuf_add(&field, "", 0);
            in_row = true;
            if (i < len && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
                goto malformed;
            continue;
        }
        if (c == ',') {
            row_add_field(&row, &field);
            in_row = true;
            i++;
            continue;
        }
        if (c == '\n' || c == '\r') {
            i += c == '\r' && i + 1 < len && text[i + 1] == '\n' ? 2 : 1;
            if (in_row || field.len > 0) {
                row_add_field(&row, &field);
                table_add_row(t, &row);
            }
            in_row = false;
            continue;
        }
        sbuf_add(&field, &c, 1);
        in_row = true;
        i++;
    }
    if (in_row || field.len > 0) {
        row_add_field(&row, &field);
        table_add_row(t, &row);
    }
    free(field.data);
    return 0;
malformed:
    free(field.data);
    row_free(&row);
    e2e_csv_free(t);
    return -1;
}

int e2e_csv_load(const char *path, e2e_csv_t *t)
{
    memset(t, 0, sizeof *t);
    size_t len = 0;
    char *text = e2e_read_file(path, (size_t)1 << 30, &len);
    if (text == NULL)
        return -1;
    int rc = e2e_csv_parse(text, len, t);
    free(text);
    return rc;
}

void e2e_csv_free(e2e_csv_t *t)
{
    if (t == NULL)
        return;
    for (size_t r = 0; r < t->nrows; r++)
        row_free(&t->rows[r]);
    free(t->rows);
    t->rows = NULL;
    t->nrows = 0;
}

int e2e_csv_column(const e2e_csv_row_t *row, const char *name)
{
    for (size_t i = 0; i < row->nfields; i++)
        if (strcmp(row->fields[i], name) == 0)
            return (int)i;
    return -1;
}
