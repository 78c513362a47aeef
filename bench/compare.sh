#!/usr/bin/env bash
# SphereCL against PyTorch on the same nets, the same shapes and the same thread count:
# sphere-bench (build/bin) and bench/peer_torch.py run ALTERNATELY, case by case and
# repetition by repetition (on a shared machine the load drifts; alternating spreads it
# over both), then one table with a ratio row per case. `bench/compare.sh --help`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROG=compare.sh
. "$ROOT/scripts/common.sh"

# name | prototxt | mode | batch | target ratio (this machine, issue "Step 7")
ALL_CASES="sf20-train sf20-test mb-train mb-test sf20-train64"
case_row() {
    case "$1" in
        sf20-train) echo "SphereFace-20 models/sphereface20_train.prototxt train 32 1.2" ;;
        sf20-test) echo "SphereFace-20 models/sphereface20_deploy.prototxt test 32 1.1" ;;
        mb-train) echo "MobileNet-SphereFace models/mobilenet_sphereface_train.prototxt train 64 2.0" ;;
        mb-test) echo "MobileNet-SphereFace models/mobilenet_sphereface_deploy.prototxt test 32 1.5" ;;
        # the memory case: its target is peak host RSS <= PyTorch's, not a speed ratio
        sf20-train64) echo "SphereFace-20 models/sphereface20_train.prototxt train 64 -" ;;
        *) return 1 ;;
    esac
}

usage() {
    cat <<EOF
usage: bench/compare.sh [--cases LIST] [--reps N] [--iters N] [--warmup N] [--threads N]
                        [--build DIR] [--python PY] [--device SEL] [--torch-device DEV]
                        [--out DIR]
Times each case with sphere-bench and with bench/peer_torch.py (PyTorch, the same net read
from the same prototxt), alternating the two, and prints one row per case:
img/s median (min-max over every timed pass of every repetition) and the ratio of the
medians, SphereCL / PyTorch, next to its target; and each side's peak host RSS (the whole
process: on a CPU device the OpenCL buffers are host memory). sf20-train64 is the memory
case: its target is a peak RSS at most PyTorch's.

options:
  --cases LIST      comma-separated, from: ${ALL_CASES// /, } (default: all)
                    sf20 = SphereFace-20, mb = MobileNet-SphereFace; train = training
                    steps with the SGD update, test = inference on the deploy net
  --reps N          alternating repetitions per case (default: 3)
  --iters N         timed passes per run (default: 3)
  --warmup N        untimed passes per run (default: 1)
  --threads N       threads of each side: OMP_NUM_THREADS / OPENBLAS_NUM_THREADS /
                    POCL_MAX_PTHREAD_COUNT for SphereCL, torch.set_num_threads for PyTorch
                    (default: 2)
  --build DIR       the build folder holding bin/sphere-bench (default: build)
  --python PY       the Python with torch (default: /usr/bin/python3 if it has torch,
                    else python3)
  --device SEL      sphere-bench's --device (default: cpu)
  --torch-device D  PyTorch's device: cpu or cuda (default: cpu)
  --out DIR         keep every run's JSON there (default: a temporary folder, removed)
  -h, --help        print this help and exit

Nothing is built or installed: build first (cmake --build build). The machine's load
average is printed before and after; report it with the table (bench/README.md).
exit status: 0 every run finished, 1 a run failed, 2 usage error
EOF
}

CASES="$ALL_CASES" REPS=3 ITERS=3 WARMUP=1 THREADS=2 BUILD="$ROOT/build" PY="" DEVICE=cpu
TORCH_DEVICE=cpu OUT=""
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --cases) need_value "$@"; CASES="${2//,/ }"; shift 2 ;;
        --reps) need_value "$@"; check_whole "$1" "$2" 1; REPS="$((10#$2))"; shift 2 ;;
        --iters) need_value "$@"; check_whole "$1" "$2" 1; ITERS="$((10#$2))"; shift 2 ;;
        --warmup) need_value "$@"; check_whole "$1" "$2" 0; WARMUP="$((10#$2))"; shift 2 ;;
        --threads) need_value "$@"; check_whole "$1" "$2" 1; THREADS="$((10#$2))"; shift 2 ;;
        --build) need_value "$@"; BUILD="$(abs_path "$2")"; shift 2 ;;
        --python) need_value "$@"; PY="$2"; shift 2 ;;
        --device) need_value "$@"; DEVICE="$2"; shift 2 ;;
        --torch-device) need_value "$@"
            [ "$2" = cpu ] || [ "$2" = cuda ] || usage_error "--torch-device must be cpu or cuda, not '$2'"
            TORCH_DEVICE="$2"; shift 2 ;;
        --out) need_value "$@"; OUT="$(abs_path "$2")"; shift 2 ;;
        *) usage_error "unknown option $1" ;;
    esac
done
for c in $CASES; do
    case_row "$c" >/dev/null || usage_error "--cases: unknown case '$c' (one of: $ALL_CASES)"
done

BENCH="$BUILD/bin/sphere-bench"
[ -x "$BENCH" ] || { echo "$PROG: $BENCH not found: build first (cmake --build build)" >&2; exit 1; }
if [ -z "$PY" ]; then
    PY=python3
    /usr/bin/python3 -c "import torch" 2>/dev/null && PY=/usr/bin/python3
fi
"$PY" -c "import torch" 2>/dev/null || { echo "$PROG: $PY cannot import torch" >&2; exit 1; }
if [ -z "$OUT" ]; then
    OUT="$(mktemp -d "${TMPDIR:-/tmp}/spherecl-compare.XXXXXX")"
    trap 'rm -rf "$OUT"' EXIT
fi
mkdir -p "$OUT"

export OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS" POCL_MAX_PTHREAD_COUNT="$THREADS"
cd "$ROOT"

# run_ours CASE REP / run_peer CASE REP: one run, its JSON in $OUT/CASE.{ours,peer}.REP.json
run_ours() {
    local proto mode batch
    read -r _ proto mode batch _ <<<"$(case_row "$1")"
    "$BENCH" "$proto" --mode "$mode" --batch "$batch" --iters "$ITERS" --warmup "$WARMUP" \
        --device "$DEVICE" --json >"$OUT/$1.ours.$2.json" 2>"$OUT/$1.ours.$2.err" || {
        echo "$PROG: sphere-bench failed on $1:" >&2; cat "$OUT/$1.ours.$2.err" >&2; return 1; }
}
run_peer() {
    local proto mode batch
    read -r _ proto mode batch _ <<<"$(case_row "$1")"
    "$PY" "$ROOT/bench/peer_torch.py" "$proto" --mode "$mode" --batch "$batch" --iters "$ITERS" \
        --warmup "$WARMUP" --threads "$THREADS" --device "$TORCH_DEVICE" --json \
        >"$OUT/$1.peer.$2.json" 2>"$OUT/$1.peer.$2.err" || {
        echo "$PROG: peer_torch.py failed on $1:" >&2; cat "$OUT/$1.peer.$2.err" >&2; return 1; }
}

echo "machine: $(nproc) cores, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)"
echo "torch: $("$PY" -c 'import torch; print(torch.__version__)'), threads: $THREADS each"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for rep in $(seq 1 "$REPS"); do
    for c in $CASES; do
        # alternate who goes first, so neither side always gets the fresher machine
        if [ $((rep % 2)) -eq 1 ]; then run_ours "$c" "$rep"; run_peer "$c" "$rep"
        else run_peer "$c" "$rep"; run_ours "$c" "$rep"; fi
        echo "  rep $rep/$REPS $c done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
    done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

ROWS=""
for c in $CASES; do ROWS="$ROWS$c $(case_row "$c")"$'\n'; done
"$PY" - "$OUT" "$ROWS" <<'EOF'
import glob, json, statistics, sys
out, rows = sys.argv[1], [r.split() for r in sys.argv[2].strip().split("\n")]

def images_per_s(pattern):
    runs = [json.load(open(f)) for f in sorted(glob.glob(pattern))]
    ips = [r["batch"] / (ms * 1e-3) for r in runs for ms in r["pass_ms"]]
    return statistics.median(ips), min(ips), max(ips), runs

print()
def peak_rss_gib(runs):
    return max(r["peak_host_rss_bytes"] for r in runs) / 2**30

print("| case | batch | SphereCL img/s | PyTorch img/s | ratio | target | SphereCL peak RSS | PyTorch peak RSS |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for case, net, proto, mode, batch, target in rows:
    ours, peer = images_per_s("%s/%s.ours.*.json" % (out, case)), images_per_s("%s/%s.peer.*.json" % (out, case))
    ratio = ours[0] / peer[0]
    what = "training" if mode == "train" else "inference"
    rss_ours, rss_peer = peak_rss_gib(ours[3]), peak_rss_gib(peer[3])
    if target == "-":
        goal = "RSS <= PyTorch's%s" % ("" if rss_ours <= rss_peer else " (short)")
    else:
        goal = "%sx%s" % (target, "" if ratio >= float(target) else " (short)")
    print("| %s %s | %s | %.1f (%.1f-%.1f) | %.1f (%.1f-%.1f) | **%.2fx** | %s | %.2f GiB | %.2f GiB |" % (
        net, what, batch, ours[0], ours[1], ours[2], peer[0], peer[1], peer[2], ratio, goal,
        rss_ours, rss_peer))
first = json.load(open(sorted(glob.glob("%s/*.ours.*.json" % out))[0]))
print()
print("SphereCL: %s, %s; medians over every timed pass of every repetition" % (
    first["device"], first["providers"]))
EOF
