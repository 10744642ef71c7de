/* gw_parse — lexer, recursive-descent parser, formatter and error renderer
 * for the analyst's query language (see gw_parse.h for the grammar).
 *
 * The whole query is checked for length, NUL bytes and UTF-8 first, then
 * lexed into a token array ending in an EOF token, or in an ERROR token where
 * lexing stopped. The lexer's error is kept aside and reported only when the
 * parser reaches that token, so the first fault in reading order is the one
 * the analyst sees. Recursion happens only at '(', NOT and EXISTS, each of
 * which counts against max_depth; AND/OR chains are loops. */
#include "gw_parse.h"
#include "hearth_date.h"

#include "hearth_buf.h"
#include "hearth_mem.h"

#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The most bytes of a token an error message quotes. */
#define QUOTE_MAX 32
/* Enough for a quoted token: quotes, QUOTE_MAX bytes, "..." and NUL. */
#define QUOTE_BUF (QUOTE_MAX + 8)
/* Characters of a query line gw_parse_error_render() shows at most. */
#define RENDER_WIDTH 100

typedef enum {
    T_EOF, T_ERROR, T_WORD, T_QIDENT, T_STRING, T_INTEGER, T_DECIMAL,
    T_LPAREN, T_RPAREN, T_COMMA, T_DOT, T_SEMI, T_STAR,
    T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE
} tok_kind_t;

/* Reserved words come first: everything before KW_COUNT needs quoting to be
 * used as a name. */
typedef enum {
    KW_NONE,
    KW_SELECT, KW_FROM, KW_WHERE, KW_GROUP, KW_BY, KW_AND, KW_OR, KW_NOT, KW_IN,
    KW_BETWEEN, KW_IS, KW_NULL, KW_EXISTS, KW_UNION, KW_DATE,
    KW_COUNT, KW_SUM, KW_MEAN, KW_PERSONS
} kw_t;

static const struct {
    const char *name;
    kw_t kw;
} keywords[] = {
    {"SELECT", KW_SELECT}, {"FROM", KW_FROM}, {"WHERE", KW_WHERE}, {"GROUP", KW_GROUP},
    {"BY", KW_BY}, {"AND", KW_AND}, {"OR", KW_OR}, {"NOT", KW_NOT}, {"IN", KW_IN},
    {"BETWEEN", KW_BETWEEN}, {"IS", KW_IS}, {"NULL", KW_NULL}, {"EXISTS", KW_EXISTS},
    {"UNION", KW_UNION}, {"DATE", KW_DATE}, {"COUNT", KW_COUNT}, {"SUM", KW_SUM},
    {"MEAN", KW_MEAN}, {"PERSONS", KW_PERSONS},
};

typedef struct {
    tok_kind_t kind;
    kw_t kw;          /* T_WORD: the keyword it spells, or KW_NONE */
    size_t offset;    /* source span */
    size_t len;
    char *value;      /* owned until taken: T_QIDENT, T_STRING unescaped;
                       * T_INTEGER, T_DECIMAL canonical text */
    int64_t integer;  /* T_INTEGER */
    double decimal;   /* T_DECIMAL */
} tok_t;

typedef struct {
    const char *sql;
    size_t len;
    gw_parse_limits_t lim;
    tok_t *toks;             /* ends with one T_EOF or T_ERROR token */
    size_t ntoks;
    size_t cap;
    size_t pos;              /* the current token */
    size_t depth;            /* current nesting of '(', NOT and EXISTS */
    bool in_exists;          /* parsing an EXISTS sub-select's WHERE */
    locale_t c_locale;       /* for strtod_l; made on the first decimal */
    hearth_err_t lex_rc;     /* the lexer's fault, reported at the T_ERROR token */
    gw_parse_error_t lex_err;
    hearth_err_t rc;         /* the first fault found; HEARTH_OK until then */
    gw_parse_error_t err;
} parser_t;

/* ---------------------------------------------------------------- text */

static char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool is_word_start(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_word_char(unsigned char c)
{
    return is_word_start(c) || (c >= '0' && c <= '9');
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Length of the valid, shortest-form UTF-8 sequence at s (1..4), or 0. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    if (n == 0)
        return 0;
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t need;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        need = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        need = 3;
        if (c == 0xe0)
            lo = 0xa0;          /* no overlong forms */
        else if (c == 0xed)
            hi = 0x9f;          /* no UTF-16 surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;          /* nothing above U+10FFFF */
    } else
        return 0;
    if (n < need || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return need;
}

static uint32_t utf8_decode(const unsigned char *s, size_t n)
{
    switch (n) {
    case 1: return s[0];
    case 2: return ((uint32_t)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
    case 3: return ((uint32_t)(s[0] & 0x0f) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
    default:
        return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3f) << 12) |
               ((uint32_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
    }
}

/* Characters that would garble or disguise an echoed line: C1 controls,
 * line separators and the bidirectional overrides (which can make text read
 * differently from how it parses). */
static bool is_hidden_code_point(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
           (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Bytes of the next displayed character at s: a valid UTF-8 sequence, or one
 * byte of anything else. */
static size_t unit_len(const unsigned char *s, size_t n)
{
    size_t k = utf8_seq_len(s, n);
    return k ? k : 1;
}

/* Appends one displayed character (unit_len bytes at s), replacing anything
 * non-printable with '?' and a tab with a space so columns stay aligned. */
static void append_unit(hearth_buf_t *b, const unsigned char *s, size_t n)
{
    size_t k = utf8_seq_len(s, n);
    char c = '?';
    if (k == 1 && s[0] == '\t')
        c = ' ';
    else if (k == 1 && s[0] >= 0x20 && s[0] < 0x7f)
        c = (char)s[0];
    else if (k > 1 && !is_hidden_code_point(utf8_decode(s, k))) {
        (void)hearth_buf_add(b, s, k);
        return;
    }
    (void)hearth_buf_add(b, &c, 1);
}

/* Writes 'text' into out (QUOTE_BUF bytes): at most QUOTE_MAX bytes, cut at a
 * character boundary, "..." when cut, non-printables as '?'. */
static void quote_bytes(char *out, const char *text, size_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    hearth_buf_t b;
    hearth_buf_init(&b, QUOTE_BUF - 1);
    (void)hearth_buf_add(&b, "'", 1);
    size_t i = 0;
    while (i < n) {
        size_t k = unit_len(s + i, n - i);
        if (i + k > QUOTE_MAX)
            break;
        append_unit(&b, s + i, k);
        i += k;
    }
    if (i < n)
        (void)hearth_buf_add(&b, "...", 3);
    (void)hearth_buf_add(&b, "'", 1);
    snprintf(out, QUOTE_BUF, "%s", hearth_buf_str(&b));
    hearth_buf_free(&b);
}

static void quote_str(char *out, const char *s)
{
    quote_bytes(out, s, strlen(s));
}

/* ---------------------------------------------------------------- errors */

static void vfail(parser_t *p, hearth_err_t rc, size_t offset, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void vfail(parser_t *p, hearth_err_t rc, size_t offset, const char *fmt, va_list ap)
{
    if (p->rc != HEARTH_OK)
        return;   /* the first fault is the one reported */
    p->rc = rc;
    p->err.offset = offset;
    vsnprintf(p->err.message, sizeof p->err.message, fmt, ap);
}

static void fail(parser_t *p, hearth_err_t rc, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail(parser_t *p, hearth_err_t rc, size_t offset, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(p, rc, offset, fmt, ap);
    va_end(ap);
}

/* Reports the lexer's fault when the parser has reached the token where
 * lexing stopped; returns whether it did. */
static bool fail_if_lex_error(parser_t *p, const tok_t *t)
{
    if (t->kind != T_ERROR)
        return false;
    fail(p, p->lex_rc, p->lex_err.offset, "%s", p->lex_err.message);
    return true;
}

static bool is_reserved(kw_t kw)
{
    return kw != KW_NONE && kw < KW_COUNT;
}

/* Whether a reserved word found where a name was expected looks meant as a
 * name (`date > ...`, `SUM(date)`, `date,`), judged by what follows it:
 * `SELECT FROM` should not be told to quote FROM. */
static bool looks_like_a_name(const tok_t *t)
{
    if (t->kind == T_EOF || t->kind == T_ERROR)
        return false;
    const tok_t *next = t + 1;
    switch (next->kind) {
    case T_EOF: case T_COMMA: case T_RPAREN: case T_DOT: case T_SEMI:
    case T_EQ: case T_NE: case T_LT: case T_LE: case T_GT: case T_GE:
        return true;
    case T_WORD:
        return next->kw == KW_IN || next->kw == KW_BETWEEN || next->kw == KW_IS;
    default:
        return false;
    }
}

/* Describes the token found where something else was expected. want_name:
 * a name was expected, so a reserved word that looks meant as one gets a
 * hint on quoting it. */
static void describe(const parser_t *p, const tok_t *t, bool want_name, char *out, size_t size)
{
    char q[QUOTE_BUF];
    if (t->kind == T_EOF) {
        snprintf(out, size, "end of query");
    } else if (t->kind == T_STRING) {
        /* Never echo a string's content: it may be a value the analyst
         * would not want repeated in logs. */
        snprintf(out, size, "a string literal");
    } else if (t->kind == T_WORD && want_name && is_reserved(t->kw) && looks_like_a_name(t)) {
        char lower[16];
        size_t n = t->len < sizeof lower - 1 ? t->len : sizeof lower - 1;
        for (size_t i = 0; i < n; i++)
            lower[i] = ascii_lower(p->sql[t->offset + i]);
        lower[n] = '\0';
        quote_bytes(q, p->sql + t->offset, t->len);
        snprintf(out, size, "reserved word %s (write \"%s\" to use it as a name)", q, lower);
    } else {
        quote_bytes(q, p->sql + t->offset, t->len);
        snprintf(out, size, "%s", q);
    }
}

static void fail_expected(parser_t *p, const tok_t *t, bool want_name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "expected <fmt...>, found <t>" at t, or the lexer's fault if t is where
 * lexing stopped. */
static void fail_expected(parser_t *p, const tok_t *t, bool want_name, const char *fmt, ...)
{
    if (fail_if_lex_error(p, t))
        return;
    char what[160], found[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    describe(p, t, want_name, found, sizeof found);
    fail(p, HEARTH_ERR_PARSE, t->offset, "expected %s, found %s", what, found);
}

/* ---------------------------------------------------------------- lexer */

static tok_t *push_tok(parser_t *p, tok_kind_t kind, size_t offset, size_t len)
{
    if (p->ntoks == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 64;
        p->toks = hearth_reallocarray(p->toks, p->cap, sizeof *p->toks);
    }
    tok_t *t = &p->toks[p->ntoks++];
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->offset = offset;
    t->len = len;
    return t;
}

static void lex_fail(parser_t *p, hearth_err_t rc, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Ends the token stream with an ERROR token carrying the lexer's fault. */
static void lex_fail(parser_t *p, hearth_err_t rc, size_t offset, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    p->lex_rc = rc;
    p->lex_err.offset = offset;
    vsnprintf(p->lex_err.message, sizeof p->lex_err.message, fmt, ap);
    va_end(ap);
    push_tok(p, T_ERROR, offset, 0);
}

static kw_t keyword_of(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++) {
        const char *k = keywords[i].name;
        if (strlen(k) != n)
            continue;
        size_t j = 0;
        while (j < n && ascii_lower(s[j]) == ascii_lower(k[j]))
            j++;
        if (j == n)
            return keywords[i].kw;
    }
    return KW_NONE;
}

/* Lexes a '...' string or "..." identifier starting at *i; doubled quotes
 * stand for one. Returns false after lex_fail(). */
static bool lex_quoted(parser_t *p, size_t *i)
{
    const char *s = p->sql;
    size_t start = *i;
    char quote = s[start];
    bool ident = quote == '"';
    size_t max = ident ? p->lim.max_ident_len : p->lim.max_string_len;
    hearth_buf_t b;
    hearth_buf_init(&b, max);
    size_t j = start + 1;
    for (;;) {
        if (j >= p->len) {
            hearth_buf_free(&b);
            lex_fail(p, HEARTH_ERR_PARSE, start, ident ? "unterminated quoted identifier"
                                                       : "unterminated string literal");
            return false;
        }
        unsigned char c = (unsigned char)s[j];
        if (c == (unsigned char)quote) {
            if (j + 1 < p->len && s[j + 1] == quote)
                j++;   /* a doubled quote is one quote */
            else
                break;
        } else if (c < 0x20 || c == 0x7f) {
            hearth_buf_free(&b);
            lex_fail(p, HEARTH_ERR_PARSE, j, ident ? "control character in quoted identifier"
                                                   : "control character in string literal");
            return false;
        }
        if (hearth_buf_add(&b, &s[j], 1) != HEARTH_OK) {
            hearth_buf_free(&b);
            if (ident)
                lex_fail(p, HEARTH_ERR_TOO_BIG, start,
                         "identifier is longer than %zu bytes (max_ident_len)", max);
            else
                lex_fail(p, HEARTH_ERR_TOO_BIG, start,
                         "string literal is longer than %zu bytes (max_string_len)", max);
            return false;
        }
        j++;
    }
    if (ident && b.len == 0) {
        hearth_buf_free(&b);
        lex_fail(p, HEARTH_ERR_PARSE, start, "empty quoted identifier");
        return false;
    }
    tok_t *t = push_tok(p, ident ? T_QIDENT : T_STRING, start, j + 1 - start);
    t->value = b.data ? hearth_buf_take(&b) : hearth_strdup("");
    hearth_buf_free(&b);
    *i = j + 1;
    return true;
}

/* Lexes [-]digits[.digits] starting at *i. Integers must fit int64_t;
 * decimals are kept as canonical text beside their nearest double. */
static bool lex_number(parser_t *p, size_t *i)
{
    const char *s = p->sql;
    size_t start = *i, j = *i;
    bool neg = s[j] == '-';
    if (neg)
        j++;
    size_t int_start = j;
    while (j < p->len && is_digit((unsigned char)s[j]))
        j++;
    size_t int_end = j;
    size_t frac_start = 0, frac_end = 0;
    if (j + 1 < p->len && s[j] == '.' && is_digit((unsigned char)s[j + 1])) {
        frac_start = ++j;
        while (j < p->len && is_digit((unsigned char)s[j]))
            j++;
        frac_end = j;
    }
    /* Canonical digits: no leading zeros in the integer part. */
    size_t a = int_start;
    while (a + 1 < int_end && s[a] == '0')
        a++;
    if (frac_start == 0) {
        uint64_t mag = 0;
        const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        for (size_t k = a; k < int_end; k++) {
            uint64_t d = (uint64_t)(s[k] - '0');
            if (mag > (limit - d) / 10) {
                lex_fail(p, HEARTH_ERR_PARSE, start,
                         "integer literal is out of range (it must fit in 64 bits)");
                return false;
            }
            mag = mag * 10 + d;
        }
        tok_t *t = push_tok(p, T_INTEGER, start, j - start);
        if (neg && mag == (uint64_t)INT64_MAX + 1)
            t->integer = INT64_MIN;
        else
            t->integer = neg ? -(int64_t)mag : (int64_t)mag;
        t->value = hearth_asprintf("%" PRId64, t->integer);
        *i = j;
        return true;
    }
    size_t z = frac_end;
    while (z > frac_start + 1 && s[z - 1] == '0')
        z--;
    bool zero = a + 1 == int_end && s[a] == '0' && z == frac_start + 1 && s[frac_start] == '0';
    char *text = hearth_asprintf("%s%.*s.%.*s", neg && !zero ? "-" : "", (int)(int_end - a),
                                 s + a, (int)(z - frac_start), s + frac_start);
    if (p->c_locale == (locale_t)0) {
        /* strtod_l in the C locale: the decimal point is '.' whatever the
         * process's LC_NUMERIC. */
        p->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
        if (p->c_locale == (locale_t)0) {
            free(text);
            lex_fail(p, HEARTH_ERR_INTERNAL, start, "cannot make the C locale for numbers");
            return false;
        }
    }
    double v = strtod_l(text, NULL, p->c_locale);
    if (isinf(v)) {
        free(text);
        lex_fail(p, HEARTH_ERR_PARSE, start, "decimal literal is out of range");
        return false;
    }
    tok_t *t = push_tok(p, T_DECIMAL, start, j - start);
    t->value = text;
    t->decimal = v;
    *i = j;
    return true;
}

/* Lexes the whole query into p->toks, ending with T_EOF or T_ERROR. */
static void lex_all(parser_t *p)
{
    const char *s = p->sql;
    size_t i = 0, last_end = 0;
    for (;;) {
        while (i < p->len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
            i++;
        if (i >= p->len) {
            /* End of query sits just past the last token, so a caret
             * lands after it rather than on a trailing newline. */
            push_tok(p, T_EOF, last_end, 0);
            return;
        }
        unsigned char c = (unsigned char)s[i];
        unsigned char next = i + 1 < p->len ? (unsigned char)s[i + 1] : 0;
        size_t before = p->ntoks;
        if (is_word_start(c)) {
            size_t j = i;
            while (j < p->len && is_word_char((unsigned char)s[j]))
                j++;
            if (j - i > p->lim.max_ident_len) {
                lex_fail(p, HEARTH_ERR_TOO_BIG, i,
                         "identifier is longer than %zu bytes (max_ident_len)", p->lim.max_ident_len);
                return;
            }
            tok_t *t = push_tok(p, T_WORD, i, j - i);
            t->kw = keyword_of(s + i, j - i);
            i = j;
        } else if (is_digit(c) || (c == '-' && is_digit(next))) {
            if (!lex_number(p, &i))
                return;
        } else if (c == '\'' || c == '"') {
            if (!lex_quoted(p, &i))
                return;
        } else {
            tok_kind_t k;
            size_t n = 1;
            switch (c) {
            case '(': k = T_LPAREN; break;
            case ')': k = T_RPAREN; break;
            case ',': k = T_COMMA; break;
            case '.': k = T_DOT; break;
            case ';': k = T_SEMI; break;
            case '*': k = T_STAR; break;
            case '=': k = T_EQ; break;
            case '<':
                if (next == '=') { k = T_LE; n = 2; }
                else if (next == '>') { k = T_NE; n = 2; }
                else k = T_LT;
                break;
            case '>':
                if (next == '=') { k = T_GE; n = 2; }
                else k = T_GT;
                break;
            case '!':
                if (next != '=') {
                    lex_fail(p, HEARTH_ERR_PARSE, i, "unexpected character '!' (did you mean '!='?)");
                    return;
                }
                k = T_NE;
                n = 2;
                break;
            case '-':
                if (next == '-')
                    lex_fail(p, HEARTH_ERR_PARSE, i, "comments ('--') are not supported");
                else
                    lex_fail(p, HEARTH_ERR_PARSE, i,
                             "unexpected '-' (a negative number is written -5; "
                             "a name containing '-' must be \"quoted\")");
                return;
            default:
                if (c < 0x20 || c == 0x7f) {
                    lex_fail(p, HEARTH_ERR_PARSE, i, "unexpected control character (byte 0x%02x)", c);
                } else {
                    char q[QUOTE_BUF];
                    quote_bytes(q, s + i, unit_len((const unsigned char *)s + i, p->len - i));
                    lex_fail(p, HEARTH_ERR_PARSE, i, "unexpected character %s", q);
                }
                return;
            }
            push_tok(p, k, i, n);
            i += n;
        }
        if (p->ntoks > before)
            last_end = p->toks[p->ntoks - 1].offset + p->toks[p->ntoks - 1].len;
    }
}

/* ---------------------------------------------------------------- tree */

static void literal_clear(gw_literal_t *lit)
{
    free(lit->text);
    lit->text = NULL;
}

static void dsref_clear(gw_dsref_t *d)
{
    free(d->node);
    free(d->dataset);
    d->node = d->dataset = NULL;
}

/* Frees an expression tree. The left spine is walked in a loop, so a long
 * AND/OR chain costs no stack; right operands and sub-selects are bounded
 * by the nesting depth. */
static void expr_free(gw_expr_t *e)
{
    while (e) {
        gw_expr_t *next = e->left;
        expr_free(e->right);
        expr_free(e->exists_where);
        free(e->column);
        for (size_t i = 0; i < e->nvalues; i++)
            literal_clear(&e->values[i]);
        free(e->values);
        dsref_clear(&e->exists_from);
        free(e);
        e = next;
    }
}

void gw_query_destroy(gw_query_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    gw_query_t *q = *self_p;
    for (size_t i = 0; i < 3; i++)
        free(q->group[i]);
    free(q->measure_column);
    for (size_t i = 0; i < q->nfrom; i++)
        dsref_clear(&q->from[i]);
    free(q->from);
    expr_free(q->where);
    free(q);
    *self_p = NULL;
}

static gw_expr_t *expr_new(gw_expr_kind_t kind, size_t offset)
{
    gw_expr_t *e = hearth_calloc(1, sizeof *e);
    e->kind = kind;
    e->offset = offset;
    return e;
}

/* ---------------------------------------------------------------- parser */

static tok_t *tok(parser_t *p, size_t ahead)
{
    size_t i = p->pos + ahead;
    return &p->toks[i < p->ntoks ? i : p->ntoks - 1];
}

static void advance(parser_t *p)
{
    if (p->pos + 1 < p->ntoks)
        p->pos++;
}

static bool is_kw(const tok_t *t, kw_t kw)
{
    return t->kind == T_WORD && t->kw == kw;
}

static bool is_ident(const tok_t *t)
{
    return t->kind == T_QIDENT || (t->kind == T_WORD && !is_reserved(t->kw));
}

/* The name an identifier token stands for (caller frees): a bare word
 * folded to lower case, a quoted one unescaped. */
static char *take_ident(parser_t *p, tok_t *t)
{
    if (t->kind == T_QIDENT) {
        char *v = t->value;
        t->value = NULL;
        return v;
    }
    char *v = hearth_strndup(p->sql + t->offset, t->len);
    for (char *c = v; *c; c++)
        *c = ascii_lower(*c);
    return v;
}

/* How the previous token reads in "after X": keywords in capitals, anything
 * else quoted. */
static void describe_prev(const parser_t *p, char *out, size_t size)
{
    const tok_t *t = &p->toks[p->pos ? p->pos - 1 : 0];
    if (t->kind == T_WORD && t->kw != KW_NONE) {
        for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
            if (keywords[i].kw == t->kw)
                snprintf(out, size, "%s", keywords[i].name);
        return;
    }
    char q[QUOTE_BUF];
    quote_bytes(q, p->sql + t->offset, t->len);
    snprintf(out, size, "%s", q);
}

/* Counts one more level of nesting at t; false (TOO_BIG) past max_depth. */
static bool enter(parser_t *p, const tok_t *t)
{
    if (p->depth >= p->lim.max_depth) {
        fail(p, HEARTH_ERR_TOO_BIG, t->offset, "nesting deeper than %zu levels (max_depth)",
             p->lim.max_depth);
        return false;
    }
    p->depth++;
    return true;
}

static void leave(parser_t *p)
{
    p->depth--;
}

/* Real calendar date written YYYY-MM-DD, years 0001-9999. */
static bool valid_date(const char *s)
{
    bool iso = false;
    return hearth_date_parse(s, strlen(s), 1, 9999, NULL, &iso) == HEARTH_DATE_OK && iso;
}

/* Parses one literal; ctx completes "expected a literal <ctx>". On success
 * fills *lit (text owned) and returns true. */
static bool parse_literal(parser_t *p, gw_literal_t *lit, const char *ctx)
{
    tok_t *t = tok(p, 0);
    memset(lit, 0, sizeof *lit);
    lit->offset = t->offset;
    switch (t->kind) {
    case T_STRING:
        lit->kind = GW_LIT_STRING;
        break;
    case T_INTEGER:
        lit->kind = GW_LIT_INTEGER;
        lit->integer = t->integer;
        break;
    case T_DECIMAL:
        lit->kind = GW_LIT_DECIMAL;
        lit->decimal = t->decimal;
        break;
    case T_WORD:
        if (t->kw == KW_DATE) {
            advance(p);
            t = tok(p, 0);
            if (t->kind != T_STRING) {
                fail_expected(p, t, false, "a date as 'YYYY-MM-DD' after DATE");
                return false;
            }
            if (!valid_date(t->value)) {
                fail(p, HEARTH_ERR_PARSE, t->offset,
                     "invalid date: expected DATE 'YYYY-MM-DD' with a real calendar date");
                return false;
            }
            lit->kind = GW_LIT_DATE;
            break;
        }
        if (t->kw == KW_NULL) {
            fail(p, HEARTH_ERR_PARSE, t->offset,
                 "expected a literal %s, found 'NULL': use IS NULL or IS NOT NULL", ctx);
            return false;
        }
        if (!is_reserved(t->kw)) {
            char q[QUOTE_BUF];
            quote_bytes(q, p->sql + t->offset, t->len);
            fail(p, HEARTH_ERR_PARSE, t->offset,
                 "expected a literal %s, found %s (strings take single quotes)", ctx, q);
            return false;
        }
        fail_expected(p, t, false, "a literal %s", ctx);
        return false;
    case T_QIDENT: {
        char q[QUOTE_BUF];
        quote_bytes(q, p->sql + t->offset, t->len);
        fail(p, HEARTH_ERR_PARSE, t->offset,
             "expected a literal %s, found %s (strings take single quotes)", ctx, q);
        return false;
    }
    default:
        fail_expected(p, t, false, "a literal %s", ctx);
        return false;
    }
    lit->text = t->value;
    t->value = NULL;
    advance(p);
    return true;
}

static gw_expr_t *parse_or(parser_t *p);
static bool parse_dsref(parser_t *p, gw_dsref_t *d, const char *ctx);

/* ident IN (...), after the column; the current token is IN. */
static bool parse_in_list(parser_t *p, gw_expr_t *e)
{
    advance(p);
    tok_t *t = tok(p, 0);
    if (t->kind != T_LPAREN) {
        fail_expected(p, t, false, "'(' after IN");
        return false;
    }
    advance(p);
    size_t cap = 0;
    for (;;) {
        t = tok(p, 0);
        if (e->nvalues == p->lim.max_in_list) {
            fail(p, HEARTH_ERR_TOO_BIG, t->offset, "IN list has more than %zu values (max_in_list)",
                 p->lim.max_in_list);
            return false;
        }
        if (e->nvalues == cap) {
            cap = cap ? cap * 2 : 4;
            e->values = hearth_reallocarray(e->values, cap, sizeof *e->values);
        }
        if (!parse_literal(p, &e->values[e->nvalues], "in the IN list"))
            return false;
        e->nvalues++;
        t = tok(p, 0);
        if (t->kind == T_RPAREN)
            break;
        if (t->kind != T_COMMA) {
            fail_expected(p, t, false, "',' or ')' in the IN list");
            return false;
        }
        advance(p);
    }
    advance(p);
    return true;
}

/* ident BETWEEN low AND high, after the column; the current token is BETWEEN. */
static bool parse_between(parser_t *p, gw_expr_t *e)
{
    advance(p);
    e->values = hearth_calloc(2, sizeof *e->values);
    if (!parse_literal(p, &e->values[0], "after BETWEEN"))
        return false;
    e->nvalues = 1;
    tok_t *t = tok(p, 0);
    if (!is_kw(t, KW_AND)) {
        fail_expected(p, t, false, "AND after the BETWEEN lower bound");
        return false;
    }
    advance(p);
    if (!parse_literal(p, &e->values[1], "after AND in BETWEEN"))
        return false;
    e->nvalues = 2;
    return true;
}

/* A predicate that starts with a column name. */
static gw_expr_t *parse_column_predicate(parser_t *p)
{
    tok_t *t = tok(p, 0);
    size_t offset = t->offset;
    char colq[QUOTE_BUF];
    quote_bytes(colq, p->sql + t->offset, t->len);
    gw_expr_t *e = expr_new(GW_EXPR_CMP, offset);
    e->column = take_ident(p, t);
    e->column_offset = offset;
    advance(p);
    t = tok(p, 0);
    bool negate = false;
    switch (t->kind) {
    case T_EQ: case T_NE: case T_LT: case T_LE: case T_GT: case T_GE: {
        static const gw_cmp_t cmps[] = {
            [T_EQ] = GW_CMP_EQ, [T_NE] = GW_CMP_NE, [T_LT] = GW_CMP_LT,
            [T_LE] = GW_CMP_LE, [T_GT] = GW_CMP_GT, [T_GE] = GW_CMP_GE,
        };
        e->cmp = cmps[t->kind];
        char ctx[32];
        snprintf(ctx, sizeof ctx, "after '%.*s'", (int)t->len, p->sql + t->offset);
        advance(p);
        e->values = hearth_calloc(1, sizeof *e->values);
        if (!parse_literal(p, &e->values[0], ctx))
            goto fail;
        e->nvalues = 1;
        return e;
    }
    case T_WORD:
        if (t->kw == KW_IS) {
            advance(p);
            t = tok(p, 0);
            e->kind = GW_EXPR_IS_NULL;
            if (is_kw(t, KW_NOT)) {
                e->kind = GW_EXPR_IS_NOT_NULL;
                advance(p);
                t = tok(p, 0);
                if (!is_kw(t, KW_NULL)) {
                    fail_expected(p, t, false, "NULL after IS NOT");
                    goto fail;
                }
            } else if (!is_kw(t, KW_NULL)) {
                fail_expected(p, t, false, "NULL or NOT NULL after IS");
                goto fail;
            }
            advance(p);
            return e;
        }
        if (t->kw == KW_NOT) {
            negate = true;
            advance(p);
            t = tok(p, 0);
            if (!is_kw(t, KW_IN) && !is_kw(t, KW_BETWEEN)) {
                fail_expected(p, t, false, "IN or BETWEEN after NOT");
                goto fail;
            }
        }
        if (t->kw == KW_IN || t->kw == KW_BETWEEN) {
            e->kind = t->kw == KW_IN ? GW_EXPR_IN : GW_EXPR_BETWEEN;
            if (!(t->kw == KW_IN ? parse_in_list(p, e) : parse_between(p, e)))
                goto fail;
            if (negate) {
                gw_expr_t *n = expr_new(GW_EXPR_NOT, offset);
                n->left = e;
                e = n;
            }
            return e;
        }
        break;
    default:
        break;
    }
    fail_expected(p, t, false, "a comparison (=, !=, <>, <, <=, >, >=), IN, BETWEEN or IS after %s",
                  colq);
fail:
    expr_free(e);
    return NULL;
}

/* EXISTS (SELECT * FROM node.dataset [WHERE expr]); the current token is EXISTS. */
static gw_expr_t *parse_exists(parser_t *p)
{
    tok_t *t = tok(p, 0);
    if (p->in_exists) {
        fail(p, HEARTH_ERR_PARSE, t->offset, "EXISTS may not be nested");
        return NULL;
    }
    if (!enter(p, t))
        return NULL;
    gw_expr_t *e = expr_new(GW_EXPR_EXISTS, t->offset);
    advance(p);
    static const struct {
        tok_kind_t kind;
        kw_t kw;
        const char *what;
    } opening[] = {
        {T_LPAREN, KW_NONE, "'(' after EXISTS"},
        {T_WORD, KW_SELECT, "SELECT after 'EXISTS ('"},
        {T_STAR, KW_NONE, "'*' after SELECT in an EXISTS sub-select"},
        {T_WORD, KW_FROM, "FROM after 'SELECT *' in an EXISTS sub-select"},
    };
    for (size_t i = 0; i < sizeof opening / sizeof opening[0]; i++) {
        t = tok(p, 0);
        if (t->kind != opening[i].kind || (t->kind == T_WORD && t->kw != opening[i].kw)) {
            fail_expected(p, t, false, "%s", opening[i].what);
            goto fail;
        }
        advance(p);
    }
    if (!parse_dsref(p, &e->exists_from, "FROM"))
        goto fail;
    t = tok(p, 0);
    if (is_kw(t, KW_WHERE)) {
        advance(p);
        p->in_exists = true;
        e->exists_where = parse_or(p);
        p->in_exists = false;
        if (e->exists_where == NULL)
            goto fail;
        t = tok(p, 0);
        if (t->kind != T_RPAREN) {
            fail_expected(p, t, false, "')' to close EXISTS");
            goto fail;
        }
    } else if (t->kind != T_RPAREN) {
        fail_expected(p, t, false, "WHERE or ')' after the dataset in EXISTS");
        goto fail;
    }
    advance(p);
    leave(p);
    return e;
fail:
    leave(p);
    expr_free(e);
    return NULL;
}

static gw_expr_t *parse_predicate(parser_t *p)
{
    tok_t *t = tok(p, 0);
    if (t->kind == T_LPAREN) {
        if (!enter(p, t))
            return NULL;
        advance(p);
        gw_expr_t *e = parse_or(p);
        leave(p);
        if (e == NULL)
            return NULL;
        t = tok(p, 0);
        if (t->kind != T_RPAREN) {
            fail_expected(p, t, false, "')' to close '('");
            expr_free(e);
            return NULL;
        }
        advance(p);
        return e;
    }
    if (is_kw(t, KW_EXISTS))
        return parse_exists(p);
    if (is_ident(t))
        return parse_column_predicate(p);
    char prev[48];
    describe_prev(p, prev, sizeof prev);
    fail_expected(p, t, true, "a condition after %s", prev);
    return NULL;
}

static gw_expr_t *parse_not(parser_t *p)
{
    tok_t *t = tok(p, 0);
    if (!is_kw(t, KW_NOT))
        return parse_predicate(p);
    if (!enter(p, t))
        return NULL;
    size_t offset = t->offset;
    advance(p);
    gw_expr_t *operand = parse_not(p);
    leave(p);
    if (operand == NULL)
        return NULL;
    gw_expr_t *e = expr_new(GW_EXPR_NOT, offset);
    e->left = operand;
    return e;
}

/* One level of a left-associative chain: operand {kw operand}. */
static gw_expr_t *parse_chain(parser_t *p, kw_t kw, gw_expr_kind_t kind,
                              gw_expr_t *(*operand)(parser_t *))
{
    size_t offset = tok(p, 0)->offset;
    gw_expr_t *left = operand(p);
    if (left == NULL)
        return NULL;
    while (is_kw(tok(p, 0), kw)) {
        advance(p);
        gw_expr_t *right = operand(p);
        if (right == NULL) {
            expr_free(left);
            return NULL;
        }
        gw_expr_t *e = expr_new(kind, offset);
        e->left = left;
        e->right = right;
        left = e;
    }
    return left;
}

static gw_expr_t *parse_and(parser_t *p)
{
    return parse_chain(p, KW_AND, GW_EXPR_AND, parse_not);
}

static gw_expr_t *parse_or(parser_t *p)
{
    return parse_chain(p, KW_OR, GW_EXPR_OR, parse_and);
}

/* node.dataset; ctx names what it follows ("FROM", "UNION"). */
static bool parse_dsref(parser_t *p, gw_dsref_t *d, const char *ctx)
{
    memset(d, 0, sizeof *d);
    tok_t *t = tok(p, 0);
    if (!is_ident(t)) {
        fail_expected(p, t, true, "a dataset as node.dataset after %s", ctx);
        return false;
    }
    char q[QUOTE_BUF], qdot[QUOTE_BUF];
    quote_bytes(q, p->sql + t->offset, t->len);
    char *dotted = hearth_asprintf("%.*s.", (int)t->len, p->sql + t->offset);
    quote_str(qdot, dotted);
    free(dotted);
    d->offset = t->offset;
    d->node = take_ident(p, t);
    advance(p);
    t = tok(p, 0);
    if (t->kind != T_DOT) {
        fail_expected(p, t, false, "'.' and a dataset name after the node name %s", q);
        goto fail;
    }
    advance(p);
    t = tok(p, 0);
    if (!is_ident(t)) {
        fail_expected(p, t, true, "a dataset name after %s", qdot);
        goto fail;
    }
    d->dataset = take_ident(p, t);
    advance(p);
    return true;
fail:
    dsref_clear(d);
    return false;
}

/* COUNT(*) | COUNT(PERSONS) | SUM(col) | MEAN(col); the current token is
 * the measure's name and the next one '('. */
static bool parse_measure(parser_t *p, gw_query_t *q)
{
    tok_t *name = tok(p, 0);
    tok_t *t;
    q->measure_offset = name->offset;
    if (name->kw == KW_COUNT) {
        advance(p);
        advance(p);
        t = tok(p, 0);
        if (t->kind == T_STAR)
            q->measure = GW_MEASURE_COUNT_RECORDS;
        else if (is_kw(t, KW_PERSONS))
            q->measure = GW_MEASURE_COUNT_PERSONS;
        else {
            fail_expected(p, t, false, "* or PERSONS in COUNT(...)");
            return false;
        }
    } else if (name->kw == KW_SUM || name->kw == KW_MEAN) {
        q->measure = name->kw == KW_SUM ? GW_MEASURE_SUM : GW_MEASURE_MEAN;
        const char *fn = name->kw == KW_SUM ? "SUM" : "MEAN";
        advance(p);
        advance(p);
        t = tok(p, 0);
        if (!is_ident(t)) {
            fail_expected(p, t, true, "a column name in %s(...)", fn);
            return false;
        }
        q->measure_column = take_ident(p, t);
        q->measure_offset = t->offset;
    } else {
        char nq[QUOTE_BUF];
        quote_bytes(nq, p->sql + name->offset, name->len);
        fail(p, HEARTH_ERR_PARSE, name->offset,
             "unknown measure %s: use COUNT(*), COUNT(PERSONS), SUM(col) or MEAN(col)", nq);
        return false;
    }
    advance(p);
    t = tok(p, 0);
    if (t->kind != T_RPAREN) {
        fail_expected(p, t, false, "')' to close the measure");
        return false;
    }
    advance(p);
    return true;
}

/* [col {, col} ,] measure */
static bool parse_select_list(parser_t *p, gw_query_t *q)
{
    for (;;) {
        tok_t *t = tok(p, 0);
        if (t->kind == T_WORD && !is_reserved(t->kw) && tok(p, 1)->kind == T_LPAREN)
            return parse_measure(p, q);
        if (!is_ident(t)) {
            fail_expected(p, t, true, "a column or a measure after %s", q->ngroup ? "','" : "SELECT");
            return false;
        }
        if (q->ngroup == 3) {
            fail(p, HEARTH_ERR_PARSE, t->offset,
                 "too many group columns: at most 3 may come before the measure");
            return false;
        }
        char cq[QUOTE_BUF];
        quote_bytes(cq, p->sql + t->offset, t->len);
        q->group_offset[q->ngroup] = t->offset;
        q->group[q->ngroup++] = take_ident(p, t);
        advance(p);
        t = tok(p, 0);
        if (t->kind == T_COMMA) {
            advance(p);
            continue;
        }
        if (!fail_if_lex_error(p, t)) {
            if (is_kw(t, KW_FROM) || t->kind == T_EOF)
                fail(p, HEARTH_ERR_PARSE, t->offset,
                     "the SELECT list must end with a measure: "
                     "COUNT(*), COUNT(PERSONS), SUM(col) or MEAN(col)");
            else
                fail_expected(p, t, false, "',' after %s", cq);
        }
        return false;
    }
}

typedef struct {
    char *name;
    size_t offset;
} named_t;

/* The purely syntactic GROUP BY rules: no duplicates on either side, and
 * GROUP BY names exactly the SELECT list's group columns. */
static bool check_group_by(parser_t *p, const gw_query_t *q, const named_t *by, size_t nby)
{
    char nq[QUOTE_BUF];
    for (size_t i = 0; i < q->ngroup; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(q->group[i], q->group[j]) == 0) {
                quote_str(nq, q->group[i]);
                fail(p, HEARTH_ERR_PARSE, q->group_offset[i],
                     "column %s appears twice in the SELECT list", nq);
                return false;
            }
    for (size_t i = 0; i < nby; i++) {
        quote_str(nq, by[i].name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(by[i].name, by[j].name) == 0) {
                fail(p, HEARTH_ERR_PARSE, by[i].offset, "column %s appears twice in GROUP BY", nq);
                return false;
            }
        bool found = false;
        for (size_t j = 0; j < q->ngroup && !found; j++)
            found = strcmp(by[i].name, q->group[j]) == 0;
        if (!found) {
            fail(p, HEARTH_ERR_PARSE, by[i].offset,
                 "GROUP BY column %s is not in the SELECT list", nq);
            return false;
        }
    }
    for (size_t i = 0; i < q->ngroup; i++) {
        bool found = false;
        for (size_t j = 0; j < nby && !found; j++)
            found = strcmp(by[j].name, q->group[i]) == 0;
        if (!found) {
            quote_str(nq, q->group[i]);
            fail(p, HEARTH_ERR_PARSE, q->group_offset[i], "column %s must appear in GROUP BY", nq);
            return false;
        }
    }
    return true;
}

static bool parse_query(parser_t *p, gw_query_t *q)
{
    named_t *by = NULL;
    size_t nby = 0, cap = 0;
    bool ok = false;
    tok_t *t = tok(p, 0);
    if (!is_kw(t, KW_SELECT)) {
        fail_expected(p, t, false, "SELECT at the start of the query");
        goto done;
    }
    advance(p);
    if (!parse_select_list(p, q))
        goto done;
    t = tok(p, 0);
    if (t->kind == T_COMMA) {
        fail(p, HEARTH_ERR_PARSE, t->offset, "the measure must be the last item in the SELECT list");
        goto done;
    }
    if (!is_kw(t, KW_FROM)) {
        fail_expected(p, t, false, "FROM after the SELECT list");
        goto done;
    }
    advance(p);
    for (const char *ctx = "FROM";; ctx = "UNION") {
        gw_dsref_t d;
        if (!parse_dsref(p, &d, ctx))
            goto done;
        q->from = hearth_reallocarray(q->from, q->nfrom + 1, sizeof *q->from);
        q->from[q->nfrom++] = d;
        if (!is_kw(tok(p, 0), KW_UNION))
            break;
        advance(p);
    }
    const char *after = "UNION, WHERE, GROUP BY or end of query after the FROM list";
    if (is_kw(tok(p, 0), KW_WHERE)) {
        advance(p);
        q->where = parse_or(p);
        if (q->where == NULL)
            goto done;
        after = "AND, OR, GROUP BY or end of query after the WHERE condition";
    }
    if (is_kw(tok(p, 0), KW_GROUP)) {
        advance(p);
        t = tok(p, 0);
        if (!is_kw(t, KW_BY)) {
            fail_expected(p, t, false, "BY after GROUP");
            goto done;
        }
        advance(p);
        for (;;) {
            t = tok(p, 0);
            if (!is_ident(t)) {
                fail_expected(p, t, true, "a column name after %s", nby ? "','" : "GROUP BY");
                goto done;
            }
            if (nby == cap) {
                cap = cap ? cap * 2 : 4;
                by = hearth_reallocarray(by, cap, sizeof *by);
            }
            by[nby].offset = t->offset;
            by[nby++].name = take_ident(p, t);
            advance(p);
            if (tok(p, 0)->kind != T_COMMA)
                break;
            advance(p);
        }
        after = "',' or end of query after the GROUP BY list";
    }
    if (tok(p, 0)->kind == T_SEMI) {
        advance(p);
        after = "end of query after ';'";
    }
    t = tok(p, 0);
    if (t->kind != T_EOF) {
        fail_expected(p, t, false, "%s", after);
        goto done;
    }
    ok = check_group_by(p, q, by, nby);
done:
    for (size_t i = 0; i < nby; i++)
        free(by[i].name);
    free(by);
    return ok;
}

gw_parse_limits_t gw_parse_limits_default(void)
{
    return (gw_parse_limits_t){
        .max_query_len = 16384,
        .max_in_list = 1000,
        .max_depth = 32,
        .max_ident_len = 63,
        .max_string_len = 1024,
    };
}

/* Refuses NUL bytes and invalid UTF-8 anywhere, before any lexing, so no
 * later step ever sees either. */
static void check_bytes(parser_t *p)
{
    const unsigned char *s = (const unsigned char *)p->sql;
    size_t i = 0;
    while (i < p->len) {
        if (s[i] == 0) {
            fail(p, HEARTH_ERR_PARSE, i, "NUL byte in query");
            return;
        }
        size_t k = utf8_seq_len(s + i, p->len - i);
        if (k == 0) {
            fail(p, HEARTH_ERR_PARSE, i, "invalid UTF-8 in query");
            return;
        }
        i += k;
    }
}

hearth_err_t gw_parse(const char *sql, size_t len, const gw_parse_limits_t *limits,
                      gw_query_t **out, gw_parse_error_t *err)
{
    parser_t p;
    memset(&p, 0, sizeof p);
    p.sql = sql ? sql : "";
    p.len = sql ? len : 0;
    p.lim = limits ? *limits : gw_parse_limits_default();
    if (p.lim.max_depth > GW_PARSE_MAX_DEPTH_CAP)
        p.lim.max_depth = GW_PARSE_MAX_DEPTH_CAP;
    gw_query_t *q = NULL;
    if (out)
        *out = NULL;
    if (out == NULL || (sql == NULL && len != 0)) {
        fail(&p, HEARTH_ERR_INTERNAL, 0, "gw_parse called without a query or a result pointer");
        goto done;
    }
    if (p.len > p.lim.max_query_len) {
        fail(&p, HEARTH_ERR_TOO_BIG, p.lim.max_query_len,
             "query is longer than %zu bytes (max_query_len)", p.lim.max_query_len);
        goto done;
    }
    check_bytes(&p);
    if (p.rc != HEARTH_OK)
        goto done;
    lex_all(&p);
    q = hearth_calloc(1, sizeof *q);
    if (!parse_query(&p, q) && p.rc == HEARTH_OK)
        fail(&p, HEARTH_ERR_INTERNAL, 0, "the parser stopped without saying why");
done:
    for (size_t i = 0; i < p.ntoks; i++)
        free(p.toks[i].value);
    free(p.toks);
    if (p.c_locale != (locale_t)0)
        freelocale(p.c_locale);
    if (p.rc != HEARTH_OK) {
        gw_query_destroy(&q);
        if (err)
            *err = p.err;
        return p.rc;
    }
    if (err)
        memset(err, 0, sizeof *err);
    *out = q;
    return HEARTH_OK;
}

/* ---------------------------------------------------------------- format */

typedef struct {
    hearth_buf_t b;
    bool bad;   /* the tree was malformed or the text grew too long */
} fmt_t;

static void put(fmt_t *f, const char *s)
{
    if (!f->bad && hearth_buf_adds(&f->b, s) != HEARTH_OK)
        f->bad = true;
}

static void put_quoted(fmt_t *f, const char *s, char quote)
{
    char q[2] = {quote, '\0'};
    put(f, q);
    for (const char *c = s; *c; c++) {
        if (*c == quote)
            put(f, q);
        char one[2] = {*c, '\0'};
        put(f, one);
    }
    put(f, q);
}

static void put_ident(fmt_t *f, const char *name)
{
    if (name == NULL || *name == '\0') {
        f->bad = true;
        return;
    }
    /* Bare only when it would lex back to the same name: a lower-case word
     * that is not reserved (bare words fold to lower case). */
    bool bare = is_word_start((unsigned char)name[0]) && !is_reserved(keyword_of(name, strlen(name)));
    for (const char *c = name; *c && bare; c++)
        bare = is_word_char((unsigned char)*c) && !(*c >= 'A' && *c <= 'Z');
    if (bare)
        put(f, name);
    else
        put_quoted(f, name, '"');
}

static void put_dsref(fmt_t *f, const gw_dsref_t *d)
{
    put_ident(f, d->node);
    put(f, ".");
    put_ident(f, d->dataset);
}

static void put_literal(fmt_t *f, const gw_literal_t *lit)
{
    char num[32];
    switch (lit->kind) {
    case GW_LIT_STRING:
        if (lit->text == NULL)
            break;
        put_quoted(f, lit->text, '\'');
        return;
    case GW_LIT_INTEGER:
        snprintf(num, sizeof num, "%" PRId64, lit->integer);
        put(f, num);
        return;
    case GW_LIT_DECIMAL:
        if (lit->text == NULL)
            break;
        put(f, lit->text);
        return;
    case GW_LIT_DATE:
        if (lit->text == NULL)
            break;
        put(f, "DATE ");
        put_quoted(f, lit->text, '\'');
        return;
    }
    f->bad = true;
}

/* Binding strength: OR 1, AND 2, NOT 3, predicates 4. NOT over IN or
 * BETWEEN prints as `x NOT IN (...)`, a predicate. */
static int expr_prec(const gw_expr_t *e)
{
    switch (e->kind) {
    case GW_EXPR_OR: return 1;
    case GW_EXPR_AND: return 2;
    case GW_EXPR_NOT:
        return e->left && (e->left->kind == GW_EXPR_IN || e->left->kind == GW_EXPR_BETWEEN) ? 4 : 3;
    default: return 4;
    }
}

static void put_expr(fmt_t *f, const gw_expr_t *e, int min_prec);

/* col [NOT] IN (...) / col [NOT] BETWEEN a AND b / col op lit / IS [NOT] NULL */
static void put_predicate(fmt_t *f, const gw_expr_t *e, bool negated)
{
    static const char *const ops[] = {
        [GW_CMP_EQ] = " = ", [GW_CMP_NE] = " != ", [GW_CMP_LT] = " < ",
        [GW_CMP_LE] = " <= ", [GW_CMP_GT] = " > ", [GW_CMP_GE] = " >= ",
    };
    put_ident(f, e->column);
    switch (e->kind) {
    case GW_EXPR_CMP:
        if (e->nvalues != 1 || (unsigned)e->cmp > GW_CMP_GE || e->values == NULL)
            break;
        put(f, ops[e->cmp]);
        put_literal(f, &e->values[0]);
        return;
    case GW_EXPR_IN:
        if (e->nvalues == 0 || e->values == NULL)
            break;
        put(f, negated ? " NOT IN (" : " IN (");
        for (size_t i = 0; i < e->nvalues; i++) {
            if (i)
                put(f, ", ");
            put_literal(f, &e->values[i]);
        }
        put(f, ")");
        return;
    case GW_EXPR_BETWEEN:
        if (e->nvalues != 2 || e->values == NULL)
            break;
        put(f, negated ? " NOT BETWEEN " : " BETWEEN ");
        put_literal(f, &e->values[0]);
        put(f, " AND ");
        put_literal(f, &e->values[1]);
        return;
    case GW_EXPR_IS_NULL:
        put(f, " IS NULL");
        return;
    case GW_EXPR_IS_NOT_NULL:
        put(f, " IS NOT NULL");
        return;
    default:
        break;
    }
    f->bad = true;
}

static void put_expr(fmt_t *f, const gw_expr_t *e, int min_prec)
{
    if (e == NULL || f->bad) {
        f->bad = true;
        return;
    }
    int prec = expr_prec(e);
    if (prec < min_prec)
        put(f, "(");
    switch (e->kind) {
    case GW_EXPR_AND:
    case GW_EXPR_OR: {
        /* Walk the left spine of same-kind nodes in a loop: a long chain
         * costs no stack. */
        size_t n = 0;
        for (const gw_expr_t *x = e; x && x->kind == e->kind; x = x->left)
            n++;
        const gw_expr_t **spine = hearth_calloc(n, sizeof *spine);
        const gw_expr_t *x = e;
        for (size_t i = 0; i < n; i++, x = x->left)
            spine[i] = x;
        put_expr(f, x, prec);
        for (size_t i = n; i-- > 0;) {
            put(f, e->kind == GW_EXPR_AND ? " AND " : " OR ");
            put_expr(f, spine[i]->right, prec + 1);
        }
        free(spine);
        break;
    }
    case GW_EXPR_NOT:
        if (prec == 4) {
            put_predicate(f, e->left, true);
        } else {
            put(f, "NOT ");
            put_expr(f, e->left, 3);
        }
        break;
    case GW_EXPR_EXISTS:
        put(f, "EXISTS (SELECT * FROM ");
        put_dsref(f, &e->exists_from);
        if (e->exists_where) {
            put(f, " WHERE ");
            put_expr(f, e->exists_where, 1);
        }
        put(f, ")");
        break;
    case GW_EXPR_CMP:
    case GW_EXPR_IN:
    case GW_EXPR_BETWEEN:
    case GW_EXPR_IS_NULL:
    case GW_EXPR_IS_NOT_NULL:
        put_predicate(f, e, false);
        break;
    default:
        f->bad = true;
        break;
    }
    if (prec < min_prec)
        put(f, ")");
}

/* The formatted text (caller frees), or NULL when something could not be
 * formatted; either way the buffer is released. */
static char *fmt_finish(fmt_t *f)
{
    if (f->bad) {
        hearth_buf_free(&f->b);
        return NULL;
    }
    char *text = hearth_buf_take(&f->b);
    hearth_buf_free(&f->b);
    return text;
}

char *gw_query_format(const gw_query_t *q)
{
    if (q == NULL || q->ngroup > 3 || q->nfrom == 0 || q->from == NULL)
        return NULL;
    fmt_t f = {.bad = false};
    hearth_buf_init(&f.b, GW_PARSE_FORMAT_MAX);
    put(&f, "SELECT ");
    for (size_t i = 0; i < q->ngroup; i++) {
        put_ident(&f, q->group[i]);
        put(&f, ", ");
    }
    switch (q->measure) {
    case GW_MEASURE_COUNT_RECORDS: put(&f, "COUNT(*)"); break;
    case GW_MEASURE_COUNT_PERSONS: put(&f, "COUNT(PERSONS)"); break;
    case GW_MEASURE_SUM:
    case GW_MEASURE_MEAN:
        put(&f, q->measure == GW_MEASURE_SUM ? "SUM(" : "MEAN(");
        put_ident(&f, q->measure_column);
        put(&f, ")");
        break;
    default:
        f.bad = true;
        break;
    }
    put(&f, " FROM ");
    for (size_t i = 0; i < q->nfrom; i++) {
        if (i)
            put(&f, " UNION ");
        put_dsref(&f, &q->from[i]);
    }
    if (q->where) {
        put(&f, " WHERE ");
        put_expr(&f, q->where, 1);
    }
    for (size_t i = 0; i < q->ngroup; i++) {
        put(&f, i ? ", " : " GROUP BY ");
        put_ident(&f, q->group[i]);
    }
    return fmt_finish(&f);
}

char *gw_expr_format(const gw_expr_t *e)
{
    if (e == NULL)
        return NULL;
    fmt_t f = {.bad = false};
    hearth_buf_init(&f.b, GW_PARSE_FORMAT_MAX);
    put_expr(&f, e, 1);
    return fmt_finish(&f);
}

/* ---------------------------------------------------------------- render */

char *gw_parse_error_render(const char *sql, size_t len, const gw_parse_error_t *err)
{
    if (err == NULL)
        return NULL;
    if (sql == NULL)
        len = 0;
    const unsigned char *s = (const unsigned char *)(sql ? sql : "");
    size_t off = err->offset < len ? err->offset : len;

    size_t ls = off;
    while (ls > 0 && s[ls - 1] != '\n')
        ls--;
    const unsigned char *nl = memchr(s + off, '\n', len - off);
    size_t le = nl ? (size_t)(nl - s) : len;
    if (le > ls && s[le - 1] == '\r')
        le--;

    /* Multi-line means a line break before the end of the text proper;
     * a trailing newline alone does not count. */
    size_t trimmed = len;
    while (trimmed > 0 && (s[trimmed - 1] == '\n' || s[trimmed - 1] == '\r' ||
                           s[trimmed - 1] == ' ' || s[trimmed - 1] == '\t'))
        trimmed--;
    bool multi = memchr(s, '\n', trimmed) != NULL;

    /* Count displayed characters: the whole line and those before the caret. */
    size_t units = 0, caret = 0;
    for (size_t i = ls; i < le; i += unit_len(s + i, le - i)) {
        if (i < off)
            caret++;
        units++;
    }
    size_t first = 0, last = units;
    if (units > RENDER_WIDTH) {
        first = caret > RENDER_WIDTH / 2 ? caret - RENDER_WIDTH / 2 : 0;
        last = first + RENDER_WIDTH;
        if (last > units) {
            last = units;
            first = units - RENDER_WIDTH;
        }
    }

    hearth_buf_t b;
    hearth_buf_init(&b, 8 * RENDER_WIDTH + sizeof err->message * 4 + 64);
    size_t indent = 0;
    if (multi) {
        size_t line = 1;
        for (size_t i = 0; i < ls; i++)
            line += s[i] == '\n';
        (void)hearth_buf_printf(&b, "line %zu: ", line);
        indent = b.len;
    }
    if (first > 0) {
        (void)hearth_buf_adds(&b, "...");
        indent += 3;
    }
    size_t u = 0;
    for (size_t i = ls; i < le; u++) {
        size_t k = unit_len(s + i, le - i);
        if (u >= first && u < last)
            append_unit(&b, s + i, k);
        i += k;
    }
    if (last < units)
        (void)hearth_buf_adds(&b, "...");
    (void)hearth_buf_adds(&b, "\n");
    for (size_t i = 0; i < indent + caret - first; i++)
        (void)hearth_buf_adds(&b, " ");
    (void)hearth_buf_adds(&b, "^\nerror: ");
    const unsigned char *m = (const unsigned char *)err->message;
    size_t mlen = strnlen(err->message, sizeof err->message);
    for (size_t i = 0; i < mlen;) {
        size_t k = unit_len(m + i, mlen - i);
        append_unit(&b, m + i, k);
        i += k;
    }
    char *text = hearth_buf_take(&b);
    hearth_buf_free(&b);
    return text;
}
