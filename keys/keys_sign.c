#include "keys_sign.h"
#include "hearth_base64.h"
#include "hearth_file.h"
#include "hearth_hex.h"
#include "hearth_mem.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEED_LEN 32
#define ALG_ED25519 0x01 /* the signed-note signature type byte */
#define SIGNER_PREFIX "PRIVATE+KEY+"
#define SIGNER_PREFIX_LEN (sizeof SIGNER_PREFIX - 1)
#define ID_HEX_LEN 8
#define KEY_B64_LEN HEARTH_BASE64_LEN(1 + SEED_LEN)
/* The longest signing key line, without its newline. */
#define SIGNER_TEXT_MAX (SIGNER_PREFIX_LEN + KEYS_SIGN_NAME_MAX + 1 + ID_HEX_LEN + 1 + KEY_B64_LEN)

struct keys_signer_t {
    char name[KEYS_SIGN_NAME_MAX + 1];
    uint8_t pub[KEYS_SIGN_PUBLIC_LEN];
    EVP_PKEY *pkey; /* owns the private key; OpenSSL wipes it on free */
};

bool keys_sign_name_valid(const char *name)
{
    size_t len = strnlen(name, KEYS_SIGN_NAME_MAX + 1);
    if (len == 0 || len > KEYS_SIGN_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x21 || c > 0x7e || c == '+')
            return false;
    }
    return true;
}

uint32_t keys_sign_key_id(const char *name, const uint8_t pub[KEYS_SIGN_PUBLIC_LEN])
{
    static const uint8_t sep[2] = {'\n', ALG_ED25519};
    uint8_t digest[EVP_MAX_MD_SIZE];
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    /* SHA-256 over memory fails only when allocation does: the project's
     * out-of-memory policy (hearth_err.h) is to abort. */
    if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1
        || EVP_DigestUpdate(md, name, strlen(name)) != 1
        || EVP_DigestUpdate(md, sep, sizeof sep) != 1
        || EVP_DigestUpdate(md, pub, KEYS_SIGN_PUBLIC_LEN) != 1
        || EVP_DigestFinal_ex(md, digest, NULL) != 1)
        abort();
    EVP_MD_CTX_free(md);
    return (uint32_t)digest[0] << 24 | (uint32_t)digest[1] << 16 | (uint32_t)digest[2] << 8
           | digest[3];
}

char *keys_sign_verifier_text(const char *name, const uint8_t pub[KEYS_SIGN_PUBLIC_LEN])
{
    uint8_t raw[1 + KEYS_SIGN_PUBLIC_LEN];
    char b64[HEARTH_BASE64_LEN(sizeof raw) + 1];
    raw[0] = ALG_ED25519;
    memcpy(raw + 1, pub, KEYS_SIGN_PUBLIC_LEN);
    hearth_base64_encode(raw, sizeof raw, b64);
    return hearth_asprintf("%s+%08x+%s", name, (unsigned)keys_sign_key_id(name, pub), b64);
}

/* Makes the Ed25519 key for seed into *pkey and its public key into pub. */
static hearth_err_t key_from_seed(const uint8_t seed[SEED_LEN], EVP_PKEY **pkey,
                                  uint8_t pub[KEYS_SIGN_PUBLIC_LEN], char **cause)
{
    size_t pub_len = KEYS_SIGN_PUBLIC_LEN;
    *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, SEED_LEN);
    if (*pkey == NULL || EVP_PKEY_get_raw_public_key(*pkey, pub, &pub_len) != 1
        || pub_len != KEYS_SIGN_PUBLIC_LEN) {
        EVP_PKEY_free(*pkey);
        *pkey = NULL;
        hearth_cause_set(cause, "OpenSSL cannot make an Ed25519 key (is this OpenSSL 3 "
                         "with Ed25519?)");
        return HEARTH_ERR_CRYPTO;
    }
    return HEARTH_OK;
}

/* The signing key line for (name, seed) into text (room for
 * SIGNER_TEXT_MAX + 2: the line, a newline and a NUL). */
static void format_signer(const char *name, uint32_t id, const uint8_t seed[SEED_LEN],
                          char *text)
{
    uint8_t raw[1 + SEED_LEN];
    char b64[KEY_B64_LEN + 1];
    char hex[ID_HEX_LEN + 1];
    raw[0] = ALG_ED25519;
    memcpy(raw + 1, seed, SEED_LEN);
    hearth_base64_encode(raw, sizeof raw, b64);
    for (int i = 0; i < ID_HEX_LEN; i++)
        hex[i] = "0123456789abcdef"[(id >> (28 - 4 * i)) & 15];
    hex[ID_HEX_LEN] = '\0';
    size_t n = strlen(name);
    char *p = text;
    memcpy(p, SIGNER_PREFIX, SIGNER_PREFIX_LEN);
    p += SIGNER_PREFIX_LEN;
    memcpy(p, name, n);
    p += n;
    *p++ = '+';
    memcpy(p, hex, ID_HEX_LEN);
    p += ID_HEX_LEN;
    *p++ = '+';
    memcpy(p, b64, KEY_B64_LEN);
    p += KEY_B64_LEN;
    *p++ = '\n';
    *p = '\0';
    OPENSSL_cleanse(raw, sizeof raw);
    OPENSSL_cleanse(b64, sizeof b64);
}

static hearth_err_t explain_exists(hearth_err_t rc, const char *path, char **cause)
{
    if (rc == HEARTH_ERR_EXISTS)
        hearth_cause_set(cause, "'%s' already exists; refusing to overwrite it "
                         "(move it away first if you really mean to replace it)", path);
    return rc;
}

hearth_err_t keys_sign_generate(const char *prefix, const char *name, char **cause)
{
    uint8_t seed[SEED_LEN];
    uint8_t pub[KEYS_SIGN_PUBLIC_LEN];
    char text[SIGNER_TEXT_MAX + 2];
    char *vkey = NULL;
    EVP_PKEY *pkey = NULL;
    char *signer_path = hearth_asprintf("%s.signer", prefix);
    char *vkey_path = hearth_asprintf("%s.vkey", prefix);
    const char *in_the_way;
    hearth_err_t rc;

    memset(text, 0, sizeof text);
    if (!keys_sign_name_valid(name)) {
        hearth_cause_set(cause, "invalid key name: a name is 1 to %d printable ASCII "
                         "characters without spaces or '+'", KEYS_SIGN_NAME_MAX);
        rc = HEARTH_ERR_USAGE;
        goto done;
    }
    /* Refuse before writing anything when either file is in the way, so
     * an existing pair is never half replaced (O_EXCL still guards the
     * race). */
    in_the_way = access(signer_path, F_OK) == 0 ? signer_path
                 : access(vkey_path, F_OK) == 0 ? vkey_path : NULL;
    if (in_the_way != NULL) {
        rc = explain_exists(HEARTH_ERR_EXISTS, in_the_way, cause);
        goto done;
    }
    if (RAND_priv_bytes(seed, sizeof seed) != 1) {
        hearth_cause_set(cause, "the random number generator failed; no key written");
        rc = HEARTH_ERR_CRYPTO;
        goto done;
    }
    rc = key_from_seed(seed, &pkey, pub, cause);
    if (rc != HEARTH_OK)
        goto done;
    format_signer(name, keys_sign_key_id(name, pub), seed, text);
    rc = explain_exists(hearth_file_write_secret(signer_path, text, strlen(text), cause),
                        signer_path, cause);
    if (rc != HEARTH_OK)
        goto done;
    char *line = keys_sign_verifier_text(name, pub);
    vkey = hearth_asprintf("%s\n", line);
    free(line);
    rc = explain_exists(hearth_file_write_public(vkey_path, vkey, strlen(vkey), cause),
                        vkey_path, cause);
    if (rc != HEARTH_OK)
        unlink(signer_path); /* never leave half a pair */
done:
    OPENSSL_cleanse(seed, sizeof seed);
    OPENSSL_cleanse(text, sizeof text);
    EVP_PKEY_free(pkey);
    free(vkey);
    free(signer_path);
    free(vkey_path);
    return rc;
}

/* Parses the signing key line text[0..len) (no newline) into *out. `what`
 * names the source in causes ("'PATH'" or "the signing key text"); the
 * text itself never appears in one. */
static hearth_err_t parse_signer(const char *text, size_t len, const char *what,
                                 keys_signer_t **out, char **cause)
{
    uint8_t raw[1 + SEED_LEN + 2]; /* room to tell a too-long key */
    uint8_t id_bytes[4];
    size_t raw_len = 0;
    keys_signer_t *self = NULL;
    hearth_err_t rc;

    *out = NULL;
    if (len < SIGNER_PREFIX_LEN || memcmp(text, SIGNER_PREFIX, SIGNER_PREFIX_LEN) != 0)
        goto bad_format;
    const char *name = text + SIGNER_PREFIX_LEN;
    const char *end = text + len;
    const char *plus = memchr(name, '+', (size_t)(end - name));
    if (plus == NULL || plus == name || (size_t)(plus - name) > KEYS_SIGN_NAME_MAX)
        goto bad_format;
    size_t name_len = (size_t)(plus - name);
    const char *hex = plus + 1;
    if (end - hex < ID_HEX_LEN + 1 || hex[ID_HEX_LEN] != '+'
        || !hearth_hex_decode(hex, ID_HEX_LEN, id_bytes, sizeof id_bytes))
        goto bad_format;
    const char *b64 = hex + ID_HEX_LEN + 1;
    if (!hearth_base64_decode(b64, (size_t)(end - b64), raw, sizeof raw, &raw_len)
        || raw_len != 1 + SEED_LEN || raw[0] != ALG_ED25519)
        goto bad_format;

    self = hearth_calloc(1, sizeof *self);
    memcpy(self->name, name, name_len);
    self->name[name_len] = '\0';
    if (!keys_sign_name_valid(self->name))
        goto bad_format;
    rc = key_from_seed(raw + 1, &self->pkey, self->pub, cause);
    if (rc != HEARTH_OK)
        goto fail;
    uint32_t id = (uint32_t)id_bytes[0] << 24 | (uint32_t)id_bytes[1] << 16
                  | (uint32_t)id_bytes[2] << 8 | id_bytes[3];
    if (id != keys_sign_key_id(self->name, self->pub)) {
        hearth_cause_set(cause, "%s is inconsistent: its key id does not match its "
                         "name and key", what);
        rc = HEARTH_ERR_FORMAT;
        goto fail;
    }
    OPENSSL_cleanse(raw, sizeof raw);
    *out = self;
    return HEARTH_OK;

bad_format:
    hearth_cause_set(cause, "%s is not a signing key: expected one line "
                     "PRIVATE+KEY+<name>+<8 hex digits>+<base64 Ed25519 key>", what);
    rc = HEARTH_ERR_FORMAT;
fail:
    OPENSSL_cleanse(raw, sizeof raw);
    keys_signer_destroy(&self);
    return rc;
}

hearth_err_t keys_signer_parse(const char *text, keys_signer_t **out, char **cause)
{
    /* One spare byte for the newline, one to tell "too long". */
    size_t len = strnlen(text, SIGNER_TEXT_MAX + 2);
    if (len > 0 && text[len - 1] == '\n')
        len--;
    if (len > SIGNER_TEXT_MAX) {
        *out = NULL;
        hearth_cause_set(cause, "the signing key text is too long to be a signing key");
        return HEARTH_ERR_FORMAT;
    }
    return parse_signer(text, len, "the signing key text", out, cause);
}

hearth_err_t keys_signer_load(const char *path, keys_signer_t **out, char **cause)
{
    char text[SIGNER_TEXT_MAX + 2]; /* the line, its newline, one spare byte */
    size_t len = 0;
    char *what = NULL;
    hearth_err_t rc;

    *out = NULL;
    rc = hearth_file_read_secret(path, text, sizeof text, &len, cause);
    if (rc == HEARTH_ERR_TOO_BIG) {
        hearth_cause_set(cause, "'%s' is too long to be a signing key file", path);
        rc = HEARTH_ERR_FORMAT;
        goto done;
    }
    if (rc != HEARTH_OK)
        goto done;
    if (len > 0 && text[len - 1] == '\n')
        len--;
    if (memchr(text, '\0', len) != NULL || memchr(text, '\n', len) != NULL) {
        hearth_cause_set(cause, "'%s' is not a signing key file: it must hold one line",
                         path);
        rc = HEARTH_ERR_FORMAT;
        goto done;
    }
    what = hearth_asprintf("'%s'", path);
    rc = parse_signer(text, len, what, out, cause);
done:
    OPENSSL_cleanse(text, sizeof text);
    free(what);
    return rc;
}

void keys_signer_destroy(keys_signer_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    keys_signer_t *self = *self_p;
    EVP_PKEY_free(self->pkey);
    OPENSSL_cleanse(self, sizeof *self);
    free(self);
    *self_p = NULL;
}

const char *keys_signer_name(const keys_signer_t *self)
{
    return self->name;
}

void keys_signer_public(const keys_signer_t *self, uint8_t pub[KEYS_SIGN_PUBLIC_LEN])
{
    memcpy(pub, self->pub, KEYS_SIGN_PUBLIC_LEN);
}

hearth_err_t keys_signer_sign(const keys_signer_t *self, const uint8_t *msg, size_t len,
                              uint8_t sig[KEYS_SIGN_SIG_LEN], char **cause)
{
    size_t sig_len = KEYS_SIGN_SIG_LEN;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md == NULL)
        abort(); /* the project's out-of-memory policy */
    /* Ed25519 hashes internally: no digest is named (NULL md), and the
     * one-shot EVP_DigestSign is the only call it supports. */
    bool ok = EVP_DigestSignInit(md, NULL, NULL, NULL, self->pkey) == 1
              && EVP_DigestSign(md, sig, &sig_len, len > 0 ? msg : (const uint8_t *)"", len) == 1
              && sig_len == KEYS_SIGN_SIG_LEN;
    EVP_MD_CTX_free(md);
    if (!ok) {
        OPENSSL_cleanse(sig, KEYS_SIGN_SIG_LEN);
        hearth_cause_set(cause, "OpenSSL failed to sign with key '%s'", self->name);
        return HEARTH_ERR_CRYPTO;
    }
    return HEARTH_OK;
}

bool keys_sign_verify(const uint8_t pub[KEYS_SIGN_PUBLIC_LEN], const uint8_t *msg, size_t len,
                      const uint8_t sig[KEYS_SIGN_SIG_LEN])
{
    EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub,
                                                 KEYS_SIGN_PUBLIC_LEN);
    if (pkey == NULL)
        return false;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md == NULL)
        abort(); /* the project's out-of-memory policy */
    bool ok = EVP_DigestVerifyInit(md, NULL, NULL, NULL, pkey) == 1
              && EVP_DigestVerify(md, sig, KEYS_SIGN_SIG_LEN,
                                  len > 0 ? msg : (const uint8_t *)"", len) == 1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pkey);
    return ok;
}
