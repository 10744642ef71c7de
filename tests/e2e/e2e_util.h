/* e2e_util — small helpers for hearth's end-to-end tests: run the built
 * programs with bounded waits, start and stop `hearth sandbox`, make and
 * remove temporary folders, read files and CSV text.
 *
 * This file is compiled into every test binary of every module, so it uses
 * libc and POSIX only (plus Linux's parent-death signal where available),
 * nothing from hearth's libraries.
 *
 * Every process started here runs in its own process group, with standard
 * input from /dev/null, default signal dispositions and no inherited file
 * descriptors beyond 0-2; on Linux it receives SIGTERM if the test process
 * dies, so a crashed test does not leave a partnership running. */
#ifndef E2E_UTIL_H
#define E2E_UTIL_H

#include <stdbool.h>
#include <stddef.h>

/* Most bytes kept of one process's standard output or error; the rest is
 * read and dropped (and the result marked truncated). */
#define E2E_OUTPUT_MAX (64u << 20)
/* Bounds used by the hearth helpers below, generous for ASan on 2 cores. */
#define E2E_QUERY_TIMEOUT_MS 90000u
#define E2E_SANDBOX_READY_TIMEOUT_MS 90000u
#define E2E_SANDBOX_STOP_TIMEOUT_MS 15000u
/* How long `hearth sandbox` gives its children after SIGTERM before it
 * kills them (client/client_sandbox.c, stop_all). */
#define E2E_SANDBOX_CHILD_GRACE_MS 5000u

/* Exit statuses that are not a program's own. */
enum {
    E2E_NOT_STARTED = -1,   /* fork or exec failed */
    E2E_KILLED = -2,        /* did not finish in time; killed with SIGKILL */
    E2E_LEFTOVER = -3,      /* exited, but left processes in its group (killed) */
};

/* What a finished process did. */
typedef struct {
    int status;          /* 0..255 exit status; 128 + N when signal N ended it;
                          * or one of the E2E_ codes above */
    bool timed_out;      /* the deadline passed (status is then E2E_KILLED) */
    bool truncated;      /* output beyond E2E_OUTPUT_MAX was dropped */
    char *out;           /* owned: standard output, NUL-terminated (never NULL
                          * after e2e_run returns) */
    size_t out_len;
    char *err;           /* owned: standard error, NUL-terminated */
    size_t err_len;
} e2e_result_t;

/* Runs argv[0] (a path) with argv until it exits or timeout_ms passes, and
 * captures its standard output and error. On timeout the process group is
 * killed. Fills *r (release with e2e_result_free) and returns r->status. */
int e2e_run(char *const argv[], unsigned timeout_ms, e2e_result_t *r);

/* Runs argv as e2e_run does, with len bytes of input (any bytes, NULs
 * included; borrowed) on its standard input. Fills *r and returns
 * r->status. */
int e2e_run_input(char *const argv[], const void *input, size_t len, unsigned timeout_ms,
                  e2e_result_t *r);

/* Frees what *r owns; NULL-safe, and safe to call twice. */
void e2e_result_free(e2e_result_t *r);

/* HEARTH_BIN_DIR "/" prog: the path of a built program. Caller frees. */
char *e2e_bin(const char *prog);

/* A process left running: its standard output goes to a pipe this side
 * reads, its standard error to a file. */
typedef struct e2e_proc_t e2e_proc_t;

/* Starts argv[0] with argv; standard error is written to err_path
 * (created or truncated, mode 0600), or discarded when err_path is NULL.
 * Returns the new process (stop it with e2e_proc_stop), or NULL with a
 * reason in *why (caller frees) when it cannot be started. */
e2e_proc_t *e2e_proc_start(char *const argv[], const char *err_path, char **why);

/* Outcomes of e2e_proc_wait_line. */
enum { E2E_LINE_FOUND = 0, E2E_LINE_TIMEOUT = 1, E2E_LINE_EOF = 2 };

/* Reads the process's standard output until a whole line starting with
 * prefix arrives (returns E2E_LINE_FOUND and the line, without its line end,
 * in *line; caller frees), the output ends (E2E_LINE_EOF) or timeout_ms
 * passes (E2E_LINE_TIMEOUT). */
int e2e_proc_wait_line(e2e_proc_t *p, const char *prefix, unsigned timeout_ms, char **line);

/* The process id, for signals a test wants to send itself. */
int e2e_proc_pid(const e2e_proc_t *p);

/* Stops the process: SIGTERM, then up to timeout_ms for it to exit, then
 * SIGKILL to its whole group as a last resort. Reaps it, frees *p_p and
 * sets it to NULL (NULL-safe: returns 0). Returns its exit status as in
 * e2e_result_t, E2E_KILLED when it had to be killed, or E2E_LEFTOVER when
 * it exited but processes of its group outlived it (they are killed). */
int e2e_proc_stop(e2e_proc_t **p_p, unsigned timeout_ms);

/* A running `hearth sandbox DIR`. */
typedef struct e2e_sandbox_t e2e_sandbox_t;

/* Starts `hearth sandbox dir`, with its standard error (progress and
 * ingest reports) in log_path, and waits up to E2E_SANDBOX_READY_TIMEOUT_MS
 * for its HEARTH_CLIENT_CONFIG line. Returns the sandbox, or NULL with a
 * reason (including the end of its log) in *why (caller frees); nothing is
 * left running then. */
e2e_sandbox_t *e2e_sandbox_start(const char *dir, const char *log_path, char **why);

/* The client configuration the sandbox printed; borrowed from sb. */
const char *e2e_sandbox_config(const e2e_sandbox_t *sb);

/* Stops the sandbox as e2e_proc_stop does, within
 * E2E_SANDBOX_STOP_TIMEOUT_MS, frees *sb_p and sets it to NULL (NULL-safe:
 * returns 0). The time the stop took goes to *elapsed_ms when it is not
 * NULL: `hearth sandbox` kills a child that has not stopped after
 * E2E_SANDBOX_CHILD_GRACE_MS and still exits 0, so only the time shows
 * that. Returns the sandbox's exit status (0 when it stopped cleanly) or
 * an E2E_ code. */
int e2e_sandbox_stop(e2e_sandbox_t **sb_p, unsigned *elapsed_ms);

/* Runs `hearth query --config config --format format sql`, bounded by
 * E2E_QUERY_TIMEOUT_MS. Fills *r as e2e_run does and returns r->status. */
int e2e_query(const char *config, const char *format, const char *sql, e2e_result_t *r);

/* Runs `hearth-synth --out out_dir --truth truth --people people --seed
 * seed`, bounded by E2E_QUERY_TIMEOUT_MS. Fills *r as e2e_run does and
 * returns r->status. */
int e2e_synth(const char *out_dir, const char *truth, unsigned people, unsigned long seed,
              e2e_result_t *r);

/* Makes a new private folder $TMPDIR/hearth-e2e-<tag>-XXXXXX (or under
 * /tmp). Returns its path (caller frees), or NULL. */
char *e2e_tmpdir(const char *tag);

/* Removes path and everything under it, not following symbolic links.
 * NULL-safe. Returns 0, or -1 when something could not be removed. */
int e2e_rmtree(const char *path);

/* Reads the whole file (at most max bytes; more is an error). Returns a
 * NUL-terminated copy (caller frees) with its length in *len (when not
 * NULL), or NULL when it cannot be read. */
char *e2e_read_file(const char *path, size_t max, size_t *len);

/* Creates or replaces path with len bytes of data, mode 0644. Returns 0 or
 * -1. */
int e2e_write_file(const char *path, const void *data, size_t len);

/* printf into a new string; caller frees. Aborts when out of memory, as a
 * test can do nothing better. */
char *e2e_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One CSV record: its fields, quotes removed. */
typedef struct {
    size_t nfields;
    char **fields;       /* owned, NUL-terminated */
} e2e_csv_row_t;

/* A parsed CSV text. */
typedef struct {
    size_t nrows;
    e2e_csv_row_t *rows; /* owned; the header, when there is one, is rows[0] */
} e2e_csv_t;

/* Parses RFC 4180 text: an optional UTF-8 byte-order mark, records ending
 * in LF, CRLF or CR, quoted fields with "" for a quote. Empty lines are
 * skipped. Returns 0 and fills *t (release with e2e_csv_free), or -1 for
 * unbalanced quotes or text after a closing quote. */
int e2e_csv_parse(const char *text, size_t len, e2e_csv_t *t);

/* Reads and parses a CSV file as e2e_csv_parse does. Returns 0 or -1. */
int e2e_csv_load(const char *path, e2e_csv_t *t);

/* Frees what *t owns; NULL-safe and safe to call twice. */
void e2e_csv_free(e2e_csv_t *t);

/* The index of the field equal to name in row, or -1. */
int e2e_csv_column(const e2e_csv_row_t *row, const char *name);

#endif
