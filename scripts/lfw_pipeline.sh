#!/usr/bin/env bash
# Raw LFW photos -> faces -> aligned crops -> verification accuracy, one command.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROG=lfw_pipeline.sh
. "$ROOT/scripts/common.sh"
SHARED="${SPHERECL_SHARED:-$ROOT/../shared}"

usage() {
    cat <<EOF2
usage: scripts/lfw_pipeline.sh [DATA_DIR] [options]
The SphereFace pipeline on raw LFW photos: sphere-detect (MTCNN, 5 landmarks) on every
photo that LFW's pairs.txt uses, sphere-align onto the 112x96 template, then sphere-eval
with the pretrained MobileFaceNet of \$SPHERECL_SHARED (default: ../shared next to the
checkout) and the 10-fold protocol. Photos without a face are listed and counted; the
evaluation needs every pair photo, so a miss stops the run after the alignment.
Needs build/ (scripts/demo.sh, or cmake as README.md says).

  DATA_DIR             LFW photos as <Name>/<Name>_NNNN.jpg
                       (default: \$SPHERECL_SHARED/data/lfw/lfw-150px)

options:
  --work DIR           where landmarks, crops and logs go
                       (default: \${TMPDIR:-/tmp}/spherecl-lfw-pipeline)
  --device SEL         cpu, gpu, an index or P:D (default: \$SPHERECL_DEVICE, else auto)
  --threads N          alignment and decoding threads (default: 2)
  -h, --help           print this help and exit

exit status: 0 success, 1 a stage failed, 2 usage error or input refused
EOF2
}

DATA="" WORK="" DEVICE=() THREADS=2
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --work) need_value "$@"; WORK="$2"; shift 2 ;;
        --device) need_value "$@"; DEVICE=(--device "$2"); shift 2 ;;
        --threads) need_value "$@"; check_whole "$1" "$2" 1; THREADS="$((10#$2))"; shift 2 ;;
        -*) usage_error "unknown option $1" ;;
        *) [ -z "$DATA" ] || usage_error "unexpected argument '$1' (DATA_DIR is '$DATA')"
            DATA="$1"; shift ;;
    esac
done
DATA="$(abs_path "${DATA:-$SHARED/data/lfw/lfw-150px}")"
WORK="$(abs_path "${WORK:-${TMPDIR:-/tmp}/spherecl-lfw-pipeline}")"
PAIRS="$SHARED/data/lfw/pairs.txt"
MODELS="$SHARED/models/mtcnn"
MFN="$SHARED/models/mobilefacenet"
[ -d "$DATA" ] || usage_error "no photo folder $DATA"
for f in "$PAIRS" "$MODELS/det1.caffemodel" "$MFN/mobilefacenet_112x96.caffemodel"; do
    [ -f "$f" ] || usage_error "missing $f (set SPHERECL_SHARED)"
done
BIN="$ROOT/build/bin"
for app in sphere-detect sphere-align sphere-eval; do
    [ -x "$BIN/$app" ] || { echo "$PROG: no $BIN/$app: build first" >&2; exit 1; }
done
mkdir -p "$WORK"
start=$(date +%s)

# the photos pairs.txt uses (a matched line names one person, a mismatched two)
awk 'NR > 1 { if (NF == 3) { print $1, $2; print $1, $3 } else if (NF == 4) { print $1, $2; print $3, $4 } }' \
    "$PAIRS" | sort -u | awk '{ printf "%s/%s_%04d.jpg\n", $1, $1, $2 }' > "$WORK/photos.txt"
echo "== 1/3 sphere-detect on $(wc -l < "$WORK/photos.txt") photos of $DATA"
"$BIN/sphere-detect" --models "$MODELS" --list "$WORK/photos.txt" --root "$DATA" \
    --out "$WORK/landmarks.txt" "${DEVICE[@]}" | tee "$WORK/detect.log"
misses=$(grep -c '^# no face' "$WORK/landmarks.txt" || true)

echo "== 2/3 sphere-align -> $WORK/aligned"
"$BIN/sphere-align" --landmarks "$WORK/landmarks.txt" --src "$DATA" --dst "$WORK/aligned" \
    --threads "$THREADS" | tee "$WORK/align.log"
if [ "$misses" -gt 0 ]; then
    echo "$PROG: $misses photos without a detected face (listed in $WORK/landmarks.txt):" \
         "the 10-fold protocol needs every pair photo" >&2
    exit 1
fi

echo "== 3/3 sphere-eval (MobileFaceNet, LFW 10 folds)"
"$BIN/sphere-eval" --net "$MFN/mobilefacenet_112x96_deploy.prototxt" \
    --weights "$MFN/mobilefacenet_112x96.caffemodel" --pairs "$PAIRS" --root "$WORK/aligned" \
    --rgb --batch 64 --threads "$THREADS" "${DEVICE[@]}" | tee "$WORK/eval.log"
echo "pipeline finished in $(( $(date +%s) - start )) s; logs in $WORK"
