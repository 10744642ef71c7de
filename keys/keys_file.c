#include "keys_file.h"
#include "hearth_file.h"
#include "hearth_hex.h"
#include "hearth_mem.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <zmq.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINKAGE_HEX_LEN (2 * KEYS_LINKAGE_KEY_LEN)
#define CURVE_RAW_LEN 32
#define PUBLIC_PREFIX "public-key "
#define SECRET_PREFIX "secret-key "
#define PREFIX_LEN (sizeof PUBLIC_PREFIX - 1)
#define SECRET_LINE_LEN (PREFIX_LEN + KEYS_Z85_LEN + 1)
/* "public-key <z85>\nsecret-key <z85>\n"; the last newline is optional on
 * load so a hand-edited file still reads. */
#define SECRET_FILE_LEN (2 * SECRET_LINE_LEN)

/* Rewrites the cause of a refusal to overwrite in words that say what to
 * do, rather than the bare "File exists". */
static hearth_err_t explain_exists(hearth_err_t rc, const char *path, char **cause)
{
    if (rc == HEARTH_ERR_EXISTS)
        hearth_cause_set(cause, "'%s' already exists; refusing to overwrite it "
                         "(move it away first if you really mean to replace it)", path);
    return rc;
}

hearth_err_t keys_linkage_generate(const char *path, char key_id[KEYS_KEY_ID_LEN + 1],
                                   char **cause)
{
    uint8_t key[KEYS_LINKAGE_KEY_LEN];
    char text[LINKAGE_HEX_LEN + 2]; /* hex, newline, NUL from the encoder */
    hearth_err_t rc;

    if (RAND_priv_bytes(key, sizeof key) != 1) {
        hearth_cause_set(cause, "the random number generator failed; no key written");
        rc = HEARTH_ERR_CRYPTO;
        goto done;
    }
    hearth_hex_encode(key, sizeof key, text);
    text[LINKAGE_HEX_LEN] = '\n';
    rc = explain_exists(hearth_file_write_secret(path, text, LINKAGE_HEX_LEN + 1, cause),
                        path, cause);
    if (rc == HEARTH_OK && key_id != NULL)
        keys_key_id(key, key_id);
done:
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(text, sizeof text);
    return rc;
}

hearth_err_t keys_linkage_load(const char *path, uint8_t key[KEYS_LINKAGE_KEY_LEN],
                               char **cause)
{
    char text[LINKAGE_HEX_LEN + 2]; /* one spare byte tells "too long" */
    size_t len = 0;
    hearth_err_t rc = hearth_file_read_secret(path, text, sizeof text, &len, cause);

    if (rc == HEARTH_ERR_TOO_BIG)
        goto bad_format;
    if (rc != HEARTH_OK)
        goto fail;
    if (len == LINKAGE_HEX_LEN + 1 && text[LINKAGE_HEX_LEN] == '\n')
        len--;
    if (len != LINKAGE_HEX_LEN || !hearth_hex_decode(text, len, key, KEYS_LINKAGE_KEY_LEN))
        goto bad_format;
    OPENSSL_cleanse(text, sizeof text);
    return HEARTH_OK;

bad_format:
    hearth_cause_set(cause, "'%s' is not a linkage key file: it must hold exactly "
                     "64 hexadecimal digits and an optional newline", path);
    rc = HEARTH_ERR_FORMAT;
fail:
    OPENSSL_cleanse(text, sizeof text);
    OPENSSL_cleanse(key, KEYS_LINKAGE_KEY_LEN);
    return rc;
}

bool keys_z85_valid(const char *z85)
{
    uint8_t raw[CURVE_RAW_LEN];
    if (z85 == NULL || strnlen(z85, KEYS_Z85_LEN + 1) != KEYS_Z85_LEN)
        return false;
    /* zmq_z85_decode rejects characters outside the alphabet and groups
     * whose value overflows 32 bits. */
    bool ok = zmq_z85_decode(raw, z85) != NULL;
    /* The string may be a secret key. */
    OPENSSL_cleanse(raw, sizeof raw);
    return ok;
}

hearth_err_t keys_curve_generate(const char *name, char **cause)
{
    char public_z85[KEYS_Z85_LEN + 1];
    char secret_z85[KEYS_Z85_LEN + 1];
    char *text = NULL;
    char *key_path = hearth_asprintf("%s.key", name);
    char *pub_path = hearth_asprintf("%s.pub", name);
    const char *in_the_way;
    hearth_err_t rc;

    if (!zmq_has("curve") || zmq_curve_keypair(public_z85, secret_z85) != 0) {
        hearth_cause_set(cause, "cannot generate a CURVE keypair: this libzmq was "
                         "built without CURVE support");
        rc = HEARTH_ERR_CRYPTO;
        goto done;
    }
    /* Refuse before writing anything when either file is in the way, so
     * an existing pair is never half replaced. (O_EXCL still guards the
     * race; this only gives the clear answer in the common case.) */
    in_the_way = access(key_path, F_OK) == 0 ? key_path
                 : access(pub_path, F_OK) == 0 ? pub_path : NULL;
    if (in_the_way != NULL) {
        rc = explain_exists(HEARTH_ERR_EXISTS, in_the_way, cause);
        goto done;
    }
    text = hearth_asprintf(PUBLIC_PREFIX "%s\n" SECRET_PREFIX "%s\n", public_z85, secret_z85);
    rc = explain_exists(hearth_file_write_secret(key_path, text, strlen(text), cause),
                        key_path, cause);
    if (rc != HEARTH_OK)
        goto done;
    OPENSSL_cleanse(text, strlen(text));
    free(text);
    text = hearth_asprintf("%s\n", public_z85);
    rc = explain_exists(hearth_file_write_public(pub_path, text, strlen(text), cause),
                        pub_path, cause);
    if (rc != HEARTH_OK)
        unlink(key_path);
done:
    if (text != NULL) {
        OPENSSL_cleanse(text, strlen(text));
        free(text);
    }
    OPENSSL_cleanse(secret_z85, sizeof secret_z85);
    free(key_path);
    free(pub_path);
    return rc;
}

hearth_err_t keys_curve_load_secret(const char *path, char public_z85[KEYS_Z85_LEN + 1],
                                    char secret_z85[KEYS_Z85_LEN + 1], char **cause)
{
    char text[SECRET_FILE_LEN + 1]; /* one spare byte tells "too long" */
    char derived[KEYS_Z85_LEN + 1];
    size_t len = 0;
    hearth_err_t rc = hearth_file_read_secret(path, text, sizeof text, &len, cause);

    if (rc == HEARTH_ERR_TOO_BIG)
        goto bad_format;
    if (rc != HEARTH_OK)
        goto fail;
    if (len == SECRET_FILE_LEN && text[SECRET_FILE_LEN - 1] == '\n')
        len--;
    if (len != SECRET_FILE_LEN - 1 || memcmp(text, PUBLIC_PREFIX, PREFIX_LEN) != 0
        || text[SECRET_LINE_LEN - 1] != '\n'
        || memcmp(text + SECRET_LINE_LEN, SECRET_PREFIX, PREFIX_LEN) != 0)
        goto bad_format;
    memcpy(public_z85, text + PREFIX_LEN, KEYS_Z85_LEN);
    public_z85[KEYS_Z85_LEN] = '\0';
    memcpy(secret_z85, text + SECRET_LINE_LEN + PREFIX_LEN, KEYS_Z85_LEN);
    secret_z85[KEYS_Z85_LEN] = '\0';
    if (!keys_z85_valid(public_z85) || !keys_z85_valid(secret_z85))
        goto bad_format;
    if (zmq_curve_public(derived, secret_z85) != 0) {
        hearth_cause_set(cause, "cannot check '%s': this libzmq was built without "
                         "CURVE support", path);
        rc = HEARTH_ERR_CRYPTO;
        goto fail;
    }
    if (memcmp(derived, public_z85, KEYS_Z85_LEN) != 0) {
        hearth_cause_set(cause, "'%s' is inconsistent: its public key does not belong "
                         "to its secret key", path);
        rc = HEARTH_ERR_FORMAT;
        goto fail;
    }
    OPENSSL_cleanse(text, sizeof text);
    return HEARTH_OK;

bad_format:
    hearth_cause_set(cause, "'%s' is not a CURVE secret key file: expected a "
                     "'public-key' line and a 'secret-key' line, each with a "
                     "40-character Z85 key", path);
    rc = HEARTH_ERR_FORMAT;
fail:
    OPENSSL_cleanse(text, sizeof text);
    OPENSSL_cleanse(public_z85, KEYS_Z85_LEN + 1);
    OPENSSL_cleanse(secret_z85, KEYS_Z85_LEN + 1);
    return rc;
}

hearth_err_t keys_curve_load_public(const char *path, char public_z85[KEYS_Z85_LEN + 1],
                                    char **cause)
{
    char *text = NULL;
    size_t len = 0;
    /* Generous enough that a slightly wrong file gets a format error
     * rather than a size error. */
    hearth_err_t rc = hearth_file_read_all(path, 4 * KEYS_Z85_LEN, &text, &len, cause);

    if (rc == HEARTH_ERR_TOO_BIG)
        goto bad_format;
    if (rc != HEARTH_OK)
        goto done;
    if (len == KEYS_Z85_LEN + 1 && text[KEYS_Z85_LEN] == '\n')
        text[--len] = '\0';
    /* text is NUL-terminated by hearth_file_read_all, and an embedded NUL
     * makes the length check fail. */
    if (len != KEYS_Z85_LEN || !keys_z85_valid(text))
        goto bad_format;
    memcpy(public_z85, text, KEYS_Z85_LEN + 1);
    goto done;

bad_format:
    hearth_cause_set(cause, "'%s' is not a CURVE public key file: it must hold "
                     "exactly one 40-character Z85 key and an optional newline", path);
    rc = HEARTH_ERR_FORMAT;
done:
    free(text);
    return rc;
}
