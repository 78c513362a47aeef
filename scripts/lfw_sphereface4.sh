#!/usr/bin/env bash
# Trains SphereFace-4 (A-Softmax m=4) from scratch on the LFW crops of
# ../shared: people with at least 5 aligned images are the classes.
# Usage: scripts/lfw_sphereface4.sh [WORKDIR] [sphere-train options...]
# Writes WORKDIR/train.txt, the net and solver, snapshots and train.log.
# base_lr 0.0125 is upstream SphereFace's 0.1 at batch 256 scaled to batch 32 (0.05
# diverged at iteration 466, the classic loss = 87.3365 failure).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${SPHERECL_SHARED:-$ROOT/../shared}"
LFW="$SHARED/data/lfw/reference-aligned-112x96"
WORK="${1:-/tmp/spherecl-lfw-sf4}"
shift || true
[ -d "$LFW" ] || { echo "missing $LFW (set SPHERECL_SHARED)" >&2; exit 1; }
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
"$ROOT/build/bin/sphere-train" --solver "$WORK/solver.prototxt" "$@" 2>&1 | tee "$WORK/train.log"
