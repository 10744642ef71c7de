/* Tests for keys_sign: Ed25519 signing key files (modes, no overwrite,
 * refusal of readable secrets and malformed keys), signing and verifying,
 * and the Go golang.org/x/mod/sumdb/note example key, whose public key,
 * key id and signature are known. Each test works in its own temporary
 * folder, removed afterwards. */
#include "keys_sign.h"
#include "e2e_util.h"

#include <criterion/criterion.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The example key of golang.org/x/mod/sumdb/note (repository golang/mod,
 * file sumdb/note/note_test.go, TestSign and TestOpen), which the C2SP
 * signed-note implementations share as their test vector. */
#define GO_SKEY "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
#define GO_VKEY "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define GO_TEXT                                                   \
    "If you think cryptography is the answer to your problem,\n" \
    "then you don't know what your problem is.\n"
/* The public key in GO_VKEY, and the signature of GO_TEXT in the note
 * TestSign expects (its base64 after the 4-byte key id), in hex. */
static const uint8_t go_pub[KEYS_SIGN_PUBLIC_LEN] = {
    0x1a, 0x5c, 0xd9, 0x07, 0x14, 0x3c, 0x38, 0x4c, 0x41, 0xe8, 0x30,
    0xc5, 0xbc, 0xe1, 0x2a, 0xa8, 0x81, 0x7e, 0xc5, 0x64, 0x9a, 0xaa,
    0xbf, 0x2c, 0x31, 0x38, 0x8b, 0x35, 0xb2, 0xd7, 0x44, 0xd6};
static const uint8_t go_sig[KEYS_SIGN_SIG_LEN] = {
    0xf6, 0x49, 0x92, 0xe0, 0x52, 0xf5, 0x41, 0xbf, 0x49, 0xf7, 0xdc, 0xbc, 0x80,
    0x10, 0xc5, 0x50, 0x6d, 0x88, 0x5b, 0xa9, 0x2c, 0xba, 0xfc, 0xa4, 0x07, 0x04,
    0x95, 0x92, 0x27, 0x34, 0x8b, 0x86, 0x52, 0x06, 0x0d, 0xd4, 0x51, 0x58, 0x0b,
    0x6a, 0x59, 0x48, 0xd5, 0xe0, 0x2a, 0xfa, 0x9f, 0xa9, 0xd9, 0xe0, 0xa2, 0xda,
    0x51, 0x65, 0xbe, 0x8a, 0x13, 0xa4, 0x72, 0xc8, 0x1c, 0x09, 0x9c, 0x03};

static char *dir;

static void setup(void)
{
    dir = e2e_tmpdir("keys-sign");
    cr_assert_not_null(dir);
}

static void teardown(void)
{
    e2e_rmtree(dir);
    free(dir);
    dir = NULL;
}

TestSuite(keys_sign, .init = setup, .fini = teardown);

/* A path inside the test folder; caller frees. */
static char *in_dir(const char *name)
{
    return e2e_asprintf("%s/%s", dir, name);
}

static unsigned file_mode(const char *path)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "stat %s", path);
    return (unsigned)(st.st_mode & 07777);
}

static bool exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* Creates path with exactly the given content and mode. */
static void write_file(const char *path, const char *content, unsigned mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert_geq(fd, 0, "create %s", path);
    size_t len = strlen(content);
    cr_assert_eq(write(fd, content, len), (ssize_t)len);
    cr_assert_eq(fchmod(fd, (mode_t)mode), 0);
    close(fd);
}

/* --- names, ids, verifier text --- */

Test(keys_sign, key_id_of_go_vector_is_c74f20a3)
{
    cr_assert_eq(keys_sign_key_id("PeterNeumann", go_pub), 0xc74f20a3u);
}

Test(keys_sign, verifier_text_of_go_vector_is_byte_exact)
{
    char *text = keys_sign_verifier_text("PeterNeumann", go_pub);
    cr_assert_str_eq(text, GO_VKEY);
    free(text);
}

Test(keys_sign, name_validity_follows_printable_ascii_without_space_or_plus)
{
    char longest[KEYS_SIGN_NAME_MAX + 2];
    memset(longest, 'a', sizeof longest);
    longest[KEYS_SIGN_NAME_MAX] = '\0';
    cr_assert(keys_sign_name_valid(longest));
    longest[KEYS_SIGN_NAME_MAX] = 'a';
    longest[KEYS_SIGN_NAME_MAX + 1] = '\0';
    cr_assert_not(keys_sign_name_valid(longest));

    cr_assert(keys_sign_name_valid("gateway.example/audit"));
    cr_assert(keys_sign_name_valid("~!@#$%^&*()_=-{}[]|\\:;\"'<>,.?/"));
    cr_assert_not(keys_sign_name_valid(""));
    cr_assert_not(keys_sign_name_valid("a b"));
    cr_assert_not(keys_sign_name_valid("a+b"));
    cr_assert_not(keys_sign_name_valid("a\tb"));
    cr_assert_not(keys_sign_name_valid("a\x7f"));
    cr_assert_not(keys_sign_name_valid("caf\xc3\xa9"));
}

/* --- the Go vector --- */

Test(keys_sign, parse_of_go_vector_gives_its_name_and_public_key)
{
    keys_signer_t *s = NULL;
    char *cause = NULL;
    uint8_t pub[KEYS_SIGN_PUBLIC_LEN];
    cr_assert_eq(keys_signer_parse(GO_SKEY, &s, &cause), HEARTH_OK, "%s", cause);
    cr_assert_str_eq(keys_signer_name(s), "PeterNeumann");
    keys_signer_public(s, pub);
    cr_assert_eq(memcmp(pub, go_pub, sizeof pub), 0);
    keys_signer_destroy(&s);
    cr_assert_null(s);
    keys_signer_destroy(&s); /* NULL-safe */
    keys_signer_destroy(NULL);
}

Test(keys_sign, parse_accepts_one_trailing_newline_only)
{
    keys_signer_t *s = NULL;
    char *cause = NULL;
    cr_assert_eq(keys_signer_parse(GO_SKEY "\n", &s, &cause), HEARTH_OK, "%s", cause);
    keys_signer_destroy(&s);
    cr_assert_eq(keys_signer_parse(GO_SKEY "\n\n", &s, &cause), HEARTH_ERR_FORMAT);
    cr_assert_null(s);
    free(cause);
}

Test(keys_sign, signing_go_text_reproduces_go_signature)
{
    keys_signer_t *s = NULL;
    char *cause = NULL;
    uint8_t sig[KEYS_SIGN_SIG_LEN];
    cr_assert_eq(keys_signer_parse(GO_SKEY, &s, &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(keys_signer_sign(s, (const uint8_t *)GO_TEXT, strlen(GO_TEXT), sig, &cause),
                 HEARTH_OK, "%s", cause);
    cr_assert_eq(memcmp(sig, go_sig, sizeof sig), 0);
    cr_assert(keys_sign_verify(go_pub, (const uint8_t *)GO_TEXT, strlen(GO_TEXT), go_sig));
    keys_signer_destroy(&s);
}

Test(keys_sign, parse_refuses_every_mangled_byte_and_every_truncation)
{
    char key[] = GO_SKEY;
    size_t len = strlen(key);
    keys_signer_t *s = NULL;
    char *cause = NULL;
    for (size_t i = 0; i < len; i++) {
        key[i]++;
        cr_assert_eq(keys_signer_parse(key, &s, &cause), HEARTH_ERR_FORMAT, "byte %zu", i);
        cr_assert_null(s);
        key[i]--;
    }
    for (size_t n = 0; n < len; n++) {
        char *prefix = strndup(key, n);
        cr_assert_eq(keys_signer_parse(prefix, &s, &cause), HEARTH_ERR_FORMAT, "prefix %zu", n);
        free(prefix);
        cr_assert_eq(keys_signer_parse(key + len - n, &s, &cause), HEARTH_ERR_FORMAT,
                     "suffix %zu", n);
    }
    /* The cause never repeats the key. */
    cr_assert_null(strstr(cause, "AYEK"));
    free(cause);
}

Test(keys_sign, parse_refuses_a_key_whose_id_does_not_match)
{
    keys_signer_t *s = NULL;
    char *cause = NULL;
    cr_assert_eq(keys_signer_parse("PRIVATE+KEY+PeterNeumann+c74f20a4+"
                                   "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
                                   &s, &cause),
                 HEARTH_ERR_FORMAT);
    cr_assert_not_null(strstr(cause, "key id"), "%s", cause);
    /* Same key under another name: the id is the name's too. */
    cr_assert_eq(keys_signer_parse("PRIVATE+KEY+PeterNeuman+c74f20a3+"
                                   "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
                                   &s, &cause),
                 HEARTH_ERR_FORMAT);
    cr_assert_null(s);
    free(cause);
}

Test(keys_sign, parse_refuses_another_signature_type)
{
    keys_signer_t *s = NULL;
    char *cause = NULL;
    /* 0x02 || the same seed, with the id left as is. */
    cr_assert_eq(keys_signer_parse("PRIVATE+KEY+PeterNeumann+c74f20a3+"
                                   "AoEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
                                   &s, &cause),
                 HEARTH_ERR_FORMAT);
    cr_assert_null(s);
    free(cause);
}

/* --- files --- */

Test(keys_sign, generate_writes_signer_0600_and_vkey_0644_that_agree)
{
    char *prefix = in_dir("gw-audit");
    char *signer_path = in_dir("gw-audit.signer");
    char *vkey_path = in_dir("gw-audit.vkey");
    char *cause = NULL;
    keys_signer_t *s = NULL;
    uint8_t pub[KEYS_SIGN_PUBLIC_LEN];

    cr_assert_eq(keys_sign_generate(prefix, "gateway.example/audit", &cause), HEARTH_OK, "%s",
                 cause);
    cr_assert_null(cause);
    cr_assert_eq(file_mode(signer_path), 0600);
    cr_assert_eq(file_mode(vkey_path), 0644);

    size_t len = 0;
    char *text = e2e_read_file(signer_path, 4096, &len);
    cr_assert_not_null(text);
    /* PRIVATE+KEY+ name + id + base64(33 bytes) and a newline */
    cr_assert_eq(len, 12 + strlen("gateway.example/audit") + 1 + 8 + 1 + 44 + 1);
    cr_assert_eq(strncmp(text, "PRIVATE+KEY+gateway.example/audit+", 34), 0);
    cr_assert_eq(text[len - 1], '\n');
    free(text);

    cr_assert_eq(keys_signer_load(signer_path, &s, &cause), HEARTH_OK, "%s", cause);
    cr_assert_str_eq(keys_signer_name(s), "gateway.example/audit");
    keys_signer_public(s, pub);
    char *want = keys_sign_verifier_text("gateway.example/audit", pub);
    char *vkey = e2e_read_file(vkey_path, 4096, &len);
    cr_assert_not_null(vkey);
    cr_assert_eq(len, strlen(want) + 1);
    cr_assert_eq(strncmp(vkey, want, strlen(want)), 0);
    cr_assert_eq(vkey[len - 1], '\n');

    free(want);
    free(vkey);
    keys_signer_destroy(&s);
    free(prefix);
    free(signer_path);
    free(vkey_path);
}

Test(keys_sign, generate_makes_a_new_key_each_time)
{
    char *a = in_dir("a"), *b = in_dir("b");
    char *a_path = in_dir("a.signer"), *b_path = in_dir("b.signer");
    char *cause = NULL;
    keys_signer_t *sa = NULL, *sb = NULL;
    uint8_t pa[KEYS_SIGN_PUBLIC_LEN], pb[KEYS_SIGN_PUBLIC_LEN];
    cr_assert_eq(keys_sign_generate(a, "same", &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(keys_sign_generate(b, "same", &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(keys_signer_load(a_path, &sa, &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(keys_signer_load(b_path, &sb, &cause), HEARTH_OK, "%s", cause);
    keys_signer_public(sa, pa);
    keys_signer_public(sb, pb);
    cr_assert_neq(memcmp(pa, pb, sizeof pa), 0);
    keys_signer_destroy(&sa);
    keys_signer_destroy(&sb);
    free(a);
    free(b);
    free(a_path);
    free(b_path);
}

Test(keys_sign, generate_refuses_to_overwrite_either_file)
{
    char *prefix = in_dir("k");
    char *signer_path = in_dir("k.signer");
    char *vkey_path = in_dir("k.vkey");
    char *cause = NULL;

    write_file(signer_path, "keep me\n", 0600);
    cr_assert_eq(keys_sign_generate(prefix, "k", &cause), HEARTH_ERR_EXISTS);
    cr_assert_not_null(strstr(cause, "already exists"), "%s", cause);
    cr_assert_not(exists(vkey_path));
    char *kept = e2e_read_file(signer_path, 100, NULL);
    cr_assert_str_eq(kept, "keep me\n");
    free(kept);

    unlink(signer_path);
    write_file(vkey_path, "keep me too\n", 0644);
    cr_assert_eq(keys_sign_generate(prefix, "k", &cause), HEARTH_ERR_EXISTS);
    cr_assert_not(exists(signer_path));
    kept = e2e_read_file(vkey_path, 100, NULL);
    cr_assert_str_eq(kept, "keep me too\n");
    free(kept);

    free(cause);
    free(prefix);
    free(signer_path);
    free(vkey_path);
}

Test(keys_sign, generate_refuses_an_invalid_name_and_writes_nothing)
{
    char *prefix = in_dir("k");
    char *signer_path = in_dir("k.signer");
    char *vkey_path = in_dir("k.vkey");
    char *cause = NULL;
    const char *bad[] = {"", "two words", "a+b", "tab\there", "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(keys_sign_generate(prefix, bad[i], &cause), HEARTH_ERR_USAGE, "name %zu",
                     i);
        cr_assert_not(exists(signer_path));
        cr_assert_not(exists(vkey_path));
    }
    free(cause);
    free(prefix);
    free(signer_path);
    free(vkey_path);
}

Test(keys_sign, load_refuses_a_group_or_world_readable_signer)
{
    char *prefix = in_dir("k");
    char *signer_path = in_dir("k.signer");
    char *cause = NULL;
    keys_signer_t *s = NULL;
    cr_assert_eq(keys_sign_generate(prefix, "k", &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(chmod(signer_path, 0640), 0);
    cr_assert_eq(keys_signer_load(signer_path, &s, &cause), HEARTH_ERR_PERM);
    cr_assert_null(s);
    cr_assert_not_null(strstr(cause, "chmod 600"), "%s", cause);
    cr_assert_eq(chmod(signer_path, 0604), 0);
    cr_assert_eq(keys_signer_load(signer_path, &s, &cause), HEARTH_ERR_PERM);
    cr_assert_eq(chmod(signer_path, 0600), 0);
    cr_assert_eq(keys_signer_load(signer_path, &s, &cause), HEARTH_OK, "%s", cause);
    keys_signer_destroy(&s);
    free(cause);
    free(prefix);
    free(signer_path);
}

Test(keys_sign, load_refuses_missing_and_malformed_files)
{
    char *path = in_dir("bad.signer");
    char *cause = NULL;
    keys_signer_t *s = NULL;

    cr_assert_eq(keys_signer_load(path, &s, &cause), HEARTH_ERR_NOT_FOUND);
    write_file(path, "not a key\n", 0600);
    cr_assert_eq(keys_signer_load(path, &s, &cause), HEARTH_ERR_FORMAT);
    cr_assert_not_null(strstr(cause, "bad.signer"), "%s", cause);
    unlink(path);
    write_file(path, GO_SKEY "\n" GO_SKEY "\n", 0600);
    cr_assert_eq(keys_signer_load(path, &s, &cause), HEARTH_ERR_FORMAT);
    unlink(path);
    char big[600];
    memset(big, 'A', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    write_file(path, big, 0600);
    cr_assert_eq(keys_signer_load(path, &s, &cause), HEARTH_ERR_FORMAT);
    unlink(path);
    write_file(path, GO_SKEY "\n", 0600);
    cr_assert_eq(keys_signer_load(path, &s, &cause), HEARTH_OK, "%s", cause);
    cr_assert_str_eq(keys_signer_name(s), "PeterNeumann");
    keys_signer_destroy(&s);
    free(cause);
    free(path);
}

/* --- signing --- */

Test(keys_sign, sign_verify_round_trip_and_tampering_fails)
{
    char *prefix = in_dir("k");
    char *signer_path = in_dir("k.signer");
    char *cause = NULL;
    keys_signer_t *s = NULL, *other = NULL;
    uint8_t pub[KEYS_SIGN_PUBLIC_LEN], sig[KEYS_SIGN_SIG_LEN], sig2[KEYS_SIGN_SIG_LEN];
    uint8_t msg[] = "query 42 answered";
    size_t len = sizeof msg - 1;

    cr_assert_eq(keys_sign_generate(prefix, "k", &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(keys_signer_load(signer_path, &s, &cause), HEARTH_OK, "%s", cause);
    keys_signer_public(s, pub);
    cr_assert_eq(keys_signer_sign(s, msg, len, sig, &cause), HEARTH_OK, "%s", cause);
    cr_assert(keys_sign_verify(pub, msg, len, sig));

    /* Deterministic: the same message gives the same signature. */
    cr_assert_eq(keys_signer_sign(s, msg, len, sig2, &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(memcmp(sig, sig2, sizeof sig), 0);

    msg[0] ^= 1;
    cr_assert_not(keys_sign_verify(pub, msg, len, sig));
    msg[0] ^= 1;
    cr_assert_not(keys_sign_verify(pub, msg, len - 1, sig));
    for (size_t i = 0; i < sizeof sig; i += 7) {
        sig[i] ^= 0x40;
        cr_assert_not(keys_sign_verify(pub, msg, len, sig), "sig byte %zu", i);
        sig[i] ^= 0x40;
    }
    cr_assert_eq(keys_signer_parse(GO_SKEY, &other, &cause), HEARTH_OK, "%s", cause);
    cr_assert_not(keys_sign_verify(go_pub, msg, len, sig));

    /* The empty message signs and verifies too. */
    cr_assert_eq(keys_signer_sign(s, NULL, 0, sig, &cause), HEARTH_OK, "%s", cause);
    cr_assert(keys_sign_verify(pub, NULL, 0, sig));

    keys_signer_destroy(&s);
    keys_signer_destroy(&other);
    free(prefix);
    free(signer_path);
}
