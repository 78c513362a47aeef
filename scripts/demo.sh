#!/usr/bin/env bash
# SphereCL demo: installs what is missing, builds, then runs the main job on
# built-in defaults:
#   1. generates a seeded synthetic face-like identity set (sphere-synth) at
#      the input size of the chosen net's deploy file,
#   2. trains the net with A-Softmax (m=4) on it (sphere-train),
#   3. measures verification accuracy on held-out identities with the LFW
#      10-fold protocol (sphere-eval).
# `scripts/demo.sh --help` for the options.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROG=demo.sh
. "$ROOT/scripts/common.sh"

# Every train net of models/ (each comes with its _deploy and _solver file).
NETS=$(for f in "$ROOT"/models/*_train.prototxt; do f="${f##*/}"; echo "${f%_train.prototxt}"; done |
       sort -V | tr '\n' ' ')
NETS="${NETS% }"

usage() {
    cat <<EOF
usage: scripts/demo.sh [--net NAME] [--iters N] [--work DIR] [--device SEL]
                       [--data LIST [--root DIR] [--pairs FILE --pairs-root DIR [--ext EXT]]]
Installs what is missing, builds build/, then:
  1. generates a seeded synthetic set of face-like identities at the input size of
     the net's deploy file (56x48 for demo, 112x96 for the others),
  2. trains the net with A-Softmax (m=4) on it,
  3. measures verification accuracy on held-out identities (LFW 10-fold protocol).

options:
  --net NAME        the net of models/ to train (default: demo), one of:
                    $NETS
  --iters N         training iterations (default: the solver's max_iter: 600 for demo,
                    28000 for the others, so give one: e.g. --iters 20)
  --work DIR        where data, nets, snapshots and logs go (default: a new folder
                    ${TMPDIR:-/tmp}/spherecl-demo.XXXXXX)
  --device SEL      cpu, gpu, an index or P:D (default: \$SPHERECL_DEVICE, else the
                    first GPU, else the first CPU)
  --data LIST       train on your Caffe image list ("path label" lines) instead; its
                    images must have the net's input size
  --root DIR        the folder LIST's paths are relative to (default: as written)
  --pairs FILE      with --data: evaluate on this LFW-style pairs file (default: none,
                    no evaluation)
  --pairs-root DIR  the pairs' images: DIR/<Name>/<Name>_NNNN.<ext> (required with --pairs)
  --ext EXT         the pairs' image extension (default: png)
  -h, --help        print this help and exit

The real models' batch of 256 is trained as 32 here, with base_lr scaled to match.
exit status: 0 success, 1 the work failed, 2 usage error or input refused before any work
EOF
}

DATA="" DATA_ROOT="" NET=demo PAIRS="" PAIRS_ROOT="" EXT=png ITERS="" WORK="" DEVICE=()
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --data) need_value "$@"; DATA="$(abs_path "$2")"; shift 2 ;;
        --root) need_value "$@"; DATA_ROOT="$(abs_path "$2")"; shift 2 ;;
        --net) need_value "$@"; NET="$2"; shift 2 ;;
        --pairs) need_value "$@"; PAIRS="$(abs_path "$2")"; shift 2 ;;
        --pairs-root) need_value "$@"; PAIRS_ROOT="$(abs_path "$2")"; shift 2 ;;
        --ext) need_value "$@"; EXT="$2"; shift 2 ;;
        --iters) need_value "$@"; check_whole "$1" "$2" 1; ITERS=$((10#$2)); shift 2 ;;
        --work) need_value "$@"; WORK="$(abs_path "$2")"; shift 2 ;;
        --device) need_value "$@"; DEVICE=(--device "$2"); shift 2 ;;
        -*) usage_error "unknown option $1" ;;
        *) usage_error "unexpected argument '$1'" ;;
    esac
done
case " $NETS " in
    *" $NET "*) ;;
    *) usage_error "--net: unknown net '$NET'; the nets: $NETS" ;;
esac
if [ -z "$DATA" ]; then
    [ -z "$DATA_ROOT" ] || usage_error "--root goes with --data"
    [ -z "$PAIRS" ] || usage_error "--pairs goes with --data (the synthetic set brings its own pairs)"
else
    [ -f "$DATA" ] || usage_error "--data: no file '$DATA'"
    [ -z "$DATA_ROOT" ] || [ -d "$DATA_ROOT" ] || usage_error "--root: no folder '$DATA_ROOT'"
fi
[ -z "$PAIRS" ] || [ -f "$PAIRS" ] || usage_error "--pairs: no file '$PAIRS'"
[ -z "$PAIRS" ] || [ -n "$PAIRS_ROOT" ] || usage_error "--pairs needs --pairs-root"
[ -z "$PAIRS_ROOT" ] || [ -d "$PAIRS_ROOT" ] || usage_error "--pairs-root: no folder '$PAIRS_ROOT'"
train_src="$ROOT/models/${NET}_train.prototxt" solver_src="$ROOT/models/${NET}_solver.prototxt"
deploy="$ROOT/models/${NET}_deploy.prototxt"
for f in "$train_src" "$solver_src" "$deploy"; do
    [ -f "$f" ] || { echo "$PROG: --net $NET: missing $f" >&2; exit 2; }
done

# top_shape TYPE (reads `sphere-info --json`): the shape of the first top of
# the first layer of that type, as "N C H W".
top_shape() {
    sed -n -E 's/^ *\{"name": "[^"]*", "type": "'"$1"'", "tops": \[\{"name": "[^"]*", "shape": \[([0-9, ]*)\].*/\1/p' |
        head -n 1 | tr -d ','
}
# sed_escape TEXT: TEXT as the replacement of an s|...|...| command.
sed_escape() {
    printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'
}

start=$(date +%s)
ensure_packages
echo "== building (build/)"
configure_and_build "$ROOT/build" -DCMAKE_BUILD_TYPE=Release
BIN="$ROOT/build/bin"
"$BIN/sphere-devices" "${DEVICE[@]}" | grep -E "^\*|selected" || true

# The crops are made at the size the deploy net takes (its Input layer).
read -r _ in_c in_h in_w <<<"$("$BIN/sphere-info" "$deploy" --json | top_shape Input)" || true
if [ -z "${in_w:-}" ]; then
    echo "$PROG: no Input layer shape in $deploy (sphere-info --json)" >&2
    exit 2
fi
[ -n "$WORK" ] || WORK=$(mktemp -d "${TMPDIR:-/tmp}/spherecl-demo.XXXXXX")
mkdir -p "$WORK"

if [ -z "$DATA" ]; then
    echo "== 1/3 synthetic identities (${in_h}x${in_w}) -> $WORK/data"
    "$BIN/sphere-synth" --out "$WORK/data" --identities 200 --per-identity 20 --holdout 60 \
        --height "$in_h" --width "$in_w" --seed 1
    DATA="$WORK/data/train.txt" DATA_ROOT="$WORK/data"
    PAIRS="$WORK/data/pairs.txt" PAIRS_ROOT="$WORK/data/holdout" EXT=png
fi
classes=$(awk 'NF { if ($NF + 0 > m) m = $NF + 0 } END { print m + 1 }' "$DATA")

# The real models' batch (256 per device, a GPU cluster's) becomes 32, which
# fits a CPU, and base_lr shrinks with it (linear scaling, as
# lfw_sphereface4.sh does: 0.1 at 32 diverges); the demo net keeps its 64.
file_batch=$(sed -n -E 's/^ *batch_size: *([0-9]+).*/\1/p' "$train_src" | head -n 1)
file_lr=$(sed -n -E 's/^base_lr: *([0-9.eE+-]+).*/\1/p' "$solver_src" | head -n 1)
if [ -z "$file_batch" ] || [ -z "$file_lr" ]; then
    echo "$PROG: no batch_size in $train_src or no base_lr in $solver_src" >&2
    exit 2
fi
batch=$file_batch
[ "$batch" -le 64 ] || batch=32
lr=$(awk -v lr="$file_lr" -v b="$batch" -v b0="$file_batch" 'BEGIN { printf "%g", lr * b / b0 }')

# The train net with this list, its class count and batch. Each edit is
# confined to its block (image_data_param, margin_inner_product_param), and
# sphere-info checks the result below, so a model written otherwise fails here.
sed -E -e "/image_data_param \{/,/\}/ {
               /root_folder:/d
               s|^( *)source: \"[^\"]*\"|\1source: \"$(sed_escape "$DATA")\"\n\1root_folder: \"$(sed_escape "$DATA_ROOT")\"|
               s|^( *)batch_size: [0-9]+|\1batch_size: $batch|
           }" \
    -e "/margin_inner_product_param \{/,/\}/ s|^( *)num_output: [0-9]+|\1num_output: $classes|" \
    "$train_src" > "$WORK/train.prototxt"
train_json=$("$BIN/sphere-info" "$WORK/train.prototxt" --phase TRAIN --json) || {
    st=$?
    echo "$PROG: the train net $WORK/train.prototxt (from $train_src) does not build" >&2
    exit $st
}
read -r t_n t_c t_h t_w <<<"$(top_shape ImageData <<<"$train_json")" || true
read -r f_n f_c <<<"$(top_shape MarginInnerProduct <<<"$train_json")" || true
if [ "${t_c:-}x${t_h:-}x${t_w:-}" != "${in_c}x${in_h}x${in_w}" ]; then
    echo "$PROG: $NET: the train net reads ${t_c:-?}x${t_h:-?}x${t_w:-?} images (from $train_src" \
         "and the images of $DATA) but $deploy takes ${in_c}x${in_h}x${in_w}: they must agree" >&2
    exit 2
fi
if [ "${t_n:-}" != "$batch" ] || [ "${f_n:-}x${f_c:-}" != "${batch}x${classes}" ]; then
    echo "$PROG: could not set batch_size $batch and the A-Softmax num_output $classes in" \
         "$train_src (got data ${t_n:-?}, fc ${f_n:-?}x${f_c:-?})" >&2
    exit 1
fi

# The solver: snapshots into WORK at the end only, the scaled base_lr, a loss
# line at least every tenth of the run.
iters=${ITERS:-$(sed -n -E 's/^max_iter: *([0-9]+).*/\1/p' "$solver_src")}
display=$(sed -n -E 's/^display: *([0-9]+).*/\1/p' "$solver_src")
display=${display:-100}
[ "$display" -le $(( iters / 10 )) ] || display=$(( iters / 10 > 0 ? iters / 10 : 1 ))
grep -v -E "^(net|snapshot_prefix|snapshot|base_lr|max_iter|display):" "$solver_src" \
    > "$WORK/solver.prototxt"
printf 'net: "%s"\nbase_lr: %s\nmax_iter: %s\ndisplay: %s\nsnapshot: 0\nsnapshot_prefix: "%s"\n' \
    "$WORK/train.prototxt" "$lr" "$iters" "$display" "$WORK/snapshots/$NET" >> "$WORK/solver.prototxt"

echo "== 2/3 training $NET on $DATA ($classes identities, ${in_h}x${in_w}, batch $batch," \
     "base_lr $lr, $iters iterations)"
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
