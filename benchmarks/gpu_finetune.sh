#!/usr/bin/env bash
# Fine-tune the default model's line on a lent GPU, in one go (issue 12, item 3):
#
#   bash benchmarks/gpu_finetune.sh OUT_DIR [MINUTES] [WORKERS]
#
# The recipe of the CPU runs in docs/benchmarks.md ("How it was trained", items 11-12): stage 4's
# weights, `realistic` spectra with MS2PIP's b/y intensities from a teacher bank, 10% real
# training spectra and 40% real variants, at a GPU's batch (256) for MINUTES (default 7, which
# leaves a 15-minute lease room for the start). Carry to the device (all git-ignored):
#
#   runs/real/train.mgf      python benchmarks/split_real_dev.py --out runs/real
#   runs/stage4.ckpt         git show acfb46c:src/trmseq/weights/default.ckpt > runs/stage4.ckpt
#   runs/teacher_bank.npz    ms2pip-env/bin/python benchmarks/ms2pip_bank.py --model runs/stage4.ckpt \
#                                -n 150000 --seed 33 -o runs/teacher_bank.npz   (28 MB; MS2PIP is
#                                not on the device, and it cannot download anything)
#
# Writes to OUT_DIR: soup.ckpt (the uniform mean of the run's snapshots from its first third on,
# plain weights: calibrate and score it on the CPU afterwards, as item 12 does), the training
# log, metrics.csv and nvidia-smi's view (on the device: OUT_DIR under $OUT, so they come back).
# DEVICE=cpu makes it a dry run on any machine: `DEVICE=cpu bash benchmarks/gpu_finetune.sh /tmp/dry 1 1`.
set -euo pipefail
out=${1:?usage: gpu_finetune.sh OUT_DIR [MINUTES] [WORKERS]}
minutes=${2:-7}
workers=${3:-12}
device=${DEVICE:-cuda}
run=runs/gpu-finetune-run  # snapshots hold the optimizer too: kept out of OUT_DIR
for need in runs/real/train.mgf runs/stage4.ckpt runs/teacher_bank.npz; do
    [ -f "$need" ] || { echo "gpu_finetune.sh: $need is missing (see the header of this script)" >&2; exit 2; }
done
rm -rf "$run" "$out/soup.ckpt" "$out/soup.txt"  # no stale result if this run fails
mkdir -p "$out" "$run"
trap 'touch "$run/DONE"' EXIT  # the snapshot loop below stops however this script ends
(nvidia-smi --query-gpu=name,memory.total --format=csv || true) > "$out/gpu.txt" 2>&1
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" | tee -a "$out/gpu.txt"

# Snapshots for the soup: last.ckpt is rewritten every checkpoint_every steps; keep each one.
(n=0; seen=""; while true; do
    done_=$([ -f "$run/DONE" ] && echo 1 || true)  # checked first: the last write is copied too
    if [ -f "$run/last.ckpt" ]; then
        m=$(stat -c %Y "$run/last.ckpt")
        if [ "$m" != "$seen" ]; then sleep 2; cp "$run/last.ckpt" "$run/snap_$(printf %03d $n).ckpt"; n=$((n + 1)); seen=$m; fi
    fi
    [ -n "$done_" ] && break
    sleep 5
done) &

trmseq train --model runs/stage4.ckpt --config configs/default-model-teacher.yaml --batch-size 256 \
    --train runs/real/train.mgf --max-time "$minutes" --workers "$workers" --device "$device" --seed 0 \
    -o "$run" 2>&1 | tee "$out/train.log"
touch "$run/DONE"
wait
cp "$run/metrics.csv" "$out/metrics.csv"
python3 benchmarks/average_weights.py "$out/soup.ckpt" "$run"/snap_*.ckpt --min-minutes "$(python3 -c "print($minutes / 3)")" \
    | tee "$out/soup.txt"
