#!/usr/bin/env bash
# sphere-eval against OpenCV's dnn module on the full LFW evaluation of the pretrained
# MobileFaceNet (7,701 crops and their mirrors: 15,402 forward images, 10 folds), run
# ALTERNATELY, with the same thread count; prints each run's wall time and accuracy and
# the ratio of the median wall times. `bench/compare_eval.sh --help`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROG=compare_eval.sh
. "$ROOT/scripts/common.sh"

usage() {
    cat <<EOF2
usage: bench/compare_eval.sh [--reps N] [--threads N] [--batch N] [--build DIR] [--device SEL]
Times sphere-eval (build/bin) and bench/peer_opencv_eval.py (OpenCV dnn, Debian's
python3-opencv) on the LFW View 2 evaluation of ../shared/models/mobilefacenet with the
crops of ../shared/data/lfw/reference-aligned-112x96, alternating the two (who goes first
alternates too), and prints one line per run and a summary: median wall time of each and
the ratio OpenCV / SphereCL (above 1: SphereCL is faster). Both must print the same
per-fold accuracies (the reference: 98.88%).

options:
  --reps N        alternating repetitions (default: 2)
  --threads N     threads of each side: POCL_MAX_PTHREAD_COUNT / OPENBLAS_NUM_THREADS /
                  OMP_NUM_THREADS and sphere-eval --threads for SphereCL,
                  cv2.setNumThreads for OpenCV (default: 2)
  --batch N       images per forward on both sides (default: 64)
  --build DIR     the build folder holding bin/sphere-eval (default: build)
  --device SEL    sphere-eval's --device (default: cpu)
  -h, --help      print this help and exit

Expected run time on the 2-core development machine: about 2 minutes per run.
exit status: 0 every run finished, 1 a run failed, 2 usage error
EOF2
}

REPS=2 THREADS=2 BATCH=64 BUILD="$ROOT/build" DEVICE=cpu
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --reps) need_value "$@"; check_whole "$1" "$2" 1; REPS="$((10#$2))"; shift 2 ;;
        --threads) need_value "$@"; check_whole "$1" "$2" 1; THREADS="$((10#$2))"; shift 2 ;;
        --batch) need_value "$@"; check_whole "$1" "$2" 1; BATCH="$((10#$2))"; shift 2 ;;
        --build) need_value "$@"; BUILD="$(abs_path "$2")"; shift 2 ;;
        --device) need_value "$@"; DEVICE="$2"; shift 2 ;;
        *) usage_error "unknown option $1" ;;
    esac
done
SHARED="${SPHERECL_SHARED:-$ROOT/../shared}"
MFN="$SHARED/models/mobilefacenet"
NET="$MFN/mobilefacenet_112x96_deploy.prototxt" WEIGHTS="$MFN/mobilefacenet_112x96.caffemodel"
PAIRS="$SHARED/data/lfw/pairs.txt" CROPS="$SHARED/data/lfw/reference-aligned-112x96"
for f in "$NET" "$WEIGHTS" "$PAIRS" "$CROPS"; do
    [ -e "$f" ] || { echo "$PROG: missing $f (set SPHERECL_SHARED)" >&2; exit 2; }
done
EVAL="$BUILD/bin/sphere-eval"
[ -x "$EVAL" ] || { echo "$PROG: $EVAL not found: build first (cmake --build build)" >&2; exit 1; }
PY=/usr/bin/python3
"$PY" -c "import cv2, numpy" 2>/dev/null || { echo "$PROG: $PY cannot import cv2 and numpy (apt install python3-opencv)" >&2; exit 1; }
OUT="$(mktemp -d "${TMPDIR:-/tmp}/spherecl-compare-eval.XXXXXX")"
trap 'rm -rf "$OUT"' EXIT
export OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS" POCL_MAX_PTHREAD_COUNT="$THREADS"

# run_side NAME REP: one timed run, its output in $OUT/NAME.REP.log, wall seconds appended
run_side() {
    local t0 t1 log="$OUT/$1.$2.log"
    t0=$(date +%s.%N)
    if [ "$1" = spherecl ]; then
        "$EVAL" --net "$NET" --weights "$WEIGHTS" --pairs "$PAIRS" --root "$CROPS" --rgb \
            --batch "$BATCH" --threads "$THREADS" --device "$DEVICE" >"$log" 2>&1
    else
        "$PY" "$ROOT/bench/peer_opencv_eval.py" --net "$NET" --weights "$WEIGHTS" --pairs "$PAIRS" \
            --root "$CROPS" --batch "$BATCH" --threads "$THREADS" >"$log" 2>&1
    fi || { echo "$PROG: the $1 run failed; its last lines:" >&2; tail -n 5 "$log" >&2; exit 1; }
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", b - a }' >>"$OUT/$1.seconds"
    printf "  rep %d %-8s %6.1f s  %s  (load %s)\n" "$2" "$1" "$(tail -n 1 "$OUT/$1.seconds")" \
        "$(grep -m 1 '^ACC' "$log" | awk '{ print "mean " $NF "%" }')" "$(cut -d' ' -f1 /proc/loadavg)"
}

echo "machine: $(nproc) cores, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1); threads: $THREADS each, batch $BATCH"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for rep in $(seq 1 "$REPS"); do
    if [ $((rep % 2)) -eq 1 ]; then run_side spherecl "$rep"; run_side opencv "$rep"
    else run_side opencv "$rep"; run_side spherecl "$rep"; fi
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ours=$(median "$OUT/spherecl.seconds") peer=$(median "$OUT/opencv.seconds")
echo "per-fold accuracies, SphereCL: $(grep -m 1 '^ACC' "$OUT/spherecl.1.log")"
echo "per-fold accuracies, OpenCV:   $(grep -m 1 '^ACC' "$OUT/opencv.1.log")"
awk -v o="$ours" -v p="$peer" 'BEGIN { printf "median wall: SphereCL %.1f s, OpenCV dnn %.1f s: SphereCL is %.2fx as fast\n", o, p, p / o }'
