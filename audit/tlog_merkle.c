#include "tlog_merkle.h"
#include "hearth_mem.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <stdlib.h>
#include <string.h>

/* ---- hashing ----------------------------------------------------------- */

void tlog_leaf_hash(const uint8_t *leaf, size_t len, uint8_t out[TLOG_HASH_LEN])
{
    static const uint8_t prefix = 0x00;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    /* SHA-256 over memory fails only when allocation does: the project's
     * out-of-memory policy (hearth_err.h) is to abort. */
    if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1
        || EVP_DigestUpdate(md, &prefix, 1) != 1
        || (len > 0 && EVP_DigestUpdate(md, leaf, len) != 1)
        || EVP_DigestFinal_ex(md, out, NULL) != 1)
        abort();
    EVP_MD_CTX_free(md);
}

void tlog_node_hash(const uint8_t left[TLOG_HASH_LEN], const uint8_t right[TLOG_HASH_LEN],
                    uint8_t out[TLOG_HASH_LEN])
{
    /* Copied first, so out may alias either input. */
    uint8_t buf[1 + 2 * TLOG_HASH_LEN];
    buf[0] = 0x01;
    memcpy(buf + 1, left, TLOG_HASH_LEN);
    memcpy(buf + 1 + TLOG_HASH_LEN, right, TLOG_HASH_LEN);
    SHA256(buf, sizeof buf, out);
}

void tlog_empty_root(uint8_t out[TLOG_HASH_LEN])
{
    SHA256((const uint8_t *)"", 0, out);
}

/* ---- ranges of the tree ------------------------------------------------ */

/* The largest tree proofs are made for: deeper ones would need more than
 * TLOG_MAX_PROOF components. */
#define MAX_TREE_SIZE ((uint64_t)1 << 63)

/* The largest power of two strictly below n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
    uint64_t k = 1;
    while (k << 1 < n)
        k <<= 1;
    return k;
}

/* MTH(D[begin:end]), begin < end, where begin is a multiple of a power of
 * two at least end - begin. Every range the RFC 6962 recursions reach has
 * that shape, so the range is the perfect, aligned subtrees given by the
 * bits of its length, largest first; its MTH folds them right to left. */
static hearth_err_t range_hash(tlog_subtree_fn fn, void *user, uint64_t begin, uint64_t end,
                               uint8_t out[TLOG_HASH_LEN], char **cause)
{
    uint8_t parts[64][TLOG_HASH_LEN];
    size_t n = 0;
    uint64_t pos = begin;
    for (int level = 63; level >= 0; level--) {
        uint64_t width = (uint64_t)1 << level;
        if (((end - begin) & width) == 0)
            continue;
        hearth_err_t rc = fn(user, (unsigned)level, pos >> level, parts[n], cause);
        if (rc != HEARTH_OK)
            return rc;
        n++;
        pos += width;
    }
    memcpy(out, parts[n - 1], TLOG_HASH_LEN);
    for (size_t i = n - 1; i-- > 0;)
        tlog_node_hash(parts[i], out, out);
    return HEARTH_OK;
}

hearth_err_t tlog_root(tlog_subtree_fn fn, void *user, uint64_t size, uint8_t root[TLOG_HASH_LEN],
                       char **cause)
{
    if (size == 0) {
        tlog_empty_root(root);
        return HEARTH_OK;
    }
    return range_hash(fn, user, 0, size, root, cause);
}

/* Reverses proof[from..to) in place: the recursions below find the
 * components top down, and proofs list them leaf side first. */
static void reverse(uint8_t proof[][TLOG_HASH_LEN], size_t from, size_t to)
{
    uint8_t tmp[TLOG_HASH_LEN];
    while (to > from + 1) {
        to--;
        memcpy(tmp, proof[from], TLOG_HASH_LEN);
        memcpy(proof[from], proof[to], TLOG_HASH_LEN);
        memcpy(proof[to], tmp, TLOG_HASH_LEN);
        from++;
    }
}

hearth_err_t tlog_inclusion_proof(tlog_subtree_fn fn, void *user, uint64_t index, uint64_t size,
                                  uint8_t proof[TLOG_MAX_PROOF][TLOG_HASH_LEN], size_t *n,
                                  char **cause)
{
    *n = 0;
    if (size > MAX_TREE_SIZE) {
        hearth_cause_set(cause, "no proofs in a tree of more than 2^63 leaves");
        return HEARTH_ERR_USAGE;
    }
    if (index >= size) {
        hearth_cause_set(cause, "no inclusion proof of leaf %llu in a tree of %llu leaves",
                         (unsigned long long)index, (unsigned long long)size);
        return HEARTH_ERR_USAGE;
    }
    /* PATH(m, D[a:b]): split at k; the leaf's side recurses, the other
     * side's MTH follows the sub-path. */
    uint64_t a = 0, b = size;
    size_t count = 0;
    while (b - a > 1) {
        uint64_t k = split_point(b - a);
        hearth_err_t rc;
        if (index < a + k) {
            rc = range_hash(fn, user, a + k, b, proof[count], cause);
            b = a + k;
        } else {
            rc = range_hash(fn, user, a, a + k, proof[count], cause);
            a = a + k;
        }
        if (rc != HEARTH_OK)
            return rc;
        count++;
    }
    reverse(proof, 0, count);
    *n = count;
    return HEARTH_OK;
}

hearth_err_t tlog_consistency_proof(tlog_subtree_fn fn, void *user, uint64_t m, uint64_t size,
                                    uint8_t proof[TLOG_MAX_PROOF][TLOG_HASH_LEN], size_t *n,
                                    char **cause)
{
    *n = 0;
    if (size > MAX_TREE_SIZE) {
        hearth_cause_set(cause, "no proofs in a tree of more than 2^63 leaves");
        return HEARTH_ERR_USAGE;
    }
    if (m > size) {
        hearth_cause_set(cause, "no consistency proof from %llu leaves to fewer (%llu)",
                         (unsigned long long)m, (unsigned long long)size);
        return HEARTH_ERR_USAGE;
    }
    if (m == 0 || m == size)
        return HEARTH_OK;
    /* SUBPROOF(m, D[a:b], whole): the components found on the way down
     * come after the sub-proof, so they are gathered from slot 1 on and
     * reversed; slot 0 takes the base case's MTH, if any. */
    uint64_t a = 0, b = size;
    bool whole = true;
    size_t count = 1;
    hearth_err_t rc;
    while (m != b - a) {
        uint64_t k = split_point(b - a);
        if (m <= k) {
            rc = range_hash(fn, user, a + k, b, proof[count], cause);
            b = a + k;
        } else {
            rc = range_hash(fn, user, a, a + k, proof[count], cause);
            m -= k;
            a = a + k;
            whole = false;
        }
        if (rc != HEARTH_OK)
            return rc;
        count++;
    }
    reverse(proof, 1, count);
    if (whole) {
        /* The old tree is a whole left subtree: the verifier knows its
         * root already, so it is left out. */
        memmove(proof[0], proof[1], (count - 1) * TLOG_HASH_LEN);
        count--;
    } else {
        rc = range_hash(fn, user, a, b, proof[0], cause);
        if (rc != HEARTH_OK)
            return rc;
    }
    *n = count;
    return HEARTH_OK;
}

/* ---- verification (RFC 9162) ------------------------------------------- */

static bool hash_eq(const uint8_t a[TLOG_HASH_LEN], const uint8_t b[TLOG_HASH_LEN])
{
    return memcmp(a, b, TLOG_HASH_LEN) == 0;
}

bool tlog_verify_inclusion(const uint8_t leaf_hash[TLOG_HASH_LEN], uint64_t index, uint64_t size,
                           const uint8_t (*proof)[TLOG_HASH_LEN], size_t n,
                           const uint8_t root[TLOG_HASH_LEN])
{
    if (index >= size || n > TLOG_MAX_PROOF)
        return false;
    /* RFC 9162 section 2.1.3.2. */
    uint64_t fn = index, sn = size - 1;
    uint8_t r[TLOG_HASH_LEN];
    memcpy(r, leaf_hash, TLOG_HASH_LEN);
    for (size_t i = 0; i < n; i++) {
        if (sn == 0)
            return false;
        if ((fn & 1) != 0 || fn == sn) {
            tlog_node_hash(proof[i], r, r);
            while ((fn & 1) == 0 && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            tlog_node_hash(r, proof[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && hash_eq(r, root);
}

bool tlog_verify_consistency(uint64_t m, uint64_t size, const uint8_t root_m[TLOG_HASH_LEN],
                             const uint8_t root_n[TLOG_HASH_LEN],
                             const uint8_t (*proof)[TLOG_HASH_LEN], size_t n)
{
    if (m > size || n > TLOG_MAX_PROOF)
        return false;
    if (m == size)
        return n == 0 && hash_eq(root_m, root_n);
    if (m == 0)
        return n == 0;
    if (n == 0)
        return false;
    /* RFC 9162 section 2.1.4.2. When m is a power of two the old root is
     * the path's first component (the proof leaves it out); rather than
     * copy the proof to prepend it, `first` points at it. */
    bool pow2 = (m & (m - 1)) == 0;
    const uint8_t *first = pow2 ? root_m : proof[0];
    size_t next = pow2 ? 0 : 1;
    uint64_t fn = m - 1, sn = size - 1;
    while ((fn & 1) != 0) {
        fn >>= 1;
        sn >>= 1;
    }
    uint8_t fr[TLOG_HASH_LEN], sr[TLOG_HASH_LEN];
    memcpy(fr, first, TLOG_HASH_LEN);
    memcpy(sr, first, TLOG_HASH_LEN);
    for (size_t i = next; i < n; i++) {
        if (sn == 0)
            return false;
        if ((fn & 1) != 0 || fn == sn) {
            tlog_node_hash(proof[i], fr, fr);
            tlog_node_hash(proof[i], sr, sr);
            while ((fn & 1) == 0 && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            tlog_node_hash(sr, proof[i], sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && hash_eq(fr, root_m) && hash_eq(sr, root_n);
}

/* ---- compact range ----------------------------------------------------- */

void tlog_range_init(tlog_range_t *r)
{
    memset(r, 0, sizeof *r);
}

/* The hash the append of leaf_hash leaves at the right edge, after merging
 * it with the subtrees it completes; each merge is reported to emit (when
 * not NULL). *merges gets how many trailing subtrees were merged. */
static hearth_err_t append_step(const tlog_range_t *r, const uint8_t leaf_hash[TLOG_HASH_LEN],
                                tlog_emit_fn emit, void *user, uint8_t out[TLOG_HASH_LEN],
                                size_t *merges, char **cause)
{
    uint64_t index = r->size;
    size_t k = 0;
    memcpy(out, leaf_hash, TLOG_HASH_LEN);
    if (emit != NULL) {
        hearth_err_t rc = emit(user, 0, index, out, cause);
        if (rc != HEARTH_OK)
            return rc;
    }
    /* Each trailing one bit of the old size is a subtree the new leaf's
     * side now matches in height. */
    for (uint64_t s = index; (s & 1) != 0; s >>= 1) {
        tlog_node_hash(r->hashes[r->n - 1 - k], out, out);
        k++;
        if (emit != NULL) {
            hearth_err_t rc = emit(user, (unsigned)k, index >> k, out, cause);
            if (rc != HEARTH_OK)
                return rc;
        }
    }
    *merges = k;
    return HEARTH_OK;
}

void tlog_range_append(tlog_range_t *r, const uint8_t leaf_hash[TLOG_HASH_LEN])
{
    uint8_t h[TLOG_HASH_LEN];
    size_t merges = 0;
    (void)append_step(r, leaf_hash, NULL, NULL, h, &merges, NULL);
    r->n -= merges;
    memcpy(r->hashes[r->n], h, TLOG_HASH_LEN);
    r->n++;
    r->size++;
}

void tlog_range_root(const tlog_range_t *r, uint8_t root[TLOG_HASH_LEN])
{
    if (r->n == 0) {
        tlog_empty_root(root);
        return;
    }
    memcpy(root, r->hashes[r->n - 1], TLOG_HASH_LEN);
    for (size_t i = r->n - 1; i-- > 0;)
        tlog_node_hash(r->hashes[i], root, root);
}

hearth_err_t tlog_range_append_emit(tlog_range_t *r, const uint8_t leaf_hash[TLOG_HASH_LEN],
                                    tlog_emit_fn emit, void *user, char **cause)
{
    uint8_t h[TLOG_HASH_LEN];
    size_t merges = 0;
    /* The range changes only once every emit has succeeded, so a failed
     * store leaves it as it was. */
    hearth_err_t rc = append_step(r, leaf_hash, emit, user, h, &merges, cause);
    if (rc != HEARTH_OK)
        return rc;
    r->n -= merges;
    memcpy(r->hashes[r->n], h, TLOG_HASH_LEN);
    r->n++;
    r->size++;
    return HEARTH_OK;
}

/* ---- a whole tree in memory -------------------------------------------- */

typedef struct {
    uint8_t (*h)[TLOG_HASH_LEN];
    size_t n, cap;
} level_t;

struct tlog_memtree_t {
    uint64_t size;
    unsigned nlevels;
    level_t levels[64]; /* levels[l] holds every perfect subtree of height l */
};

tlog_memtree_t *tlog_memtree_new(void)
{
    return hearth_calloc(1, sizeof(tlog_memtree_t));
}

void tlog_memtree_destroy(tlog_memtree_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    tlog_memtree_t *self = *self_p;
    for (unsigned l = 0; l < self->nlevels; l++)
        free(self->levels[l].h);
    free(self);
    *self_p = NULL;
}

static void level_push(level_t *lv, const uint8_t hash[TLOG_HASH_LEN])
{
    if (lv->n == lv->cap) {
        lv->cap = lv->cap ? 2 * lv->cap : 16;
        lv->h = hearth_reallocarray(lv->h, lv->cap, TLOG_HASH_LEN);
    }
    memcpy(lv->h[lv->n++], hash, TLOG_HASH_LEN);
}

void tlog_memtree_append_hash(tlog_memtree_t *self, const uint8_t leaf_hash[TLOG_HASH_LEN])
{
    uint8_t h[TLOG_HASH_LEN];
    memcpy(h, leaf_hash, TLOG_HASH_LEN);
    for (unsigned l = 0;; l++) {
        if (l == self->nlevels)
            self->nlevels++;
        level_t *lv = &self->levels[l];
        level_push(lv, h);
        /* An even count means the last two siblings completed their parent. */
        if (lv->n % 2 != 0 || l + 1 == 64)
            break;
        tlog_node_hash(lv->h[lv->n - 2], lv->h[lv->n - 1], h);
    }
    self->size++;
}

void tlog_memtree_append(tlog_memtree_t *self, const uint8_t *leaf, size_t len)
{
    uint8_t h[TLOG_HASH_LEN];
    tlog_leaf_hash(leaf, len, h);
    tlog_memtree_append_hash(self, h);
}

uint64_t tlog_memtree_size(const tlog_memtree_t *self)
{
    return self->size;
}

hearth_err_t tlog_memtree_subtree(void *user, unsigned level, uint64_t index,
                                  uint8_t out[TLOG_HASH_LEN], char **cause)
{
    const tlog_memtree_t *self = user;
    if (level >= self->nlevels || index >= self->levels[level].n) {
        hearth_cause_set(cause, "the tree of %llu leaves has no subtree at level %u, "
                         "index %llu", (unsigned long long)self->size, level,
                         (unsigned long long)index);
        return HEARTH_ERR_NOT_FOUND;
    }
    memcpy(out, self->levels[level].h[index], TLOG_HASH_LEN);
    return HEARTH_OK;
}
