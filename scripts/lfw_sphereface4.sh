#!/usr/bin/env bash
# Trains SphereFace-4 (A-Softmax m=4) from scratch on the LFW crops of
# ../shared: people with at least 5 aligned images are the classes.
# Usage: scripts/lfw_sphereface4.sh [WORKDIR] [sphere-train options...]
# Writes WORKDIR/train.txt, the net and solver, snapshots and train.log.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${SPHERECL_SHARED:-$ROOT/../shared}"
LFW="$SHARED/data/lfw/reference-aligned-112x96"
WORK="${1:-/tmp/spherecl-lfw-sf4}"
shift || true
[ -d "$LFW" ] || { echo "missing $LFW (set SPHERECL_SHARED)" >&2; exit 1; }
mkdir -p "$WORK"

# list: one label per person with >= 5 images, in name order
label=0
: > "$WORK/train.txt"
for dir in "$LFW"/*/; do
    person=$(basename "$dir")
    n=$(find "$dir" -name '*.jpg' | wc -l)
    [ "$n" -ge 5 ] || continue
    find "$dir" -name '*.jpg' -printf "$person/%f $label\n" | sort >> "$WORK/train.txt"
    label=$((label + 1))
done
echo "$(wc -l < "$WORK/train.txt") images of $label people -> $WORK/train.txt"

sed -e "s|source: \"data/train.txt\"|source: \"$WORK/train.txt\"\n    root_folder: \"$LFW/\"|" \
    -e "s|batch_size: 256|batch_size: 32|" \
    -e "s|num_output: 10572|num_output: $label|" \
    "$ROOT/models/sphereface4_train.prototxt" > "$WORK/sphereface4_lfw_train.prototxt"
cat > "$WORK/solver.prototxt" <<SOLVER
net: "$WORK/sphereface4_lfw_train.prototxt"
base_lr: 0.05
lr_policy: "multistep"
gamma: 0.1
stepvalue: 700
stepvalue: 900
max_iter: 1000
display: 100
momentum: 0.9
weight_decay: 0.0005
snapshot: 500
snapshot_prefix: "$WORK/snapshots/sphereface4_lfw"
SOLVER
"$ROOT/build/bin/sphere-train" --solver "$WORK/solver.prototxt" "$@" 2>&1 | tee "$WORK/train.log"
