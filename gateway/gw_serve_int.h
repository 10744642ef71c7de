/* gw_serve_int — what the gateway's serve loop shares between its three
 * files, and nothing else includes:
 *   gw_serve.c   the loop: sockets, messages in, the turn's audit batch
 *                committed (flush), then what it describes sent;
 *   gw_admit.c   a query arriving: parsed, planned, its project checked,
 *                logged as received, accepted or refused, and dispatched
 *                with its audit proofs once the batch has committed;
 *   gw_answer.c  the nodes' answers: chunks linked, receipts checked and
 *                logged, the result released and logged, the reply held
 *                until the batch commits.
 * One thread runs all of it; nothing here is locked. */
#ifndef GW_SERVE_INT_H
#define GW_SERVE_INT_H

#include "gw_audit.h"
#include "gw_config.h"
#include "gw_dp.h"
#include "gw_journal.h"
#include "gw_link.h"
#include "gw_plan.h"
#include "gw_policy.h"
#include "gw_rate.h"
#include "gw_result.h"
#include "gw_store.h"
#include "gw_zap.h"
#include "keys_sign.h"
#include "proto_wire.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LOG "gateway"
/* Queries in flight at once; more are refused as busy rather than queued
 * without bound. */
#define GW_MAX_PENDING 256
#define QUERY_ID_LEN 32
/* Messages queued from one peer (see bind_server). */
#define GW_PEER_QUEUE 16
/* Bounds on one linked query's persons and tokens, all parts together. The
 * linker holds about 37 bytes per token (150 MB for 4 M tokens measured,
 * docs/benchmarks.md), so 60 M tokens is some 2.2 GB: the most a gateway
 * host should give one query (and within the linker's own cap of 2^26
 * distinct tokens). Partners of several million people each fit; past
 * these the query is refused rather than the gateway exhausting memory. */
#define GW_LINK_MAX_PERSONS ((size_t)30 * 1000 * 1000)
#define GW_LINK_MAX_TOKENS ((size_t)60 * 1000 * 1000)
/* Distinct cells the cohorts of one linked query may list, as many as one
 * message may carry groups; the release limit (max_cells) applies later to
 * the cells anyone counts in. */
#define GW_LINK_MAX_CELLS ((size_t)PROTO_MAX_REPEATED)
/* Linked queries being answered at once: each may hold its linker's
 * memory (about 150 MB for two partners of a million people), so more
 * are refused as busy rather than let memory grow with the queue. */
#define GW_MAX_LINKING 2
/* Messages read from each socket in one turn of the loop, all of them
 * audited in one batch. */
#define GW_TURN_MESSAGES 64

typedef struct {
    const char *name;           /* borrowed from the config */
    bool connected;
    proto_peer_t peer;
    Hearth__Envelope *hello;    /* owned: the last announcement */
    /* The size of the last audit checkpoint the node has been shown (from
     * its Hello, then each dispatch), so that the next dispatch proves
     * its checkpoint consistent with that one. */
    uint64_t audit_size;
} gw_node_t;

/* Where one part of a query stands. */
typedef struct {
    /* Owned: an AGGREGATE part's answer, or any part's refusal (ok false)
     * kept for its reason. COHORT and TARGET chunks are never kept: each
     * goes to the linker as it arrives and is freed. */
    Hearth__Envelope *answer;
    uint32_t next_chunk;        /* the chunk number expected next */
    bool done;                  /* its last message (more false) has arrived */
    const char *fault;          /* static: what was wrong with its answer, if anything */
    uint32_t ms;                /* when its latest message arrived */
    uint64_t leaf;              /* index of its DISPATCHED leaf */
} gw_part_state_t;

typedef struct {
    bool used;
    char query_id[QUERY_ID_LEN + 1];
    proto_peer_t client;
    char analyst[GW_NAME_MAX + 1];
    gw_plan_t *plan;
    gw_part_state_t *parts;      /* owned, one per plan part */
    size_t ndone;
    /* A part failed: nothing more is linked; the query waits only for
     * every part to end (or the deadline) so the node statuses are true. */
    bool failed;
    gw_link_t *link;             /* owned; linked queries until finished or failed */
    gw_result_cells_t *cells;    /* owned; linked queries */
    uint64_t started, deadline;
    /* The rules resolved when the query arrived (its project, the floors
     * of the nodes it touches), so a node that reconnects with another
     * floor meanwhile changes nothing for it. */
    gw_policy_t policy;
    /* The query's fingerprint for the differencing check (gw_diff). */
    char family[65];
    char **conjuncts;            /* owned: gw_diff_conjuncts */
    size_t nconjuncts;
    /* For the audit log: the project named, when the query arrived and
     * when its parts were logged as dispatched (wall clock), and whether
     * they still wait for this turn's batch to commit before being sent. */
    char project[GW_NAME_MAX + 1];
    uint64_t received_ms, dispatched_ms;
    bool awaiting_commit;
} gw_pending_t;

/* A reply held until this turn's audit batch has committed: an analyst
 * sees no answer that the log does not already hold. */
typedef struct {
    proto_peer_t client;
    Hearth__QueryResult *result;  /* owned */
    char analyst[GW_NAME_MAX + 1];
    uint64_t started;
} gw_deferred_t;

typedef struct {
    const gw_config_t *cfg;
    void *ctx;
    gw_zap_t *zap;
    void *nodes_sock;
    void *analysts_sock;
    gw_node_t *nodes;
    gw_store_t *store;           /* owned: the gateway's database */
    gw_dp_rng_t *rng;            /* owned: OpenSSL's CSPRNG, for DP noise */
    gw_rate_t *rate;             /* owned: max_queries_per_hour */
    keys_signer_t *signer;       /* owned: the audit log's signing key */
    gw_audit_t *audit;           /* owned: the audit log */
    gw_journal_t *journal;       /* owned: this turn's audit batch */
    gw_deferred_t *replies;      /* owned: held until the batch commits */
    size_t nreplies, replies_cap;
    gw_pending_t pending[GW_MAX_PENDING];
} gw_t;

#ifdef HEARTH_TEST_HOOKS
/* Test builds only (hearth-gateway-test): HEARTH_TEST_HOOK names a fault
 * to act out, so that tests can show what the nodes and the log do then. */
static inline bool gw_serve_test_hook(const char *name)
{
    const char *h = getenv("HEARTH_TEST_HOOK");
    return h && strcmp(h, name) == 0;
}
#else
static inline bool gw_serve_test_hook(const char *name)
{
    (void)name;
    return false;
}
#endif

/* ---- gw_answer.c ----------------------------------------------------------- */

/* Sends r to client now (the caller has made sure the log holds it). */
void gw_answer_reply(gw_t *self, const proto_peer_t *client, Hearth__QueryResult *r);

/* Appends ev to this turn's audit batch; a failure fails the whole batch. */
void gw_answer_record(gw_t *self, const audit_event_t *ev, const gw_audit_index_t *ix,
                      uint64_t *index);

/* Logs r (taken) as a query's outcome and holds it until the batch commits. */
void gw_answer_finish(gw_t *self, const proto_peer_t *client, const char *analyst,
                      Hearth__QueryResult *r, uint64_t started, const gw_audit_index_t *ix,
                      bool timed_out);

/* The index columns of p's audit leaves. */
gw_audit_index_t gw_answer_index(const gw_pending_t *p);

/* Frees what p owns and marks its slot free. */
void gw_answer_release(gw_pending_t *p);

/* Marks part k of p faulty (the first fault stays) and fails the query. */
void gw_answer_part_fault(gw_pending_t *p, size_t k, const char *fault);

/* Every part of p has ended, or its deadline passed: release or refuse. */
void gw_answer_complete(gw_t *self, gw_pending_t *p, bool timed_out);

/* One SubResult (env, taken) for part k of p. */
void gw_answer_part(gw_t *self, gw_pending_t *p, size_t k, Hearth__Envelope *env);

/* Answers a query whose record could not be committed, without logging. */
void gw_answer_unlogged(gw_t *self, const proto_peer_t *client, const char *query_id,
                        const char *reason);

/* ---- gw_admit.c ------------------------------------------------------------ */

/* A query from analyst: logged and either refused (the reply held until
 * the batch commits) or accepted, its parts waiting for the commit. */
void gw_admit_query(gw_t *self, const proto_peer_t *client, const char *analyst,
                    const Hearth__QueryRequest *req);

/* Sends the parts of every query the committed batch accepted, with their
 * proofs against its checkpoint `note` of `size` leaves. */
void gw_admit_send(gw_t *self, const char *note, uint64_t size);

/* The configured analyst called name, or NULL. */
const gw_peer_t *gw_admit_analyst(gw_t *self, const char *name);

#endif
