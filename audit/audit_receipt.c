#include "audit_receipt.h"
#include "hearth_base64.h"
#include "hearth_mem.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define ROOT_B64_LEN HEARTH_BASE64_LEN(TLOG_HASH_LEN)

/* True when s is 1..AUDIT_RECEIPT_ID_MAX of [A-Za-z0-9._:-]. */
static bool id_valid(const char *s, size_t n)
{
    if (n == 0 || n > AUDIT_RECEIPT_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-'))
            return false;
    }
    return true;
}

char *audit_receipt_format(const audit_receipt_t *r)
{
    if (!id_valid(r->node, strnlen(r->node, sizeof r->node)) ||
        !id_valid(r->query_id, strnlen(r->query_id, sizeof r->query_id)) ||
        r->part >= r->nparts)
        return NULL;
    char root[ROOT_B64_LEN + 1];
    hearth_base64_encode(r->root, TLOG_HASH_LEN, root);
    return hearth_asprintf("hearth-receipt v1\n"
                           "node %s\n"
                           "query %s\n"
                           "part %" PRIu32 "/%" PRIu32 "\n"
                           "leaf %" PRIu64 "\n"
                           "checkpoint %" PRIu64 " %s\n"
                           "outcome %s\n",
                           r->node, r->query_id, r->part, r->nparts, r->leaf, r->size, root,
                           r->answered ? "answered" : "refused");
}

/* A cursor over the text being parsed. */
typedef struct {
    const char *p;
} cursor_t;

/* Consumes the literal lit; false when the text does not go on with it. */
static bool take(cursor_t *c, const char *lit)
{
    size_t n = strlen(lit);
    if (strncmp(c->p, lit, n) != 0)
        return false;
    c->p += n;
    return true;
}

/* Consumes canonical decimal (no sign, no leading zeros) up to max. */
static bool take_u64(cursor_t *c, uint64_t max, uint64_t *out)
{
    const char *s = c->p;
    if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
        return false;
    uint64_t v = 0;
    while (*s >= '0' && *s <= '9') {
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
        s++;
    }
    c->p = s;
    *out = v;
    return true;
}

/* Consumes an id that runs up to the character end into out. */
static bool take_id(cursor_t *c, char end, char out[AUDIT_RECEIPT_ID_MAX + 1])
{
    size_t avail = strnlen(c->p, AUDIT_RECEIPT_ID_MAX + 1);
    const char *stop = memchr(c->p, end, avail);
    if (stop == NULL)
        return false;
    size_t n = (size_t)(stop - c->p);
    if (!id_valid(c->p, n))
        return false;
    memcpy(out, c->p, n);
    out[n] = '\0';
    c->p = stop;
    return true;
}

hearth_err_t audit_receipt_parse(const char *text, audit_receipt_t *out, char **cause)
{
    memset(out, 0, sizeof *out);
    audit_receipt_t r = {0};
    cursor_t c = {text};
    uint64_t part = 0, nparts = 0;
    const char *what;
    what = "first line";
    if (!take(&c, "hearth-receipt v1\n"))
        goto fail;
    what = "node line";
    if (!take(&c, "node ") || !take_id(&c, '\n', r.node) || !take(&c, "\n"))
        goto fail;
    what = "query line";
    if (!take(&c, "query ") || !take_id(&c, '\n', r.query_id) || !take(&c, "\n"))
        goto fail;
    what = "part line";
    if (!take(&c, "part ") || !take_u64(&c, UINT32_MAX, &part) || !take(&c, "/") ||
        !take_u64(&c, UINT32_MAX, &nparts) || !take(&c, "\n"))
        goto fail;
    if (part >= nparts) {
        hearth_cause_set(cause, "receipt's part is not below its number of parts");
        return HEARTH_ERR_FORMAT;
    }
    r.part = (uint32_t)part;
    r.nparts = (uint32_t)nparts;
    what = "leaf line";
    if (!take(&c, "leaf ") || !take_u64(&c, UINT64_MAX, &r.leaf) || !take(&c, "\n"))
        goto fail;
    what = "checkpoint line";
    if (!take(&c, "checkpoint ") || !take_u64(&c, UINT64_MAX, &r.size) || !take(&c, " "))
        goto fail;
    size_t root_len = strnlen(c.p, ROOT_B64_LEN + 1);
    size_t got = 0;
    if (root_len < ROOT_B64_LEN || c.p[ROOT_B64_LEN] != '\n' ||
        !hearth_base64_decode(c.p, ROOT_B64_LEN, r.root, sizeof r.root, &got) ||
        got != TLOG_HASH_LEN)
        goto fail;
    c.p += ROOT_B64_LEN + 1;
    what = "outcome line";
    if (take(&c, "outcome answered\n"))
        r.answered = true;
    else if (!take(&c, "outcome refused\n"))
        goto fail;
    if (*c.p != '\0') {
        hearth_cause_set(cause, "receipt has text after its outcome line");
        return HEARTH_ERR_FORMAT;
    }
    *out = r;
    return HEARTH_OK;
fail:
    hearth_cause_set(cause, "receipt's %s is missing or malformed", what);
    return HEARTH_ERR_FORMAT;
}
