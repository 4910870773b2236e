#!/usr/bin/env bash
# Peer benchmark: train Casanovo 5.2.1 from scratch on the CPU for a fixed wall-clock budget,
# sequence a held-out annotated MGF with it, and score the result with trmseq's own metric
# (`trmseq evaluate -p`, which reads Casanovo 5 mzTab), so it compares with trmseq at equal budget.
#
# usage: benchmarks/casanovo_peer.sh TRAIN.mgf VAL.mgf TEST.mgf MINUTES small|default OUTDIR
#
# environment (defaults in brackets):
#   CASANOVO_VENV  Casanovo's own virtual environment [/work/casanovo/venv]
#   CASANOVO_CACHE cache home for spectrum_utils' Unimod table [/work/casanovo/cache]
#   TRMSEQ         trmseq executable used for scoring [/work/venv/bin/trmseq]
#   THREADS        CPU threads for training and prediction [1]
#
# Setting up Casanovo's venv (kept apart from trmseq's):
#   python3 -m venv /work/casanovo/venv
#   /work/casanovo/venv/bin/pip install torch==2.13.0          # first: the CPU build
#   /work/casanovo/venv/bin/pip install casanovo==5.2.1 pyarrow==21.0.0 'numpy<2'
#   (casanovo 5.2.1 asks for torch>=2.2, lightning>=2.6, depthcharge-ms 0.4.x, numpy<2.0.)
#
# Offline Unimod: Casanovo's mzTab writer (casanovo/data/psm.py) parses every predicted
#   peptide with spectrum_utils.proforma to fill the `modifications` column. A named
#   modification such as M[Oxidation] makes spectrum_utils load the UNIMOD vocabulary, which it
#   downloads from http://www.unimod.org/obo/unimod.obo on first use; offline that raises
#   urllib.error.URLError ("Name or service not known") as soon as a modified peptide is
#   written. spectrum_utils first looks for a pickled copy in
#   $XDG_CACHE_HOME/spectrum_utils/UNIMOD.pkl and, for UNIMOD, uses it without any freshness
#   check. `casanovo_peer.py unimod-cache` writes that pickle from the Unimod XML tables that
#   psims (a Casanovo dependency) ships in its package, and this script points XDG_CACHE_HOME
#   at it. Nothing is downloaded.
#
# What the script does:
#   1. prep: copies TRAIN and VAL keeping only spectra whose SEQ= Casanovo's vocabulary
#      parses (training aborts on the first unknown token): residue-attached N-terminal
#      mods (Q-17.027..., E-18.011..., C+39.995...), phospho (+79.966), +236.157 etc. go.
#   2. train: `casanovo train` (through casanovo_peer.py, which sets Lightning's max_time to
#      MINUTES and records throughput); the budget counts from the first training step, after
#      Casanovo has indexed the MGFs into its Lance store (seconds for thousands of spectra).
#      When the time is up Lightning ends the epoch and Casanovo's epoch-end ModelCheckpoint
#      writes casanovo.epoch=E-step=S.ckpt: that last checkpoint is the model scored.
#   3. `casanovo sequence TEST -m CKPT` (Casanovo's default beam: n_beams 1) -> OUTDIR/pred.mztab
#   4. `trmseq evaluate TEST -p pred.mztab --json OUTDIR/report.json` -> report.txt; PSMs are
#      matched to spectra by (ms_run location, spectra_ref index=N). Spectra Casanovo skipped
#      (fewer than 20 peaks after its preprocessing, charge > 4) have no PSM and count as
#      misses, as for any tool.
set -euo pipefail

if [[ $# -ne 6 ]]; then
    sed -n '6p' "$0" | sed 's/^# //'
    exit 2
fi
for f in "$1" "$2" "$3"; do [[ -f "$f" ]] || { echo "error: $f: no such file" >&2; exit 1; }; done
TRAIN=$(realpath "$1"); VAL=$(realpath "$2"); TEST=$(realpath "$3")
MINUTES=$4; SIZE=$5; OUT=$6
case "$SIZE" in small|default) ;; *) echo "error: size must be small or default, not $SIZE" >&2; exit 2;; esac

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VENV=${CASANOVO_VENV:-/work/casanovo/venv}
CACHE=${CASANOVO_CACHE:-/work/casanovo/cache}
TRMSEQ=${TRMSEQ:-/work/venv/bin/trmseq}
THREADS=${THREADS:-1}
PY="$VENV/bin/python"
[[ -x "$VENV/bin/casanovo" ]] || { echo "error: $VENV: no Casanovo virtual environment (see this script's header)" >&2; exit 1; }

export OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS
export NUMBA_NUM_THREADS=$THREADS POLARS_MAX_THREADS=$THREADS RAYON_NUM_THREADS=$THREADS
export XDG_CACHE_HOME=$CACHE
export TQDM_DISABLE=1

mkdir -p "$OUT/data" "$OUT/train"
OUT=$(realpath "$OUT")
CONFIG="$OUT/casanovo_$SIZE.yaml"
"$PY" "$HERE/casanovo_peer.py" config "$SIZE" "$CONFIG"  # Casanovo's defaults + this benchmark's changes
export CASANOVO_CONFIG=$CONFIG  # read by casanovo_peer.py prep
log() { echo "[$(date -u +%H:%M:%S)] $*" | tee -a "$OUT/bench.log"; }

[[ -f "$CACHE/spectrum_utils/UNIMOD.pkl" ]] || "$PY" "$HERE/casanovo_peer.py" unimod-cache "$CACHE"

log "prep: $TRAIN, $VAL with $CONFIG"
"$PY" "$HERE/casanovo_peer.py" prep "$TRAIN" "$OUT/data/train.mgf" 2>&1 | tee -a "$OUT/bench.log"
"$PY" "$HERE/casanovo_peer.py" prep "$VAL" "$OUT/data/val.mgf" 2>&1 | tee -a "$OUT/bench.log"

log "train: $SIZE model for $MINUTES min"
rm -f "$OUT"/train/casanovo.*.ckpt  # so the checkpoint picked below is this run's
t0=$(date +%s)
"$PY" "$HERE/casanovo_peer.py" train "$MINUTES" "$OUT/throughput.json" \
    "$OUT/data/train.mgf" -p "$OUT/data/val.mgf" -c "$CONFIG" \
    -d "$OUT/train" -o casanovo -f -v info > "$OUT/train.stdout" 2>&1 \
    || { tail -30 "$OUT/train.stdout"; exit 1; }
log "train: done in $(( $(date +%s) - t0 )) s wall; $(tr -d '\n' < "$OUT/throughput.json")"

CKPT=$(ls -t "$OUT"/train/casanovo.epoch=*-step=*.ckpt 2>/dev/null | head -1 || true)
[[ -n "$CKPT" ]] || { echo "no checkpoint written in $OUT/train" >&2; exit 1; }
log "checkpoint: $CKPT"

log "sequence: $TEST"
t0=$(date +%s)
"$PY" -c 'import torch, os; torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
from casanovo.casanovo import main; main()' \
    sequence "$TEST" -m "$CKPT" -c "$CONFIG" -d "$OUT" -o pred -f -v info \
    > "$OUT/sequence.stdout" 2>&1 || { tail -30 "$OUT/sequence.stdout"; exit 1; }
log "sequence: done in $(( $(date +%s) - t0 )) s; $(grep -c '^PSM' "$OUT/pred.mztab" || true) PSMs"

log "score: trmseq evaluate"
"$TRMSEQ" evaluate "$TEST" -p "$OUT/pred.mztab" --json "$OUT/report.json" | tee "$OUT/report.txt"
log "done: $OUT/report.txt, $OUT/report.json"
