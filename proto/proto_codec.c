#include "proto_codec.h"
#include "hearth_mem.h"

#include <stdlib.h>
#include <string.h>

bool proto_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        /* Overlong forms, surrogates and code points past U+10FFFF. */
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return false;
        i += n + 1;
    }
    return true;
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
