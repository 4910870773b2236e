#!/usr/bin/env bash
# Train the bundled default model and time it, in one go (issue 5). Meant for one GPU:
#
#   bash benchmarks/default_model.sh OUT_DIR [MINUTES] [WORKERS]
#
# Needs runs/real/train.mgf (python benchmarks/split_real_dev.py --out runs/real). Writes to
# OUT_DIR: default.ckpt (EMA weights of the best validation step, no training state), the
# training log and metrics.csv, nvidia-smi's view, and a `trmseq predict` timing on 1,000
# synthetic realistic spectra. Accuracy is measured afterwards, on the CPU, with
# `trmseq evaluate` on held-out sets (docs/benchmarks.md).
set -euo pipefail
out=${1:?usage: default_model.sh OUT_DIR [MINUTES] [WORKERS]}
minutes=${2:-6}
workers=${3:-12}
run=runs/default-model-run
mkdir -p "$out"
(nvidia-smi --query-gpu=name,memory.total --format=csv || true) > "$out/gpu.txt" 2>&1
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" | tee -a "$out/gpu.txt"

trmseq train --config configs/default-model.yaml --train runs/real/train.mgf --max-time "$minutes" \
    --workers "$workers" --seed 0 -o "$run" 2>&1 | tee "$out/train.log"
cp "$run/metrics.csv" "$out/metrics.csv"
python3 - "$run/best.ckpt" "$out/default.ckpt" <<'PY'
import sys
from trmseq import checkpoint
payload = checkpoint.load(sys.argv[1])
checkpoint.save(sys.argv[2], payload["config"], payload["weights"], payload["step"], payload["metrics"])
print("exported step", payload["step"], payload["metrics"])
PY

trmseq generate --n 1000 --preset realistic --seed 777 -o runs/realistic_1000.mgf
# A time limit keeps a slow decode from eating the GPU lease; the log says how far it got.
timeout 120 trmseq predict runs/realistic_1000.mgf -o runs/gpu_512.mztab --model "$out/default.ckpt" \
    --batch-size 512 2>&1 | tail -6 | tee "$out/predict.log"
