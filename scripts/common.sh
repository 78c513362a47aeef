# Shared by scripts/test.sh and scripts/demo.sh: Debian packages and builds.
# Sourced, not run.

SPHERECL_PACKAGES="cmake make gcc pkg-config ocl-icd-opencl-dev opencl-headers pocl-opencl-icd \
clinfo libclblast-dev libturbojpeg0-dev libpng-dev libcmocka-dev libopenblas-dev"

# Installs the missing packages (as root) or names the apt-get line to run.
ensure_packages() {
    local missing=""
    for p in $SPHERECL_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
            || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "SphereCL needs these Debian packages:$missing" >&2
        echo "Install them with:" >&2
        echo "  sudo apt-get install -y$missing" >&2
        exit 1
    fi
    echo "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || { echo "apt-get update failed" >&2; exit 1; }
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null \
        || { echo "apt-get install failed:$missing" >&2; exit 1; }
}

# configure_and_build DIR [cmake args...]: quiet unless something fails.
configure_and_build() {
    local dir="$1"; shift
    local log="$dir/build.log"
    mkdir -p "$dir"
    if ! { cmake -S "$ROOT" -B "$dir" "$@" && cmake --build "$dir" -j"$(nproc)"; } >"$log" 2>&1; then
        echo "build in $dir failed; last lines of $log:" >&2
        tail -n 40 "$log" >&2
        exit 1
    fi
}
