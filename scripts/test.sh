#!/usr/bin/env bash
# SphereCL test command: installs missing Debian packages, builds a Release
# tree (build/) and an ASan+UBSan tree (build-san/), runs every test in both.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
. scripts/common.sh

ensure_packages
start=$(date +%s)

configure_and_build build -DCMAKE_BUILD_TYPE=Release
configure_and_build build-san -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSPHERECL_SANITIZE=ON

status=0
for dir in build build-san; do
    echo "== ctest ($dir)"
    if ! ctest --test-dir "$dir" -j"$(nproc)" --output-on-failure --timeout 1800 >"$dir/ctest.log" 2>&1; then
        status=1
        echo "ctest failed in $dir; the failing tests' output (full log: $dir/ctest.log):" >&2
        tail -n 150 "$dir/ctest.log" >&2
    else
        grep -E "tests passed" "$dir/ctest.log"
    fi
done
echo "scripts/test.sh: $(( $(date +%s) - start )) s, $([ $status -eq 0 ] && echo PASS || echo FAIL)"
exit $status
