#!/usr/bin/env bash
# SphereCL demo: installs what is missing, builds, and runs the main job on
# built-in defaults. Today: list the OpenCL devices and run the kernel
# conformance suite on the default device.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
. scripts/common.sh

ensure_packages
echo "== building (build/)"
configure_and_build build -DCMAKE_BUILD_TYPE=Release

echo "== sphere-devices"
build/bin/sphere-devices
if [ -x build/bin/sphere-conformance ]; then
    echo "== sphere-conformance"
    build/bin/sphere-conformance "$@"
fi
