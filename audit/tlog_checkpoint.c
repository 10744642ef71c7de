#include "tlog_checkpoint.h"
#include "hearth_util.h"
#include "hearth_base64.h"
#include "hearth_mem.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define ROOT_B64_LEN HEARTH_BASE64_LEN(TLOG_HASH_LEN)
/* The longest checkpoint text: origin, 20 digits, the root, three newlines. */
#define CHECKPOINT_TEXT_MAX (TLOG_NOTE_NAME_MAX + 20 + ROOT_B64_LEN + 3)

char *tlog_checkpoint_format(const tlog_checkpoint_t *cp)
{
    char root[ROOT_B64_LEN + 1];
    hearth_base64_encode(cp->root, TLOG_HASH_LEN, root);
    return hearth_asprintf("%s\n%" PRIu64 "\n%s\n", cp->origin, cp->size, root);
}

hearth_err_t tlog_checkpoint_parse(const char *text, tlog_checkpoint_t *out, char **cause)
{
    const char *line[3];
    size_t line_len[3];
    size_t len = strnlen(text, CHECKPOINT_TEXT_MAX + 1);
    const char *p = text, *end = text + len;
    size_t root_len = 0;

    memset(out, 0, sizeof *out);
    if (len > CHECKPOINT_TEXT_MAX) {
        hearth_cause_set(cause, "the checkpoint is longer than any hearth writes "
                         "(%d bytes)", (int)CHECKPOINT_TEXT_MAX);
        goto fail;
    }
    for (int i = 0; i < 3; i++) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL) {
            hearth_cause_set(cause, "the checkpoint has fewer than three lines, or its "
                             "last line has no newline");
            goto fail;
        }
        line[i] = p;
        line_len[i] = (size_t)(eol - p);
        p = eol + 1;
    }
    if (p != end) {
        hearth_cause_set(cause, "the checkpoint has extension lines after its root hash; "
                         "hearth accepts none");
        goto fail;
    }
    if (line_len[0] == 0 || line_len[0] > TLOG_NOTE_NAME_MAX) {
        hearth_cause_set(cause, "the checkpoint's origin is not a valid key name");
        goto fail;
    }
    memcpy(out->origin, line[0], line_len[0]);
    out->origin[line_len[0]] = '\0';
    if (!tlog_note_name_valid(out->origin)) {
        hearth_cause_set(cause, "the checkpoint's origin is not a valid key name");
        goto fail;
    }
    if (!hearth_parse_u64(line[1], line_len[1], &out->size)) {
        hearth_cause_set(cause, "the checkpoint's tree size is not a decimal number "
                         "without leading zeros");
        goto fail;
    }
    /* Room for whatever the line holds, so a wrong length is told as such. */
    uint8_t root[CHECKPOINT_TEXT_MAX * 3 / 4 + 3];
    if (!hearth_base64_decode(line[2], line_len[2], root, sizeof root, &root_len)) {
        hearth_cause_set(cause, "the checkpoint's root hash is not valid base64");
        goto fail;
    }
    if (root_len != TLOG_HASH_LEN) {
        hearth_cause_set(cause, "the checkpoint's root hash is %zu bytes, not %d", root_len,
                         TLOG_HASH_LEN);
        goto fail;
    }
    memcpy(out->root, root, TLOG_HASH_LEN);
    return HEARTH_OK;

fail:
    memset(out, 0, sizeof *out);
    return HEARTH_ERR_FORMAT;
}

hearth_err_t tlog_checkpoint_sign(const keys_signer_t *signer, const tlog_checkpoint_t *cp,
                                  char **note, char **cause)
{
    *note = NULL;
    if (strncmp(keys_signer_name(signer), cp->origin, sizeof cp->origin) != 0) {
        hearth_cause_set(cause, "the checkpoint's origin '%.*s' is not the signing key's "
                         "name '%s'", TLOG_NOTE_NAME_MAX, cp->origin, keys_signer_name(signer));
        return HEARTH_ERR_USAGE;
    }
    char *text = tlog_checkpoint_format(cp);
    hearth_err_t rc = tlog_note_sign(signer, text, note, cause);
    free(text);
    return rc;
}

hearth_err_t tlog_checkpoint_open(const char *note, size_t len, const tlog_verifier_t *v,
                                  tlog_checkpoint_t *out, char **cause)
{
    char *text = NULL;
    hearth_err_t rc = tlog_note_open(note, len, v, &text, cause);
    if (rc != HEARTH_OK) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    rc = tlog_checkpoint_parse(text, out, cause);
    free(text);
    if (rc != HEARTH_OK)
        return rc;
    if (strcmp(out->origin, v->name) != 0) {
        hearth_cause_set(cause, "the checkpoint's origin '%s' is not its signing key's "
                         "name '%s'", out->origin, v->name);
        memset(out, 0, sizeof *out);
        return HEARTH_ERR_CRYPTO;
    }
    return HEARTH_OK;
}
