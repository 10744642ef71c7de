#include "proto_codec.h"
#include "hearth_mem.h"
#include "hearth_util.h"

#include <stdlib.h>
#include <string.h>

const char *proto_kind_name(Hearth__SubQueryKind kind)
{
    switch (kind) {
    case HEARTH__SUB_QUERY_KIND__SUBQUERY_AGGREGATE: return "aggregate";
    case HEARTH__SUB_QUERY_KIND__SUBQUERY_COHORT: return "cohort";
    case HEARTH__SUB_QUERY_KIND__SUBQUERY_TARGET: return "target";
    default: return NULL;
    }
}

bool proto_utf8_valid(const char *str, size_t len)
{
    return hearth_utf8_valid(str, len);
}

/* Walks a decoded message through its descriptor. The schema has no
 * recursive types, so the recursion depth is bounded by the schema. */
static hearth_err_t validate(const ProtobufCMessage *m, char **cause)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *)m;
        size_t count = 1;
        const void *elems = base + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            count = *(const size_t *)(base + f->quantifier_offset);
            if (count > PROTO_MAX_REPEATED) {
                hearth_cause_set(cause, "field '%s' repeats %zu times (limit %u)",
                                 f->name, count, PROTO_MAX_REPEATED);
                return HEARTH_ERR_TOO_BIG;
            }
            elems = *(void *const *)(base + f->offset);
        } else if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t which = *(const uint32_t *)(base + f->quantifier_offset);
            if (which != f->id)
                continue;
        }
        for (size_t k = 0; k < count; k++) {
            if (f->type == PROTOBUF_C_TYPE_STRING) {
                const char *s = ((char *const *)elems)[k];
                if (s == NULL)
                    continue;
                size_t len = strnlen(s, PROTO_MAX_STRING + 1);
                if (len > PROTO_MAX_STRING) {
                    hearth_cause_set(cause, "field '%s' is longer than %u bytes",
                                     f->name, PROTO_MAX_STRING);
                    return HEARTH_ERR_TOO_BIG;
                }
                if (!proto_utf8_valid(s, len)) {
                    hearth_cause_set(cause, "field '%s' is not valid UTF-8", f->name);
                    return HEARTH_ERR_PROTO;
                }
            } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
                const ProtobufCMessage *sub = ((const ProtobufCMessage *const *)elems)[k];
                if (sub == NULL)
                    continue;
                hearth_err_t rc = validate(sub, cause);
                if (rc != HEARTH_OK)
                    return rc;
            }
        }
    }
    return HEARTH_OK;
}

/* Reads a base-128 varint at p[*i]; false when it runs past len. */
static bool read_varint(const uint8_t *p, size_t len, size_t *i, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*i >= len)
            return false;
        uint8_t b = p[(*i)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* protobuf-c copies a string field into a NUL-terminated buffer and keeps
 * no length, so a NUL inside a wire string would silently cut it short.
 * This walks the raw bytes (the only place the real length is visible) and
 * names the first string field holding a NUL. Malformed bytes are left for
 * the unpacker to refuse. Nesting follows the schema, which has no
 * recursive types; the depth cap is belt and braces. */
static const char *find_nul_string(const uint8_t *p, size_t len,
                                   const ProtobufCMessageDescriptor *d, unsigned depth)
{
    size_t i = 0;
    while (i < len) {
        uint64_t key, n;
        if (!read_varint(p, len, &i, &key))
            return NULL;
        switch (key & 7) {
        case 0:
            if (!read_varint(p, len, &i, &n))
                return NULL;
            break;
        case 1:
            i += 8;
            break;
        case 5:
            i += 4;
            break;
        case 2: {
            if (!read_varint(p, len, &i, &n) || n > len - i)
                return NULL;
            const ProtobufCFieldDescriptor *f =
                protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3));
            if (f && f->type == PROTOBUF_C_TYPE_STRING && memchr(p + i, 0, (size_t)n))
                return f->name;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE && depth < 16) {
                const char *bad = find_nul_string(p + i, (size_t)n, f->descriptor, depth + 1);
                if (bad)
                    return bad;
            }
            i += (size_t)n;
            break;
        }
        default:
            return NULL;
        }
    }
    return NULL;
}

hearth_err_t proto_decode(const void *data, size_t len, size_t max,
                          Hearth__Envelope **out, char **cause)
{
    *out = NULL;
    if (len > max) {
        hearth_cause_set(cause, "message of %zu bytes exceeds the limit of %zu", len, max);
        return HEARTH_ERR_TOO_BIG;
    }
    Hearth__Envelope *env = hearth__envelope__unpack(NULL, len, data);
    if (env == NULL) {
        hearth_cause_set(cause, "message does not decode");
        return HEARTH_ERR_PROTO;
    }
    hearth_err_t rc;
    const char *nul_field = find_nul_string(data, len, &hearth__envelope__descriptor, 0);
    if (nul_field) {
        hearth_cause_set(cause, "field '%s' contains a NUL byte", nul_field);
        rc = HEARTH_ERR_PROTO;
        goto fail;
    }
    if (env->version != HEARTH_PROTOCOL_VERSION) {
        hearth_cause_set(cause, "peer speaks protocol version %u; this is version %u",
                         env->version, HEARTH_PROTOCOL_VERSION);
        rc = HEARTH_ERR_VERSION;
        goto fail;
    }
    if (env->body_case == HEARTH__ENVELOPE__BODY__NOT_SET) {
        hearth_cause_set(cause, "message has no body");
        rc = HEARTH_ERR_PROTO;
        goto fail;
    }
    rc = validate(&env->base, cause);
    if (rc != HEARTH_OK)
        goto fail;
    *out = env;
    return HEARTH_OK;
fail:
    hearth__envelope__free_unpacked(env, NULL);
    return rc;
}

uint8_t *proto_encode(Hearth__Envelope *env, size_t *len)
{
    env->version = HEARTH_PROTOCOL_VERSION;
    size_t n = hearth__envelope__get_packed_size(env);
    uint8_t *buf = hearth_malloc(n);
    *len = hearth__envelope__pack(env, buf);
    return buf;
}

void proto_free(Hearth__Envelope **env_p)
{
    if (env_p == NULL || *env_p == NULL)
        return;
    hearth__envelope__free_unpacked(*env_p, NULL);
    *env_p = NULL;
}

void proto_free_string(char *s)
{
    if (s != NULL && s != protobuf_c_empty_string)
        free(s);
}
