/* Tests for tlog_checkpoint: the exact text of the C2SP tlog-checkpoint
 * example, parse/format round trips, every refusal of a malformed body,
 * and signing and opening, where the origin must be the key's name. */
#include "tlog_checkpoint.h"
#include "hearth_base64.h"
#include "e2e_util.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The body of the example in C2SP tlog-checkpoint.md (repository C2SP/C2SP,
 * file tlog-checkpoint.md). */
#define SPEC_TEXT                 \
    "example.com/behind-the-sofa\n" \
    "20852163\n"                  \
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
#define SPEC_ROOT_B64 "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="

/* golang/mod sumdb/note/note_test.go's example signing key. */
#define PETER_SKEY "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
#define PETER_VKEY "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define ENOCH_VKEY "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"

static tlog_checkpoint_t spec_checkpoint(void)
{
    tlog_checkpoint_t cp;
    size_t len = 0;
    memset(&cp, 0, sizeof cp);
    strcpy(cp.origin, "example.com/behind-the-sofa");
    cp.size = 20852163;
    cr_assert(hearth_base64_decode(SPEC_ROOT_B64, strlen(SPEC_ROOT_B64), cp.root, sizeof cp.root,
                                   &len));
    cr_assert_eq(len, TLOG_HASH_LEN);
    return cp;
}

static tlog_verifier_t verifier(const char *text)
{
    tlog_verifier_t v;
    char *cause = NULL;
    cr_assert_eq(tlog_verifier_parse(text, &v, &cause), HEARTH_OK, "%s", cause);
    return v;
}

static keys_signer_t *peter(void)
{
    keys_signer_t *s = NULL;
    char *cause = NULL;
    cr_assert_eq(keys_signer_parse(PETER_SKEY, &s, &cause), HEARTH_OK, "%s", cause);
    return s;
}

/* Asserts that text is refused with HEARTH_ERR_FORMAT and a cause
 * containing `says`. */
static void assert_refused(const char *text, const char *says)
{
    tlog_checkpoint_t cp;
    char *cause = NULL;
    memset(&cp, 0xa5, sizeof cp);
    cr_assert_eq(tlog_checkpoint_parse(text, &cp, &cause), HEARTH_ERR_FORMAT, "accepted:\n%s",
                 text);
    cr_assert_not_null(strstr(cause, says), "cause '%s' lacks '%s'", cause, says);
    cr_assert_eq(cp.size, 0); /* cleared on failure */
    free(cause);
}

/* --- format and parse --- */

Test(tlog_checkpoint, formats_the_spec_example_exactly)
{
    tlog_checkpoint_t cp = spec_checkpoint();
    char *text = tlog_checkpoint_format(&cp);
    cr_assert_str_eq(text, SPEC_TEXT);
    free(text);
}

Test(tlog_checkpoint, parses_the_spec_example)
{
    tlog_checkpoint_t want = spec_checkpoint(), got;
    char *cause = NULL;
    cr_assert_eq(tlog_checkpoint_parse(SPEC_TEXT, &got, &cause), HEARTH_OK, "%s", cause);
    cr_assert_str_eq(got.origin, "example.com/behind-the-sofa");
    cr_assert_eq(got.size, 20852163);
    cr_assert_eq(memcmp(got.root, want.root, TLOG_HASH_LEN), 0);
}

Test(tlog_checkpoint, round_trips_the_extreme_sizes_and_the_empty_tree)
{
    const uint64_t sizes[] = {0, 1, 9, 10, UINT64_MAX};
    const char *texts[] = {"0", "1", "9", "10", "18446744073709551615"};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        tlog_checkpoint_t cp, back;
        char *cause = NULL;
        memset(&cp, 0, sizeof cp);
        strcpy(cp.origin, "log");
        cp.size = sizes[i];
        tlog_empty_root(cp.root);
        char *text = tlog_checkpoint_format(&cp);
        char *want = e2e_asprintf("log\n%s\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
                                  texts[i]);
        cr_assert_str_eq(text, want);
        cr_assert_eq(tlog_checkpoint_parse(text, &back, &cause), HEARTH_OK, "%s", cause);
        cr_assert_eq(memcmp(&back, &cp, sizeof cp), 0);
        free(want);
        free(text);
    }
}

Test(tlog_checkpoint, refuses_extension_lines)
{
    assert_refused(SPEC_TEXT "extension\n", "extension lines");
    assert_refused(SPEC_TEXT "\n", "extension lines");
    assert_refused(SPEC_TEXT "x", "extension lines");
}

Test(tlog_checkpoint, refuses_sizes_that_are_not_canonical_decimal)
{
    const char *bad[] = {"00", "007", "+5", "-1", " 5", "5 ", "", "0x10", "1e3",
                         "18446744073709551616", "99999999999999999999", "123456789012345678901"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *text = e2e_asprintf("log\n%s\n" SPEC_ROOT_B64 "\n", bad[i]);
        assert_refused(text, "tree size");
        free(text);
    }
}

Test(tlog_checkpoint, refuses_bad_base64_and_wrong_hash_lengths)
{
    /* Not base64: missing padding, a foreign character, the URL-safe
     * alphabet, spaces, non-canonical bits. */
    assert_refused("log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n", "not valid base64");
    assert_refused("log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2!=\n", "not valid base64");
    assert_refused("log\n1\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n", "not valid base64");
    assert_refused("log\n1\n CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "not valid base64");
    assert_refused("log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n", "not valid base64");
    /* Base64, but of 31, 33 or 0 bytes. */
    assert_refused("log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxqw==\n", "31 bytes, not 32");
    assert_refused("log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2IA\n", "33 bytes, not 32");
    assert_refused("log\n1\n\n", "0 bytes, not 32");
    assert_refused("log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2IAAAAA\n",
                   "36 bytes, not 32");
    /* Far too long to be a hash. */
    assert_refused("log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2ICsUYapGGPo4dkMgIAUqom/Xajj7"
                   "h2fB2MPA3j2jxq2I=\n",
                   "not valid base64");
}

Test(tlog_checkpoint, refuses_missing_lines_and_bad_origins)
{
    assert_refused("", "fewer than three lines");
    assert_refused("log\n1\n", "fewer than three lines");
    assert_refused("log\n1\n" SPEC_ROOT_B64, "fewer than three lines");
    assert_refused("\n1\n" SPEC_ROOT_B64 "\n", "origin");
    assert_refused("two words\n1\n" SPEC_ROOT_B64 "\n", "origin");
    assert_refused("a+b\n1\n" SPEC_ROOT_B64 "\n", "origin");
    assert_refused("log\r\n1\n" SPEC_ROOT_B64 "\n", "origin");
    assert_refused("log\n1\r\n" SPEC_ROOT_B64 "\n", "tree size");
    char *long_origin = malloc(TLOG_NOTE_NAME_MAX + 2);
    memset(long_origin, 'o', TLOG_NOTE_NAME_MAX + 1);
    long_origin[TLOG_NOTE_NAME_MAX + 1] = '\0';
    char *text = e2e_asprintf("%s\n1\n" SPEC_ROOT_B64 "\n", long_origin);
    assert_refused(text, "origin");
    free(text);
    long_origin[TLOG_NOTE_NAME_MAX] = '\0';
    text = e2e_asprintf("%s\n1\n" SPEC_ROOT_B64 "\n", long_origin);
    tlog_checkpoint_t cp;
    char *cause = NULL;
    cr_assert_eq(tlog_checkpoint_parse(text, &cp, &cause), HEARTH_OK, "%s", cause);
    cr_assert_str_eq(cp.origin, long_origin);
    free(text);
    free(long_origin);
}

/* --- sign and open --- */

Test(tlog_checkpoint, sign_writes_the_text_then_one_signature_and_open_reads_it_back)
{
    keys_signer_t *s = peter();
    tlog_verifier_t v = verifier(PETER_VKEY);
    tlog_checkpoint_t cp = spec_checkpoint(), got;
    strcpy(cp.origin, "PeterNeumann");
    char *note = NULL, *cause = NULL;
    cr_assert_eq(tlog_checkpoint_sign(s, &cp, &note, &cause), HEARTH_OK, "%s", cause);
    const char head[] = "PeterNeumann\n20852163\n" SPEC_ROOT_B64 "\n\n\xe2\x80\x94 PeterNeumann ";
    cr_assert_eq(strncmp(note, head, sizeof head - 1), 0, "%s", note);
    cr_assert_eq(strlen(note), sizeof head - 1 + 92 + 1);
    /* The same checkpoint signs to the same note: Ed25519 is deterministic. */
    char *again = NULL;
    cr_assert_eq(tlog_checkpoint_sign(s, &cp, &again, &cause), HEARTH_OK, "%s", cause);
    cr_assert_str_eq(again, note);

    cr_assert_eq(tlog_checkpoint_open(note, strlen(note), &v, &got, &cause), HEARTH_OK, "%s",
                 cause);
    cr_assert_str_eq(got.origin, "PeterNeumann");
    cr_assert_eq(got.size, 20852163);
    cr_assert_eq(memcmp(got.root, cp.root, TLOG_HASH_LEN), 0);
    free(again);
    free(note);
    keys_signer_destroy(&s);
}

Test(tlog_checkpoint, sign_refuses_an_origin_other_than_the_key_name)
{
    keys_signer_t *s = peter();
    tlog_checkpoint_t cp = spec_checkpoint();
    char *note = NULL, *cause = NULL;
    cr_assert_eq(tlog_checkpoint_sign(s, &cp, &note, &cause), HEARTH_ERR_USAGE);
    cr_assert_null(note);
    cr_assert_not_null(strstr(cause, "is not the signing key's name"), "%s", cause);
    free(cause);
    keys_signer_destroy(&s);
}

Test(tlog_checkpoint, open_refuses_an_origin_other_than_the_key_name)
{
    /* A checkpoint for another log, signed as a plain note by Peter. */
    keys_signer_t *s = peter();
    tlog_verifier_t v = verifier(PETER_VKEY);
    tlog_checkpoint_t got;
    char *note = NULL, *cause = NULL;
    cr_assert_eq(tlog_note_sign(s, SPEC_TEXT, &note, &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(tlog_checkpoint_open(note, strlen(note), &v, &got, &cause), HEARTH_ERR_CRYPTO);
    cr_assert_not_null(strstr(cause, "origin"), "%s", cause);
    cr_assert_eq(got.size, 0);
    free(cause);
    free(note);
    keys_signer_destroy(&s);
}

Test(tlog_checkpoint, open_refuses_other_keys_tampering_and_extension_lines)
{
    keys_signer_t *s = peter();
    tlog_verifier_t v = verifier(PETER_VKEY), enoch = verifier(ENOCH_VKEY);
    tlog_checkpoint_t cp = spec_checkpoint(), got;
    strcpy(cp.origin, "PeterNeumann");
    char *note = NULL, *cause = NULL;
    cr_assert_eq(tlog_checkpoint_sign(s, &cp, &note, &cause), HEARTH_OK, "%s", cause);

    cr_assert_eq(tlog_checkpoint_open(note, strlen(note), &enoch, &got, &cause),
                 HEARTH_ERR_CRYPTO);
    /* A bigger size, same signature. */
    char *tampered = e2e_asprintf("%s", note);
    tampered[strlen("PeterNeumann\n")] = '3';
    cr_assert_eq(tlog_checkpoint_open(tampered, strlen(tampered), &v, &got, &cause),
                 HEARTH_ERR_CRYPTO);
    free(tampered);
    /* A truncated note. */
    cr_assert_eq(tlog_checkpoint_open(note, strlen(note) - 1, &v, &got, &cause),
                 HEARTH_ERR_FORMAT);
    free(note);

    /* Validly signed, but with an extension line. */
    cr_assert_eq(tlog_note_sign(s, "PeterNeumann\n5\n" SPEC_ROOT_B64 "\nextra\n", &note, &cause),
                 HEARTH_OK, "%s", cause);
    cr_assert_eq(tlog_checkpoint_open(note, strlen(note), &v, &got, &cause), HEARTH_ERR_FORMAT);
    cr_assert_not_null(strstr(cause, "extension"), "%s", cause);
    free(note);
    free(cause);
    keys_signer_destroy(&s);
}

Test(tlog_checkpoint, a_checkpoint_of_a_real_tree_verifies_its_proofs)
{
    /* The pieces together: a tree, its signed checkpoint, an inclusion
     * proof against the opened root. */
    keys_signer_t *s = peter();
    tlog_verifier_t v = verifier(PETER_VKEY);
    tlog_memtree_t *t = tlog_memtree_new();
    for (int i = 0; i < 13; i++) {
        char leaf[16];
        int len = snprintf(leaf, sizeof leaf, "event %d", i);
        tlog_memtree_append(t, (const uint8_t *)leaf, (size_t)len);
    }
    tlog_checkpoint_t cp, got;
    char *note = NULL, *cause = NULL;
    memset(&cp, 0, sizeof cp);
    strcpy(cp.origin, "PeterNeumann");
    cp.size = 13;
    cr_assert_eq(tlog_root(tlog_memtree_subtree, t, 13, cp.root, &cause), HEARTH_OK);
    cr_assert_eq(tlog_checkpoint_sign(s, &cp, &note, &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(tlog_checkpoint_open(note, strlen(note), &v, &got, &cause), HEARTH_OK, "%s",
                 cause);
    uint8_t proof[TLOG_MAX_PROOF][TLOG_HASH_LEN], leaf_hash[TLOG_HASH_LEN];
    size_t n = 0;
    cr_assert_eq(tlog_inclusion_proof(tlog_memtree_subtree, t, 9, got.size, proof, &n, &cause),
                 HEARTH_OK);
    tlog_leaf_hash((const uint8_t *)"event 9", 7, leaf_hash);
    cr_assert(tlog_verify_inclusion(leaf_hash, 9, got.size,
                                    (const uint8_t(*)[TLOG_HASH_LEN])proof, n, got.root));
    free(note);
    tlog_memtree_destroy(&t);
    keys_signer_destroy(&s);
}
