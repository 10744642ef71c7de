/* keys_file — the key files hearth uses, written and read carefully.
 *
 * Linkage key file: 64 lower-case hex digits and a newline, mode 0600, so
 * that `openssl dgst -sha256 -mac HMAC -macopt hexkey:$(cat FILE)` checks a
 * token by hand.
 *
 * CURVE keypair: NAME.key (mode 0600)
 *     public-key <40 Z85 characters>
 *     secret-key <40 Z85 characters>
 * and NAME.pub (mode 0644): the 40-character Z85 public key and a newline.
 *
 * Secret files are created O_EXCL (never overwritten) and refused on load
 * when group or others may read them, as ssh does. Key material passes
 * through fixed-size buffers that are wiped before returning. Causes name
 * files, never key material. */
#ifndef KEYS_FILE_H
#define KEYS_FILE_H

#include "hearth_err.h"
#include "keys_token.h"

#include <stdbool.h>
#include <stdint.h>

#define KEYS_Z85_LEN 40 /* Z85 characters in a CURVE key, without the NUL */

/* Generates a linkage key from RAND_priv_bytes and writes it to path (which
 * must not exist). If key_id is not NULL, writes the key's id (see
 * keys_key_id) to it. Returns HEARTH_ERR_EXISTS if path exists,
 * HEARTH_ERR_CRYPTO if the random generator fails, HEARTH_ERR_IO otherwise;
 * *cause (caller frees) says why. */
hearth_err_t keys_linkage_generate(const char *path, char key_id[KEYS_KEY_ID_LEN + 1],
                                   char **cause)
    __attribute__((warn_unused_result));

/* Reads the linkage key at path into key. The file must be readable by its
 * owner only (else HEARTH_ERR_PERM) and hold exactly 64 hex digits with an
 * optional trailing newline (else HEARTH_ERR_FORMAT). key is wiped on
 * failure. */
hearth_err_t keys_linkage_load(const char *path, uint8_t key[KEYS_LINKAGE_KEY_LEN],
                               char **cause)
    __attribute__((warn_unused_result));

/* Generates a CURVE keypair and writes NAME.key and NAME.pub, neither of
 * which may exist (HEARTH_ERR_EXISTS). If NAME.pub cannot be written, the
 * NAME.key just written is removed, so no half pair is left behind.
 * HEARTH_ERR_CRYPTO when libzmq has no CURVE support. */
hearth_err_t keys_curve_generate(const char *name, char **cause)
    __attribute__((warn_unused_result));

/* Reads a NAME.key file. Refuses one others may read (HEARTH_ERR_PERM);
 * HEARTH_ERR_FORMAT unless both keys are valid Z85 and the public key is
 * the one the secret key implies. On success writes both keys as
 * NUL-terminated Z85; the caller wipes secret_z85 when done. Both outputs
 * are wiped on failure. */
hearth_err_t keys_curve_load_secret(const char *path, char public_z85[KEYS_Z85_LEN + 1],
                                    char secret_z85[KEYS_Z85_LEN + 1], char **cause)
    __attribute__((warn_unused_result));

/* Reads a NAME.pub file: a valid 40-character Z85 key and an optional
 * trailing newline, else HEARTH_ERR_FORMAT. Writes it NUL-terminated to
 * public_z85. */
hearth_err_t keys_curve_load_public(const char *path, char public_z85[KEYS_Z85_LEN + 1],
                                    char **cause)
    __attribute__((warn_unused_result));

/* True when z85 is a NUL-terminated string of exactly 40 characters that
 * decodes as Z85 to 32 bytes. Reads at most 41 bytes of z85. */
bool keys_z85_valid(const char *z85);

#endif
