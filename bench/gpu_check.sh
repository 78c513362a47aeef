#!/usr/bin/env bash
# One prepared check for a machine with an OpenCL GPU: build, conformance and
# speed on the GPU's OpenCL device, next to CUDA PyTorch when it is there, in
# well under 10 minutes. `bench/gpu_check.sh --help` for the options.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROG=gpu_check.sh
. "$ROOT/scripts/common.sh"

usage() {
    cat <<EOF
usage: bench/gpu_check.sh [--device SEL] [--build DIR] [--cases LIST] [--reps N]
On a machine with an OpenCL GPU (an NVIDIA H100/H200 with its OpenCL ICD, for instance):
  1. installs the missing Debian packages (as root; offline machines need them already),
     builds a Release tree;
  2. lists the OpenCL devices (sphere-devices) and runs sphere-conformance on the GPU;
  3. times the nets of bench/compare.sh on the GPU: against PyTorch on CUDA when
     python3 has torch with CUDA (one ratio row per case), else sphere-bench alone.
Time limits after the build: conformance 4 minutes, speed 5 minutes.
Not yet run on a GPU: on this project's CPU machine with --device cpu it passes.
Record the output in bench/README.md ("GPUs").

options:
  --device SEL    the OpenCL device to check (default: gpu, the first GPU)
  --build DIR     build folder (default: build-gpu)
  --cases LIST    bench/compare.sh cases (default: sf20-train,sf20-test,mb-train,mb-test)
  --reps N        alternating repetitions per case (default: 2)
  -h, --help      print this help and exit

exit status: 0 every step passed, 1 a step failed, 2 usage error
EOF
}

DEVICE=gpu BUILD="$ROOT/build-gpu" CASES="sf20-train,sf20-test,mb-train,mb-test" REPS=2
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --device) need_value "$@"; DEVICE="$2"; shift 2 ;;
        --build) need_value "$@"; BUILD="$(abs_path "$2")"; shift 2 ;;
        --cases) need_value "$@"; CASES="$2"; shift 2 ;;
        --reps) need_value "$@"; check_whole "$1" "$2" 1; REPS=$((10#$2)); shift 2 ;;
        -*) usage_error "unknown option $1" ;;
        *) usage_error "unexpected argument '$1'" ;;
    esac
done

for c in ${CASES//,/ }; do
    case "$c" in
        sf20-train|sf20-test|mb-train|mb-test) ;;
        *) usage_error "--cases: unknown case '$c' (sf20-train, sf20-test, mb-train, mb-test)" ;;
    esac
done

step() { echo; echo "== $* ($(date +%H:%M:%S))"; }
start=$(date +%s)

step "1/3 packages and build ($BUILD)"
ensure_packages
configure_and_build "$BUILD" -DCMAKE_BUILD_TYPE=Release
BIN="$BUILD/bin"

step "2/3 devices and conformance on '$DEVICE'"
"$BIN/sphere-devices" --device "$DEVICE"
timeout 240 "$BIN/sphere-conformance" --device "$DEVICE" --failures

step "3/3 speed on '$DEVICE'"
PY=/usr/bin/python3
if "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
    timeout 300 "$ROOT/bench/compare.sh" --build "$BUILD" --device "$DEVICE" --torch-device cuda \
        --cases "$CASES" --reps "$REPS" --iters 5 --warmup 2
else
    echo "(no PyTorch with CUDA here: sphere-bench alone)"
    for c in ${CASES//,/ }; do
        case "$c" in
            sf20-train) args="models/sphereface20_train.prototxt --mode train --batch 32" ;;
            sf20-test) args="models/sphereface20_deploy.prototxt --mode test --batch 32" ;;
            mb-train) args="models/mobilenet_sphereface_train.prototxt --mode train --batch 64" ;;
            mb-test) args="models/mobilenet_sphereface_deploy.prototxt --mode test --batch 32" ;;
        esac
        # shellcheck disable=SC2086 # the arguments are split on purpose
        (cd "$ROOT" && timeout 120 "$BIN/sphere-bench" $args --iters 5 --warmup 2 --device "$DEVICE" |
            head -n 2)
    done
fi
echo
echo "$PROG: done in $(( $(date +%s) - start )) s"
