/* tlog_checkpoint — C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint)
 * bodies, signed as notes (tlog_note.h):
 *
 *   <origin>\n<tree size, decimal, no leading zeros>\n<base64 root hash>\n
 *
 * hearth writes no extension lines and refuses notes with any, so a
 * checkpoint's text is exactly determined by its three values. The note is
 * signed by the log's key, whose name is the origin. */
#ifndef TLOG_CHECKPOINT_H
#define TLOG_CHECKPOINT_H

#include "hearth_err.h"
#include "keys_sign.h"
#include "tlog_merkle.h"
#include "tlog_note.h"

#include <stdint.h>

typedef struct {
    char origin[TLOG_NOTE_NAME_MAX + 1];
    uint64_t size;
    uint8_t root[TLOG_HASH_LEN];
} tlog_checkpoint_t;

/* The checkpoint's text (caller frees). */
char *tlog_checkpoint_format(const tlog_checkpoint_t *cp);

/* Parses a checkpoint's text. HEARTH_ERR_FORMAT for anything but exactly
 * three well-formed lines (a valid origin, a canonical decimal size, the
 * base64 of 32 bytes). */
hearth_err_t tlog_checkpoint_parse(const char *text, tlog_checkpoint_t *out, char **cause)
    __attribute__((warn_unused_result));

/* Signs cp with signer (whose name must equal cp->origin, else
 * HEARTH_ERR_USAGE) into a new signed note (*note; caller frees). */
hearth_err_t tlog_checkpoint_sign(const keys_signer_t *signer, const tlog_checkpoint_t *cp,
                                  char **note, char **cause) __attribute__((warn_unused_result));

/* Opens a signed checkpoint note[0..len) with v (tlog_note_open) and parses
 * it into *out; the origin must be v's name (HEARTH_ERR_CRYPTO otherwise). */
hearth_err_t tlog_checkpoint_open(const char *note, size_t len, const tlog_verifier_t *v,
                                  tlog_checkpoint_t *out, char **cause)
    __attribute__((warn_unused_result));

#endif
