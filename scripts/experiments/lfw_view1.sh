#!/usr/bin/env bash
# The LFW View 1 experiment of README.md: SphereFace-4 trained from scratch on
# the DevTrain people once per loss (softmax, A-Softmax m=2, m=4; same seed,
# data order and budget), each scored with LFW View 1 (threshold on the
# DevTrain pairs, accuracy on the DevTest pairs) and the angular Fisher score
# of the DevTest people with 2 or more photos. `--help` for the options.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PROG=lfw_view1.sh
. "$ROOT/scripts/common.sh"
. "$ROOT/scripts/experiments/exp_common.sh"
SHARED="${SPHERECL_SHARED:-$ROOT/../shared}"
LFW="$SHARED/data/lfw"

usage() {
    cat <<EOF
usage: scripts/experiments/lfw_view1.sh [options]
Reproduces the LFW View 1 table and training curves of README.md from scratch:
  1. aligns every photo of the people of peopleDevTrain.txt and peopleDevTest.txt
     (lfw-150px) with sphere-align, from the landmarks of lfw_landmark_150px.txt
     (without its '#' lines) or, with --landmarks detect, from sphere-detect's
     (MTCNN; a photo without a detected face has no crop and leaves the lists);
  2. trains SphereFace-4 (models/sphereface4_train.prototxt: the DevTrain people with
     2 or more photos as classes, batch 32, base_lr 0.0125, lr /10 at 70% and 90% of
     the run) once per loss, with the same seed and iterations; A-Softmax anneals
     lambda from 1000 to lambda_min 5 over the first quarter of the run (the paper's
     schedule, base 1000 / power 1, with gamma scaled to the budget: 796 / iters);
  3. evaluates each with sphere-eval --view1 (DevTrain pairs set the threshold,
     DevTest pairs give the accuracy) and --fisher (the angular Fisher score of the
     DevTest people with 2 or more photos, people never trained on);
  4. writes WORK/results.md (the table) and DOCS/lfw_view1_curves.png, or
     DOCS/lfw_view1_detect_curves.png (sphere-plot of every run's --log-json).
Needs build/ (cmake). Every long step runs at nice 19.
Expected run time on the 2-core development machine (PoCL CPU device, oneDNN
convolutions, otherwise idle; measured 2026-12-05 at 1500 iterations): 3 s to align,
about 160 img/s of training (5 minutes per loss at the default 1500 iterations) and
about a minute per evaluation: 18 minutes for the three losses; with --landmarks
detect, 12 minutes more for sphere-detect (18.7 photos/s). Several times longer beside
other work.

options:
  --work DIR      where crops, lists, nets, snapshots and logs go
                  (default: ${TMPDIR:-/tmp}/spherecl-lfw-view1, -detect appended
                  with --landmarks detect)
  --landmarks given|detect
                  where the 5 landmarks come from: lfw_landmark_150px.txt, or
                  sphere-detect on every photo (adds about 12 minutes) (default: given)
  --iters N       training iterations per loss (default: 1500, 7.2 epochs)
  --seed N        weight fillers, data order, mirroring (default: 1)
  --losses LIST   comma list of softmax, m1, m2, m3, m4 (default: softmax,m2,m4)
  --docs DIR      where the curves PNG goes (default: docs/ of the checkout)
  --reuse         keep the runs WORK already holds (a finished run is not trained
                  again); without it every listed run is trained from scratch
  --device SEL    cpu, gpu, an index or P:D (default: \$SPHERECL_DEVICE, else the
                  first GPU, else the first CPU)
  -h, --help      print this help and exit

exit status: 0 success, 1 the work failed, 2 usage error or input refused before any work
EOF
}

WORK="" ITERS=1500 SEED=1 LOSSES="softmax,m2,m4" DOCS="$ROOT/docs" REUSE=0 DEVICE=() LANDMARKS=given
while [ $# -gt 0 ]; do
    exp_option "$@"
    [ "$EXP_SHIFT" = 0 ] || { shift "$EXP_SHIFT"; continue; }
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --landmarks) need_value "$@"
            case "$2" in
                given|detect) LANDMARKS="$2"; shift 2 ;;
                *) usage_error "--landmarks: '$2' is not one of given, detect" ;;
            esac ;;
        -*) usage_error "unknown option $1" ;;
        *) usage_error "unexpected argument '$1'" ;;
    esac
done
SUFFIX=""
[ "$LANDMARKS" = given ] || SUFFIX="-$LANDMARKS"
WORK="${WORK:-${TMPDIR:-/tmp}/spherecl-lfw-view1$SUFFIX}"
MTCNN="$SHARED/models/mtcnn"
[ -d "$LFW/lfw-150px" ] || { echo "$PROG: missing $LFW/lfw-150px (set SPHERECL_SHARED)" >&2; exit 2; }
[ "$LANDMARKS" = given ] || [ -f "$MTCNN/det1.caffemodel" ] ||
    { echo "$PROG: missing $MTCNN/det1.caffemodel (set SPHERECL_SHARED)" >&2; exit 2; }
require_build sphere-align sphere-train sphere-eval sphere-plot
[ "$LANDMARKS" = given ] || require_build sphere-detect
mkdir -p "$WORK/runs" "$DOCS"

# ---- 1. crops of every View 1 person
# detect_landmarks: sphere-detect's landmarks of every photo of the people of
# WORK/people.txt (its '# no face' lines are skipped by sphere-align).
detect_landmarks() {
    local misses
    (cd "$LFW/lfw-150px" && find . -name '*.jpg' | sed 's|^\./||' | LC_ALL=C sort) |
        awk 'NR == FNR { want[$1] = 1; next } { split($0, p, "/"); if (p[1] in want) print }' \
            "$WORK/people.txt" - >"$WORK/photos.txt"
    echo "sphere-detect on $(wc -l <"$WORK/photos.txt") photos ($(date +%H:%M))"
    nice -n 19 "$BIN/sphere-detect" --models "$MTCNN" --list "$WORK/photos.txt" \
        --root "$LFW/lfw-150px" --out "$WORK/landmarks.txt" "${DEVICE[@]}" 2>"$WORK/detect.log" ||
        { echo "$PROG: sphere-detect failed; see $WORK/detect.log" >&2; tail -n 5 "$WORK/detect.log" >&2; exit 1; }
    tail -n 1 "$WORK/detect.log"
    misses=$(grep -c '^# no face' "$WORK/landmarks.txt" || true)
    echo "photos without a detected face: $misses (no crop: they leave the training list, the Fisher set and the pairs)"
}

align() {
    if [ -f "$WORK/aligned/transforms.txt" ] && [ "$REUSE" = 1 ]; then
        echo "reusing the crops in $WORK/aligned"
        return
    fi
    awk 'FNR == 1 { next } { print $1 }' "$LFW/peopleDevTrain.txt" "$LFW/peopleDevTest.txt" |
        sort -u >"$WORK/people.txt"
    if [ "$LANDMARKS" = detect ]; then
        detect_landmarks
    else
        awk 'NR == FNR { want[$1] = 1; next } /^#/ { next }
             { split($1, p, "/"); if (p[1] in want) print }' \
            "$WORK/people.txt" "$LFW/lfw_landmark_150px.txt" >"$WORK/landmarks.txt"
    fi
    nice -n 19 "$BIN/sphere-align" --landmarks "$WORK/landmarks.txt" --src "$LFW/lfw-150px" \
        --dst "$WORK/aligned" --quiet | tail -n 1
}

# people_list PEOPLE_FILE: "Name/Name_NNNN.jpg label" for every crop of the
# file's people who have 2 or more crops, labels 0.. in name order. Built from
# the crops that exist: LFW's Betsy_Coffin_0001.jpg is missing from lfw-150px.
people_list() {
    (cd "$WORK/aligned" && find . -name '*.jpg' | sed 's|^\./||' | LC_ALL=C sort) |
        awk 'NR == FNR { if (FNR > 1) want[$1] = 1; next }
             { split($0, p, "/"); if (p[1] in want) { n[p[1]]++; path[++m] = $0; who[m] = p[1] } }
             END { for (i = 1; i <= m; i++) if (n[who[i]] >= 2) {
                       if (!(who[i] in label)) label[who[i]] = classes++
                       print path[i], label[who[i]] } }' "$1" -
}

# ---- 2. one train net and solver per loss
write_run() { # LOSS DIR CLASSES
    local gamma
    gamma=$(awk -v n="$ITERS" 'BEGIN { printf "%.6g", 796 / n }')
    classifier_block "$1" "$3" fc5 1000 "$gamma" 1 5 >"$2/fc6.txt"
    awk -v list="$WORK/train.txt" -v root="$WORK/aligned/" '
        { sub(/source: "data\/train.txt"/, "source: \"" list "\"\n    root_folder: \"" root "\"")
          sub(/batch_size: 256/, "batch_size: 32"); print }' \
        "$ROOT/models/sphereface4_train.prototxt" >"$2/base.prototxt"
    replace_fc6 "$2/base.prototxt" "$2/fc6.txt" >"$2/train.prototxt"
    cat >"$2/solver.prototxt" <<SOLVER
net: "$2/train.prototxt"
base_lr: 0.0125
lr_policy: "multistep"
gamma: 0.1
stepvalue: $((ITERS * 7 / 10))
stepvalue: $((ITERS * 9 / 10))
max_iter: $ITERS
display: $(( ITERS >= 400 ? 20 : 10 ))
momentum: 0.9
weight_decay: 0.0005
snapshot: 0
snapshot_prefix: "$2/snap"
SOLVER
}

# View 1 pairs whose two crops exist. One DevTest pair names the photo that
# lfw-150px lacks (Betsy_Coffin_0001.jpg), and sphere-eval refuses a list with a
# missing image; the pairs file holds N matched + N mismatched pairs, so the
# mismatched pair without a photo goes with the last matched pair: DevTest is
# scored on 499 + 499 of its 500 + 500 pairs (DevTrain keeps all 1,100).
view1_pairs() {
    local f
    mkdir -p "$WORK/pairs"
    for f in pairsDevTrain.txt pairsDevTest.txt; do
        awk -v dir="$WORK/aligned" '
            function ok(name, n,    path, r) {
                path = dir "/" name "/" name "_" sprintf("%04d", n) ".jpg"
                r = (getline _ < path) >= 0
                close(path)
                return r
            }
            NR == 1 { n = $1; next }
            NR <= n + 1 { m[++nm] = $0; next }
            { x[++nx] = $0 }
            END {
                bad = 0
                for (i = 1; i <= nx; i++) { split(x[i], f); if (!ok(f[1], f[2]) || !ok(f[3], f[4])) drop[i] = 1 }
                for (i = 1; i <= nm; i++) { split(m[i], f); if (!ok(f[1], f[2]) || !ok(f[1], f[3])) dropm[i] = 1 }
                kept_m = 0; kept_x = 0
                for (i = 1; i <= nm; i++) kept_m += !dropm[i]
                for (i = 1; i <= nx; i++) kept_x += !drop[i]
                k = kept_m < kept_x ? kept_m : kept_x
                print k
                c = 0; for (i = 1; i <= nm && c < k; i++) if (!dropm[i]) { print m[i]; c++ }
                c = 0; for (i = 1; i <= nx && c < k; i++) if (!drop[i]) { print x[i]; c++ }
            }' "$LFW/$f" >"$WORK/pairs/$f"
        echo "$f: $(head -n 1 "$WORK/pairs/$f") + $(head -n 1 "$WORK/pairs/$f") of $(head -n 1 "$LFW/$f") + $(head -n 1 "$LFW/$f") pairs have both crops"
    done
}

# ---- 3. View 1 accuracy and Fisher score of a run's final weights
evaluate() { # DIR
    nice -n 19 "$BIN/sphere-eval" --net "$ROOT/models/sphereface4_deploy.prototxt" \
        --weights "$1/snap_iter_$ITERS.caffemodel" --pairs "$WORK/pairs" --view1 \
        --root "$WORK/aligned" --fisher "$WORK/fisher.txt" "${DEVICE[@]}" >"$1/eval.log" 2>&1 ||
        { echo "$PROG: sphere-eval failed; see $1/eval.log" >&2; tail -n 5 "$1/eval.log" >&2; exit 1; }
}

run_loss() { # LOSS CLASSES
    local dir="$WORK/runs/$1"
    if [ "$REUSE" = 1 ] && [ -f "$dir/eval.log" ] && grep -q "Fisher" "$dir/eval.log"; then
        echo "$(loss_title "$1"): reusing $dir"
        return
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    write_run "$1" "$dir" "$2"
    echo "$(loss_title "$1"): training $ITERS iterations ($(date +%H:%M), load $(cut -d' ' -f1-3 /proc/loadavg))"
    train_run "$1" "$dir/solver.prototxt" "$dir/train.log" "$SEED"
    echo "$(loss_title "$1"): trained in $(minutes "$(cat "$dir/train.log.seconds")"); evaluating"
    evaluate "$dir"
    grep -E "View 1 accuracy|Fisher" "$dir/eval.log"
}

# ---- 4. the table and the curves
results() {
    local l dir curves=()
    {
        echo "| loss | landmarks | iterations | final loss | train accuracy | LFW View 1 accuracy | angular Fisher score | training time | img/s |"
        echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        for l in ${LOSSES//,/ }; do
            dir="$WORK/runs/$l"
            printf "| %s | %s | %d | %.4f | %.4f | %s | %s | %s | %.1f |\n" "$(loss_title "$l")" "$LANDMARKS_TITLE" "$ITERS" \
                "$(last_json "$dir/train.log.jsonl" loss)" "$(last_json "$dir/train.log.jsonl" accuracy)" \
                "$(sed -n 's/^LFW View 1 accuracy: \([0-9.]*%\).*/\1/p' "$dir/eval.log")" \
                "$(sed -n 's/^angular Fisher score.*: \([0-9.]*\) .*/\1/p' "$dir/eval.log")" \
                "$(minutes "$(cat "$dir/train.log.seconds")")" \
                "$(awk -v s="$(cat "$dir/train.log.seconds")" -v n="$ITERS" 'BEGIN { print n * 32 / s }')"
            curves+=(--curves "$dir/train.log.jsonl" --label "$(loss_title "$l")")
        done
    } >"$WORK/results.md"
    cat "$WORK/results.md"
    "$BIN/sphere-plot" "${curves[@]}" --out "$DOCS/lfw_view1${SUFFIX//-/_}_curves.png" \
        --title "SphereFace-4 on LFW DevTrain, $LANDMARKS_TITLE landmarks ($ITERS iterations, batch 32, seed $SEED)"
}

LANDMARKS_TITLE="lfw_landmark_150px"
[ "$LANDMARKS" = given ] || LANDMARKS_TITLE="sphere-detect"
align
people_list "$LFW/peopleDevTrain.txt" >"$WORK/train.txt"
people_list "$LFW/peopleDevTest.txt" >"$WORK/fisher.txt"
view1_pairs
CLASSES=$(awk 'END { print $2 + 1 }' "$WORK/train.txt")
echo "train: $(wc -l <"$WORK/train.txt") crops of $CLASSES DevTrain people;" \
     "Fisher set: $(wc -l <"$WORK/fisher.txt") crops of $(awk 'END { print $2 + 1 }' "$WORK/fisher.txt") DevTest people"
for l in ${LOSSES//,/ }; do
    run_loss "$l" "$CLASSES"
done
results
