#!/usr/bin/env bash
# Trains SphereFace-4 (A-Softmax m=4) from scratch on the LFW crops of
# ../shared: people with at least 5 aligned images are the classes.
# `scripts/lfw_sphereface4.sh --help` for the options.
# base_lr 0.0125 is upstream SphereFace's 0.1 at batch 256 scaled to batch 32 (0.05
# diverged at iteration 466, the classic loss = 87.3365 failure).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROG=lfw_sphereface4.sh
. "$ROOT/scripts/common.sh"
SHARED="${SPHERECL_SHARED:-$ROOT/../shared}"
LFW="$SHARED/data/lfw/reference-aligned-112x96"

usage() {
    cat <<EOF
usage: scripts/lfw_sphereface4.sh [WORKDIR] [options]
Trains SphereFace-4 (A-Softmax m=4) from scratch on the aligned 112x96 LFW crops
of \$SPHERECL_SHARED (default: ../shared next to the checkout); the people with at
least 5 images are the classes. Batch 32, base_lr 0.0125, 1000 iterations (lr /10
at 700 and 900), a snapshot every 250. Needs build/ (scripts/demo.sh or cmake).
Writes WORKDIR/train.txt, the net and solver, snapshots/ and train.log.

  WORKDIR              where everything goes (default: ${TMPDIR:-/tmp}/spherecl-lfw-sf4)

options, passed on to sphere-train:
  --device SEL         cpu, gpu, an index or P:D (default: \$SPHERECL_DEVICE, else the
                       first GPU, else the first CPU)
  --max-iter N         stop after N iterations (default: 1000)
  --seed N             weight fillers, data order, mirroring (default: sphere-train's)
  --snapshot FILE      resume a run from its .solverstate
  --weights FILE       start from this caffemodel (fine-tuning)
  --asoftmax MODE      A-Softmax backward: caffe or exact (default: caffe)
  --threads N          image decoding threads (default: sphere-train's)
  -h, --help           print this help and exit

exit status: 0 success, 1 the training failed, 2 usage error or input refused
EOF
}

WORK="" TRAIN_ARGS=()
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --device|--asoftmax) need_value "$@"
            [ "$1" != --asoftmax ] || [ "$2" = caffe ] || [ "$2" = exact ] \
                || usage_error "--asoftmax must be caffe or exact, not '$2'"
            TRAIN_ARGS+=("$1" "$2"); shift 2 ;;
        --max-iter|--threads) need_value "$@"; check_whole "$1" "$2" 1
            TRAIN_ARGS+=("$1" "$((10#$2))"); shift 2 ;;
        --seed) need_value "$@"; check_whole "$1" "$2" 0; TRAIN_ARGS+=("$1" "$((10#$2))"); shift 2 ;;
        --snapshot|--weights) need_value "$@"
            [ -f "$2" ] || usage_error "$1: no file '$2'"
            TRAIN_ARGS+=("$1" "$2"); shift 2 ;;
        -*) usage_error "unknown option $1" ;;
        *) [ -z "$WORK" ] || usage_error "unexpected argument '$1' (WORKDIR is '$WORK')"
            WORK="$1"; shift ;;
    esac
done
WORK="$(abs_path "${WORK:-${TMPDIR:-/tmp}/spherecl-lfw-sf4}")"
[ -d "$LFW" ] || { echo "$PROG: missing $LFW (set SPHERECL_SHARED)" >&2; exit 2; }
TRAIN="$ROOT/build/bin/sphere-train"
[ -x "$TRAIN" ] || { echo "$PROG: no $TRAIN: build first (scripts/demo.sh, or cmake as README.md says)" >&2; exit 1; }
mkdir -p "$WORK"

# list: one label per person with >= 5 images, people in name order
(cd "$LFW" && find . -name '*.jpg' | sed 's|^\./||' | sort) |
    awk -F/ '{ n[$1]++; path[NR] = $0; who[NR] = $1 }
             END { for (i = 1; i <= NR; i++) if (n[who[i]] >= 5) {
                       if (!(who[i] in label)) label[who[i]] = classes++
                       print path[i], label[who[i]] } }' > "$WORK/train.txt"
label=$(awk 'END { print $2 + 1 }' "$WORK/train.txt")
echo "$(wc -l < "$WORK/train.txt") images of $label people -> $WORK/train.txt"

sed -e "s|source: \"data/train.txt\"|source: \"$WORK/train.txt\"\n    root_folder: \"$LFW/\"|" \
    -e "s|batch_size: 256|batch_size: 32|" \
    -e "s|num_output: 10572|num_output: $label|" \
    "$ROOT/models/sphereface4_train.prototxt" > "$WORK/sphereface4_lfw_train.prototxt"
cat > "$WORK/solver.prototxt" <<SOLVER
net: "$WORK/sphereface4_lfw_train.prototxt"
base_lr: 0.0125
lr_policy: "multistep"
gamma: 0.1
stepvalue: 700
stepvalue: 900
max_iter: 1000
display: 100
momentum: 0.9
weight_decay: 0.0005
snapshot: 250
snapshot_prefix: "$WORK/snapshots/sphereface4_lfw"
SOLVER
"$TRAIN" --solver "$WORK/solver.prototxt" "${TRAIN_ARGS[@]}" 2>&1 | tee "$WORK/train.log"
