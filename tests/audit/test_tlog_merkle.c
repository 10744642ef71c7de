/* Tests for tlog_merkle: the RFC 6962 test vectors of transparency-dev/merkle
 * (leaf and node hashes, roots, inclusion and consistency proofs, and the
 * corruptions its tests expect to fail), then every proof of every tree up
 * to 70 leaves generated from tlog_memtree, verified, and corrupted byte by
 * byte; the compact range against the memtree; and which subtrees
 * tlog_range_append_emit reports. */
#include "tlog_merkle.h"
#include "hearth_hex.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- vectors --------------------------------------------------------------
 * Typed in from repository transparency-dev/merkle:
 *   testonly/constants.go  LeafInputs, NodeHashes, RootHashes, EmptyRootHash
 *   proof/verify_test.go   inclusionProofs, consistencyProofs, roots, leaves
 * (verify_test.go numbers leaves from 1: its {leaf: 1, size: 8} is index 0
 * here.) */

static const struct {
    const char *hex;
    size_t len;
} leaves[8] = {
    {"", 0},
    {"00", 1},
    {"10", 1},
    {"2021", 2},
    {"3031", 2},
    {"40414243", 4},
    {"5051525354555657", 8},
    {"606162636465666768696a6b6c6d6e6f", 16},
};

#define EMPTY_ROOT "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* roots[s - 1] is the root of the first s leaves. */
static const char *const roots[8] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

/* NodeHashes: node_hashes[level][index] of the 8-leaf tree. */
static const char *const node_hashes[4][8] = {
    {
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    },
    {
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    },
    {
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    },
    {
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    },
};

typedef struct {
    uint64_t a, b; /* inclusion: index, size; consistency: m, size */
    size_t n;
    const char *proof[3];
} vector_t;

static const vector_t inclusion_vectors[] = {
    {0, 1, 0, {NULL}},
    {0, 8, 3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5, 8, 3,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, 1, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1, 5, 3,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

static const vector_t consistency_vectors[] = {
    {1, 1, 0, {NULL}},
    {1, 8, 3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6, 8, 3,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 5, 2,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {6, 7, 3,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

/* sha256SomeHash in verify_test.go: a hash of nothing in particular. */
#define SOME_HASH "abacaba000000000000000000000000000000000000000000060061e00123456"

/* ---- helpers ------------------------------------------------------------- */

static void hash_from_hex(const char *hex, uint8_t out[TLOG_HASH_LEN])
{
    cr_assert(hearth_hex_decode(hex, strlen(hex), out, TLOG_HASH_LEN), "bad hex %s", hex);
}

static void assert_hash_hex(const uint8_t h[TLOG_HASH_LEN], const char *hex, const char *what)
{
    char got[2 * TLOG_HASH_LEN + 1];
    hearth_hex_encode(h, TLOG_HASH_LEN, got);
    cr_assert_str_eq(got, hex, "%s", what);
}

/* A memtree of the first n vector leaves. */
static tlog_memtree_t *vector_tree(size_t n)
{
    tlog_memtree_t *t = tlog_memtree_new();
    for (size_t i = 0; i < n; i++) {
        uint8_t leaf[16];
        cr_assert(hearth_hex_decode(leaves[i].hex, strlen(leaves[i].hex), leaf, leaves[i].len));
        tlog_memtree_append(t, leaf, leaves[i].len);
    }
    return t;
}

/* A memtree of n leaves "leaf <i>". */
static tlog_memtree_t *counted_tree(size_t n)
{
    tlog_memtree_t *t = tlog_memtree_new();
    for (size_t i = 0; i < n; i++) {
        char leaf[32];
        int len = snprintf(leaf, sizeof leaf, "leaf %zu", i);
        tlog_memtree_append(t, (const uint8_t *)leaf, (size_t)len);
    }
    return t;
}

static void root_of(tlog_memtree_t *t, uint64_t size, uint8_t root[TLOG_HASH_LEN])
{
    char *cause = NULL;
    cr_assert_eq(tlog_root(tlog_memtree_subtree, t, size, root, &cause), HEARTH_OK, "%s", cause);
}

static void leaf_hash_at(tlog_memtree_t *t, uint64_t index, uint8_t out[TLOG_HASH_LEN])
{
    char *cause = NULL;
    cr_assert_eq(tlog_memtree_subtree(t, 0, index, out, &cause), HEARTH_OK, "%s", cause);
}

/* ---- the vectors ---------------------------------------------------------- */

Test(tlog_merkle, empty_root_is_sha256_of_nothing)
{
    uint8_t root[TLOG_HASH_LEN];
    tlog_empty_root(root);
    assert_hash_hex(root, EMPTY_ROOT, "empty root");
    tlog_memtree_t *t = tlog_memtree_new();
    root_of(t, 0, root);
    assert_hash_hex(root, EMPTY_ROOT, "tlog_root of size 0");
    tlog_memtree_destroy(&t);
    cr_assert_null(t);
    tlog_memtree_destroy(&t);
    tlog_memtree_destroy(NULL);
}

Test(tlog_merkle, leaf_hashes_match_rfc6962_vectors)
{
    for (size_t i = 0; i < 8; i++) {
        uint8_t leaf[16], h[TLOG_HASH_LEN];
        cr_assert(hearth_hex_decode(leaves[i].hex, strlen(leaves[i].hex), leaf, leaves[i].len));
        tlog_leaf_hash(leaf, leaves[i].len, h);
        assert_hash_hex(h, node_hashes[0][i], "leaf hash");
    }
}

Test(tlog_merkle, memtree_stores_every_level_of_the_vector_tree)
{
    tlog_memtree_t *t = vector_tree(8);
    cr_assert_eq(tlog_memtree_size(t), 8);
    for (unsigned level = 0; level < 4; level++)
        for (uint64_t i = 0; i < (8u >> level); i++) {
            uint8_t h[TLOG_HASH_LEN];
            char *cause = NULL;
            cr_assert_eq(tlog_memtree_subtree(t, level, i, h, &cause), HEARTH_OK);
            assert_hash_hex(h, node_hashes[level][i], "node hash");
        }
    tlog_memtree_destroy(&t);
}

Test(tlog_merkle, node_hash_is_sha256_of_01_left_right_and_may_alias)
{
    uint8_t a[TLOG_HASH_LEN], b[TLOG_HASH_LEN], out[TLOG_HASH_LEN];
    hash_from_hex(node_hashes[0][0], a);
    hash_from_hex(node_hashes[0][1], b);
    tlog_node_hash(a, b, out);
    assert_hash_hex(out, node_hashes[1][0], "node");
    tlog_node_hash(a, b, a); /* out aliases left */
    assert_hash_hex(a, node_hashes[1][0], "aliased left");
    hash_from_hex(node_hashes[0][0], a);
    tlog_node_hash(a, b, b); /* out aliases right */
    assert_hash_hex(b, node_hashes[1][0], "aliased right");
}

Test(tlog_merkle, roots_of_sizes_1_to_8_match_vectors)
{
    tlog_memtree_t *t = vector_tree(8);
    tlog_range_t r;
    tlog_range_init(&r);
    for (uint64_t size = 1; size <= 8; size++) {
        uint8_t root[TLOG_HASH_LEN], leaf[16], h[TLOG_HASH_LEN];
        root_of(t, size, root);
        assert_hash_hex(root, roots[size - 1], "tlog_root");
        /* A tree of exactly `size` leaves agrees with the prefix. */
        tlog_memtree_t *small = vector_tree(size);
        root_of(small, size, root);
        assert_hash_hex(root, roots[size - 1], "tlog_root of a smaller tree");
        tlog_memtree_destroy(&small);
        /* And so does the compact range. */
        cr_assert(hearth_hex_decode(leaves[size - 1].hex, strlen(leaves[size - 1].hex), leaf,
                                    leaves[size - 1].len));
        tlog_leaf_hash(leaf, leaves[size - 1].len, h);
        tlog_range_append(&r, h);
        tlog_range_root(&r, root);
        assert_hash_hex(root, roots[size - 1], "compact range root");
    }
    tlog_memtree_destroy(&t);
}

/* Decodes a vector's proof. */
static void vector_proof(const vector_t *v, uint8_t proof[TLOG_MAX_PROOF][TLOG_HASH_LEN])
{
    for (size_t i = 0; i < v->n; i++)
        hash_from_hex(v->proof[i], proof[i]);
}

Test(tlog_merkle, inclusion_proofs_match_vectors_and_verify)
{
    tlog_memtree_t *t = vector_tree(8);
    for (size_t k = 0; k < sizeof inclusion_vectors / sizeof inclusion_vectors[0]; k++) {
        const vector_t *v = &inclusion_vectors[k];
        uint8_t got[TLOG_MAX_PROOF][TLOG_HASH_LEN], want[TLOG_MAX_PROOF][TLOG_HASH_LEN];
        uint8_t root[TLOG_HASH_LEN], leaf[TLOG_HASH_LEN];
        size_t n = 99;
        char *cause = NULL;
        cr_assert_eq(tlog_inclusion_proof(tlog_memtree_subtree, t, v->a, v->b, got, &n, &cause),
                     HEARTH_OK, "%s", cause);
        cr_assert_eq(n, v->n, "vector %zu", k);
        vector_proof(v, want);
        for (size_t i = 0; i < n; i++)
            cr_assert_eq(memcmp(got[i], want[i], TLOG_HASH_LEN), 0, "vector %zu [%zu]", k, i);
        hash_from_hex(roots[v->b - 1], root);
        leaf_hash_at(t, v->a, leaf);
        cr_assert(tlog_verify_inclusion(leaf, v->a, v->b, (const uint8_t(*)[TLOG_HASH_LEN])want,
                                        v->n, root),
                  "vector %zu", k);
    }
    tlog_memtree_destroy(&t);
}

Test(tlog_merkle, consistency_proofs_match_vectors_and_verify)
{
    tlog_memtree_t *t = vector_tree(8);
    for (size_t k = 0; k < sizeof consistency_vectors / sizeof consistency_vectors[0]; k++) {
        const vector_t *v = &consistency_vectors[k];
        uint8_t got[TLOG_MAX_PROOF][TLOG_HASH_LEN], want[TLOG_MAX_PROOF][TLOG_HASH_LEN];
        uint8_t root_m[TLOG_HASH_LEN], root_n[TLOG_HASH_LEN];
        size_t n = 99;
        char *cause = NULL;
        cr_assert_eq(
            tlog_consistency_proof(tlog_memtree_subtree, t, v->a, v->b, got, &n, &cause),
            HEARTH_OK, "%s", cause);
        cr_assert_eq(n, v->n, "vector %zu", k);
        vector_proof(v, want);
        for (size_t i = 0; i < n; i++)
            cr_assert_eq(memcmp(got[i], want[i], TLOG_HASH_LEN), 0, "vector %zu [%zu]", k, i);
        hash_from_hex(roots[v->a - 1], root_m);
        hash_from_hex(roots[v->b - 1], root_n);
        cr_assert(tlog_verify_consistency(v->a, v->b, root_m, root_n,
                                          (const uint8_t(*)[TLOG_HASH_LEN])want, v->n),
                  "vector %zu", k);
    }
    tlog_memtree_destroy(&t);
}

/* verify_test.go's corruptInclusionProof probes, each of which must fail. */
Test(tlog_merkle, corrupted_inclusion_vectors_fail)
{
    uint8_t some[TLOG_HASH_LEN], empty[TLOG_HASH_LEN];
    hash_from_hex(SOME_HASH, some);
    hash_from_hex(EMPTY_ROOT, empty);
    tlog_memtree_t *t = vector_tree(8);
    /* The empty proof of the one-leaf tree has little to corrupt. */
    for (size_t k = 1; k < sizeof inclusion_vectors / sizeof inclusion_vectors[0]; k++) {
        const vector_t *v = &inclusion_vectors[k];
        uint8_t p[TLOG_MAX_PROOF + 1][TLOG_HASH_LEN], q[TLOG_MAX_PROOF + 1][TLOG_HASH_LEN];
        uint8_t root[TLOG_HASH_LEN], leaf[TLOG_HASH_LEN], wrong_leaf[TLOG_HASH_LEN];
        uint64_t i = v->a, s = v->b;
        size_t n = v->n;
        vector_proof(v, p);
        hash_from_hex(roots[s - 1], root);
        leaf_hash_at(t, i, leaf);
        tlog_leaf_hash((const uint8_t *)"WrongLeaf", 9, wrong_leaf);
#define P ((const uint8_t(*)[TLOG_HASH_LEN])p)
#define Q ((const uint8_t(*)[TLOG_HASH_LEN])q)
        cr_assert(tlog_verify_inclusion(leaf, i, s, P, n, root));
        cr_assert_not(tlog_verify_inclusion(leaf, i - 1, s, P, n, root), "index - 1, %zu", k);
        cr_assert_not(tlog_verify_inclusion(leaf, i + 1, s, P, n, root), "index + 1, %zu", k);
        cr_assert_not(tlog_verify_inclusion(leaf, i ^ 2, s, P, n, root), "index ^ 2, %zu", k);
        cr_assert_not(tlog_verify_inclusion(leaf, i, s * 2, P, n, root), "size * 2, %zu", k);
        cr_assert_not(tlog_verify_inclusion(leaf, i, s / 2, P, n, root), "size / 2, %zu", k);
        cr_assert_not(tlog_verify_inclusion(wrong_leaf, i, s, P, n, root), "wrong leaf %zu", k);
        cr_assert_not(tlog_verify_inclusion(leaf, i, s, P, n, empty), "empty root %zu", k);
        cr_assert_not(tlog_verify_inclusion(leaf, i, s, P, n, some), "some root %zu", k);
        /* A trailing root; a preceding root. */
        memcpy(q, p, n * TLOG_HASH_LEN);
        memcpy(q[n], root, TLOG_HASH_LEN);
        cr_assert_not(tlog_verify_inclusion(leaf, i, s, Q, n + 1, root), "trailing %zu", k);
        memcpy(q[0], root, TLOG_HASH_LEN);
        memcpy(q + 1, p, n * TLOG_HASH_LEN);
        cr_assert_not(tlog_verify_inclusion(leaf, i, s, Q, n + 1, root), "preceding %zu", k);
        /* One bit of one component; one component removed; one inserted. */
        for (size_t c = 0; c < n; c++) {
            p[c][0] ^= 8;
            cr_assert_not(tlog_verify_inclusion(leaf, i, s, P, n, root), "bit %zu/%zu", k, c);
            p[c][0] ^= 8;
        }
        cr_assert_not(tlog_verify_inclusion(leaf, i, s, P, n - 1, root), "removed %zu", k);
        memcpy(q[0], p[0], TLOG_HASH_LEN);
        memcpy(q[1], some, TLOG_HASH_LEN);
        memcpy(q + 2, p + 1, (n - 1) * TLOG_HASH_LEN);
        cr_assert_not(tlog_verify_inclusion(leaf, i, s, Q, n + 1, root), "inserted %zu", k);
    }
    tlog_memtree_destroy(&t);
}

/* verify_test.go's corruptConsistencyProof probes, each of which must fail. */
Test(tlog_merkle, corrupted_consistency_vectors_fail)
{
    uint8_t wrong[TLOG_HASH_LEN];
    tlog_leaf_hash((const uint8_t *)"WrongRoot", 9, wrong);
    for (size_t k = 1; k < sizeof consistency_vectors / sizeof consistency_vectors[0]; k++) {
        const vector_t *v = &consistency_vectors[k];
        uint8_t p[TLOG_MAX_PROOF + 1][TLOG_HASH_LEN], q[TLOG_MAX_PROOF + 1][TLOG_HASH_LEN];
        uint8_t r1[TLOG_HASH_LEN], r2[TLOG_HASH_LEN];
        uint64_t m = v->a, s = v->b;
        size_t n = v->n;
        vector_proof(v, p);
        hash_from_hex(roots[m - 1], r1);
        hash_from_hex(roots[s - 1], r2);
        cr_assert(tlog_verify_consistency(m, s, r1, r2, P, n));
        cr_assert_not(tlog_verify_consistency(m - 1, s, r1, r2, P, n), "m - 1, %zu", k);
        cr_assert_not(tlog_verify_consistency(m + 1, s, r1, r2, P, n), "m + 1, %zu", k);
        cr_assert_not(tlog_verify_consistency(m ^ 2, s, r1, r2, P, n), "m ^ 2, %zu", k);
        cr_assert_not(tlog_verify_consistency(m, s * 2, r1, r2, P, n), "size * 2, %zu", k);
        cr_assert_not(tlog_verify_consistency(m, s / 2, r1, r2, P, n), "size / 2, %zu", k);
        cr_assert_not(tlog_verify_consistency(m, s, wrong, r2, P, n), "wrong root1 %zu", k);
        cr_assert_not(tlog_verify_consistency(m, s, r1, wrong, P, n), "wrong root2 %zu", k);
        cr_assert_not(tlog_verify_consistency(m, s, r2, r1, P, n), "swapped roots %zu", k);
        cr_assert_not(tlog_verify_consistency(m, s, r1, r2, P, 0), "empty proof %zu", k);
        const uint8_t *extra[] = {r1, r2, p[0]};
        for (size_t e = 0; e < 3; e++) {
            memcpy(q, p, n * TLOG_HASH_LEN);
            memcpy(q[n], extra[e], TLOG_HASH_LEN);
            cr_assert_not(tlog_verify_consistency(m, s, r1, r2, Q, n + 1), "trailing %zu", k);
            memcpy(q[0], extra[e], TLOG_HASH_LEN);
            memcpy(q + 1, p, n * TLOG_HASH_LEN);
            cr_assert_not(tlog_verify_consistency(m, s, r1, r2, Q, n + 1), "preceding %zu", k);
        }
        cr_assert_not(tlog_verify_consistency(m, s, r1, r2, P, n - 1), "truncated %zu", k);
        for (size_t c = 0; c < n; c++) {
            p[c][0] ^= 16;
            cr_assert_not(tlog_verify_consistency(m, s, r1, r2, P, n), "bit %zu/%zu", k, c);
            p[c][0] ^= 16;
        }
    }
}

/* verify_test.go's TestVerifyConsistency table of edge cases. */
Test(tlog_merkle, consistency_edge_cases_follow_verify_test)
{
    uint8_t r1[TLOG_HASH_LEN], r2[TLOG_HASH_LEN], empty[TLOG_HASH_LEN];
    uint8_t one[1][TLOG_HASH_LEN];
    tlog_leaf_hash((const uint8_t *)"don't care 1", 12, r1);
    tlog_leaf_hash((const uint8_t *)"don't care 2", 12, r2);
    hash_from_hex(EMPTY_ROOT, empty);
    memcpy(one[0], empty, TLOG_HASH_LEN);
    const uint8_t(*none)[TLOG_HASH_LEN] = NULL;
    const uint8_t(*proof2)[TLOG_HASH_LEN] = (const uint8_t(*)[TLOG_HASH_LEN])one;

    cr_assert_not(tlog_verify_consistency(0, 0, r1, r2, none, 0));
    cr_assert_not(tlog_verify_consistency(1, 1, r1, r2, none, 0));
    cr_assert(tlog_verify_consistency(0, 0, r1, r1, none, 0));
    cr_assert(tlog_verify_consistency(0, 1, r1, r2, none, 0));
    cr_assert(tlog_verify_consistency(1, 1, r2, r2, none, 0));
    cr_assert_not(tlog_verify_consistency(1, 0, r1, r2, none, 0));
    cr_assert_not(tlog_verify_consistency(2, 1, r1, r2, none, 0));
    cr_assert_not(tlog_verify_consistency(1, 2, r1, r2, none, 0));
    cr_assert_not(tlog_verify_consistency(0, 0, empty, r2, none, 0));
    cr_assert_not(tlog_verify_consistency(1, 1, empty, r2, none, 0));
    cr_assert_not(tlog_verify_consistency(0, 0, empty, empty, proof2, 1));
    cr_assert_not(tlog_verify_consistency(0, 1, empty, empty, proof2, 1));
    cr_assert_not(tlog_verify_consistency(1, 1, empty, empty, proof2, 1));
}

/* verify_test.go's TestVerifyInclusion and TestVerifyInclusionSingleEntry. */
Test(tlog_merkle, inclusion_edge_cases_follow_verify_test)
{
    uint8_t some[TLOG_HASH_LEN], empty[TLOG_HASH_LEN], h[TLOG_HASH_LEN];
    hash_from_hex(SOME_HASH, some);
    hash_from_hex(EMPTY_ROOT, empty);
    const uint8_t(*none)[TLOG_HASH_LEN] = NULL;
    const uint64_t probes[][2] = {{0, 0}, {0, 1}, {1, 0}, {2, 1}};
    for (size_t i = 0; i < 4; i++)
        cr_assert_not(tlog_verify_inclusion(some, probes[i][0], probes[i][1], none, 0, empty),
                      "probe %zu", i);
    /* A one-leaf tree: the root is the leaf hash, the proof empty. */
    tlog_leaf_hash((const uint8_t *)"data", 4, h);
    cr_assert(tlog_verify_inclusion(h, 0, 1, none, 0, h));
    cr_assert_not(tlog_verify_inclusion(h, 0, 1, none, 0, empty));
    cr_assert_not(tlog_verify_inclusion(empty, 0, 1, none, 0, h));
}

/* ---- every proof of every tree up to 70 leaves ---------------------------- */

#define MAX_SIZE 70

Test(tlog_merkle, every_inclusion_proof_up_to_70_leaves_verifies_and_no_corruption_does,
     .timeout = 240)
{
    tlog_memtree_t *t = counted_tree(MAX_SIZE);
    uint8_t roots_by_size[MAX_SIZE + 2][TLOG_HASH_LEN];
    for (uint64_t s = 1; s <= MAX_SIZE; s++)
        root_of(t, s, roots_by_size[s]);
    for (uint64_t s = 1; s <= MAX_SIZE; s++) {
        uint8_t *root = roots_by_size[s];
        for (uint64_t i = 0; i < s; i++) {
            uint8_t p[TLOG_MAX_PROOF][TLOG_HASH_LEN], leaf[TLOG_HASH_LEN];
            size_t n = 0;
            char *cause = NULL;
            cr_assert_eq(tlog_inclusion_proof(tlog_memtree_subtree, t, i, s, p, &n, &cause),
                         HEARTH_OK, "%s", cause);
            leaf_hash_at(t, i, leaf);
            cr_assert(tlog_verify_inclusion(leaf, i, s, P, n, root), "%llu in %llu",
                      (unsigned long long)i, (unsigned long long)s);
            /* Every byte of every component, of the root, of the leaf. */
            for (size_t c = 0; c < n; c++)
                for (size_t b = 0; b < TLOG_HASH_LEN; b++) {
                    p[c][b] ^= 1;
                    cr_assert_not(tlog_verify_inclusion(leaf, i, s, P, n, root));
                    p[c][b] ^= 1;
                }
            for (size_t b = 0; b < TLOG_HASH_LEN; b++) {
                root[b] ^= 1;
                cr_assert_not(tlog_verify_inclusion(leaf, i, s, P, n, root));
                root[b] ^= 1;
                leaf[b] ^= 1;
                cr_assert_not(tlog_verify_inclusion(leaf, i, s, P, n, root));
                leaf[b] ^= 1;
            }
            /* Every other index of this tree. */
            for (uint64_t j = 0; j < s + 1; j++)
                if (j != i)
                    cr_assert_not(tlog_verify_inclusion(leaf, j, s, P, n, root),
                                  "%llu as %llu in %llu", (unsigned long long)i,
                                  (unsigned long long)j, (unsigned long long)s);
            /* The neighbouring sizes, each with its own root. */
            if (s > 1)
                cr_assert_not(tlog_verify_inclusion(leaf, i, s - 1, P, n, roots_by_size[s - 1]));
            if (s < MAX_SIZE)
                cr_assert_not(tlog_verify_inclusion(leaf, i, s + 1, P, n, roots_by_size[s + 1]));
            /* A component short or one too many. */
            if (n > 0)
                cr_assert_not(tlog_verify_inclusion(leaf, i, s, P, n - 1, root));
            if (n < TLOG_MAX_PROOF) {
                memcpy(p[n], root, TLOG_HASH_LEN);
                cr_assert_not(tlog_verify_inclusion(leaf, i, s, P, n + 1, root));
            }
        }
    }
    tlog_memtree_destroy(&t);
}

Test(tlog_merkle, every_consistency_proof_up_to_70_leaves_verifies_and_no_corruption_does,
     .timeout = 240)
{
    tlog_memtree_t *t = counted_tree(MAX_SIZE);
    uint8_t roots_by_size[MAX_SIZE + 2][TLOG_HASH_LEN];
    for (uint64_t s = 0; s <= MAX_SIZE; s++)
        root_of(t, s, roots_by_size[s]);
    for (uint64_t s = 1; s <= MAX_SIZE; s++)
        for (uint64_t m = 0; m <= s; m++) {
            uint8_t p[TLOG_MAX_PROOF][TLOG_HASH_LEN];
            /* Copies: for m == s both are the same root. */
            uint8_t r1[TLOG_HASH_LEN], r2[TLOG_HASH_LEN];
            memcpy(r1, roots_by_size[m], TLOG_HASH_LEN);
            memcpy(r2, roots_by_size[s], TLOG_HASH_LEN);
            size_t n = 99;
            char *cause = NULL;
            cr_assert_eq(tlog_consistency_proof(tlog_memtree_subtree, t, m, s, p, &n, &cause),
                         HEARTH_OK, "%s", cause);
            cr_assert(tlog_verify_consistency(m, s, r1, r2, P, n), "%llu to %llu",
                      (unsigned long long)m, (unsigned long long)s);
            if (m == 0 || m == s) {
                cr_assert_eq(n, 0);
                if (m == 0)
                    continue; /* every tree extends the empty one */
            }
            for (size_t c = 0; c < n; c++)
                for (size_t b = 0; b < TLOG_HASH_LEN; b++) {
                    p[c][b] ^= 1;
                    cr_assert_not(tlog_verify_consistency(m, s, r1, r2, P, n));
                    p[c][b] ^= 1;
                }
            for (size_t b = 0; b < TLOG_HASH_LEN; b++) {
                r1[b] ^= 1;
                cr_assert_not(tlog_verify_consistency(m, s, r1, r2, P, n), "root1 %llu %llu",
                              (unsigned long long)m, (unsigned long long)s);
                r1[b] ^= 1;
                r2[b] ^= 1;
                cr_assert_not(tlog_verify_consistency(m, s, r1, r2, P, n));
                r2[b] ^= 1;
            }
            /* The neighbouring sizes, each with its own root. */
            for (uint64_t m2 = m - 1; m2 <= m + 1; m2 += 2)
                if (m2 >= 1 && m2 <= s)
                    cr_assert_not(tlog_verify_consistency(m2, s, roots_by_size[m2], r2, P, n),
                                  "%llu as %llu to %llu", (unsigned long long)m,
                                  (unsigned long long)m2, (unsigned long long)s);
            if (s - 1 >= m)
                cr_assert_not(tlog_verify_consistency(m, s - 1, r1, roots_by_size[s - 1], P, n),
                              "%llu to %llu as %llu", (unsigned long long)m,
                              (unsigned long long)s, (unsigned long long)s - 1);
            if (s < MAX_SIZE)
                cr_assert_not(tlog_verify_consistency(m, s + 1, r1, roots_by_size[s + 1], P, n));
            if (n > 0)
                cr_assert_not(tlog_verify_consistency(m, s, r1, r2, P, n - 1));
            if (n < TLOG_MAX_PROOF) {
                memcpy(p[n], r2, TLOG_HASH_LEN);
                cr_assert_not(tlog_verify_consistency(m, s, r1, r2, P, n + 1));
            }
        }
    tlog_memtree_destroy(&t);
}

Test(tlog_merkle, proofs_refuse_impossible_arguments)
{
    tlog_memtree_t *t = counted_tree(5);
    uint8_t p[TLOG_MAX_PROOF][TLOG_HASH_LEN];
    size_t n = 99;
    char *cause = NULL;
    cr_assert_eq(tlog_inclusion_proof(tlog_memtree_subtree, t, 5, 5, p, &n, &cause),
                 HEARTH_ERR_USAGE);
    cr_assert_eq(n, 0);
    cr_assert_eq(tlog_inclusion_proof(tlog_memtree_subtree, t, 0, 0, p, &n, &cause),
                 HEARTH_ERR_USAGE);
    cr_assert_eq(tlog_consistency_proof(tlog_memtree_subtree, t, 6, 5, p, &n, &cause),
                 HEARTH_ERR_USAGE);
    cr_assert_not_null(cause);
    free(cause);
    cause = NULL;
    n = 99;
    cr_assert_eq(tlog_consistency_proof(tlog_memtree_subtree, t, 0, 5, p, &n, &cause), HEARTH_OK);
    cr_assert_eq(n, 0);
    n = 99;
    cr_assert_eq(tlog_consistency_proof(tlog_memtree_subtree, t, 5, 5, p, &n, &cause), HEARTH_OK);
    cr_assert_eq(n, 0);
    tlog_memtree_destroy(&t);
}

Test(tlog_merkle, a_tree_too_small_for_the_request_passes_its_error_on)
{
    tlog_memtree_t *t = counted_tree(5);
    uint8_t p[TLOG_MAX_PROOF][TLOG_HASH_LEN], root[TLOG_HASH_LEN];
    size_t n = 0;
    char *cause = NULL;
    cr_assert_eq(tlog_root(tlog_memtree_subtree, t, 6, root, &cause), HEARTH_ERR_NOT_FOUND);
    cr_assert_not_null(cause);
    cr_assert_eq(tlog_inclusion_proof(tlog_memtree_subtree, t, 1, 9, p, &n, &cause),
                 HEARTH_ERR_NOT_FOUND);
    cr_assert_eq(tlog_consistency_proof(tlog_memtree_subtree, t, 3, 8, p, &n, &cause),
                 HEARTH_ERR_NOT_FOUND);
    cr_assert_eq(tlog_memtree_subtree(t, 3, 0, root, &cause), HEARTH_ERR_NOT_FOUND);
    cr_assert_eq(tlog_memtree_subtree(t, 0, 5, root, &cause), HEARTH_ERR_NOT_FOUND);
    cr_assert_eq(tlog_memtree_subtree(t, 2, 0, root, &cause), HEARTH_OK);
    free(cause);
    tlog_memtree_destroy(&t);
}

/* ---- compact range ----------------------------------------------------- */

Test(tlog_merkle, compact_range_root_equals_memtree_root_for_every_size)
{
    tlog_memtree_t *t = tlog_memtree_new();
    tlog_range_t r;
    tlog_range_init(&r);
    for (uint64_t s = 0; s <= 300; s++) {
        uint8_t want[TLOG_HASH_LEN], got[TLOG_HASH_LEN];
        root_of(t, s, want);
        tlog_range_root(&r, got);
        cr_assert_eq(memcmp(want, got, TLOG_HASH_LEN), 0, "size %llu", (unsigned long long)s);
        cr_assert_eq(r.size, s);
        cr_assert_eq(r.n, (size_t)__builtin_popcountll(s));
        char leaf[32];
        int len = snprintf(leaf, sizeof leaf, "entry %llu", (unsigned long long)s);
        uint8_t h[TLOG_HASH_LEN];
        tlog_leaf_hash((const uint8_t *)leaf, (size_t)len, h);
        tlog_memtree_append_hash(t, h);
        tlog_range_append(&r, h);
    }
    tlog_memtree_destroy(&t);
}

typedef struct {
    tlog_memtree_t *tree; /* what the emitted hashes are checked against */
    unsigned seen[64][MAX_SIZE + 1];
    size_t calls;
    size_t fail_at; /* fail the call with this number (1-based); 0: never */
    unsigned last_level;
} emit_state_t;

static hearth_err_t record_emit(void *user, unsigned level, uint64_t index,
                                const uint8_t hash[TLOG_HASH_LEN], char **cause)
{
    emit_state_t *st = user;
    st->calls++;
    if (st->fail_at != 0 && st->calls == st->fail_at) {
        hearth_cause_set(cause, "store failed");
        return HEARTH_ERR_DB;
    }
    uint8_t want[TLOG_HASH_LEN];
    cr_assert_eq(tlog_memtree_subtree(st->tree, level, index, want, NULL), HEARTH_OK,
                 "emitted (%u, %llu) is not a perfect subtree yet", level,
                 (unsigned long long)index);
    cr_assert_eq(memcmp(want, hash, TLOG_HASH_LEN), 0);
    cr_assert_lt(index, MAX_SIZE + 1);
    st->seen[level][index]++;
    st->last_level = level;
    return HEARTH_OK;
}

Test(tlog_merkle, append_emit_reports_exactly_the_completed_perfect_subtrees)
{
    emit_state_t *st = calloc(1, sizeof *st);
    st->tree = tlog_memtree_new();
    tlog_range_t r;
    tlog_range_init(&r);
    for (uint64_t s = 0; s < MAX_SIZE; s++) {
        char leaf[32];
        int len = snprintf(leaf, sizeof leaf, "entry %llu", (unsigned long long)s);
        uint8_t h[TLOG_HASH_LEN];
        tlog_leaf_hash((const uint8_t *)leaf, (size_t)len, h);
        tlog_memtree_append_hash(st->tree, h);
        size_t before = st->calls;
        char *cause = NULL;
        cr_assert_eq(tlog_range_append_emit(&r, h, record_emit, st, &cause), HEARTH_OK);
        /* Leaf s completes one subtree per trailing one bit of s, plus
         * the leaf itself; levels rise from 0. */
        size_t want = 1 + (size_t)__builtin_ctzll(~s);
        cr_assert_eq(st->calls - before, want, "append %llu", (unsigned long long)s);
        cr_assert_eq(st->last_level, want - 1);
    }
    /* Over the whole run: every perfect subtree of the final tree exactly
     * once, and nothing else. */
    for (unsigned level = 0; level < 64; level++)
        for (uint64_t i = 0; i <= MAX_SIZE; i++) {
            unsigned want = (level < 63 && i < ((uint64_t)MAX_SIZE >> level)) ? 1 : 0;
            cr_assert_eq(st->seen[level][i], want, "level %u index %llu", level,
                         (unsigned long long)i);
        }
    uint8_t a[TLOG_HASH_LEN], b[TLOG_HASH_LEN];
    tlog_range_root(&r, a);
    root_of(st->tree, MAX_SIZE, b);
    cr_assert_eq(memcmp(a, b, TLOG_HASH_LEN), 0);
    tlog_memtree_destroy(&st->tree);
    free(st);
}

Test(tlog_merkle, append_emit_stops_at_an_error_and_leaves_the_range_unchanged)
{
    emit_state_t *st = calloc(1, sizeof *st);
    st->tree = counted_tree(8);
    tlog_range_t r, before;
    tlog_range_init(&r);
    for (uint64_t i = 0; i < 7; i++) {
        uint8_t h[TLOG_HASH_LEN];
        leaf_hash_at(st->tree, i, h);
        tlog_range_append(&r, h);
    }
    memcpy(&before, &r, sizeof r);
    /* The 8th leaf completes four subtrees; the third emit fails. */
    uint8_t h[TLOG_HASH_LEN];
    leaf_hash_at(st->tree, 7, h);
    st->fail_at = 3;
    char *cause = NULL;
    cr_assert_eq(tlog_range_append_emit(&r, h, record_emit, st, &cause), HEARTH_ERR_DB);
    cr_assert_str_eq(cause, "store failed");
    cr_assert_eq(st->calls, 3);
    cr_assert_eq(memcmp(&before, &r, sizeof r), 0);
    /* Retried, it completes. */
    st->fail_at = 0;
    st->calls = 0;
    cr_assert_eq(tlog_range_append_emit(&r, h, record_emit, st, &cause), HEARTH_OK);
    cr_assert_eq(st->calls, 4);
    cr_assert_eq(r.size, 8);
    cr_assert_eq(r.n, 1);
    free(cause);
    tlog_memtree_destroy(&st->tree);
    free(st);
}
