#include "client_audit_export.h"
#include "audit_event.h"
#include "client_audit_parse.h"
#include "hearth_base64.h"
#include "hearth_buf.h"
#include "hearth_mem.h"
#include "tlog_note.h"
#include "hearth_util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned long long ull;

#define EXPORT_HEADER "hearth-audit-export 1"

static void put_base64(hearth_buf_t *b, const uint8_t *data, size_t len)
{
    char *text = hearth_malloc(HEARTH_BASE64_LEN(len) + 1);
    hearth_base64_encode(data, len, text);
    /* The buffer's bound is SIZE_MAX: it cannot refuse. */
    (void)hearth_buf_adds(b, text);
    free(text);
}

char *client_audit_export_format(const client_audit_log_t *self, size_t *len)
{
    hearth_buf_t b;
    hearth_buf_init(&b, SIZE_MAX);
    (void)hearth_buf_adds(&b, EXPORT_HEADER "\n");
    for (size_t i = 0; i < self->n_notes; i++) {
        (void)hearth_buf_adds(&b, "checkpoint ");
        put_base64(&b, (const uint8_t *)self->notes[i], strlen(self->notes[i]));
        (void)hearth_buf_adds(&b, "\n");
    }
    for (size_t i = 0; i < self->n_leaves; i++) {
        (void)hearth_buf_printf(&b, "leaf %llu ", (ull)self->leaves[i].index);
        put_base64(&b, self->leaves[i].data, self->leaves[i].len);
        (void)hearth_buf_adds(&b, "\n");
    }
    (void)hearth_buf_printf(&b, "end %zu %zu\n", self->n_notes, self->n_leaves);
    if (len)
        *len = b.len;
    return hearth_buf_take(&b);
}

hearth_err_t client_audit_export_parse(const char *text, size_t len, client_audit_log_t **out,
                                       char **cause)
{
    *out = NULL;
    client_audit_log_t *log = client_audit_log_new();
    hearth_err_t rc = HEARTH_ERR_FORMAT;
    size_t line = 0, pos = 0;
    bool ended = false;
    while (pos < len) {
        line++;
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        if (nl == NULL) {
            hearth_cause_set(cause, "line %zu: the file does not end in a newline (truncated?)",
                             line);
            goto fail;
        }
        size_t n = (size_t)(nl - s);
        pos += n + 1;
        if (ended) {
            hearth_cause_set(cause, "line %zu: something follows the end line", line);
            goto fail;
        }
        if (line == 1) {
            if (n != strlen(EXPORT_HEADER) || memcmp(s, EXPORT_HEADER, n) != 0) {
                hearth_cause_set(cause, "line 1: not a hearth audit export (it must begin "
                                 "\"" EXPORT_HEADER "\")");
                goto fail;
            }
            continue;
        }
        const char *sp = memchr(s, ' ', n);
        size_t word = sp ? (size_t)(sp - s) : n;
        const char *rest = sp ? sp + 1 : s + n;
        size_t rest_len = sp ? n - word - 1 : 0;
        if (word == 10 && memcmp(s, "checkpoint", 10) == 0) {
            size_t nlen = 0;
            uint8_t *note = client_audit_parse_base64(rest, rest_len, TLOG_NOTE_MAX, &nlen);
            if (note == NULL) {
                hearth_cause_set(cause, "line %zu: the checkpoint is not valid base64 of a "
                                 "signed note", line);
                goto fail;
            }
            rc = client_audit_log_add_note(log, (const char *)note, nlen, cause);
            free(note);
            if (rc != HEARTH_OK)
                goto fail;
        } else if (word == 4 && memcmp(s, "leaf", 4) == 0) {
            const char *sp2 = memchr(rest, ' ', rest_len);
            uint64_t index;
            size_t dlen = 0;
            uint8_t *data = NULL;
            if (sp2 == NULL || !hearth_parse_u64(rest, (size_t)(sp2 - rest), &index) ||
                (data = client_audit_parse_base64(sp2 + 1,
                                                  rest_len - (size_t)(sp2 - rest) - 1,
                                                  AUDIT_LEAF_MAX, &dlen)) == NULL) {
                hearth_cause_set(cause, "line %zu: expected \"leaf <index> <base64>\"", line);
                rc = HEARTH_ERR_FORMAT;
                goto fail;
            }
            rc = client_audit_log_add_leaf(log, index, data, dlen, cause);
            free(data);
            if (rc != HEARTH_OK)
                goto fail;
        } else if (word == 3 && memcmp(s, "end", 3) == 0) {
            const char *sp2 = memchr(rest, ' ', rest_len);
            uint64_t nc, nl2;
            if (sp2 == NULL || !hearth_parse_u64(rest, (size_t)(sp2 - rest), &nc) ||
                !hearth_parse_u64(sp2 + 1, rest_len - (size_t)(sp2 - rest) - 1, &nl2)) {
                hearth_cause_set(cause, "line %zu: expected \"end <checkpoints> <leaves>\"",
                                 line);
                rc = HEARTH_ERR_FORMAT;
                goto fail;
            }
            if (nc != log->n_notes || nl2 != log->n_leaves) {
                hearth_cause_set(cause, "line %zu: the file says it holds %llu checkpoints and "
                                 "%llu leaves, but %zu and %zu were read", line, (ull)nc,
                                 (ull)nl2, log->n_notes, log->n_leaves);
                rc = HEARTH_ERR_FORMAT;
                goto fail;
            }
            ended = true;
        } else {
            hearth_cause_set(cause, "line %zu: expected a checkpoint, leaf or end line", line);
            rc = HEARTH_ERR_FORMAT;
            goto fail;
        }
    }
    if (!ended) {
        hearth_cause_set(cause, line == 0 ? "the file is empty"
                                          : "the file has no end line (truncated?)");
        rc = HEARTH_ERR_FORMAT;
        goto fail;
    }
    *out = log;
    return HEARTH_OK;
fail:
    client_audit_log_destroy(&log);
    return rc;
}
