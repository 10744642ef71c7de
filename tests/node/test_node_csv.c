/* Tests for node_csv: RFC 4180 syntax, line numbers, malformed records and
 * resynchronisation, bounds, UTF-8, and records straddling the reader's
 * internal 1 MiB block boundary. Fixtures are written to a memfd (a regular
 * file to read(2), so each block is exactly 1 MiB) or trickled through a
 * pipe. */
#include "node_csv.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* The reader's block size (node_csv.c); the boundary tests aim at it. */
#define BLOCK (1u << 20)

typedef struct {
    int fd;
    node_csv_t *csv;
} fixture_t;

static int memfd_with(const void *data, size_t len)
{
    int fd = memfd_create("csv", MFD_CLOEXEC);
    cr_assert(fd >= 0);
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        cr_assert(n > 0);
        p += n;
        len -= (size_t)n;
    }
    cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

static fixture_t open_bytes(const void *data, size_t len)
{
    fixture_t f;
    f.fd = memfd_with(data, len);
    f.csv = node_csv_new_fd(f.fd);
    cr_assert_not_null(f.csv);
    return f;
}

static fixture_t open_str(const char *s)
{
    return open_bytes(s, strlen(s));
}

static void close_fixture(fixture_t *f)
{
    node_csv_destroy(&f->csv);
    cr_assert_null(f->csv);
    close(f->fd);
}

static node_csv_record_t next_ok(node_csv_t *csv)
{
    node_csv_record_t rec;
    char *cause = NULL;
    hearth_err_t rc = node_csv_next(csv, &rec, &cause);
    cr_assert_eq(rc, HEARTH_OK, "node_csv_next: %d (%s)", rc, cause ? cause : "");
    cr_assert_null(cause);
    return rec;
}

static void expect_end(node_csv_t *csv)
{
    node_csv_record_t rec;
    char *cause = NULL;
    cr_assert_eq(node_csv_next(csv, &rec, &cause), HEARTH_ERR_NOT_FOUND);
    cr_assert_null(cause);
    /* And it stays at the end. */
    cr_assert_eq(node_csv_next(csv, &rec, &cause), HEARTH_ERR_NOT_FOUND);
}

static void expect_fields(node_csv_t *csv, uint64_t line, uint64_t record,
                          const char *const *want, size_t n)
{
    node_csv_record_t rec = next_ok(csv);
    cr_assert_null(rec.error, "record %llu malformed: %s", (unsigned long long)record,
                   rec.error);
    cr_assert_eq(rec.line, line, "record %llu: line %llu, want %llu",
                 (unsigned long long)record, (unsigned long long)rec.line,
                 (unsigned long long)line);
    cr_assert_eq(rec.record, record);
    cr_assert_eq(rec.nfields, n, "record %llu: %zu fields, want %zu",
                 (unsigned long long)record, rec.nfields, n);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(rec.lens[i], strlen(want[i]), "record %llu field %zu: length %zu, want %zu",
                     (unsigned long long)record, i, rec.lens[i], strlen(want[i]));
        cr_assert_eq(memcmp(rec.fields[i], want[i], rec.lens[i] + 1), 0,
                     "record %llu field %zu differs", (unsigned long long)record, i);
    }
}

#define EXPECT(csv, line, record, ...)                                              \
    expect_fields((csv), (line), (record), (const char *const[]){__VA_ARGS__},   \
                  sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

static void expect_error(node_csv_t *csv, uint64_t line, uint64_t record, const char *why)
{
    node_csv_record_t rec = next_ok(csv);
    cr_assert_not_null(rec.error, "record %llu should be malformed", (unsigned long long)record);
    cr_assert_str_eq(rec.error, why);
    cr_assert_eq(rec.line, line, "line %llu, want %llu", (unsigned long long)rec.line,
                 (unsigned long long)line);
    cr_assert_eq(rec.record, record);
    cr_assert_eq(rec.nfields, 0);
}

/* --- syntax ------------------------------------------------------------ */

Test(node_csv, reads_simple_rows)
{
    fixture_t f = open_str("id,name,age\n1,ann,34\n2,bob,51\n");
    EXPECT(f.csv, 1, 1, "id", "name", "age");
    EXPECT(f.csv, 2, 2, "1", "ann", "34");
    EXPECT(f.csv, 3, 3, "2", "bob", "51");
    expect_end(f.csv);
    close_fixture(&f);
}

Test(node_csv, keeps_commas_inside_quotes)
{
    fixture_t f = open_str("\"a,b\",c,\",\"\n");
    EXPECT(f.csv, 1, 1, "a,b", "c", ",");
    expect_end(f.csv);
    close_fixture(&f);
}

Test(node_csv, unescapes_doubled_quotes)
{
    fixture_t f = open_str("\"he said \"\"hi\"\"\",\"\"\"\",\"\"\n");
    EXPECT(f.csv, 1, 1, "he said \"hi\"", "\"", "");
    expect_end(f.csv);
    close_fixture(&f);
}

Test(node_csv, keeps_lf_inside_quotes_and_counts_the_line)
{
    fixture_t f = open_str("a,\"x\ny\nz\"\nb,c\n");
    EXPECT(f.csv, 1, 1, "a", "x\ny\nz");
    EXPECT(f.csv, 4, 2, "b", "c");
    expect_end(f.csv);
    close_fixture(&f);
}

Test(node_csv, keeps_crlf_inside_quotes_and_counts_it_once)
{
    fixture_t f = open_str("a,\"x\r\ny\"\r\nb,\"\r\"\r\nc\r\n");
    EXPECT(f.csv, 1, 1, "a", "x\r\ny");
    EXPECT(f.csv, 3, 2, "b", "\r");
    EXPECT(f.csv, 5, 3, "c");
    expect_end(f.csv);
    close_fixture(&f);
}

Test(node_csv, reads_crlf_files)
{
    fixture_t f = open_str("a,b\r\n1,2\r\n3,4\r\n");
    EXPECT(f.csv, 1, 1, "a", "b");
    EXPECT(f.csv, 2, 2, "1", "2");
    EXPECT(f.csv, 3, 3, "3", "4");
    expect_end(f.csv);
    close_fixture(&f);
}

Test(node_csv, ends_records_at_a_lone_cr)
{
    fixture_t f = open_str("a,b\r1,2\r\"3\"\r4");
    EXPECT(f.csv, 1, 1, "a", "b");
    EXPECT(f.csv, 2, 2, "1", "2");
    EXPECT(f.csv, 3, 3, "3");
    EXPECT(f.csv, 4, 4, "4");
    expect_end(f.csv);
    close_fixture(&f);
}

Test(node_csv, skips_a_byte_order_mark_only_at_the_start)
{
    fixture_t f = open_str("\xEF\xBB\xBFid,x\n\xEF\xBB\xBFy,z\n");
    EXPECT(f.csv, 1, 1, "id", "x");
    EXPECT(f.csv, 2, 2, "\xEF\xBB\xBFy", "z");
    expect_end(f.csv);
    close_fixture(&f);
}

Test(node_csv, reads_a_file_that_is_only_a_byte_order_mark_as_empty)
{
    fixture_t f = open_str("\xEF\xBB\xBF");
    expect_end(f.csv);
    close_fixture(&f);
}

Test(node_csv, reads_an_empty_file_as_empty)
{
    fixture_t f = open_str("");
    expect_end(f.csv);
    close_fixture(&f);
}

Test(node_csv, returns_a_final_record_without_a_newline)
{
    fixture_t f = open_str("a,b\nc,d");
    EXPECT(f.csv, 1, 1, "a", "b");
    EXPECT(f.csv, 2, 2, "c", "d");
    expect_end(f.csv);
    close_fixture(&f);
}

Test(node_csv, returns_a_final_quoted_record_without_a_newline)
{
    fixture_t f = open_str("a,\"b\"\"\"");
    EXPECT(f.csv, 1, 1, "a", "b\"");
    expect_end(f.csv);
    close_fixture(&f);
}

Test(node_csv, skips_empty_lines_but_counts_them)
{
    fixture_t f = open_str("\n\na\n\n\r\n\rb\n\n");
    EXPECT(f.csv, 3, 1, "a");
    EXPECT(f.csv, 7, 2, "b");
    expect_end(f.csv);
    close_fixture(&f);
}

Test(node_csv, keeps_a_trailing_empty_field)
{
    fixture_t f = open_str("a,b,\nc,d,");
    EXPECT(f.csv, 1, 1, "a", "b", "");
    EXPECT(f.csv, 2, 2, "c", "d", "");
    expect_end(f.csv);
    close_fixture(&f);
}

Test(node_csv, reads_a_line_of_only_commas_as_empty_fields)
{
    fixture_t f = open_str("a,b,c\n,,\n");
    EXPECT(f.csv, 1, 1, "a", "b", "c");
    EXPECT(f.csv, 2, 2, "", "", "");
    expect_end(f.csv);
    close_fixture(&f);
}

Test(node_csv, returns_short_and_long_rows_with_their_own_counts)
{
    fixture_t f = open_str("a,b,c\n1\n1,2,3,4,5\n\"\"\n");
    EXPECT(f.csv, 1, 1, "a", "b", "c");
    EXPECT(f.csv, 2, 2, "1");
    EXPECT(f.csv, 3, 3, "1", "2", "3", "4", "5");
    EXPECT(f.csv, 4, 4, "");
    expect_end(f.csv);
    close_fixture(&f);
}

Test(node_csv, accepts_valid_multibyte_utf8)
{
    fixture_t f = open_str("caf\xC3\xA9,\xE2\x82\xAC" "5,\"\xF0\x9F\x98\x80\"\n");
    EXPECT(f.csv, 1, 1, "caf\xC3\xA9", "\xE2\x82\xAC" "5", "\xF0\x9F\x98\x80");
    expect_end(f.csv);
    close_fixture(&f);
}

/* --- malformed records and resynchronisation ---------------------------- */

Test(node_csv, reports_an_unterminated_quote_at_end_of_input)
{
    fixture_t f = open_str("a,b\nc,\"d\ne,f\n");
    EXPECT(f.csv, 1, 1, "a", "b");
    expect_error(f.csv, 2, 2, "unterminated quoted field");
    expect_end(f.csv);
    close_fixture(&f);
}

Test(node_csv, reports_a_stray_quote_and_reads_the_next_record)
{
    fixture_t f = open_str("a,b\"c,d\ne,f\n");
    expect_error(f.csv, 1, 1, "quote inside an unquoted field");
    EXPECT(f.csv, 2, 2, "e", "f");
    expect_end(f.csv);
    close_fixture(&f);
}

Test(node_csv, reports_text_after_a_closing_quote_and_reads_the_next_record)
{
    fixture_t f = open_str("\"ab\"cd,e\r\nf\r\n");
    expect_error(f.csv, 1, 1, "text after a closing quote");
    EXPECT(f.csv, 2, 2, "f");
    expect_end(f.csv);
    close_fixture(&f);
}

Test(node_csv, skips_a_malformed_record_with_quoted_newlines_as_one_record)
{
    /* The bad record's quoted field spans two lines; resynchronising is
     * quote-aware, so "x\ny" does not become a spurious record. */
    fixture_t f = open_str("a\"b,\"x\ny\"\nc\n");
    expect_error(f.csv, 1, 1, "quote inside an unquoted field");
    EXPECT(f.csv, 3, 2, "c");
    expect_end(f.csv);
    close_fixture(&f);
}

Test(node_csv, rejects_a_nul_byte_and_reads_the_next_record)
{
    static const char data[] = "a\0b,c\n\"x\0\"\nd\n";
    fixture_t f = open_bytes(data, sizeof data - 1);
    expect_error(f.csv, 1, 1, "NUL byte");
    expect_error(f.csv, 2, 2, "NUL byte");
    EXPECT(f.csv, 3, 3, "d");
    expect_end(f.csv);
    close_fixture(&f);
}

Test(node_csv, rejects_invalid_utf8_and_reads_the_next_record)
{
    static const char *const bad[] = {
        "\xC0\xAF",          /* overlong '/' */
        "\xE0\x80\xAF",      /* overlong, three bytes */
        "\xED\xA0\x80",      /* UTF-16 surrogate */
        "\xF4\x90\x80\x80",  /* past U+10FFFF */
        "\xE2\x82",          /* truncated at the end of the field */
        "\x80",              /* stray continuation byte */
        "\xFF",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char data[64];
        snprintf(data, sizeof data, "ok,\"%s\"\nx,%s,y\nz\n", bad[i], bad[i]);
        fixture_t f = open_str(data);
        expect_error(f.csv, 1, 1, "invalid UTF-8");
        expect_error(f.csv, 2, 2, "invalid UTF-8");
        EXPECT(f.csv, 3, 3, "z");
        expect_end(f.csv);
        close_fixture(&f);
    }
}

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    cr_assert_not_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* Appends to a growing heap string (test helper). */
typedef struct {
    char *p;
    size_t len, cap;
} sb_t;

static void sb_add(sb_t *b, const void *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + n + 1 > cap)
            cap *= 2;
        b->p = realloc(b->p, cap);
        cr_assert_not_null(b->p);
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_adds(sb_t *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

Test(node_csv, accepts_a_field_of_exactly_the_maximum_length)
{
    char *big = repeat('x', NODE_CSV_MAX_FIELD);
    sb_t b = {0};
    sb_adds(&b, big);
    sb_adds(&b, ",\"");
    sb_adds(&b, big);
    sb_adds(&b, "\"\nend\n");
    fixture_t f = open_bytes(b.p, b.len);
    EXPECT(f.csv, 1, 1, big, big);
    EXPECT(f.csv, 2, 2, "end");
    expect_end(f.csv);
    close_fixture(&f);
    free(big);
    free(b.p);
}

Test(node_csv, rejects_an_over_long_field_and_reads_the_next_record)
{
    char *big = repeat('x', NODE_CSV_MAX_FIELD + 1);
    sb_t b = {0};
    sb_adds(&b, "a,");
    sb_adds(&b, big);
    sb_adds(&b, "\n\"");
    sb_adds(&b, big);
    sb_adds(&b, "\",b\nend\n");
    fixture_t f = open_bytes(b.p, b.len);
    expect_error(f.csv, 1, 1, "field longer than 65536 bytes");
    expect_error(f.csv, 2, 2, "field longer than 65536 bytes");
    EXPECT(f.csv, 3, 3, "end");
    expect_end(f.csv);
    close_fixture(&f);
    free(big);
    free(b.p);
}

Test(node_csv, accepts_a_record_of_exactly_the_maximum_length)
{
    char *big = repeat('y', NODE_CSV_MAX_FIELD);
    size_t n = NODE_CSV_MAX_RECORD / NODE_CSV_MAX_FIELD;  /* 16 full fields */
    sb_t b = {0};
    for (size_t i = 0; i < n; i++) {
        sb_adds(&b, big);
        sb_adds(&b, i + 1 < n ? "," : "\n");
    }
    sb_adds(&b, "end\n");
    fixture_t f = open_bytes(b.p, b.len);
    node_csv_record_t rec = next_ok(f.csv);
    cr_assert_null(rec.error);
    cr_assert_eq(rec.nfields, n);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(rec.lens[i], NODE_CSV_MAX_FIELD);
        cr_assert_str_eq(rec.fields[i], big);
    }
    EXPECT(f.csv, 2, 2, "end");
    expect_end(f.csv);
    close_fixture(&f);
    free(big);
    free(b.p);
}

Test(node_csv, rejects_an_over_long_record_and_reads_the_next_record)
{
    char *big = repeat('y', NODE_CSV_MAX_FIELD);
    size_t n = NODE_CSV_MAX_RECORD / NODE_CSV_MAX_FIELD;
    sb_t b = {0};
    for (size_t i = 0; i < n; i++) {
        sb_adds(&b, big);
        sb_adds(&b, ",");
    }
    sb_adds(&b, "z\r\nend\r\n");  /* one byte more than the maximum */
    fixture_t f = open_bytes(b.p, b.len);
    expect_error(f.csv, 1, 1, "record longer than 1 MiB");
    EXPECT(f.csv, 2, 2, "end");
    expect_end(f.csv);
    close_fixture(&f);
    free(big);
    free(b.p);
}

Test(node_csv, accepts_the_maximum_field_count_and_rejects_one_more)
{
    sb_t b = {0};
    for (size_t i = 1; i < NODE_CSV_MAX_FIELDS; i++)
        sb_adds(&b, "f,");
    sb_adds(&b, "f\n");                      /* exactly 1024 fields */
    for (size_t i = 0; i < NODE_CSV_MAX_FIELDS; i++)
        sb_adds(&b, ",");                    /* 1025 empty fields */
    sb_adds(&b, "\nend\n");
    fixture_t f = open_bytes(b.p, b.len);
    node_csv_record_t rec = next_ok(f.csv);
    cr_assert_null(rec.error);
    cr_assert_eq(rec.nfields, NODE_CSV_MAX_FIELDS);
    cr_assert_str_eq(rec.fields[0], "f");
    cr_assert_str_eq(rec.fields[NODE_CSV_MAX_FIELDS - 1], "f");
    expect_error(f.csv, 2, 2, "more than 1024 fields");
    EXPECT(f.csv, 3, 3, "end");
    expect_end(f.csv);
    close_fixture(&f);
    free(b.p);
}

Test(node_csv, skips_a_huge_line_without_buffering_it)
{
    /* 24 MiB on one line, streamed from a pipe: the reader must skip it in
     * bounded memory and read the record after it. */
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        static char chunk[1u << 16];
        memset(chunk, 'q', sizeof chunk);
        int ok = write(fds[1], "id\n", 3) == 3;
        for (int i = 0; ok && i < 24 * 16; i++)
            ok = write(fds[1], chunk, sizeof chunk) == (ssize_t)sizeof chunk;
        ok = ok && write(fds[1], "\nnext\n", 6) == 6;
        _exit(ok ? 0 : 1);
    }
    close(fds[1]);
    node_csv_t *csv = node_csv_new_fd(fds[0]);
    EXPECT(csv, 1, 1, "id");
    expect_error(csv, 2, 2, "field longer than 65536 bytes");
    EXPECT(csv, 3, 3, "next");
    expect_end(csv);
    node_csv_destroy(&csv);
    close(fds[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

Test(node_csv, never_quotes_field_content_in_an_error)
{
    static const char data[] =
        "9434765919\"1\n"                    /* stray quote */
        "\"9434765919\"9434765919\n"         /* text after closing quote */
        "9434765919\x80\n"                   /* invalid UTF-8 */
        "9434765919\0\n"                     /* NUL */
        "\"9434765919\n";                    /* unterminated */
    fixture_t f = open_bytes(data, sizeof data - 1);
    for (int i = 0; i < 5; i++) {
        node_csv_record_t rec = next_ok(f.csv);
        cr_assert_not_null(rec.error);
        cr_assert_null(strstr(rec.error, "9434"), "error quotes input: %s", rec.error);
    }
    expect_end(f.csv);
    close_fixture(&f);
}

/* --- block boundaries --------------------------------------------------- */

/* A record with every construct whose parsing state must survive a refill:
 * a quote opening a field, "" escapes, CRLF and a lone CR inside quotes,
 * multibyte UTF-8, an empty field, a quote just before a comma, and a CRLF
 * record end. */
static const char TRICKY[] = "\"a,\"\"b\r\nc\rd\",\xC3\xA9\xE2\x82\xAC,,\"\",\"e\"\r\n";
/* The same record's fields. */
static void expect_tricky(node_csv_t *csv, uint64_t line, uint64_t record)
{
    EXPECT(csv, line, record, "a,\"b\r\nc\rd", "\xC3\xA9\xE2\x82\xAC", "", "", "e");
}

Test(node_csv, parses_a_record_straddling_the_block_boundary_at_every_offset)
{
    size_t tlen = sizeof TRICKY - 1;
    for (size_t k = 0; k <= tlen; k++) {
        /* Padding lines of 100 bytes, then one shorter line, so TRICKY
         * starts k bytes before the end of the first block. */
        size_t pad = BLOCK - k;
        sb_t b = {0};
        char line[101];
        memset(line, 'p', 99);
        line[99] = '\n';
        line[100] = '\0';
        size_t lines = 0;
        while (pad - b.len > 200) {
            sb_add(&b, line, 100);
            lines++;
        }
        size_t rest = pad - b.len;
        char *last = repeat('p', rest - 1);
        sb_adds(&b, last);
        sb_adds(&b, "\n");
        lines++;
        free(last);
        cr_assert_eq(b.len, pad);
        sb_add(&b, TRICKY, tlen);
        sb_adds(&b, "tail");
        fixture_t f = open_bytes(b.p, b.len);
        node_csv_record_t rec;
        for (size_t i = 0; i < lines; i++) {
            rec = next_ok(f.csv);
            cr_assert_null(rec.error);
            cr_assert_eq(rec.nfields, 1);
        }
        expect_tricky(f.csv, lines + 1, lines + 1);
        EXPECT(f.csv, lines + 4, lines + 2, "tail");
        expect_end(f.csv);
        close_fixture(&f);
        free(b.p);
    }
}

Test(node_csv, matches_when_the_input_trickles_through_a_pipe)
{
    /* Every construct again, with a BOM, delivered a byte per write: each
     * read(2) may return a single byte, so every state meets a refill. */
    sb_t b = {0};
    sb_adds(&b, "\xEF\xBB\xBFh1,h2\r\n\n");
    sb_adds(&b, TRICKY);
    sb_adds(&b, "x\"y,z\r");            /* stray quote, then lone CR */
    sb_adds(&b, "\r\nlast,\"\"\"\"");   /* empty line, final record */
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        int ok = 1;
        for (size_t i = 0; ok && i < b.len; i++)
            ok = write(fds[1], b.p + i, 1) == 1;
        _exit(ok ? 0 : 1);
    }
    close(fds[1]);
    node_csv_t *csv = node_csv_new_fd(fds[0]);
    EXPECT(csv, 1, 1, "h1", "h2");
    expect_tricky(csv, 3, 2);
    expect_error(csv, 6, 3, "quote inside an unquoted field");
    EXPECT(csv, 8, 4, "last", "\"");
    expect_end(csv);
    node_csv_destroy(&csv);
    close(fds[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    free(b.p);
}

/* Record i of the generated file: an id, a field that is quoted when it
 * needs to be (commas, quotes, LF or CRLF, UTF-8), and a run of letters
 * whose length varies. Writes the raw fields into f1 and f2 (f2 quoted or
 * not is up to the caller) and returns how many line ends are inside. */
static unsigned gen_fields(size_t i, sb_t *f1, sb_t *f2)
{
    unsigned inner = 0;
    f1->len = 0;
    f2->len = 0;
    sb_adds(f1, "");
    sb_adds(f2, "");
    switch (i % 6) {
    case 0: sb_adds(f1, "plain"); break;
    case 1: sb_adds(f1, "with, comma"); break;
    case 2: sb_adds(f1, "say \"hi\""); break;
    case 3: sb_adds(f1, "two\nlines"); inner = 1; break;
    case 4: sb_adds(f1, "crlf\r\nhere\r\ntoo"); inner = 2; break;
    default: sb_adds(f1, "caf\xC3\xA9 \xE2\x82\xAC"); break;
    }
    size_t n = (i * 37) % 301;
    for (size_t k = 0; k < n; k++)
        sb_add(f2, &"abcdefghijklmnopqrstuvwxyz"[(i + k) % 26], 1);
    return inner;
}

Test(node_csv, reads_every_record_of_a_file_larger_than_two_blocks)
{
    sb_t file = {0}, f1 = {0}, f2 = {0};
    size_t n = 0;
    while (file.len < 2 * BLOCK + BLOCK / 2) {
        gen_fields(n, &f1, &f2);
        char id[32];
        snprintf(id, sizeof id, "%zu,", n);
        sb_adds(&file, id);
        if (n % 6 != 0) {
            sb_adds(&file, "\"");
            for (size_t k = 0; k < f1.len; k++) {
                if (f1.p[k] == '"')
                    sb_adds(&file, "\"");
                sb_add(&file, &f1.p[k], 1);
            }
            sb_adds(&file, "\"");
        } else {
            sb_add(&file, f1.p, f1.len);
        }
        sb_adds(&file, ",");
        sb_add(&file, f2.p, f2.len);
        sb_adds(&file, n % 2 ? "\r\n" : "\n");
        n++;
    }
    fixture_t f = open_bytes(file.p, file.len);
    uint64_t line = 1;
    for (size_t i = 0; i < n; i++) {
        unsigned inner = gen_fields(i, &f1, &f2);
        char id[32];
        snprintf(id, sizeof id, "%zu", i);
        EXPECT(f.csv, line, i + 1, id, f1.p, f2.p);
        line += 1 + inner;
    }
    expect_end(f.csv);
    close_fixture(&f);
    free(file.p);
    free(f1.p);
    free(f2.p);
}

/* --- opening, errors, destroy ------------------------------------------- */

Test(node_csv, opens_a_file_by_path)
{
    char path[] = "/tmp/test_node_csv_XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, "a,b\n", 4), 4);
    close(fd);
    node_csv_t *csv = NULL;
    char *cause = NULL;
    cr_assert_eq(node_csv_open(path, &csv, &cause), HEARTH_OK);
    cr_assert_null(cause);
    EXPECT(csv, 1, 1, "a", "b");
    expect_end(csv);
    node_csv_destroy(&csv);
    cr_assert_null(csv);
    unlink(path);
}

Test(node_csv, reports_a_missing_file)
{
    node_csv_t *csv = (node_csv_t *)1;
    char *cause = NULL;
    cr_assert_eq(node_csv_open("/nonexistent/hearth/extract.csv", &csv, &cause),
                 HEARTH_ERR_IO);
    cr_assert_null(csv);
    cr_assert_not_null(cause);
    cr_assert_not_null(strstr(cause, "cannot open"));
    free(cause);
}

Test(node_csv, reports_a_read_error_and_keeps_failing)
{
    int fd = open("/tmp", O_RDONLY | O_DIRECTORY);  /* read(2) gives EISDIR */
    cr_assert(fd >= 0);
    node_csv_t *csv = node_csv_new_fd(fd);
    node_csv_record_t rec;
    char *cause = NULL;
    cr_assert_eq(node_csv_next(csv, &rec, &cause), HEARTH_ERR_IO);
    cr_assert_not_null(cause);
    cr_assert_not_null(strstr(cause, "cannot read"));
    cr_assert_eq(node_csv_next(csv, &rec, &cause), HEARTH_ERR_IO);
    free(cause);
    node_csv_destroy(&csv);
    /* The borrowed fd is still open. */
    cr_assert_eq(fcntl(fd, F_GETFD) >= 0, 1);
    close(fd);
}

Test(node_csv, destroy_accepts_null)
{
    node_csv_t *csv = NULL;
    node_csv_destroy(&csv);
    node_csv_destroy(NULL);
    cr_assert_null(csv);
}

/* Describes every record the reader returns (and the ending) as one string,
 * so two ways of delivering the same bytes can be compared. */
static void describe_all(node_csv_t *csv, sb_t *out)
{
    node_csv_record_t rec;
    char *cause = NULL;
    hearth_err_t rc;
    while ((rc = node_csv_next(csv, &rec, &cause)) == HEARTH_OK) {
        char head[128];
        snprintf(head, sizeof head, "[%llu@%llu %s %zu]", (unsigned long long)rec.record,
                 (unsigned long long)rec.line, rec.error ? rec.error : "ok", rec.nfields);
        sb_adds(out, head);
        for (size_t i = 0; i < rec.nfields; i++) {
            cr_assert_eq(strlen(rec.fields[i]), rec.lens[i]);
            sb_adds(out, "<");
            sb_add(out, rec.fields[i], rec.lens[i]);
            sb_adds(out, ">");
        }
    }
    cr_assert_eq(rc, HEARTH_ERR_NOT_FOUND);
    free(cause);
    sb_adds(out, "[end]");
}

Test(node_csv, gives_the_same_records_whatever_the_read_sizes)
{
    /* Random inputs over the bytes that matter, read from a memfd in one
     * block and from a pipe a byte per write: the results must agree. */
    static const char alphabet[] = "a,\"\n\r\0\xC3\xA9\x80\xEF\xBB\xBF";
    unsigned x = 2463534242u;
    for (int round = 0; round < 150; round++) {
        char data[96];
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        size_t len = x % sizeof data;
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            data[i] = alphabet[x % (sizeof alphabet - 1)];
        }
        sb_t whole = {0}, trickled = {0};
        fixture_t f = open_bytes(data, len);
        describe_all(f.csv, &whole);
        close_fixture(&f);

        int fds[2];
        cr_assert_eq(pipe(fds), 0);
        pid_t pid = fork();
        cr_assert(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            int ok = 1;
            for (size_t i = 0; ok && i < len; i++)
                ok = write(fds[1], data + i, 1) == 1;
            _exit(ok ? 0 : 1);
        }
        close(fds[1]);
        node_csv_t *csv = node_csv_new_fd(fds[0]);
        describe_all(csv, &trickled);
        node_csv_destroy(&csv);
        close(fds[0]);
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert_eq(whole.len, trickled.len, "round %d differs", round);
        cr_assert_eq(memcmp(whole.p, trickled.p, whole.len), 0, "round %d differs", round);
        free(whole.p);
        free(trickled.p);
    }
}
