#!/bin/sh
# run-ingest.sh BUILD_DIR [PEOPLE] — CSV ingest rate of `hearth-node ingest`
# against `sqlite3 .import` of the same file, in the same run.
#
# The file is the synthetic trust A&E extract (8 columns, identifiers in
# messy formats). hearth-node parses it, normalises four identifiers,
# computes two HMAC-SHA256 tokens per row, links rows into persons and
# stores tokens and attributes in one transaction; sqlite3 only parses and
# inserts text. Both write to a fresh database on the same disk. Target:
# ratio >= 1.0 (hearth at least as fast). Build BUILD_DIR as Release.
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [PEOPLE]" >&2
    exit 2
fi
build=$1
people=${2:-1700000}
bin=$build/bin
command -v sqlite3 >/dev/null || { echo "$0: sqlite3 is not installed" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bin/hearth-synth" --out "$work/data" --people "$people" --seed 3 >/dev/null
csv=$work/data/trust/ae_attendances.csv
rows=$(($(wc -l < "$csv") - 1))

now() { date +%s.%N; }

# Baselines: sqlite3's own CSV import into a fresh file with its default
# rollback journal (as a node's database runs), and in WAL mode for
# reference.
tp0=$(now)
sqlite3 "$work/plain.db" ".import --csv $csv ae" >/dev/null
tp1=$(now)
t0=$(now)
sqlite3 "$work/wal.db" "PRAGMA journal_mode=WAL;" ".import --csv $csv ae" >/dev/null
t1=$(now)

# hearth: a node with its own keys and config.
mkdir -p "$work/node"
"$bin/hearth-keys" linkage-key "$work/node/linkage.key" >/dev/null
"$bin/hearth-keys" keypair "$work/node/node" >/dev/null
"$bin/hearth-keys" keypair "$work/node/gateway" >/dev/null
cat > "$work/node/node.ini" <<INI
[node]
name = trust
database = node.db
linkage_key = linkage.key
curve_key = node.key
[gateway]
endpoint = tcp://127.0.0.1:1
public_key = gateway.pub
INI
t2=$(now)
"$bin/hearth-node" ingest --config "$work/node/node.ini" ae_attendances "$csv" >/dev/null
t3=$(now)

awk -v rows="$rows" -v p="$tp0" -v q="$tp1" -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN {
    plain = rows / (q - p); base = rows / (b - a); ours = rows / (d - c);
    printf "rows                          %d\n", rows;
    printf "sqlite3 .import (default)     %.0f rows/s (%.2f s)\n", plain, q - p;
    printf "sqlite3 .import (WAL)         %.0f rows/s (%.2f s)\n", base, b - a;
    printf "hearth-node ingest            %.0f rows/s (%.2f s)\n", ours, d - c;
    printf "ratio hearth/sqlite3 default  %.2f\n", ours / plain;
    printf "ratio hearth/sqlite3 WAL      %.2f\n", ours / base;
}'
