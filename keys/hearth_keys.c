/* hearth-keys — makes and inspects hearth's keys.
 *
 *   hearth-keys linkage-key OUT   new 32-byte linkage key in OUT (0600)
 *   hearth-keys keypair NAME      new CURVE keypair: NAME.key (0600), NAME.pub
 *   hearth-keys key-id FILE       the key id of an existing linkage key
 *   hearth-keys signing-key --name NAME --out PREFIX
 *                                 new Ed25519 signing key: PREFIX.signer
 *                                 (0600), PREFIX.vkey (its verifier key)
 *
 * Exit status: 0 success, 1 error, 2 usage. Key material is never printed;
 * a linkage key is named only by its key id. */
#include "keys_file.h"
#include "keys_sign.h"
#include "keys_token.h"
#include "hearth_mem.h"

#include <openssl/crypto.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_USAGE 2

static const char usage_text[] =
    "usage: hearth-keys linkage-key OUT\n"
    "       hearth-keys keypair NAME\n"
    "       hearth-keys key-id FILE\n"
    "       hearth-keys signing-key --name NAME --out PREFIX\n"
    "       hearth-keys --help\n";

static const char help_text[] =
    "\n"
    "  linkage-key OUT  generate the partnership's shared linkage key and write it\n"
    "                   to OUT (mode 0600, 64 hex digits); prints its key id.\n"
    "                   Share the file only with partners' data managers, over a\n"
    "                   channel you trust; never with the gateway.\n"
    "  keypair NAME     generate a CURVE keypair: NAME.key (secret, mode 0600)\n"
    "                   and NAME.pub (public, give it to the other side).\n"
    "  key-id FILE      print the key id of an existing linkage key, to check\n"
    "                   that every partner holds the same key.\n"
    "  signing-key --name NAME --out PREFIX\n"
    "                   generate an Ed25519 signing key called NAME for the\n"
    "                   audit log (the gateway's checkpoints, a node's receipts):\n"
    "                   PREFIX.signer (secret, mode 0600) and PREFIX.vkey (the\n"
    "                   verifier key; give it to whoever checks the signatures).\n"
    "                   NAME is printable ASCII without spaces or '+'.\n"
    "\n"
    "Existing files are never overwritten.\n";

static int fail(hearth_err_t rc, char *cause)
{
    fprintf(stderr, "hearth-keys: %s\n", cause != NULL ? cause : hearth_strerror(rc));
    free(cause);
    return EXIT_FAILURE;
}

static int cmd_linkage_key(const char *out)
{
    char key_id[KEYS_KEY_ID_LEN + 1];
    char *cause = NULL;
    hearth_err_t rc = keys_linkage_generate(out, key_id, &cause);
    if (rc != HEARTH_OK)
        return fail(rc, cause);
    printf("wrote linkage key to %s\nkey id: %s\n", out, key_id);
    return EXIT_SUCCESS;
}

static int cmd_keypair(const char *name)
{
    char public_z85[KEYS_Z85_LEN + 1];
    char secret_z85[KEYS_Z85_LEN + 1];
    char *cause = NULL;
    hearth_err_t rc = keys_curve_generate(name, &cause);
    if (rc != HEARTH_OK)
        return fail(rc, cause);
    /* Read the pair back: this checks what was written and gives the
     * public key to print. */
    char *key_path = hearth_asprintf("%s.key", name);
    rc = keys_curve_load_secret(key_path, public_z85, secret_z85, &cause);
    OPENSSL_cleanse(secret_z85, sizeof secret_z85);
    if (rc != HEARTH_OK) {
        free(key_path);
        return fail(rc, cause);
    }
    printf("public key: %s\n"
           "secret key file: %s (keep it private)\n"
           "public key file: %s.pub\n", public_z85, key_path, name);
    free(key_path);
    return EXIT_SUCCESS;
}

static int cmd_key_id(const char *path)
{
    uint8_t key[KEYS_LINKAGE_KEY_LEN];
    char key_id[KEYS_KEY_ID_LEN + 1];
    char *cause = NULL;
    hearth_err_t rc = keys_linkage_load(path, key, &cause);
    if (rc != HEARTH_OK)
        return fail(rc, cause);
    keys_key_id(key, key_id);
    OPENSSL_cleanse(key, sizeof key);
    printf("key id: %s\n", key_id);
    return EXIT_SUCCESS;
}

static int cmd_signing_key(const char *name, const char *prefix)
{
    uint8_t pub[KEYS_SIGN_PUBLIC_LEN];
    keys_signer_t *signer = NULL;
    char *cause = NULL;
    hearth_err_t rc = keys_sign_generate(prefix, name, &cause);
    if (rc != HEARTH_OK) {
        int status = fail(rc, cause);
        return rc == HEARTH_ERR_USAGE ? EXIT_USAGE : status; /* an invalid name */
    }
    /* Read the key back: this checks what was written and gives the
     * verifier key to print. */
    char *signer_path = hearth_asprintf("%s.signer", prefix);
    rc = keys_signer_load(signer_path, &signer, &cause);
    if (rc != HEARTH_OK) {
        free(signer_path);
        return fail(rc, cause);
    }
    keys_signer_public(signer, pub);
    char *vkey = keys_sign_verifier_text(keys_signer_name(signer), pub);
    keys_signer_destroy(&signer);
    printf("verifier key: %s\n"
           "signing key file: %s (keep it private)\n"
           "verifier key file: %s.vkey\n", vkey, signer_path, prefix);
    free(vkey);
    free(signer_path);
    return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage_text, stdout);
        fputs(help_text, stdout);
        return EXIT_SUCCESS;
    }
    if (argc == 3 && argv[2][0] != '\0') {
        if (strcmp(argv[1], "linkage-key") == 0)
            return cmd_linkage_key(argv[2]);
        if (strcmp(argv[1], "keypair") == 0)
            return cmd_keypair(argv[2]);
        if (strcmp(argv[1], "key-id") == 0)
            return cmd_key_id(argv[2]);
    }
    if (argc == 6 && strcmp(argv[1], "signing-key") == 0) {
        const char *name = NULL, *prefix = NULL;
        for (int i = 2; i + 1 < argc; i += 2) {
            if (strcmp(argv[i], "--name") == 0 && name == NULL)
                name = argv[i + 1];
            else if (strcmp(argv[i], "--out") == 0 && prefix == NULL)
                prefix = argv[i + 1];
        }
        if (name != NULL && prefix != NULL && prefix[0] != '\0')
            return cmd_signing_key(name, prefix);
    }
    fputs(usage_text, stderr);
    return EXIT_USAGE;
}
