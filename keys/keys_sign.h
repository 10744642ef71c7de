/* keys_sign — Ed25519 signing keys (OpenSSL EVP_DigestSign), for the
 * gateway's audit checkpoints and the nodes' signed receipts.
 *
 * Signing key file NAME.signer (mode 0600, created O_EXCL, refused on load
 * when group or others may read it), one line in the form Go's
 * golang.org/x/mod/sumdb/note uses:
 *     PRIVATE+KEY+<name>+<8 hex digits of the key id>+<base64(0x01 || seed)>
 * Verifier key file NAME.vkey (mode 0644), one line:
 *     <name>+<8 hex digits of the key id>+<base64(0x01 || public key)>
 * (audit/tlog_note.h reads verifier keys and defines the key id and which
 * names are valid). Key material passes through fixed buffers wiped before
 * returning; causes name files, never key material. */
#ifndef KEYS_SIGN_H
#define KEYS_SIGN_H

#include "hearth_err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEYS_SIGN_PUBLIC_LEN 32
#define KEYS_SIGN_SIG_LEN 64
#define KEYS_SIGN_NAME_MAX 128

typedef struct keys_signer_t keys_signer_t;

/* True when name is a valid key name: 1..KEYS_SIGN_NAME_MAX printable ASCII
 * characters (0x21..0x7e) other than '+'. Reads at most
 * KEYS_SIGN_NAME_MAX + 1 bytes of name. audit/tlog_note.h's
 * tlog_note_name_valid is this function: it lives here so that hearth_keys
 * need not link hearth_audit. */
bool keys_sign_name_valid(const char *name);

/* The signed-note key id of the Ed25519 key (name, pub): the first four
 * bytes, big-endian, of SHA-256(name || "\n" || 0x01 || pub).
 * tlog_note_key_id is this function. */
uint32_t keys_sign_key_id(const char *name, const uint8_t pub[KEYS_SIGN_PUBLIC_LEN]);

/* The verifier key text of (name, pub), without a newline:
 *     <name>+<8 hex digits of the key id>+<base64(0x01 || pub)>
 * A new string (caller frees). tlog_verifier_format is this function. */
char *keys_sign_verifier_text(const char *name, const uint8_t pub[KEYS_SIGN_PUBLIC_LEN]);

/* Generates a key called name (a valid note key name) and writes
 * PREFIX.signer and PREFIX.vkey, neither of which may exist
 * (HEARTH_ERR_EXISTS); a half pair is never left behind.
 * HEARTH_ERR_USAGE for an invalid name; HEARTH_ERR_CRYPTO; HEARTH_ERR_IO. */
hearth_err_t keys_sign_generate(const char *prefix, const char *name, char **cause)
    __attribute__((warn_unused_result));

/* Reads a signing key file into a new signer (*out; free with
 * keys_signer_destroy). HEARTH_ERR_PERM when others may read it;
 * HEARTH_ERR_FORMAT when malformed or its key id does not match. */
hearth_err_t keys_signer_load(const char *path, keys_signer_t **out, char **cause)
    __attribute__((warn_unused_result));

/* A signer from the text of a signing key (the file's line, as above): for
 * tests and vectors. Same errors as keys_signer_load. */
hearth_err_t keys_signer_parse(const char *text, keys_signer_t **out, char **cause)
    __attribute__((warn_unused_result));

/* Wipes and frees; NULL-safe; nulls *self_p. */
void keys_signer_destroy(keys_signer_t **self_p);

/* The key's name (borrowed) and its public key. */
const char *keys_signer_name(const keys_signer_t *self);
void keys_signer_public(const keys_signer_t *self, uint8_t pub[KEYS_SIGN_PUBLIC_LEN]);

/* Signs msg[0..len) (Ed25519, deterministic) into sig. HEARTH_ERR_CRYPTO
 * when OpenSSL fails. */
hearth_err_t keys_signer_sign(const keys_signer_t *self, const uint8_t *msg, size_t len,
                              uint8_t sig[KEYS_SIGN_SIG_LEN], char **cause)
    __attribute__((warn_unused_result));

/* True when sig is pub's Ed25519 signature of msg[0..len). */
bool keys_sign_verify(const uint8_t pub[KEYS_SIGN_PUBLIC_LEN], const uint8_t *msg, size_t len,
                      const uint8_t sig[KEYS_SIGN_SIG_LEN]);

#endif
