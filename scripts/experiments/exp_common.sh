# Shared by the scripts of scripts/experiments/ (sourced after
# scripts/common.sh): the loss list, the classifier edits, timed training
# runs. Each experiment trains the same net once per loss with the same
# seed, data order and iteration budget, so the runs differ in the loss only.

BIN="$ROOT/build/bin"

# require_build APP...: the apps must be built (cmake, see README.md).
require_build() {
    local app
    for app in "$@"; do
        [ -x "$BIN/$app" ] || { echo "$PROG: no $BIN/$app: build first (cmake -S . -B build && cmake --build build)" >&2; exit 1; }
    done
}

# check_losses OPTION LIST: a comma list of distinct losses among softmax,
# m1, m2, m3, m4, at least one (usage error otherwise).
check_losses() {
    local l seen=" "
    for l in ${2//,/ }; do
        case "$l" in
            softmax|m1|m2|m3|m4) ;;
            *) usage_error "$1: unknown loss '$l' (softmax, m1, m2, m3, m4)" ;;
        esac
        case "$seen" in
            *" $l "*) usage_error "$1: '$l' is listed twice" ;;
        esac
        seen="$seen$l "
    done
    [ "$seen" != " " ] || usage_error "$1: no loss in '$2'"
}

# exp_option "$@" (inside the option loop): parses one of the options every
# experiment takes (--work, --iters, --seed, --losses, --docs, --reuse,
# --device) into WORK ITERS SEED LOSSES DOCS REUSE DEVICE and sets EXP_SHIFT
# to the words it used (0: not one of them).
exp_option() {
    EXP_SHIFT=2
    case "$1" in
        --work) need_value "$@"; WORK="$(abs_path "$2")" ;;
        --iters) need_value "$@"; check_whole "$1" "$2" 10; ITERS=$((10#$2)) ;;
        --seed) need_value "$@"; check_whole "$1" "$2" 0; SEED=$((10#$2)) ;;
        --losses) need_value "$@"; check_losses "$1" "$2"; LOSSES="$2" ;;
        --docs) need_value "$@"; DOCS="$(abs_path "$2")" ;;
        --reuse) REUSE=1; EXP_SHIFT=1 ;;
        --device) need_value "$@"; DEVICE=(--device "$2") ;;
        *) EXP_SHIFT=0 ;;
    esac
}

# m_type mK: the MarginInnerProduct type of margin m = K.
m_type() {
    case "$1" in
        m1) echo SINGLE ;; m2) echo DOUBLE ;; m3) echo TRIPLE ;; m4) echo QUADRUPLE ;;
    esac
}

# loss_title LOSS: the name a table or a legend shows.
loss_title() {
    case "$1" in
        softmax) echo "softmax" ;;
        *) echo "A-Softmax m=${1#m}" ;;
    esac
}

# classifier_block LOSS CLASSES INPUT BASE GAMMA POWER LAMBDA_MIN: the fc6
# layer of a train net: a plain InnerProduct (softmax: Caffe's weights and
# bias) or A-Softmax's MarginInnerProduct with the given lambda schedule.
classifier_block() {
    if [ "$1" = softmax ]; then
        cat <<BLOCK
layer {
  name: "fc6"
  type: "InnerProduct"
  bottom: "$3"
  top: "fc6"
  inner_product_param {
    num_output: $2
    weight_filler { type: "xavier" }
    bias_filler { type: "constant" value: 0 }
  }
}
BLOCK
    else
        cat <<BLOCK
layer {
  name: "fc6"
  type: "MarginInnerProduct"
  bottom: "$3"
  bottom: "label"
  top: "fc6"
  top: "lambda"
  margin_inner_product_param {
    num_output: $2
    type: $(m_type "$1")
    weight_filler { type: "xavier" }
    base: $4
    gamma: $5
    power: $6
    lambda_min: $7
    iteration: 0
  }
}
BLOCK
    fi
}

# replace_fc6 FILE BLOCKFILE: FILE with its top-level `layer { name: "fc6" ... }`
# block (from a "layer {" line to the "}" line that closes it, both at column 0,
# as models/generate.py writes them) replaced by the text of BLOCKFILE.
replace_fc6() {
    awk -v blockfile="$2" '
        /^layer \{/ { inblk = 1; blk = "" }
        { if (inblk) blk = blk $0 "\n"; else print }
        /^\}/ && inblk {
            inblk = 0
            if (blk ~ /\n  name: "fc6"\n/) {
                while ((getline line < blockfile) > 0) print line
                found = 1
            } else printf "%s", blk
        }
        END { if (!found) exit 3 }' "$1"
}

# train_run NAME SOLVER LOG SEED: sphere-train at nice 19 (the machine is
# shared), its output in LOG, its display lines in LOG.jsonl, the wall time
# in seconds in LOG.seconds. Exit 1 when the training fails.
train_run() {
    local t0 t1
    rm -f "$3.jsonl"
    t0=$(date +%s)
    if ! nice -n 19 "$BIN/sphere-train" --solver "$2" --seed "$4" --log-json "$3.jsonl" \
            "${DEVICE[@]}" >"$3" 2>&1; then
        echo "$PROG: training $1 failed; last lines of $3:" >&2
        tail -n 5 "$3" >&2
        exit 1
    fi
    t1=$(date +%s)
    echo $((t1 - t0)) >"$3.seconds"
}

# last_json LOG.jsonl KEY: KEY's value in the last line (sphere-train writes
# %.9g numbers or null).
last_json() {
    tail -n 1 "$1" | sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p"
}

# minutes SECONDS: "12 min 5 s".
minutes() {
    echo "$(($1 / 60)) min $(($1 % 60)) s"
}
