#!/usr/bin/env bash
# Everything a lent GPU is wanted for, in one call of the device tool (issues 15 and 12):
#
#   bash benchmarks/gpu_session.sh OUT_DIR [FINETUNE_MINUTES]
#
# 1. `benchmarks/gpu_predict.sh` on 10,000 `realistic` spectra: throughput at batch 128 and
#    1,024 and a profile (issue 15, item 4); at most 4 minutes.
# 2. `benchmarks/gpu_finetune.sh` for FINETUNE_MINUTES (default 4): the bundled model's recipe
#    at a GPU's batch, its snapshots averaged into soup.ckpt (issue 12).
# The device tool brings back at most 8 files, so OUT_DIR gets two: logs.tgz (every log,
# timing, profile and metrics file of both, without the spectra and checkpoints) and soup.ckpt.
# With the tool: carry .whl, runs/real, runs/stage4.ckpt and runs/teacher_bank.npz (see
# benchmarks/device_env.sh and gpu_finetune.sh for how each is made; about 37 MB), command
# `bash benchmarks/gpu_session.sh $OUT`, timeout_s 600 (the whole run takes about 9 minutes).
# DEVICE=cpu makes it a dry run on any machine (N_SPECTRA=300 keeps step 1 short on a CPU).
set -uo pipefail  # no -e: whatever happens, the logs are packed at the end
out=${1:?usage: gpu_session.sh OUT_DIR [FINETUNE_MINUTES]}
minutes=${2:-4}
n=${N_SPECTRA:-10000}
work=runs/gpu-session
status=0
mkdir -p "$out"
rm -rf "$work" "$out/logs.tgz" "$out/soup.ckpt"
mkdir -p "$work"
if ! command -v trmseq > /dev/null || ! python3 -c "import pyteomics" 2> /dev/null; then
    source benchmarks/device_env.sh || exit $?
fi
timeout 240 bash benchmarks/gpu_predict.sh "$work/predict" "$n" > "$work/predict.log" 2>&1 \
    || { status=$?; echo "gpu_predict.sh failed (rc $status)" >&2; }
bash benchmarks/gpu_finetune.sh "$work/finetune" "$minutes" 12 > "$work/finetune.log" 2>&1 \
    || { status=$?; echo "gpu_finetune.sh failed (rc $status)" >&2; }
tar czf "$out/logs.tgz" --exclude='*.mgf' --exclude='*.mztab' --exclude='*.ckpt' -C "$work" .
[ -f "$work/finetune/soup.ckpt" ] && cp "$work/finetune/soup.ckpt" "$out/"
tail -n 4 "$work/predict/predict_b128.log" "$work/predict/predict_b1024.log" "$work/finetune.log" 2> /dev/null
exit "$status"
