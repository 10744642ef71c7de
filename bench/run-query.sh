#!/bin/bash
# run-query.sh BUILD_DIR [PEOPLE] — a grouped COUNT(*) over 4 nodes x ~1 M rows,
# end to end through the gateway, against sqlite3 running the same GROUP BY
# on the slowest node's raw table, in the same run.
#
# The synthetic trust A&E extract (1 700 000 residents give 1 017 990 rows)
# is copied to four node folders n1..n4 as ae.csv, and `hearth sandbox`
# starts a gateway and four nodes on them. Each timed run is a whole
# `hearth query` process: the client's start-up, its CURVE handshake with
# the gateway, planning, the four nodes' answers, disclosure control and
# rendering. The question is asked of the UNION of the four nodes and of
# one node alone. The baseline imports each node's CSV into a plain sqlite3
# database (.import) and times `SELECT ward, COUNT(*) FROM t GROUP BY ward`
# there with sqlite3's own timer; the slowest node's median is the figure.
# Target (issue 3): hearth's p50 <= 20 ms end to end.
#
# RUNS (default 30) sets the number of timed runs of each question, after
# three untimed ones. Build BUILD_DIR as Release.
set -euo pipefail
export LC_ALL=C

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [PEOPLE]" >&2
    exit 2
fi
build=$1
people=${2:-1700000}
runs=${RUNS:-30}
bin=$build/bin
nodes="n1 n2 n3 n4"
command -v sqlite3 >/dev/null || { echo "$0: sqlite3 is not installed" >&2; exit 1; }
for prog in hearth hearth-synth hearth-node hearth-gateway; do
    [ -x "$bin/$prog" ] || { echo "$0: $bin/$prog is not built" >&2; exit 1; }
done

work=$(mktemp -d)
# shellcheck source=bench/sandbox-lib.sh
. "$(dirname "$0")/sandbox-lib.sh"
trap sandbox_cleanup EXIT


# --- data -------------------------------------------------------------------
"$bin/hearth-synth" --out "$work/synth" --people "$people" --seed 3 >/dev/null
src=$work/synth/trust/ae_attendances.csv
rows=$(($(wc -l < "$src") - 1))
for n in $nodes; do
    mkdir -p "$work/data/$n"
    cp "$src" "$work/data/$n/ae.csv"
done
rm -rf "$work/synth"

# --- baseline: sqlite3 on each node's raw table -------------------------------
# One sqlite3 session per node runs the GROUP BY RUNS times under .timer;
# "Run Time: real S ..." is the query alone, without sqlite3's start-up.
sqlite_slowest=0
sqlite_cli_slowest=0
sql_group="SELECT ward, COUNT(*) FROM t GROUP BY ward;"
for n in $nodes; do
    db=$work/$n.db
    sqlite3 "$db" ".import --csv $work/data/$n/ae.csv t"
    script=$work/$n.sql
    { echo ".timer on"; for ((i = 0; i < runs + 3; i++)); do echo "$sql_group"; done; } > "$script"
    p50=$(sqlite3 "$db" < "$script" | awk '/^Run Time: real/ { n++; if (n > 3) print $4 * 1000 }' |
          pct 50)
    # The sqlite3 program end to end, start-up included, for reference.
    cli=$(for ((i = 0; i < runs; i++)); do
              t0=$EPOCHREALTIME; sqlite3 "$db" "$sql_group" >/dev/null; t1=$EPOCHREALTIME
              ms "$t0" "$t1"
          done | pct 50)
    sqlite_slowest=$(awk -v a="$sqlite_slowest" -v b="$p50" 'BEGIN { print (b > a ? b : a) }')
    sqlite_cli_slowest=$(awk -v a="$sqlite_cli_slowest" -v b="$cli" 'BEGIN { print (b > a ? b : a) }')
    rm -f "$db" "$script"
done

# --- hearth -------------------------------------------------------------------
sandbox_start "$work/data"

q_union="SELECT ward, COUNT(*) FROM n1.ae UNION n2.ae UNION n3.ae UNION n4.ae GROUP BY ward"
q_one="SELECT ward, COUNT(*) FROM n1.ae GROUP BY ward"

# Asks sql once and checks the released total is the rows it covers,
# rounded to 5, so that what is timed is a correct answer.
check_total() {
    local sql=$1 want=$2 out
    out=$("$bin/hearth" query --config "$config" --format csv "$sql")
    local got
    got=$(printf '%s\n' "$out" | awk -F, '$1 == "Total" { print $2 }')
    if [ "$got" != "$(( (want + 2) / 5 * 5 ))" ]; then
        echo "$0: '$sql' released total '$got', expected $want rounded to 5:" >&2
        printf '%s\n' "$out" >&2
        exit 1
    fi
}

# Prints the wall time of RUNS runs of sql in ms, one per line, after three
# untimed runs.
time_query() {
    local sql=$1
    for ((i = 0; i < 3; i++)); do
        "$bin/hearth" query --config "$config" --format csv "$sql" >/dev/null
    done
    for ((i = 0; i < runs; i++)); do
        local a=$EPOCHREALTIME
        "$bin/hearth" query --config "$config" --format csv "$sql" >/dev/null ||
            { echo "$0: hearth query failed: $sql" >&2; exit 1; }
        local b=$EPOCHREALTIME
        ms "$a" "$b"
    done
}

# The floor under every query: the client's start-up and CURVE handshake,
# and one round trip to the gateway, with no node involved.
status_times=$(for ((i = 0; i < runs; i++)); do
                   a=$EPOCHREALTIME; "$bin/hearth" status --config "$config" >/dev/null
                   b=$EPOCHREALTIME; ms "$a" "$b"
               done)
status_p50=$(printf '%s\n' "$status_times" | pct 50)

check_total "$q_union" $((4 * rows))
check_total "$q_one" "$rows"
union_times=$(time_query "$q_union")
one_times=$(time_query "$q_one")
union_p50=$(printf '%s\n' "$union_times" | pct 50)
union_p90=$(printf '%s\n' "$union_times" | pct 90)
one_p50=$(printf '%s\n' "$one_times" | pct 50)
one_p90=$(printf '%s\n' "$one_times" | pct 90)

sandbox_stop

awk -v rows="$rows" -v runs="$runs" -v ready="$ready_s" \
    -v u50="$union_p50" -v u90="$union_p90" -v o50="$one_p50" -v o90="$one_p90" \
    -v s="$sqlite_slowest" -v c="$sqlite_cli_slowest" -v st="$status_p50" 'BEGIN {
    printf "rows per node                           %d (4 nodes, %d in all)\n", rows, 4 * rows;
    printf "sandbox ready (4 ingests, nodes up)     %s s\n", ready;
    printf "hearth query, UNION of 4 nodes          p50 %.1f ms  p90 %.1f ms  (%d runs)\n", u50, u90, runs;
    printf "hearth query, 1 node                    p50 %.1f ms  p90 %.1f ms  (%d runs)\n", o50, o90, runs;
    printf "hearth status (start-up, no node)       p50 %.1f ms\n", st;
    printf "sqlite3 GROUP BY, slowest node          p50 %.1f ms  (query alone, .timer)\n", s;
    printf "sqlite3 program, slowest node           p50 %.1f ms  (start-up included)\n", c;
    printf "ratio sqlite3 / hearth UNION (p50)      %.2f\n", s / u50;
    printf "ratio sqlite3 / hearth 1 node (p50)     %.2f\n", s / o50;
    printf "target p50 <= 20 ms end to end          %s\n", u50 <= 20 ? "met" : "NOT met";
}'
