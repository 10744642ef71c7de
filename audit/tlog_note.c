#include "tlog_note.h"
#include "hearth_base64.h"
#include "hearth_file.h"
#include "hearth_hex.h"
#include "hearth_mem.h"

#include <stdlib.h>
#include <string.h>

#define ALG_ED25519 0x01
#define ID_HEX_LEN 8
/* "— ": U+2014 EM DASH in UTF-8, then a space, begins every signature line. */
#define SIG_PREFIX "\xe2\x80\x94 "
#define SIG_PREFIX_LEN (sizeof SIG_PREFIX - 1)
/* A verifier key file is one short line; anything near this is not one. */
#define VERIFIER_FILE_MAX 1024
#define VERIFIER_TEXT_MAX \
    (TLOG_NOTE_NAME_MAX + 1 + ID_HEX_LEN + 1 + HEARTH_BASE64_LEN(1 + KEYS_SIGN_PUBLIC_LEN))

/* A verifier's name must hold any signing key's name. */
_Static_assert(TLOG_NOTE_NAME_MAX == KEYS_SIGN_NAME_MAX, "key name limits differ");

/* The key id and name rules are keys_sign's (hearth_keys cannot link this
 * library, so they live there), re-exported under this module's names. */
uint32_t tlog_note_key_id(const char *name, const uint8_t pub[KEYS_SIGN_PUBLIC_LEN])
{
    return keys_sign_key_id(name, pub);
}

bool tlog_note_name_valid(const char *name)
{
    return keys_sign_name_valid(name);
}

char *tlog_verifier_format(const char *name, const uint8_t pub[KEYS_SIGN_PUBLIC_LEN])
{
    return keys_sign_verifier_text(name, pub);
}

/* Parses the verifier key text[0..len) (no newline). `what` names the
 * source in causes. */
static hearth_err_t parse_verifier(const char *text, size_t len, const char *what,
                                   tlog_verifier_t *out, char **cause)
{
    uint8_t raw[1 + KEYS_SIGN_PUBLIC_LEN + 2]; /* room to tell a too-long key */
    uint8_t id_bytes[4];
    size_t raw_len = 0;
    const char *end = text + len;
    const char *plus = memchr(text, '+', len);

    memset(out, 0, sizeof *out);
    if (plus == NULL || plus == text || (size_t)(plus - text) > TLOG_NOTE_NAME_MAX)
        goto bad_format;
    memcpy(out->name, text, (size_t)(plus - text));
    out->name[plus - text] = '\0';
    if (!tlog_note_name_valid(out->name))
        goto bad_format;
    const char *hex = plus + 1;
    if (end - hex < ID_HEX_LEN + 1 || hex[ID_HEX_LEN] != '+'
        || !hearth_hex_decode(hex, ID_HEX_LEN, id_bytes, sizeof id_bytes))
        goto bad_format;
    const char *b64 = hex + ID_HEX_LEN + 1;
    if (!hearth_base64_decode(b64, (size_t)(end - b64), raw, sizeof raw, &raw_len)
        || raw_len != 1 + KEYS_SIGN_PUBLIC_LEN)
        goto bad_format;
    if (raw[0] != ALG_ED25519) {
        hearth_cause_set(cause, "%s is not an Ed25519 verifier key (signature type %u)",
                         what, (unsigned)raw[0]);
        memset(out, 0, sizeof *out);
        return HEARTH_ERR_FORMAT;
    }
    memcpy(out->pub, raw + 1, KEYS_SIGN_PUBLIC_LEN);
    out->id = (uint32_t)id_bytes[0] << 24 | (uint32_t)id_bytes[1] << 16
              | (uint32_t)id_bytes[2] << 8 | id_bytes[3];
    if (out->id != tlog_note_key_id(out->name, out->pub)) {
        hearth_cause_set(cause, "%s is inconsistent: its key id does not match its "
                         "name and key", what);
        memset(out, 0, sizeof *out);
        return HEARTH_ERR_FORMAT;
    }
    return HEARTH_OK;

bad_format:
    hearth_cause_set(cause, "%s is not a verifier key: expected one line "
                     "<name>+<8 hex digits>+<base64 key>", what);
    memset(out, 0, sizeof *out);
    return HEARTH_ERR_FORMAT;
}

hearth_err_t tlog_verifier_parse(const char *text, tlog_verifier_t *out, char **cause)
{
    size_t len = strnlen(text, VERIFIER_TEXT_MAX + 2);
    if (len > 0 && text[len - 1] == '\n')
        len--;
    if (len > VERIFIER_TEXT_MAX) {
        memset(out, 0, sizeof *out);
        hearth_cause_set(cause, "the verifier key text is too long to be a verifier key");
        return HEARTH_ERR_FORMAT;
    }
    return parse_verifier(text, len, "the verifier key text", out, cause);
}

hearth_err_t tlog_verifier_load(const char *path, tlog_verifier_t *out, char **cause)
{
    char *data = NULL;
    char *what = NULL;
    size_t len = 0;
    hearth_err_t rc = hearth_file_read_all(path, VERIFIER_FILE_MAX, &data, &len, cause);

    memset(out, 0, sizeof *out);
    if (rc == HEARTH_ERR_TOO_BIG) {
        hearth_cause_set(cause, "'%s' is too long to be a verifier key file", path);
        rc = HEARTH_ERR_FORMAT;
        goto done;
    }
    if (rc != HEARTH_OK)
        goto done;
    if (len > 0 && data[len - 1] == '\n')
        len--;
    if (memchr(data, '\0', len) != NULL || memchr(data, '\n', len) != NULL) {
        hearth_cause_set(cause, "'%s' is not a verifier key file: it must hold one line",
                         path);
        rc = HEARTH_ERR_FORMAT;
        goto done;
    }
    what = hearth_asprintf("'%s'", path);
    rc = parse_verifier(data, len, what, out, cause);
done:
    free(data);
    free(what);
    return rc;
}

/* True when s[0..len) is valid UTF-8 (no overlong forms, surrogates or
 * code points past U+10FFFF) without ASCII control characters other than
 * newline: what the signed-note spec requires of a whole note. */
static bool text_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        if (c < 0x80) {
            if (c < 0x20 && c != '\n')
                return false;
            i++;
            continue;
        }
        size_t more;
        uint8_t lo = 0x80, hi = 0xbf; /* the range of the second byte */
        if (c >= 0xc2 && c <= 0xdf) {
            more = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            more = 2;
            if (c == 0xe0)
                lo = 0xa0; /* not overlong */
            else if (c == 0xed)
                hi = 0x9f; /* not a surrogate */
        } else if (c >= 0xf0 && c <= 0xf4) {
            more = 3;
            if (c == 0xf0)
                lo = 0x90; /* not overlong */
            else if (c == 0xf4)
                hi = 0x8f; /* not past U+10FFFF */
        } else {
            return false;
        }
        if (len - i <= more || s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t j = 2; j <= more; j++)
            if (s[i + j] < 0x80 || s[i + j] > 0xbf)
                return false;
        i += more + 1;
    }
    return true;
}

hearth_err_t tlog_note_sign(const keys_signer_t *signer, const char *text, char **note,
                            char **cause)
{
    uint8_t pub[KEYS_SIGN_PUBLIC_LEN];
    uint8_t blob[4 + KEYS_SIGN_SIG_LEN];
    char b64[HEARTH_BASE64_LEN(sizeof blob) + 1];
    size_t len = strnlen(text, TLOG_NOTE_MAX + 1);
    hearth_err_t rc;

    *note = NULL;
    if (len > TLOG_NOTE_MAX) {
        hearth_cause_set(cause, "the note text is longer than %zu bytes", TLOG_NOTE_MAX);
        return HEARTH_ERR_FORMAT;
    }
    if (len == 0 || text[len - 1] != '\n' || (len >= 2 && text[len - 2] == '\n')) {
        hearth_cause_set(cause, "a note text must be non-empty and end in exactly one "
                         "newline");
        return HEARTH_ERR_FORMAT;
    }
    if (!text_valid((const uint8_t *)text, len)) {
        hearth_cause_set(cause, "a note text must be UTF-8 without control characters "
                         "other than newline");
        return HEARTH_ERR_FORMAT;
    }
    const char *name = keys_signer_name(signer);
    keys_signer_public(signer, pub);
    uint32_t id = tlog_note_key_id(name, pub);
    blob[0] = (uint8_t)(id >> 24);
    blob[1] = (uint8_t)(id >> 16);
    blob[2] = (uint8_t)(id >> 8);
    blob[3] = (uint8_t)id;
    rc = keys_signer_sign(signer, (const uint8_t *)text, len, blob + 4, cause);
    if (rc != HEARTH_OK)
        return rc;
    hearth_base64_encode(blob, sizeof blob, b64);
    size_t total = len + 1 + SIG_PREFIX_LEN + strlen(name) + 1 + strlen(b64) + 1;
    if (total > TLOG_NOTE_MAX) {
        hearth_cause_set(cause, "the signed note would be longer than %zu bytes",
                         TLOG_NOTE_MAX);
        return HEARTH_ERR_FORMAT;
    }
    *note = hearth_asprintf("%s\n" SIG_PREFIX "%s %s\n", text, name, b64);
    return HEARTH_OK;
}

hearth_err_t tlog_note_open(const char *note, size_t len, const tlog_verifier_t *v, char **text,
                            char **cause)
{
    uint8_t *sig = NULL;
    size_t vname_len = strnlen(v->name, TLOG_NOTE_NAME_MAX + 1);
    size_t nsigs = 0;
    bool found = false, failed = false;
    hearth_err_t rc = HEARTH_ERR_FORMAT;

    *text = NULL;
    if (len > TLOG_NOTE_MAX) {
        hearth_cause_set(cause, "the note is longer than %zu bytes", TLOG_NOTE_MAX);
        goto done;
    }
    if (!text_valid((const uint8_t *)note, len)) {
        hearth_cause_set(cause, "the note is not UTF-8 without control characters "
                         "other than newline");
        goto done;
    }
    /* The text ends at the last blank line: the signatures never contain
     * one, while the text may. */
    size_t split = len;
    for (size_t i = len; i-- > 1;)
        if (note[i] == '\n' && note[i - 1] == '\n') {
            split = i - 1;
            break;
        }
    if (split == len) {
        hearth_cause_set(cause, "the note has no blank line before its signatures");
        goto done;
    }
    size_t text_len = split + 1;
    const char *p = note + split + 2;
    const char *end = note + len;
    if (p == end || end[-1] != '\n') {
        hearth_cause_set(cause, "the note's signature block is empty or does not end in "
                         "a newline");
        goto done;
    }
    sig = hearth_malloc(len);
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p)); /* found: end[-1] is one */
        if (++nsigs > TLOG_NOTE_MAX_SIGS) {
            hearth_cause_set(cause, "the note carries more than %d signatures",
                             TLOG_NOTE_MAX_SIGS);
            goto done;
        }
        if ((size_t)(eol - p) < SIG_PREFIX_LEN || memcmp(p, SIG_PREFIX, SIG_PREFIX_LEN) != 0) {
            hearth_cause_set(cause, "signature line %zu of the note does not begin with "
                             "an em dash and a space", nsigs);
            goto done;
        }
        const char *name = p + SIG_PREFIX_LEN;
        const char *space = memchr(name, ' ', (size_t)(eol - name));
        if (space == NULL || space == name || memchr(name, '+', (size_t)(space - name)) != NULL) {
            hearth_cause_set(cause, "signature line %zu of the note has no valid key name",
                             nsigs);
            goto done;
        }
        const char *b64 = space + 1;
        size_t sig_len = 0;
        if (b64 == eol || !hearth_base64_decode(b64, (size_t)(eol - b64), sig, len, &sig_len)
            || sig_len < 5) {
            hearth_cause_set(cause, "signature line %zu of the note is not the base64 of "
                             "a key id and a signature", nsigs);
            goto done;
        }
        uint32_t id = (uint32_t)sig[0] << 24 | (uint32_t)sig[1] << 16 | (uint32_t)sig[2] << 8
                      | sig[3];
        /* Signatures by other keys are ignored, even when they share the
         * name or the id (but not both) with v, as the spec says. */
        if ((size_t)(space - name) == vname_len && memcmp(name, v->name, vname_len) == 0
            && id == v->id) {
            found = true;
            if (sig_len != 4 + KEYS_SIGN_SIG_LEN
                || !keys_sign_verify(v->pub, (const uint8_t *)note, text_len, sig + 4))
                failed = true;
        }
        p = eol + 1;
    }
    /* The whole note is well formed; now judge its signatures. */
    rc = HEARTH_ERR_CRYPTO;
    if (failed) {
        hearth_cause_set(cause, "the note's signature by key %s+%08x does not verify",
                         v->name, (unsigned)v->id);
        goto done;
    }
    if (!found) {
        hearth_cause_set(cause, "the note carries no signature by key %s+%08x", v->name,
                         (unsigned)v->id);
        goto done;
    }
    *text = hearth_strndup(note, text_len);
    rc = HEARTH_OK;
done:
    free(sig);
    return rc;
}
