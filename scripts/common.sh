# Shared by the scripts in scripts/: command-line checks, Debian packages and
# builds. Sourced, not run; the script sets PROG (its name in messages) first.

# ---- command lines, as the apps do them (apps/common/cli.h): --help prints
# the usage on stdout and exits 0; a usage error is one line on stderr that
# names the option, then exit 2, before anything is installed, built or
# created. The checks run before `$2` is read, so `set -u` never speaks.

# usage_error MESSAGE: "<prog>: MESSAGE", the hint to --help, exit 2.
usage_error() {
    echo "$PROG: $*" >&2
    echo "run '$PROG --help' for the options" >&2
    exit 2
}

# need_value "$@" (inside the option loop): the option in $1 needs a value in
# $2. A following option (anything starting with '-') is not a value: none of
# the scripts' values can start with one, and `--iters --net x` is a typo.
need_value() {
    if [ $# -lt 2 ] || [ -z "$2" ] || [ "${2#-}" != "$2" ]; then
        usage_error "$1 needs a value"
    fi
}

# check_whole OPTION VALUE MIN: a whole decimal number >= MIN (0 or 1), at
# most 9 digits, so that shell arithmetic on it cannot overflow.
check_whole() {
    if ! [[ "$2" =~ ^[0-9]{1,9}$ ]] || [ "$((10#$2))" -lt "$3" ]; then
        usage_error "$1 must be a whole number >= $3, not '$2'"
    fi
}

# abs_path PATH: PATH from the caller's working directory, made absolute so it
# still means the same after a cd or inside a file written elsewhere.
abs_path() {
    case "$1" in
        /*) printf '%s\n' "$1" ;;
        *) printf '%s/%s\n' "$PWD" "$1" ;;
    esac
}

SPHERECL_PACKAGES="cmake make gcc pkg-config ocl-icd-opencl-dev opencl-headers pocl-opencl-icd \
clinfo libclblast-dev libturbojpeg0-dev libpng-dev zlib1g-dev libcmocka-dev libopenblas-dev libdnnl-dev \
libopenmpi-dev openmpi-bin"

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
    if ! { cmake -S "$ROOT" -B "$dir" "$@" && cmake --build "$dir" -j"${JOBS:-$(nproc)}"; } >"$log" 2>&1; then
        echo "build in $dir failed; last lines of $log:" >&2
        tail -n 40 "$log" >&2
        exit 1
    fi
}
