#!/usr/bin/env bash
# SphereCL test command: installs missing Debian packages, builds a Release
# tree (build/) and an ASan+UBSan tree (build-san/), runs every test in both.
# `scripts/test.sh --help` for the options.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROG=test.sh
. "$ROOT/scripts/common.sh"

usage() {
    cat <<EOF
usage: scripts/test.sh [--tests REGEX] [--jobs N]
Installs the missing Debian packages, builds a Release tree (build/) and an
ASan+UBSan tree (build-san/), and runs the tests in both (ctest).

options:
  --tests REGEX   only the tests whose ctest names match (ctest -R; e.g. 'apps/'),
                  (default: every test)
  --jobs N        parallel build and test jobs (default: $(nproc), the cores)
  -h, --help      print this help and exit

exit status: 0 every test passed, 1 a build or a test failed, 2 usage error
EOF
}

TESTS="" JOBS=""
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --tests) need_value "$@"; TESTS="$2"; shift 2 ;;
        --jobs) need_value "$@"; check_whole "$1" "$2" 1; JOBS=$((10#$2)); shift 2 ;;
        -*) usage_error "unknown option $1" ;;
        *) usage_error "unexpected argument '$1'" ;;
    esac
done
JOBS="${JOBS:-$(nproc)}"
ctest_args=(-j"$JOBS" --output-on-failure --timeout 1800 --no-tests=error)
[ -z "$TESTS" ] || ctest_args+=(-R "$TESTS")

cd "$ROOT"
ensure_packages
start=$(date +%s)

configure_and_build build -DCMAKE_BUILD_TYPE=Release
configure_and_build build-san -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSPHERECL_SANITIZE=ON

status=0
for dir in build build-san; do
    echo "== ctest ($dir)"
    if ! ctest --test-dir "$dir" "${ctest_args[@]}" >"$dir/ctest.log" 2>&1; then
        status=1
        echo "ctest failed in $dir; the failing tests' output (full log: $dir/ctest.log):" >&2
        tail -n 150 "$dir/ctest.log" >&2
    else
        grep -E "tests passed" "$dir/ctest.log"
    fi
done
echo "scripts/test.sh: $(( $(date +%s) - start )) s, $([ $status -eq 0 ] && echo PASS || echo FAIL)"
exit $status
