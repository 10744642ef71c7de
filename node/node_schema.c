#include "node_schema.h"
#include "hearth_date.h"
#include "hearth_ini.h"
#include "hearth_mem.h"
#include "node_ingest.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* The identifiers [identifiers] may name, in node_id_field_t order. */
static const char *const IDENTIFIERS[] = {"nhs_number", "date_of_birth", "sex", "postcode"};
#define NIDENTIFIERS (sizeof IDENTIFIERS / sizeof *IDENTIFIERS)

typedef struct {
    char name[64];
    int rule;        /* a node_col_type_t or NODE_SCHEMA_EXCLUDE */
} column_t;

typedef struct {
    char from[64];
    char to[64];
} rename_t;

struct node_schema_t {
    char *path;                     /* owned */
    column_t *columns;              /* owned, ncolumns */
    size_t ncolumns;
    rename_t *renames;              /* owned, nrenames */
    size_t nrenames;
    char ident[NIDENTIFIERS][64];   /* "" when not named */
    size_t nsettings;
};

const char *node_schema_type_name(node_col_type_t type)
{
    switch (type) {
    case NODE_COL_CATEGORICAL: return "categorical";
    case NODE_COL_INTEGER: return "integer";
    case NODE_COL_DECIMAL: return "decimal";
    case NODE_COL_DATE: return "date";
    }
    return "unknown";
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool node_schema_integer(const char *s, size_t len, int64_t *out, bool *canonical)
{
    size_t i = 0;
    bool neg = false;
    if (len > NODE_SCHEMA_NUMBER_MAX)
        return false;
    if (len > 0 && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == len)
        return false;
    size_t first = i;
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    for (; i < len; i++) {
        if (!is_digit(s[i]))
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (limit - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = !neg ? (int64_t)v : v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    *canonical = s[0] != '+' && !(s[first] == '0' && (len - first > 1 || neg));
    return true;
}

bool node_schema_decimal(const char *s, size_t len, double *out)
{
    if (len == 0 || len > NODE_SCHEMA_NUMBER_MAX)
        return false;
    size_t i = s[0] == '+' || s[0] == '-' ? 1 : 0;
    size_t start = i, significant = 0;
    for (; i < len && is_digit(s[i]); i++)
        if (significant > 0 || s[i] != '0')
            significant++;
    if (i == start || significant > NODE_SCHEMA_DECIMAL_DIGITS)
        return false;
    if (i < len) {
        if (s[i] != '.' || i + 1 == len)
            return false;
        for (i++; i < len; i++)
            if (!is_digit(s[i]))
                return false;
    }
    if (out) {
        char buf[NODE_SCHEMA_NUMBER_MAX + 1];
        memcpy(buf, s, len);
        buf[len] = '\0';
        *out = strtod(buf, NULL);
    }
    return true;
}

bool node_schema_date(const char *s, size_t len, char out[NODE_SCHEMA_DATE_LEN + 1],
                      bool *iso)
{
    return hearth_date_parse(s, len, 1, 9999, out, iso) == HEARTH_DATE_OK;
}

/* ---- the schema file ------------------------------------------------- */

/* Normalises a name from the file like a header cell; false (with *cause)
 * when nothing usable is left. */
static bool column_name(const char *in, const char *what, char out[64], char **cause)
{
    if (node_ingest_column_name(in, strlen(in), out))
        return true;
    hearth_cause_set(cause, "%s '%.80s' is not a usable column name (it needs a letter or "
                     "digit, and at most 63 characters)", what, in);
    return false;
}

static int on_column(node_schema_t *self, const char *name, const char *value, char **cause)
{
    static const struct {
        const char *word;
        int rule;
    } RULES[] = {
        {"categorical", NODE_COL_CATEGORICAL}, {"integer", NODE_COL_INTEGER},
        {"decimal", NODE_COL_DECIMAL}, {"date", NODE_COL_DATE},
        {"exclude", NODE_SCHEMA_EXCLUDE},
    };
    char col[64];
    if (!column_name(name, "column", col, cause))
        return 0;
    if (node_schema_column(self, col) != NODE_SCHEMA_AUTO) {
        hearth_cause_set(cause, "column '%s' is set twice in [columns]", col);
        return 0;
    }
    for (size_t i = 0; i < sizeof RULES / sizeof *RULES; i++) {
        if (strcasecmp(value, RULES[i].word) == 0) {
            self->columns = hearth_reallocarray(self->columns, self->ncolumns + 1,
                                                sizeof *self->columns);
            column_t *c = &self->columns[self->ncolumns++];
            memcpy(c->name, col, sizeof c->name);
            c->rule = RULES[i].rule;
            return 1;
        }
    }
    hearth_cause_set(cause, "unknown type '%.40s' for column '%s': use categorical, "
                     "integer, decimal, date or exclude", value, col);
    return 0;
}

static int on_rename(node_schema_t *self, const char *name, const char *value, char **cause)
{
    char from[64], to[64];
    if (!column_name(name, "column", from, cause) || !column_name(value, "new name", to, cause))
        return 0;
    for (size_t i = 0; i < self->nrenames; i++) {
        if (strcmp(self->renames[i].from, from) == 0) {
            hearth_cause_set(cause, "column '%s' is set twice in [rename]", from);
            return 0;
        }
        if (strcmp(self->renames[i].to, to) == 0) {
            hearth_cause_set(cause, "columns '%s' and '%s' are both renamed to '%s'",
                             self->renames[i].from, from, to);
            return 0;
        }
    }
    self->renames = hearth_reallocarray(self->renames, self->nrenames + 1,
                                        sizeof *self->renames);
    rename_t *r = &self->renames[self->nrenames++];
    memcpy(r->from, from, sizeof r->from);
    memcpy(r->to, to, sizeof r->to);
    return 1;
}

static int on_identifier(node_schema_t *self, const char *name, const char *value,
                         char **cause)
{
    char col[64], key[64];
    size_t f = 0;
    if (node_ingest_column_name(name, strlen(name), key))
        while (f < NIDENTIFIERS && strcmp(key, IDENTIFIERS[f]) != 0)
            f++;
    else
        f = NIDENTIFIERS;
    if (f == NIDENTIFIERS) {
        hearth_cause_set(cause, "unknown identifier '%.80s' in [identifiers]: use "
                         "nhs_number, date_of_birth, sex or postcode", name);
        return 0;
    }
    if (self->ident[f][0] != '\0') {
        hearth_cause_set(cause, "%s is set twice in [identifiers]", IDENTIFIERS[f]);
        return 0;
    }
    if (!column_name(value, "column", col, cause))
        return 0;
    for (size_t k = 0; k < NIDENTIFIERS; k++) {
        if (strcmp(self->ident[k], col) == 0) {
            hearth_cause_set(cause, "column '%s' is given for both %s and %s", col,
                             IDENTIFIERS[k], IDENTIFIERS[f]);
            return 0;
        }
    }
    memcpy(self->ident[f], col, sizeof self->ident[f]);
    return 1;
}

static int on_setting(void *user, const char *section, const char *name, const char *value,
                      char **cause)
{
    node_schema_t *self = user;
    if (++self->nsettings > NODE_SCHEMA_MAX_ENTRIES) {
        hearth_cause_set(cause, "more than %d settings", NODE_SCHEMA_MAX_ENTRIES);
        return 0;
    }
    if (strcmp(section, "columns") == 0)
        return on_column(self, name, value, cause);
    if (strcmp(section, "rename") == 0)
        return on_rename(self, name, value, cause);
    if (strcmp(section, "identifiers") == 0)
        return on_identifier(self, name, value, cause);
    hearth_cause_set(cause, "unknown section [%.40s]: use [columns], [rename] or "
                     "[identifiers]", section);
    return 0;
}

hearth_err_t node_schema_load(const char *path, node_schema_t **out, char **cause)
{
    *out = NULL;
    node_schema_t *self = hearth_calloc(1, sizeof *self);
    self->path = hearth_strdup(path);
    hearth_err_t rc = hearth_ini_load(path, on_setting, self, cause);
    if (rc == HEARTH_ERR_NOT_FOUND)
        hearth_cause_set(cause, "cannot read schema file '%s'", path);
    if (rc != HEARTH_OK) {
        node_schema_destroy(&self);
        return rc;
    }
    *out = self;
    return HEARTH_OK;
}

void node_schema_destroy(node_schema_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    node_schema_t *self = *self_p;
    free(self->path);
    free(self->columns);
    free(self->renames);
    free(self);
    *self_p = NULL;
}

const char *node_schema_path(const node_schema_t *self)
{
    return self->path;
}

int node_schema_column(const node_schema_t *self, const char *column)
{
    for (size_t i = 0; i < self->ncolumns; i++)
        if (strcmp(self->columns[i].name, column) == 0)
            return self->columns[i].rule;
    return NODE_SCHEMA_AUTO;
}

const char *node_schema_rename(const node_schema_t *self, const char *column)
{
    for (size_t i = 0; i < self->nrenames; i++)
        if (strcmp(self->renames[i].from, column) == 0)
            return self->renames[i].to;
    return NULL;
}

const char *node_schema_identifier(const node_schema_t *self, const char *identifier)
{
    for (size_t f = 0; f < NIDENTIFIERS; f++)
        if (strcmp(IDENTIFIERS[f], identifier) == 0)
            return self->ident[f][0] ? self->ident[f] : NULL;
    return NULL;
}

static bool in_header(const char *name, const char *const *header, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(header[i], name) == 0)
            return true;
    return false;
}

const char *node_schema_unknown(const node_schema_t *self, const char *const *header,
                                size_t n, const char **section)
{
    const char *sec = NULL, *name = NULL;
    for (size_t i = 0; i < self->ncolumns && !name; i++)
        if (!in_header(self->columns[i].name, header, n))
            name = self->columns[i].name, sec = "columns";
    for (size_t i = 0; i < self->nrenames && !name; i++)
        if (!in_header(self->renames[i].from, header, n))
            name = self->renames[i].from, sec = "rename";
    for (size_t f = 0; f < NIDENTIFIERS && !name; f++)
        if (self->ident[f][0] && !in_header(self->ident[f], header, n))
            name = self->ident[f], sec = "identifiers";
    if (section)
        *section = sec;
    return name;
}

char *node_schema_sidecar(const char *csv_path)
{
    size_t n = strlen(csv_path);
    size_t base = n >= 4 && strcasecmp(csv_path + n - 4, ".csv") == 0 ? n - 4 : n;
    char *path = hearth_malloc(base + sizeof ".schema.ini");
    memcpy(path, csv_path, base);
    memcpy(path + base, ".schema.ini", sizeof ".schema.ini");
    struct stat st;
    if (stat(path, &st) != 0) {
        free(path);
        return NULL;
    }
    return path;
}
