#include "audit_event.h"
#include "hearth_util.h"
#include "hearth_mem.h"

#include <stdlib.h>
#include <string.h>

typedef enum { KIND_INT, KIND_STR, KIND_HASH } field_kind_t;

/* One field of the encoding: its tag is its position in FIELDS plus one. */
typedef struct {
    const char *name;
    field_kind_t kind;
    size_t offset;   /* into audit_event_t */
} field_t;

#define FIELD(name, kind) {#name, kind, offsetof(audit_event_t, name)}

static const field_t FIELDS[] = {
    FIELD(time_ms, KIND_INT),     FIELD(query_id, KIND_STR),   FIELD(analyst, KIND_STR),
    FIELD(analyst_key, KIND_STR), FIELD(project, KIND_STR),    FIELD(text, KIND_STR),
    FIELD(node, KIND_STR),        FIELD(dataset, KIND_STR),    FIELD(kind, KIND_STR),
    FIELD(part, KIND_INT),        FIELD(nparts, KIND_INT),     FIELD(released, KIND_INT),
    FIELD(suppressed, KIND_INT),  FIELD(result_hash, KIND_HASH), FIELD(actor, KIND_STR),
    FIELD(action, KIND_STR),      FIELD(leaf, KIND_INT),       FIELD(outcome, KIND_STR),
};

#define NFIELDS (sizeof FIELDS / sizeof *FIELDS)
#define BIT(tag) (1u << (tag))
#define HEADER_LEN 2   /* version, type */
#define FIELD_HEAD 5   /* tag, u32 length */
#define HASH_LEN 32

/* The tags each type has (bit n = tag n), indexed by audit_type_t: the
 * table in audit_event.h, read by column. */
static const uint32_t TYPE_FIELDS[AUDIT_TYPE_MAX + 1] = {
    [AUDIT_RECEIVED] = BIT(1) | BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6),
    [AUDIT_ACCEPTED] = BIT(1) | BIT(2) | BIT(5) | BIT(6) | BIT(8),
    [AUDIT_REFUSED] = BIT(1) | BIT(2) | BIT(6),
    [AUDIT_DISPATCHED] = BIT(1) | BIT(2) | BIT(5) | BIT(7) | BIT(8) | BIT(9) | BIT(10) | BIT(11),
    [AUDIT_RECEIPT] = BIT(1) | BIT(2) | BIT(6) | BIT(7) | BIT(10) | BIT(17) | BIT(18),
    [AUDIT_RELEASED] = BIT(1) | BIT(2) | BIT(6) | BIT(12) | BIT(13) | BIT(14),
    [AUDIT_ERROR] = BIT(1) | BIT(2) | BIT(6) | BIT(18),
    [AUDIT_GOVERNANCE] = BIT(1) | BIT(5) | BIT(6) | BIT(15) | BIT(16),
};

const char *audit_type_name(audit_type_t type)
{
    switch (type) {
    case AUDIT_RECEIVED: return "received";
    case AUDIT_ACCEPTED: return "accepted";
    case AUDIT_REFUSED: return "refused";
    case AUDIT_DISPATCHED: return "dispatched";
    case AUDIT_RECEIPT: return "receipt";
    case AUDIT_RELEASED: return "released";
    case AUDIT_ERROR: return "error";
    case AUDIT_GOVERNANCE: return "governance";
    }
    return "unknown";
}

static bool type_valid(int type)
{
    return type >= AUDIT_TYPE_MIN && type <= AUDIT_TYPE_MAX;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* The string field f of ev, "" for NULL. */
static const char *str_of(const audit_event_t *ev, const field_t *f)
{
    const char *s = *(char *const *)((const char *)ev + f->offset);
    return s ? s : "";
}

hearth_err_t audit_event_encode(const audit_event_t *ev, uint8_t **out, size_t *len,
                                char **cause)
{
    *out = NULL;
    *len = 0;
    if (!type_valid((int)ev->type)) {
        hearth_cause_set(cause, "unknown audit event type %d", (int)ev->type);
        return HEARTH_ERR_USAGE;
    }
    uint32_t mask = TYPE_FIELDS[ev->type];
    /* First pass: check every field and add up the length, so the buffer is
     * allocated once at its exact size. */
    size_t total = HEADER_LEN;
    for (size_t i = 0; i < NFIELDS; i++) {
        const field_t *f = &FIELDS[i];
        if (!(mask & BIT(i + 1)))
            continue;
        size_t n = f->kind == KIND_INT ? 8 : f->kind == KIND_HASH ? HASH_LEN : 0;
        if (f->kind == KIND_STR) {
            const char *s = str_of(ev, f);
            n = strnlen(s, AUDIT_TEXT_MAX + 1);
            if (n > AUDIT_TEXT_MAX) {
                hearth_cause_set(cause, "audit field '%s' is longer than %zu bytes", f->name,
                                 AUDIT_TEXT_MAX);
                return HEARTH_ERR_TOO_BIG;
            }
            if (!hearth_utf8_valid(s, n)) {
                hearth_cause_set(cause, "audit field '%s' is not valid UTF-8", f->name);
                return HEARTH_ERR_FORMAT;
            }
        }
        total += FIELD_HEAD + n;
    }
    if (total > AUDIT_LEAF_MAX) {
        hearth_cause_set(cause, "an audit event is longer than %zu bytes once encoded",
                         AUDIT_LEAF_MAX);
        return HEARTH_ERR_TOO_BIG;
    }
    uint8_t *buf = hearth_malloc(total);
    size_t pos = 0;
    buf[pos++] = AUDIT_FORMAT_VERSION;
    buf[pos++] = (uint8_t)ev->type;
    for (size_t i = 0; i < NFIELDS; i++) {
        const field_t *f = &FIELDS[i];
        if (!(mask & BIT(i + 1)))
            continue;
        const void *value = (const char *)ev + f->offset;
        size_t n = f->kind == KIND_INT ? 8 : HASH_LEN;
        if (f->kind == KIND_STR) {
            value = str_of(ev, f);
            n = strlen(value);
        }
        buf[pos] = (uint8_t)(i + 1);
        put_u32(buf + pos + 1, (uint32_t)n);
        pos += FIELD_HEAD;
        if (f->kind == KIND_INT)
            put_u64(buf + pos, *(const uint64_t *)value);
        else
            memcpy(buf + pos, value, n);
        pos += n;
    }
    *out = buf;
    *len = total;
    return HEARTH_OK;
}

/* Says what is wrong with the field at tag `got` when `want` was expected
 * next and `last` was the one before. */
static void field_error(audit_type_t type, unsigned got, unsigned want, unsigned last,
                        char **cause)
{
    if (got == 0 || got > NFIELDS)
        hearth_cause_set(cause, "audit leaf has an unknown tag %u", got);
    else if (!(TYPE_FIELDS[type] & BIT(got)))
        hearth_cause_set(cause, "audit leaf has field '%s', which a %s event does not have",
                         FIELDS[got - 1].name, audit_type_name(type));
    else if (got == last)
        hearth_cause_set(cause, "audit leaf repeats field '%s'", FIELDS[got - 1].name);
    else if (got < last)
        hearth_cause_set(cause, "audit leaf has field '%s' out of order", FIELDS[got - 1].name);
    else   /* a later field of the type: want is missing or comes after it */
        hearth_cause_set(cause, "audit leaf lacks field '%s' or has it out of order",
                         FIELDS[want - 1].name);
}

hearth_err_t audit_event_decode(const uint8_t *leaf, size_t len, audit_event_t *ev,
                                char **cause)
{
    memset(ev, 0, sizeof *ev);
    if (len > AUDIT_LEAF_MAX) {
        hearth_cause_set(cause, "audit leaf is longer than %zu bytes", AUDIT_LEAF_MAX);
        return HEARTH_ERR_FORMAT;
    }
    if (len < HEADER_LEN) {
        hearth_cause_set(cause, "audit leaf is truncated");
        return HEARTH_ERR_FORMAT;
    }
    if (leaf[0] != AUDIT_FORMAT_VERSION) {
        hearth_cause_set(cause, "audit leaf has format version %u, not %d", leaf[0],
                         AUDIT_FORMAT_VERSION);
        return HEARTH_ERR_FORMAT;
    }
    if (!type_valid(leaf[1])) {
        hearth_cause_set(cause, "audit leaf has an unknown event type %u", leaf[1]);
        return HEARTH_ERR_FORMAT;
    }
    ev->type = (audit_type_t)leaf[1];
    uint32_t mask = TYPE_FIELDS[ev->type];
    size_t pos = HEADER_LEN;
    unsigned last = 0;
    /* Walk the type's tags in ascending order: the next field in the leaf
     * must be exactly the next one expected. */
    for (unsigned want = 1; want <= NFIELDS; want++) {
        if (!(mask & BIT(want)))
            continue;
        const field_t *f = &FIELDS[want - 1];
        if (pos == len) {
            hearth_cause_set(cause, "audit leaf lacks field '%s'", f->name);
            goto fail;
        }
        if (len - pos < FIELD_HEAD) {
            hearth_cause_set(cause, "audit leaf is truncated");
            goto fail;
        }
        unsigned tag = leaf[pos];
        if (tag != want) {
            field_error(ev->type, tag, want, last, cause);
            goto fail;
        }
        uint32_t n = get_u32(leaf + pos + 1);
        pos += FIELD_HEAD;
        if (n > len - pos) {
            hearth_cause_set(cause, "audit leaf is truncated");
            goto fail;
        }
        void *dst = (char *)ev + f->offset;
        if (f->kind == KIND_INT) {
            if (n != 8) {
                hearth_cause_set(cause, "audit field '%s' is not 8 bytes long", f->name);
                goto fail;
            }
            *(uint64_t *)dst = get_u64(leaf + pos);
        } else if (f->kind == KIND_HASH) {
            if (n != HASH_LEN) {
                hearth_cause_set(cause, "audit field '%s' is not %d bytes long", f->name,
                                 HASH_LEN);
                goto fail;
            }
            memcpy(dst, leaf + pos, HASH_LEN);
        } else {
            if (n > AUDIT_TEXT_MAX) {
                hearth_cause_set(cause, "audit field '%s' is longer than %zu bytes", f->name,
                                 AUDIT_TEXT_MAX);
                goto fail;
            }
            if (!hearth_utf8_valid((const char *)leaf + pos, n)) {
                hearth_cause_set(cause, "audit field '%s' is not valid UTF-8 without NUL",
                                 f->name);
                goto fail;
            }
            *(char **)dst = hearth_strndup((const char *)leaf + pos, n);
        }
        pos += n;
        last = tag;
    }
    if (pos != len) {
        hearth_cause_set(cause, "audit leaf has bytes after its last field");
        goto fail;
    }
    return HEARTH_OK;
fail:
    audit_event_clear(ev);
    return HEARTH_ERR_FORMAT;
}

void audit_event_clear(audit_event_t *ev)
{
    if (ev == NULL)
        return;
    for (size_t i = 0; i < NFIELDS; i++) {
        if (FIELDS[i].kind == KIND_STR)
            free(*(char **)((char *)ev + FIELDS[i].offset));
    }
    memset(ev, 0, sizeof *ev);
}
