/* tlog_merkle — RFC 6962 (Certificate Transparency) Merkle tree hashing:
 * leaf and node hashes, roots, inclusion and consistency proofs, and their
 * verification. Used by the gateway's audit log, by nodes checking the
 * proofs that come with each dispatch, and by `hearth audit verify`.
 *
 *   leaf hash  SHA-256(0x00 || leaf)
 *   node hash  SHA-256(0x01 || left || right)
 *   MTH of n > 1 leaves splits at k, the largest power of two below n.
 *
 * Proof generation reads hashes of perfect subtrees through a callback
 * (tlog_subtree_fn), so the tree can live anywhere: in SQLite (the
 * gateway), or in memory (tlog_memtree, for the client and tests). Every
 * range MTH(D[a:b]) the RFC's algorithms need is either such a perfect,
 * aligned subtree or splits into them, so nothing else is ever read.
 *
 * Proofs are at most TLOG_MAX_PROOF hashes (trees of up to 2^63 leaves).
 * Pure computation; no function here allocates except tlog_memtree. */
#ifndef TLOG_MERKLE_H
#define TLOG_MERKLE_H

#include "hearth_err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLOG_HASH_LEN 32
#define TLOG_MAX_PROOF 64

/* SHA-256(0x00 || leaf[0..len)). */
void tlog_leaf_hash(const uint8_t *leaf, size_t len, uint8_t out[TLOG_HASH_LEN]);

/* SHA-256(0x01 || left || right). out may alias either input. */
void tlog_node_hash(const uint8_t left[TLOG_HASH_LEN], const uint8_t right[TLOG_HASH_LEN],
                    uint8_t out[TLOG_HASH_LEN]);

/* SHA-256 of nothing: the root of the empty tree. */
void tlog_empty_root(uint8_t out[TLOG_HASH_LEN]);

/* Writes into out the hash of the perfect subtree at `level` and `index`:
 * the MTH of leaves [index << level, (index + 1) << level); level 0 is a
 * leaf hash. Called only for subtrees wholly inside the tree being asked
 * about. Returns HEARTH_OK, or an error (with *cause) that the caller
 * passes on unchanged. */
typedef hearth_err_t (*tlog_subtree_fn)(void *user, unsigned level, uint64_t index,
                                        uint8_t out[TLOG_HASH_LEN], char **cause);

/* The root (MTH) of the first `size` leaves into root; the empty root for
 * size 0. */
hearth_err_t tlog_root(tlog_subtree_fn fn, void *user, uint64_t size, uint8_t root[TLOG_HASH_LEN],
                       char **cause) __attribute__((warn_unused_result));

/* RFC 6962 2.1.1 PATH(index, D[0:size]) into proof[0..*n), leaf side first.
 * HEARTH_ERR_USAGE unless index < size. */
hearth_err_t tlog_inclusion_proof(tlog_subtree_fn fn, void *user, uint64_t index, uint64_t size,
                                  uint8_t proof[TLOG_MAX_PROOF][TLOG_HASH_LEN], size_t *n,
                                  char **cause) __attribute__((warn_unused_result));

/* RFC 6962 2.1.2 PROOF(m, D[0:size]) into proof[0..*n). Empty for m == size
 * or m == 0. HEARTH_ERR_USAGE unless m <= size. */
hearth_err_t tlog_consistency_proof(tlog_subtree_fn fn, void *user, uint64_t m, uint64_t size,
                                    uint8_t proof[TLOG_MAX_PROOF][TLOG_HASH_LEN], size_t *n,
                                    char **cause) __attribute__((warn_unused_result));

/* True when proof[0..n) shows that the leaf whose hash is leaf_hash is at
 * index in the tree of `size` leaves whose root is root (RFC 9162 2.1.3.2;
 * false for index >= size or a proof of the wrong length). */
bool tlog_verify_inclusion(const uint8_t leaf_hash[TLOG_HASH_LEN], uint64_t index, uint64_t size,
                           const uint8_t (*proof)[TLOG_HASH_LEN], size_t n,
                           const uint8_t root[TLOG_HASH_LEN]);

/* True when proof[0..n) shows that the tree of size m with root root_m is a
 * prefix of the tree of size `size` with root root_n (RFC 9162 2.1.4.2).
 * For m == size: true when the roots are equal and n == 0. For m == 0:
 * true when n == 0 (every tree extends the empty one). False for
 * m > size. */
bool tlog_verify_consistency(uint64_t m, uint64_t size, const uint8_t root_m[TLOG_HASH_LEN],
                             const uint8_t root_n[TLOG_HASH_LEN],
                             const uint8_t (*proof)[TLOG_HASH_LEN], size_t n);

/* ---- a compact range: the root of a growing log in O(log n) memory ---- */

/* The perfect subtrees covering leaves [0, size): at most 64 hashes, largest
 * first. Appending is amortised O(1) hashing; the root is available at any
 * size. Plain data: copy it freely; zero it (or tlog_range_init) to start. */
typedef struct {
    uint64_t size;
    size_t n;
    uint8_t hashes[64][TLOG_HASH_LEN];
} tlog_range_t;

void tlog_range_init(tlog_range_t *r);

/* Appends a leaf hash. */
void tlog_range_append(tlog_range_t *r, const uint8_t leaf_hash[TLOG_HASH_LEN]);

/* The root of the leaves appended so far (the empty root for none). */
void tlog_range_root(const tlog_range_t *r, uint8_t root[TLOG_HASH_LEN]);

/* Calls emit(user, level, index, hash) for every perfect subtree that the
 * append of leaf_hash completes, level 0 (the leaf itself) first: what a
 * store of perfect subtrees (the gateway's) must save to answer
 * tlog_subtree_fn later. Then appends it, as tlog_range_append. Stops at
 * and returns the first error emit returns. */
typedef hearth_err_t (*tlog_emit_fn)(void *user, unsigned level, uint64_t index,
                                     const uint8_t hash[TLOG_HASH_LEN], char **cause);
hearth_err_t tlog_range_append_emit(tlog_range_t *r, const uint8_t leaf_hash[TLOG_HASH_LEN],
                                    tlog_emit_fn emit, void *user, char **cause)
    __attribute__((warn_unused_result));

/* ---- a whole tree in memory (tests, and the client's verify) ---------- */

typedef struct tlog_memtree_t tlog_memtree_t;

/* A new empty tree; free with tlog_memtree_destroy. */
tlog_memtree_t *tlog_memtree_new(void);
void tlog_memtree_destroy(tlog_memtree_t **self_p);

/* Appends a leaf (hashed here) / an already-hashed leaf. */
void tlog_memtree_append(tlog_memtree_t *self, const uint8_t *leaf, size_t len);
void tlog_memtree_append_hash(tlog_memtree_t *self, const uint8_t leaf_hash[TLOG_HASH_LEN]);

uint64_t tlog_memtree_size(const tlog_memtree_t *self);

/* A tlog_subtree_fn over a tlog_memtree_t (user is the tree). */
hearth_err_t tlog_memtree_subtree(void *user, unsigned level, uint64_t index,
                                  uint8_t out[TLOG_HASH_LEN], char **cause);

#endif
