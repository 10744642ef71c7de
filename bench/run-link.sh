#!/bin/bash
# run-link.sh BUILD_DIR [N] — EXISTS across two nodes with N persons each
# (default 1 000 000), half of them shared, end to end through the gateway,
# against a plain sqlite3 join of the same stored tokens pooled into one
# indexed database, in the same run.
#
# bench_linkdata writes a/people.csv (persons 0..N-1, with ward) and
# b/people.csv (persons N/2..3N/2-1, with tenure); every person has a valid
# NHS number and a unique date of birth + sex + postcode, so exactly N/2
# persons of a exist at b. `hearth sandbox` ingests both and starts a
# gateway and two nodes. Each timed run is a whole `hearth query` process:
#
#   SELECT ward, COUNT(PERSONS) FROM a.people
#   WHERE EXISTS (SELECT * FROM b.people) GROUP BY ward
#
# The nodes re-key every stored token for the query and send N persons
# each; the gateway links 2N persons through their tokens. The gateway's
# peak resident memory (VmHWM) is read after the runs.
#
# Baseline: both nodes' token tables are copied into one sqlite3 database
# (the central linkage hearth avoids), indexed on the tokens, and the same
# question is timed there with sqlite3's .timer (the query alone):
#
#   SELECT ward, COUNT(DISTINCT person) FROM a WHERE
#     EXISTS (SELECT 1 FROM b WHERE b.t_nhs = a.t_nhs) OR
#     EXISTS (SELECT 1 FROM b WHERE b.t_dsp = a.t_dsp) GROUP BY ward
#
# Targets (issue 4): hearth p50 < 500 ms; gateway peak RSS <= 200 MB.
# RUNS (default 10) timed runs after two untimed ones. Build as Release.
set -euo pipefail
export LC_ALL=C

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [N]" >&2
    exit 2
fi
build=$1
n=${2:-1000000}
runs=${RUNS:-10}
bin=$build/bin
command -v sqlite3 >/dev/null || { echo "$0: sqlite3 is not installed" >&2; exit 1; }
for prog in hearth hearth-node hearth-gateway bench_linkdata; do
    [ -x "$bin/$prog" ] || { echo "$0: $bin/$prog is not built" >&2; exit 1; }
done

work=$(mktemp -d)
# shellcheck source=bench/sandbox-lib.sh
. "$(dirname "$0")/sandbox-lib.sh"
trap sandbox_cleanup EXIT


# --- hearth -------------------------------------------------------------------
"$bin/bench_linkdata" "$work/data" "$n"
sandbox_start "$work/data"
state=$work/data/.hearth

q="SELECT ward, COUNT(PERSONS) FROM a.people WHERE EXISTS (SELECT * FROM b.people) GROUP BY ward"

# The released total must be the N/2 shared persons, rounded to 5, so that
# what is timed is a correct answer.
out=$("$bin/hearth" query --config "$config" --format csv "$q")
got=$(printf '%s\n' "$out" | awk -F, '$1 == "Total" { print $2 }')
want=$(( (n / 2 + 2) / 5 * 5 ))
if [ "$got" != "$want" ]; then
    echo "$0: released total '$got', expected $want:" >&2
    printf '%s\n' "$out" >&2
    exit 1
fi
"$bin/hearth" query --config "$config" --format csv "$q" >/dev/null
times=$(for ((i = 0; i < runs; i++)); do
            a=$EPOCHREALTIME
            "$bin/hearth" query --config "$config" --format csv "$q" >/dev/null ||
                { echo "$0: hearth query failed" >&2; exit 1; }
            b=$EPOCHREALTIME
            ms "$a" "$b"
        done)
p50=$(printf '%s\n' "$times" | pct 50)
p90=$(printf '%s\n' "$times" | pct 90)
gw_pid=$(pgrep -f "hearth-gateway.*$state" | head -1 || true)
[ -n "$gw_pid" ] || { echo "$0: cannot find the gateway process" >&2; exit 1; }
rss_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$gw_pid/status")

sandbox_stop

# --- baseline: the same tokens pooled centrally -------------------------------
pool=$work/pool.db
sqlite3 "$pool" <<SQL
ATTACH '$state/nodes/a/node.db' AS na;
ATTACH '$state/nodes/b/node.db' AS nb;
CREATE TABLE a AS SELECT person, t_nhs, t_dsp, a0 AS ward FROM na.d_1;
CREATE TABLE b AS SELECT person, t_nhs, t_dsp FROM nb.d_1;
CREATE INDEX b_nhs ON b(t_nhs);
CREATE INDEX b_dsp ON b(t_dsp);
SQL
sql="SELECT ward, COUNT(DISTINCT person) FROM a WHERE
  EXISTS (SELECT 1 FROM b WHERE b.t_nhs = a.t_nhs) OR
  EXISTS (SELECT 1 FROM b WHERE b.t_dsp = a.t_dsp) GROUP BY ward;"
pooled_total=$(sqlite3 "$pool" "$sql" | awk -F'|' '{ s += $2 } END { print s }')
[ "$pooled_total" = "$((n / 2))" ] ||
    { echo "$0: the pooled join found $pooled_total persons, expected $((n / 2))" >&2; exit 1; }
sqlite_runs=3
sqlite_p50=$({ echo ".timer on"; for ((i = 0; i < sqlite_runs; i++)); do echo "$sql"; done; } |
             sqlite3 "$pool" | awk '/^Run Time: real/ { print $4 * 1000 }' | pct 50)

awk -v n="$n" -v runs="$runs" -v ready="$ready_s" -v p50="$p50" -v p90="$p90" \
    -v rss="$rss_kb" -v s="$sqlite_p50" -v sr="$sqlite_runs" 'BEGIN {
    printf "persons per node                        %d (half shared)\n", n;
    printf "sandbox ready (2 ingests, nodes up)     %s s\n", ready;
    printf "hearth EXISTS query                     p50 %.1f ms  p90 %.1f ms  (%d runs)\n", p50, p90, runs;
    printf "gateway peak RSS (VmHWM)                %.1f MB\n", rss / 1024;
    printf "sqlite3 pooled join                     p50 %.1f ms  (%d runs, .timer)\n", s, sr;
    printf "ratio pooled join / hearth (p50)        %.2f\n", s / p50;
    printf "target p50 < 500 ms                     %s\n", p50 < 500 ? "met" : "NOT met";
    printf "target gateway RSS <= 200 MB            %s\n", rss / 1024 <= 200 ? "met" : "NOT met";
}'
