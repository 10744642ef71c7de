#!/bin/bash
# run-audit.sh BUILD_DIR [PEOPLE] — gateway throughput for small count
# queries with the durable audit log (issue 6), against the rate at which
# the same machine commits durable SQLite transactions, in the same run.
#
# `hearth sandbox` runs a gateway and the four synthetic partners
# (hearth-synth, PEOPLE residents, default 20 000). bench_load then asks a
# small grouped count of one node (THREADS connections, each asking back
# to back, so up to THREADS questions are in flight) and prints queries
# per second and latency. Every query is appended to the audit log and
# committed (WAL, synchronous=FULL) before any node sees it, its outcome
# before the analyst does; the gateway commits once per turn of its loop
# for everything that arrived meanwhile (group commit), with one signed
# checkpoint per commit. The baseline is sqlite3 itself committing one
# small row per transaction in WAL mode with synchronous=FULL: the most
# queries per second a gateway that committed each query on its own could
# reach. The audit cost per query is read from the gateway's database
# afterwards: leaves, checkpoints (= commits) and bytes per query.
# Target (issue 6): >= 500 queries/s on 2 cores.
#
# bench_audit first times the audit log alone in the gateway's own code:
# one query's five leaves, a signed checkpoint and a durable commit, against
# one durable commit of a row of the same size on the same file.
#
# QUERIES (default 3000) per run; runs with 1 and 16 connections.
set -euo pipefail
export LC_ALL=C

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [PEOPLE]" >&2
    exit 2
fi
build=$1
people=${2:-20000}
queries=${QUERIES:-3000}
bin=$build/bin
command -v sqlite3 >/dev/null || { echo "$0: sqlite3 is not installed" >&2; exit 1; }
for prog in hearth hearth-synth hearth-node hearth-gateway bench_load bench_audit; do
    [ -x "$bin/$prog" ] || { echo "$0: $bin/$prog is not built" >&2; exit 1; }
done

work=$(mktemp -d)
# shellcheck source=bench/sandbox-lib.sh
. "$(dirname "$0")/sandbox-lib.sh"
trap sandbox_cleanup EXIT

# --- baseline: durable single-row commits in sqlite3 --------------------------
base_n=500
{
    echo "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
    echo "CREATE TABLE t(i INTEGER PRIMARY KEY, v BLOB);"
    for ((i = 0; i < base_n; i++)); do echo "INSERT INTO t(v) VALUES (randomblob(200));"; done
} > "$work/commits.sql"
t0=$EPOCHREALTIME
sqlite3 "$work/commits.db" < "$work/commits.sql" > /dev/null
t1=$EPOCHREALTIME
commits_s=$(awk -v a="$t0" -v b="$t1" -v n="$base_n" 'BEGIN { printf "%.1f", n / (b - a) }')

# --- the audit log alone --------------------------------------------------------
"$bin/bench_audit" "$work/audit" 2000

# --- the partnership ----------------------------------------------------------
"$bin/hearth-synth" --out "$work/data" --people "$people" --seed 5 >/dev/null
sandbox_start "$work/data"
state=$(dirname "$config")
sql="SELECT age_band, COUNT(*) FROM trust.ae_attendances GROUP BY age_band"
"$bin/hearth" query --config "$config" "$sql" > /dev/null   # warm

leaves0=$(sqlite3 "$state/gateway.db" "SELECT count(*) FROM audit_leaves")
cps0=$(sqlite3 "$state/gateway.db" "SELECT count(*) FROM audit_checkpoints")
bytes0=$(sqlite3 "$state/gateway.db" "SELECT coalesce(sum(length(data)), 0) FROM audit_leaves")

serial=$("$bin/bench_load" "$config" $((queries / 10)) 1 "$sql")
parallel=$("$bin/bench_load" "$config" "$queries" 16 "$sql")

leaves1=$(sqlite3 "$state/gateway.db" "SELECT count(*) FROM audit_leaves")
cps1=$(sqlite3 "$state/gateway.db" "SELECT count(*) FROM audit_checkpoints")
bytes1=$(sqlite3 "$state/gateway.db" "SELECT coalesce(sum(length(data)), 0) FROM audit_leaves")
sandbox_stop

asked=$((queries / 10 + queries))
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<< "$2"; }
qps=$(field qps "$parallel")
echo "durable sqlite3 commits (WAL, synchronous=FULL, one row each): $commits_s /s"
echo "1 connection:   $serial"
echo "16 connections: $parallel"
awk -v q="$qps" -v c="$commits_s" 'BEGIN { printf "throughput: %.1f queries/s = %.2fx durable commits/s (target >= 500 queries/s)\n", q, q / c }'
awk -v l=$((leaves1 - leaves0)) -v k=$((cps1 - cps0)) -v b=$((bytes1 - bytes0)) -v n="$asked" \
    'BEGIN { printf "audit per query: %.1f leaves, %.0f bytes of leaves, %.3f commits (one signed checkpoint each)\n", l / n, b / n, k / n }'
