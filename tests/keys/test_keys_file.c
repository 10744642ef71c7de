/* Tests for keys_file: linkage key and CURVE keypair files, their modes,
 * round trips, and refusals. Each test works in its own mkdtemp folder,
 * removed afterwards. */
#include "keys_file.h"
#include "hearth_hex.h"

#include <criterion/criterion.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/hearth-test-keys-XXXXXX";

static void setup(void)
{
    strcpy(dir + sizeof dir - 7, "XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

TestSuite(keys_file, .init = setup, .fini = teardown);

/* Returns a path inside the test folder in a static buffer. */
static const char *in_dir(const char *name)
{
    static char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static unsigned file_mode(const char *path)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "stat %s", path);
    return (unsigned)(st.st_mode & 07777);
}

static off_t file_size(const char *path)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "stat %s", path);
    return st.st_size;
}

/* Reads up to cap-1 bytes of path into buf and NUL-terminates it. */
static size_t slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "open %s", path);
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n;
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

/* --- linkage keys --- */

Test(keys_file, linkage_generate_writes_65_byte_hex_file_mode_0600)
{
    const char *path = in_dir("linkage.key");
    char id[KEYS_KEY_ID_LEN + 1] = "";
    char *cause = NULL;
    cr_assert_eq(keys_linkage_generate(path, id, &cause), HEARTH_OK, "%s", cause);
    cr_assert_null(cause);
    cr_assert_eq(file_mode(path), 0600);
    cr_assert_eq(file_size(path), 65);

    char text[128];
    cr_assert_eq(slurp(path, text, sizeof text), 65);
    cr_assert_eq(text[64], '\n');
    for (size_t i = 0; i < 64; i++)
        cr_assert(strchr("0123456789abcdef", text[i]) != NULL, "byte %zu", i);
    cr_assert_eq(strlen(id), KEYS_KEY_ID_LEN);
}

Test(keys_file, linkage_load_round_trips_and_key_id_matches)
{
    const char *path = in_dir("linkage.key");
    char id[KEYS_KEY_ID_LEN + 1], id2[KEYS_KEY_ID_LEN + 1];
    uint8_t key[KEYS_LINKAGE_KEY_LEN], from_text[KEYS_LINKAGE_KEY_LEN];
    char text[128];
    char *cause = NULL;
    cr_assert_eq(keys_linkage_generate(path, id, &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(keys_linkage_load(path, key, &cause), HEARTH_OK, "%s", cause);

    slurp(path, text, sizeof text);
    cr_assert(hearth_hex_decode(text, 64, from_text, sizeof from_text));
    cr_assert_arr_eq(key, from_text, sizeof key);
    keys_key_id(key, id2);
    cr_assert_str_eq(id, id2);
}

Test(keys_file, two_generated_keys_differ)
{
    uint8_t a[KEYS_LINKAGE_KEY_LEN], b[KEYS_LINKAGE_KEY_LEN];
    char *cause = NULL;
    cr_assert_eq(keys_linkage_generate(in_dir("a.key"), NULL, &cause), HEARTH_OK);
    cr_assert_eq(keys_linkage_generate(in_dir("b.key"), NULL, &cause), HEARTH_OK);
    cr_assert_eq(keys_linkage_load(in_dir("a.key"), a, &cause), HEARTH_OK);
    cr_assert_eq(keys_linkage_load(in_dir("b.key"), b, &cause), HEARTH_OK);
    cr_assert_arr_neq(a, b, sizeof a);
}

Test(keys_file, linkage_generate_refuses_existing_file)
{
    const char *path = in_dir("linkage.key");
    write_file(path, "keep me\n", 0600);
    char *cause = NULL;
    cr_assert_eq(keys_linkage_generate(path, NULL, &cause), HEARTH_ERR_EXISTS);
    cr_assert_not_null(strstr(cause, "already exists"), "%s", cause);
    char text[64];
    slurp(path, text, sizeof text);
    cr_assert_str_eq(text, "keep me\n");
    free(cause);
}

Test(keys_file, linkage_load_accepts_missing_final_newline)
{
    const char *path = in_dir("linkage.key");
    write_file(path, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 0600);
    uint8_t key[KEYS_LINKAGE_KEY_LEN];
    char id[KEYS_KEY_ID_LEN + 1];
    char *cause = NULL;
    cr_assert_eq(keys_linkage_load(path, key, &cause), HEARTH_OK, "%s", cause);
    keys_key_id(key, id);
    cr_assert_str_eq(id, "630dcd29"); /* as in test_keys_token */
}

static void assert_perm_refused(unsigned mode, const char *mode_text)
{
    const char *path = in_dir("linkage.key");
    char *cause = NULL;
    uint8_t key[KEYS_LINKAGE_KEY_LEN];
    cr_assert_eq(keys_linkage_generate(path, NULL, &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(chmod(path, (mode_t)mode), 0);
    cr_assert_eq(keys_linkage_load(path, key, &cause), HEARTH_ERR_PERM);
    cr_assert_not_null(strstr(cause, "permissions"), "%s", cause);
    cr_assert_not_null(strstr(cause, mode_text), "%s", cause);
    free(cause);
}

Test(keys_file, linkage_load_refuses_group_readable_file)
{
    assert_perm_refused(0640, "0640");
}

Test(keys_file, linkage_load_refuses_world_readable_file)
{
    assert_perm_refused(0604, "0604");
}

Test(keys_file, linkage_load_refuses_malformed_content_without_echoing_it)
{
    static const char *const bad[] = {
        "", "\n",
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e",  /* 62 */
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f1f",
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\r\n",
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n\n",
        "g00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
        " 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *path = in_dir("bad.key");
        write_file(path, bad[i], 0600);
        uint8_t key[KEYS_LINKAGE_KEY_LEN];
        char *cause = NULL;
        cr_assert_eq(keys_linkage_load(path, key, &cause), HEARTH_ERR_FORMAT, "case %zu", i);
        cr_assert_not_null(strstr(cause, "64 hexadecimal digits"), "%s", cause);
        cr_assert_null(strstr(cause, "0a0b0c"), "cause echoes key material");
        free(cause);
        unlink(path);
    }
}

Test(keys_file, linkage_load_refuses_huge_file_as_malformed)
{
    const char *path = in_dir("big.key");
    char big[4097];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    write_file(path, big, 0600);
    uint8_t key[KEYS_LINKAGE_KEY_LEN];
    char *cause = NULL;
    cr_assert_eq(keys_linkage_load(path, key, &cause), HEARTH_ERR_FORMAT);
    free(cause);
}

Test(keys_file, linkage_load_reports_missing_file)
{
    uint8_t key[KEYS_LINKAGE_KEY_LEN];
    char *cause = NULL;
    cr_assert_eq(keys_linkage_load(in_dir("nope.key"), key, &cause), HEARTH_ERR_NOT_FOUND);
    cr_assert_not_null(cause);
    free(cause);
}

/* --- CURVE keypairs --- */

Test(keys_file, curve_generate_writes_secret_0600_and_public_0644)
{
    char *cause = NULL;
    cr_assert_eq(keys_curve_generate(in_dir("node"), &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(file_mode(in_dir("node.key")), 0600);
    cr_assert_eq(file_mode(in_dir("node.pub")), 0644);
    cr_assert_eq(file_size(in_dir("node.pub")), 41);
    cr_assert_eq(file_size(in_dir("node.key")), 104);

    char text[256];
    slurp(in_dir("node.key"), text, sizeof text);
    cr_assert_eq(strncmp(text, "public-key ", 11), 0);
    cr_assert_eq(strncmp(text + 52, "secret-key ", 11), 0);
}

Test(keys_file, curve_load_round_trips_and_public_keys_match)
{
    char *cause = NULL;
    char pub[KEYS_Z85_LEN + 1], sec[KEYS_Z85_LEN + 1], pub_only[KEYS_Z85_LEN + 1];
    char text[256];
    cr_assert_eq(keys_curve_generate(in_dir("node"), &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(keys_curve_load_secret(in_dir("node.key"), pub, sec, &cause), HEARTH_OK,
                 "%s", cause);
    cr_assert_eq(keys_curve_load_public(in_dir("node.pub"), pub_only, &cause), HEARTH_OK,
                 "%s", cause);
    cr_assert_str_eq(pub, pub_only);
    cr_assert(keys_z85_valid(pub));
    cr_assert(keys_z85_valid(sec));
    cr_assert_str_neq(pub, sec);

    slurp(in_dir("node.pub"), text, sizeof text);
    cr_assert_eq(strncmp(text, pub, KEYS_Z85_LEN), 0);
    cr_assert_str_eq(text + KEYS_Z85_LEN, "\n");
    slurp(in_dir("node.key"), text, sizeof text);
    cr_assert_eq(strncmp(text + 11, pub, KEYS_Z85_LEN), 0);
    cr_assert_eq(strncmp(text + 63, sec, KEYS_Z85_LEN), 0);
}

Test(keys_file, curve_generate_refuses_existing_pair)
{
    char *cause = NULL;
    char before[256], after[256];
    cr_assert_eq(keys_curve_generate(in_dir("node"), &cause), HEARTH_OK, "%s", cause);
    slurp(in_dir("node.key"), before, sizeof before);
    cr_assert_eq(keys_curve_generate(in_dir("node"), &cause), HEARTH_ERR_EXISTS);
    cr_assert_not_null(strstr(cause, "node.key' already exists"), "%s", cause);
    slurp(in_dir("node.key"), after, sizeof after);
    cr_assert_str_eq(before, after);
    free(cause);
}

Test(keys_file, curve_generate_leaves_no_secret_when_public_file_exists)
{
    char *cause = NULL;
    write_file(in_dir("node.pub"), "someone else's\n", 0644);
    cr_assert_eq(keys_curve_generate(in_dir("node"), &cause), HEARTH_ERR_EXISTS);
    cr_assert_not_null(strstr(cause, "node.pub"), "%s", cause);
    cr_assert_eq(access(in_dir("node.key"), F_OK), -1);
    free(cause);
}

Test(keys_file, curve_load_secret_refuses_group_readable_file)
{
    char *cause = NULL;
    char pub[KEYS_Z85_LEN + 1], sec[KEYS_Z85_LEN + 1];
    cr_assert_eq(keys_curve_generate(in_dir("node"), &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(chmod(in_dir("node.key"), 0640), 0);
    cr_assert_eq(keys_curve_load_secret(in_dir("node.key"), pub, sec, &cause),
                 HEARTH_ERR_PERM);
    cr_assert_not_null(strstr(cause, "0640"), "%s", cause);
    free(cause);
}

Test(keys_file, curve_load_public_refuses_corrupted_key)
{
    char *cause = NULL;
    char pub[KEYS_Z85_LEN + 1], text[256];
    cr_assert_eq(keys_curve_generate(in_dir("node"), &cause), HEARTH_OK, "%s", cause);
    slurp(in_dir("node.pub"), text, sizeof text);

    text[0] = '~'; /* not in the Z85 alphabet */
    write_file(in_dir("tilde.pub"), text, 0644);
    cr_assert_eq(keys_curve_load_public(in_dir("tilde.pub"), pub, &cause), HEARTH_ERR_FORMAT);

    text[KEYS_Z85_LEN - 1] = '\n'; /* 39 characters */
    text[KEYS_Z85_LEN] = '\0';
    write_file(in_dir("short.pub"), text + 1, 0644);
    cr_assert_eq(keys_curve_load_public(in_dir("short.pub"), pub, &cause), HEARTH_ERR_FORMAT);

    /* "#####" is 85^5 - 1, more than 32 bits hold. */
    write_file(in_dir("overflow.pub"), "#####00000000000000000000000000000000000\n", 0644);
    cr_assert_eq(keys_curve_load_public(in_dir("overflow.pub"), pub, &cause),
                 HEARTH_ERR_FORMAT);
    cr_assert_not_null(strstr(cause, "40-character Z85"), "%s", cause);
    free(cause);
}

Test(keys_file, curve_load_secret_refuses_corrupted_secret_key)
{
    char *cause = NULL;
    char pub[KEYS_Z85_LEN + 1], sec[KEYS_Z85_LEN + 1], text[256];
    cr_assert_eq(keys_curve_generate(in_dir("node"), &cause), HEARTH_OK, "%s", cause);
    slurp(in_dir("node.key"), text, sizeof text);
    text[63] = ' ';
    write_file(in_dir("bad.key"), text, 0600);
    cr_assert_eq(keys_curve_load_secret(in_dir("bad.key"), pub, sec, &cause),
                 HEARTH_ERR_FORMAT);
    cr_assert_not_null(strstr(cause, "secret-key"), "%s", cause);
    free(cause);
}

Test(keys_file, curve_load_secret_refuses_mismatched_public_key)
{
    char *cause = NULL;
    char pub[KEYS_Z85_LEN + 1], sec[KEYS_Z85_LEN + 1];
    char a_pub[KEYS_Z85_LEN + 1], a_sec[KEYS_Z85_LEN + 1];
    char b_pub[KEYS_Z85_LEN + 1], b_sec[KEYS_Z85_LEN + 1];
    cr_assert_eq(keys_curve_generate(in_dir("a"), &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(keys_curve_generate(in_dir("b"), &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(keys_curve_load_secret(in_dir("a.key"), a_pub, a_sec, &cause), HEARTH_OK);
    cr_assert_eq(keys_curve_load_secret(in_dir("b.key"), b_pub, b_sec, &cause), HEARTH_OK);

    char text[256];
    snprintf(text, sizeof text, "public-key %s\nsecret-key %s\n", a_pub, b_sec);
    write_file(in_dir("mixed.key"), text, 0600);
    cr_assert_eq(keys_curve_load_secret(in_dir("mixed.key"), pub, sec, &cause),
                 HEARTH_ERR_FORMAT);
    cr_assert_not_null(strstr(cause, "does not belong"), "%s", cause);
    cr_assert_null(strstr(cause, b_sec), "cause echoes the secret key");
    free(cause);
}

Test(keys_file, z85_valid_checks_length_and_alphabet)
{
    cr_assert(keys_z85_valid("0000000000000000000000000000000000000000"));
    cr_assert_not(keys_z85_valid("000000000000000000000000000000000000000"));
    cr_assert_not(keys_z85_valid("00000000000000000000000000000000000000000"));
    cr_assert_not(keys_z85_valid("000000000000000000000000000000000000000~"));
    cr_assert_not(keys_z85_valid("#####00000000000000000000000000000000000"));
    cr_assert_not(keys_z85_valid(""));
    cr_assert_not(keys_z85_valid(NULL));
}
