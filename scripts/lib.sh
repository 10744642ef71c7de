# Shared by scripts/demo and scripts/test: install what hearth needs from
# Debian's archive (and nothing from anywhere else), then configure and build.

HEARTH_PACKAGES="cmake gcc make pkg-config openssl sqlite3 libssl-dev libzmq3-dev \
libprotobuf-c-dev protobuf-c-compiler libsqlite3-dev libcriterion-dev libinih-dev"

hearth_install() {
    local missing=""
    for p in $HEARTH_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        echo "==> installing:$missing" >&2
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >&2
    fi
}

# hearth_build DIR "TARGETS" [cmake options...] — TARGETS empty means all.
hearth_build() {
    local dir="$1" targets="$2"
    shift 2
    cmake -S "$HEARTH_ROOT" -B "$dir" "$@" >/dev/null
    if [ -n "$targets" ]; then
        cmake --build "$dir" -j "$(nproc)" --target $targets >&2
    else
        cmake --build "$dir" -j "$(nproc)" >&2
    fi
}
