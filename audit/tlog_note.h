/* tlog_note — C2SP signed notes (https://c2sp.org/signed-note) with
 * Ed25519 keys: the format of the gateway's signed audit checkpoints and
 * of the receipts nodes sign.
 *
 * A note is UTF-8 text ending in a newline, then a blank line, then one or
 * more signature lines "— <name> <base64(key id (4 bytes, big-endian) ||
 * signature)>\n" (the dash is U+2014). The signature is over the text
 * (every byte up to and including its final newline). An Ed25519 key's id
 * is the first four bytes of SHA-256(name || "\n" || 0x01 || public key).
 *
 * A verifier key is written "<name>+<8 hex digits of the id>+<base64(0x01
 * || public key)>" (as Go's golang.org/x/mod/sumdb/note prints it); the
 * signing key is keys/keys_sign.h's. Names are 1..TLOG_NOTE_NAME_MAX
 * printable ASCII characters without spaces or '+'. */
#ifndef TLOG_NOTE_H
#define TLOG_NOTE_H

#include "hearth_err.h"
#include "keys_sign.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLOG_NOTE_NAME_MAX 128
/* The largest note (text and signatures) opened or signed. */
#define TLOG_NOTE_MAX ((size_t)64 * 1024)
/* Signature lines read from one note at most; more are refused. */
#define TLOG_NOTE_MAX_SIGS 16

typedef struct {
    char name[TLOG_NOTE_NAME_MAX + 1];
    uint32_t id;
    uint8_t pub[KEYS_SIGN_PUBLIC_LEN];
} tlog_verifier_t;

/* The key id of an Ed25519 key with this name. */
uint32_t tlog_note_key_id(const char *name, const uint8_t pub[KEYS_SIGN_PUBLIC_LEN]);

/* True when name is a valid key name (see above). */
bool tlog_note_name_valid(const char *name);

/* Parses a verifier key (trailing newline allowed) into *out. The id must
 * match the name and key. HEARTH_ERR_FORMAT otherwise (cause says why). */
hearth_err_t tlog_verifier_parse(const char *text, tlog_verifier_t *out, char **cause)
    __attribute__((warn_unused_result));

/* Reads a verifier key file (at most 1 KiB; one line) into *out.
 * HEARTH_ERR_NOT_FOUND / HEARTH_ERR_IO / HEARTH_ERR_FORMAT. */
hearth_err_t tlog_verifier_load(const char *path, tlog_verifier_t *out, char **cause)
    __attribute__((warn_unused_result));

/* Writes the verifier key of (name, pub) as text into a new string. */
char *tlog_verifier_format(const char *name, const uint8_t pub[KEYS_SIGN_PUBLIC_LEN]);

/* Signs text (UTF-8, at most TLOG_NOTE_MAX, non-empty, ending in "\n",
 * no blank last line... i.e. not ending "\n\n") with signer, whose name is
 * the signature's name. *note (caller frees) is the whole signed note.
 * HEARTH_ERR_FORMAT for text that is not a valid note text;
 * HEARTH_ERR_CRYPTO when signing fails. */
hearth_err_t tlog_note_sign(const keys_signer_t *signer, const char *text, char **note,
                            char **cause) __attribute__((warn_unused_result));

/* Opens a signed note note[0..len): checks its shape and that it carries a
 * valid signature by v (same name, same id, signature verifies); other
 * signatures are ignored. On success *text (caller frees) is the signed
 * text. HEARTH_ERR_FORMAT for a malformed note; HEARTH_ERR_CRYPTO when no
 * signature by v is present or one by v's name and id fails to verify
 * (cause says which). */
hearth_err_t tlog_note_open(const char *note, size_t len, const tlog_verifier_t *v, char **text,
                            char **cause) __attribute__((warn_unused_result));

#endif
