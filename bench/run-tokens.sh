#!/bin/sh
# run-tokens.sh BUILD_DIR — token rate of keys_token_hmac against OpenSSL's
# own HMAC-SHA256 on the same machine, one core each, 16-byte messages; and
# the rate at which a node re-keys stored 32-byte tokens for a linked query
# (keys_token_requery_many, on the SHA extensions where the CPU has them
# and with HEARTH_SHA_NI=0 without) against OpenSSL's HMAC of 32 bytes.
#
# The target is a ratio of at least 0.8. Both sides divide by CPU time
# (openssl speed's default; bench_tokens uses the process CPU clock). Build
# BUILD_DIR as Release without sanitizers for meaningful figures:
#   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release
#   cmake --build build-rel --target bench_tokens
#   bench/run-tokens.sh build-rel
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
build=$1
bench=$build/bin/bench_tokens
if [ ! -x "$bench" ]; then
    echo "$0: $bench not found; build it with: cmake --build $build --target bench_tokens" >&2
    exit 1
fi
cache=$build/CMakeCache.txt
if [ -f "$cache" ]; then
    if grep -q '^HEARTH_SANITIZE:BOOL=ON' "$cache"; then
        echo "$0: warning: $build is built with sanitizers; figures will be low" >&2
    fi
    if grep -q '^CMAKE_BUILD_TYPE:STRING=Debug' "$cache"; then
        echo "$0: warning: $build is a Debug build; figures will be low" >&2
    fi
fi

out=$("$bench" 2 2>/dev/null)
hearth=$(printf '%s\n' "$out" | awk '$1 == "hearth_tokens_per_sec" { print $2 }')
requery=$(printf '%s\n' "$out" | awk '$1 == "hearth_requery_per_sec" { print $2 }')
portable=$(HEARTH_SHA_NI=0 "$bench" 2 2>/dev/null | awk '$1 == "hearth_requery_per_sec" { print $2 }')
if [ -z "$hearth" ] || [ -z "$requery" ] || [ -z "$portable" ]; then
    echo "$0: bench_tokens printed no rate" >&2
    exit 1
fi

# OpenSSL 3.0 accepts -seconds, -bytes and -hmac DIGEST. With -mr (machine
# readable) the "+F:<n>:hmac(sha256):<rate>" line gives the rate for the one
# block size in bytes per second (the human table shows the same figure in
# 1000s of bytes per second); divided by 16 it is HMACs per second.
openssl=$(openssl speed -mr -seconds 2 -bytes 16 -hmac sha256 2>/dev/null \
          | awk -F: '$1 == "+F" && $3 == "hmac(sha256)" { printf "%.0f\n", $4 / 16 }')
if [ -z "$openssl" ]; then
    echo "$0: could not read a rate from openssl speed" >&2
    exit 1
fi

openssl32=$(openssl speed -mr -seconds 2 -bytes 32 -hmac sha256 2>/dev/null \
            | awk -F: '$1 == "+F" && $3 == "hmac(sha256)" { printf "%.0f\n", $4 / 32 }')
if [ -z "$openssl32" ]; then
    echo "$0: could not read a rate from openssl speed -bytes 32" >&2
    exit 1
fi

echo "hearth keys_token_hmac: $hearth tokens/s"
echo "openssl hmac(sha256):   $openssl HMACs/s (openssl speed -bytes 16)"
awk -v h="$hearth" -v o="$openssl" 'BEGIN { printf "ratio: %.2f (target >= 0.80)\n", h / o }'
echo "hearth re-keying:       $requery tokens/s ($portable without the SHA extensions)"
echo "openssl hmac(sha256):   $openssl32 HMACs/s (openssl speed -bytes 32)"
awk -v h="$requery" -v p="$portable" -v o="$openssl32" \
    'BEGIN { printf "ratio: %.2f (%.2f without the SHA extensions)\n", h / o, p / o }'
