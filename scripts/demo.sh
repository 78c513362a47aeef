#!/usr/bin/env bash
# SphereCL demo: installs what is missing, builds, then runs the main job on
# built-in defaults:
#   1. generates a seeded synthetic face-like identity set (sphere-synth),
#   2. trains the demo net with A-Softmax (m=4) on it (sphere-train),
#   3. measures verification accuracy on held-out identities with the LFW
#      10-fold protocol (sphere-eval).
# Options:
#   --data LIST [--root DIR]  train on your own Caffe image list instead
#                             (56x48 crops for the demo net; 112x96 with --net sphereface4)
#   --net demo|sphereface4    the network to train (default demo)
#   --pairs FILE --pairs-root DIR [--ext jpg]  evaluate on your pairs file
#   --iters N                 training iterations (default: the solver's 600)
#   --work DIR                where data, snapshots and logs go (default: a new temp folder)
#   --device SEL              cpu, gpu, an index or P:D (default: $SPHERECL_DEVICE, else auto)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
. scripts/common.sh

DATA="" DATA_ROOT="" NET=demo PAIRS="" PAIRS_ROOT="" EXT=png ITERS="" WORK="" DEVICE=()
while [ $# -gt 0 ]; do
    case "$1" in
        --data) DATA="$2"; shift 2 ;;
        --root) DATA_ROOT="$2"; shift 2 ;;
        --net) NET="$2"; shift 2 ;;
        --pairs) PAIRS="$2"; shift 2 ;;
        --pairs-root) PAIRS_ROOT="$2"; shift 2 ;;
        --ext) EXT="$2"; shift 2 ;;
        --iters) ITERS="$2"; shift 2 ;;
        --work) WORK="$2"; shift 2 ;;
        --device) DEVICE=(--device "$2"); shift 2 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "demo.sh: unknown option $1" >&2; exit 1 ;;
    esac
done
case "$NET" in demo|sphereface4) ;; *) echo "demo.sh: --net demo or sphereface4" >&2; exit 1 ;; esac

start=$(date +%s)
ensure_packages
echo "== building (build/)"
configure_and_build build -DCMAKE_BUILD_TYPE=Release
BIN="$ROOT/build/bin"
[ -n "$WORK" ] || WORK=$(mktemp -d /tmp/spherecl-demo.XXXXXX)
mkdir -p "$WORK"
"$BIN/sphere-devices" "${DEVICE[@]}" | grep -E "^\*|selected" || true

if [ -z "$DATA" ]; then
    echo "== 1/3 synthetic identities -> $WORK/data"
    "$BIN/sphere-synth" --out "$WORK/data" --identities 200 --per-identity 20 --holdout 60 \
        --height 56 --width 48 --seed 1
    DATA="$WORK/data/train.txt" DATA_ROOT="$WORK/data/"
    PAIRS="$WORK/data/pairs.txt" PAIRS_ROOT="$WORK/data/holdout" EXT=png
fi
[ -f "$DATA" ] || { echo "demo.sh: no list $DATA" >&2; exit 1; }
classes=$(awk 'NF { if ($NF + 0 > m) m = $NF + 0 } END { print m + 1 }' "$DATA")

# The model's train net with this list, its class count and a solver writing into WORK.
if [ "$NET" = demo ]; then
    train_src="$ROOT/models/demo_train.prototxt" solver_src="$ROOT/models/demo_solver.prototxt"
    deploy="$ROOT/models/demo_deploy.prototxt"
else
    train_src="$ROOT/models/sphereface4_train.prototxt" solver_src="$ROOT/models/sphereface4_solver.prototxt"
    deploy="$ROOT/models/sphereface4_deploy.prototxt"
fi
sed -E -e "/root_folder:/d" -e "s|source: \"[^\"]*\"|source: \"$DATA\"\n    root_folder: \"$DATA_ROOT\"|" \
    -e "/margin_inner_product_param/,/\}/ s|num_output: [0-9]+|num_output: $classes|" \
    -e "s|batch_size: 256|batch_size: 32|" "$train_src" > "$WORK/train.prototxt"
grep -v -E "^(net|snapshot_prefix|snapshot):" "$solver_src" > "$WORK/solver.prototxt"
printf 'net: "%s"\nsnapshot: 0\nsnapshot_prefix: "%s"\n' "$WORK/train.prototxt" \
    "$WORK/snapshots/$NET" >> "$WORK/solver.prototxt"
[ -z "$ITERS" ] || sed -i -E "s|^max_iter: .*|max_iter: $ITERS|" "$WORK/solver.prototxt"
iters=$(sed -n -E 's|^max_iter: ([0-9]+).*|\1|p' "$WORK/solver.prototxt")

echo "== 2/3 training $NET on $DATA ($classes identities, $iters iterations)"
"$BIN/sphere-train" --solver "$WORK/solver.prototxt" --seed 1 "${DEVICE[@]}" | tee "$WORK/train.log"
weights="$WORK/snapshots/${NET}_iter_${iters}.caffemodel"

if [ -n "$PAIRS" ]; then
    echo "== 3/3 verification on held-out identities ($PAIRS)"
    "$BIN/sphere-eval" --net "$deploy" --weights "$weights" --pairs "$PAIRS" \
        --root "$PAIRS_ROOT" --ext "$EXT" "${DEVICE[@]}" | tee "$WORK/eval.log"
else
    echo "== 3/3 skipped: no --pairs file to evaluate on"
fi
echo "demo finished in $(( $(date +%s) - start )) s; weights: $weights; logs in $WORK"
