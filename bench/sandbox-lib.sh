# sandbox-lib.sh — shared by the benchmarks that time queries end to end
# through `hearth sandbox` (run-query.sh, run-link.sh). Source it after
# setting `bin` (the built programs) and `work` (a scratch folder); it
# sets `sandbox_pid` and `config`, and the caller's EXIT trap should call
# sandbox_cleanup.

sandbox_pid=
config=

# Stops the sandbox if it is still running, and removes the scratch folder.
sandbox_cleanup() {
    if [ -n "$sandbox_pid" ]; then
        kill -TERM "$sandbox_pid" 2>/dev/null || true
        wait "$sandbox_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}

# Wall-clock milliseconds between two $EPOCHREALTIME readings (no process
# is started to read the clock, so nothing but the command is timed).
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", (b - a) * 1000 }'; }

# The p-th percentile (nearest rank) of the numbers on standard input.
pct() {
    sort -n | awk -v p="$1" '{ v[NR] = $1 } END {
        i = int((p * NR + 99) / 100); if (i < 1) i = 1; printf "%.1f", v[i] }'
}

# Starts `hearth sandbox DATA_DIR` in the background and waits (up to ten
# minutes) for its client config; sets config, and ready_s to the seconds
# it took. Exits the script if the sandbox dies or is never ready.
sandbox_start() {
    local data=$1 t0 t1
    t0=$EPOCHREALTIME
    "$bin/hearth" sandbox "$data" > "$work/sandbox.out" 2> "$work/sandbox.log" &
    sandbox_pid=$!
    for ((i = 0; i < 2400; i++)); do
        config=$(sed -n 's/^HEARTH_CLIENT_CONFIG=//p' "$work/sandbox.out" 2>/dev/null || true)
        [ -n "$config" ] && break
        if ! kill -0 "$sandbox_pid" 2>/dev/null; then
            echo "$0: hearth sandbox exited before it was ready; its log ends:" >&2
            tail -20 "$work/sandbox.log" >&2
            sandbox_pid=
            exit 1
        fi
        sleep 0.25
    done
    [ -n "$config" ] || { echo "$0: hearth sandbox was not ready within 10 minutes" >&2; exit 1; }
    t1=$EPOCHREALTIME
    ready_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
}

# Stops the sandbox and checks it stopped cleanly.
sandbox_stop() {
    kill -TERM "$sandbox_pid"
    wait "$sandbox_pid" || { echo "$0: hearth sandbox did not stop cleanly" >&2; exit 1; }
    sandbox_pid=
}
