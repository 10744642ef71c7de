/* bench_csv — node_csv's reading speed beside `sqlite3 .import` on the same
 * file (the baseline the ingest must beat; .import also inserts, so this
 * ratio is the reader's headroom, not the ingest's).
 *
 *   bench_csv [FILE.csv]
 *
 * Without FILE, writes a synthetic extract of 1,000,000 rows (identifiers,
 * dates, a quoted free-text field with commas, quotes and the odd embedded
 * line end) to a temporary file and removes it afterwards. Prints rows/s for
 * both and the ratio. */
#include "node_csv.h"

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_ROWS 1000000u

extern char **environ;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Writes the synthetic extract; returns 0 on success. */
static int write_extract(const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fputs("nhs_number,date_of_birth,sex,postcode,attended,reason,age\n", f);
    static const char *const reasons[] = {
        "fall", "\"chest pain, acute\"", "\"said \"\"dizzy\"\"\"", "fracture",
        "\"fall at home\nfound by carer\"", "head injury",
    };
    unsigned x = 12345;
    for (unsigned i = 0; i < BENCH_ROWS; i++) {
        x = x * 1103515245u + 12345u;
        fprintf(f, "%03u %03u %04u,19%02u-%02u-%02u,%c,LS%u %uAB,2024-%02u-%02u,%s,%u\r\n",
                x % 1000, (x >> 8) % 1000, (x >> 4) % 10000, 30 + x % 70, 1 + x % 12,
                1 + (x >> 3) % 28, (x & 1) ? 'M' : 'F', 1 + x % 29, x % 10,
                1 + (x >> 5) % 12, 1 + (x >> 7) % 28, reasons[(x >> 9) % 6], x % 100);
    }
    return fclose(f) == 0 ? 0 : -1;
}

static int bench_reader(const char *path, unsigned long *rows, double *secs)
{
    node_csv_t *csv = NULL;
    char *cause = NULL;
    if (node_csv_open(path, &csv, &cause) != HEARTH_OK) {
        fprintf(stderr, "bench_csv: %s\n", cause);
        free(cause);
        return -1;
    }
    double t0 = now();
    node_csv_record_t rec;
    unsigned long n = 0, bad = 0;
    size_t bytes = 0;
    hearth_err_t rc;
    while ((rc = node_csv_next(csv, &rec, &cause)) == HEARTH_OK) {
        n++;
        if (rec.error != NULL)
            bad++;
        for (size_t i = 0; i < rec.nfields; i++)
            bytes += rec.lens[i];
    }
    *secs = now() - t0;
    node_csv_destroy(&csv);
    if (rc != HEARTH_ERR_NOT_FOUND) {
        fprintf(stderr, "bench_csv: %s\n", cause ? cause : hearth_strerror(rc));
        free(cause);
        return -1;
    }
    /* Rows exclude the header, as .import's table does. */
    *rows = n > 0 ? n - 1 : 0;
    printf("node_csv:        %lu rows (%lu malformed, %zu field bytes) in %.3f s\n", *rows,
           bad, bytes, *secs);
    return 0;
}

static int bench_sqlite(const char *path, double *secs)
{
    char import[4200];
    if (snprintf(import, sizeof import, ".import --csv \"%s\" t", path) >= (int)sizeof import)
        return -1;
    char *argv[] = {"sqlite3", ":memory:", import, NULL};
    double t0 = now();
    pid_t pid;
    if (posix_spawnp(&pid, "sqlite3", NULL, NULL, argv, environ) != 0)
        return -1;
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    *secs = now() - t0;
    return 0;
}

int main(int argc, char **argv)
{
    char tmp[] = "/tmp/bench_csv_XXXXXX";
    const char *path = argc > 1 ? argv[1] : NULL;
    int status = 1;
    if (path == NULL) {
        int fd = mkstemp(tmp);
        if (fd < 0) {
            perror("bench_csv: mkstemp");
            return 1;
        }
        close(fd);
        path = tmp;
        if (write_extract(path) != 0) {
            perror("bench_csv: writing the extract");
            goto done;
        }
    }
    unsigned long rows;
    double ours, theirs;
    if (bench_reader(path, &rows, &ours) != 0)
        goto done;
    printf("node_csv:        %.0f rows/s\n", (double)rows / ours);
    if (bench_sqlite(path, &theirs) != 0) {
        printf("sqlite3 .import: not run (sqlite3 missing or failed)\n");
    } else {
        printf("sqlite3 .import: %.0f rows/s (%.3f s)\n", (double)rows / theirs, theirs);
        printf("ratio node_csv / sqlite3 .import: %.1fx\n", theirs / ours);
    }
    status = 0;
done:
    if (path == tmp)
        unlink(tmp);
    return status;
}
