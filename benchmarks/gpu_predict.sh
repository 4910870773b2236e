#!/usr/bin/env bash
# `trmseq predict` throughput on a lent GPU, in one go (issue 15):
#
#   bash benchmarks/gpu_predict.sh OUT_DIR [N_SPECTRA]
#
# Writes to OUT_DIR: the GPU's name, a cProfile of a batch-1024 run on 2,000 spectra (where the
# time goes; first, since it is the cheapest and says most if the lease runs out), then the
# end-to-end timing of the default model on N synthetic `realistic` spectra (seed 777) at batch
# 1024 and 128, and the same on every GPU with torchrun. Nothing here needs the network; the
# whole run takes a few minutes.
set -euo pipefail
out=${1:?usage: gpu_predict.sh OUT_DIR [N_SPECTRA]}
n=${2:-10000}
device=${DEVICE:-cuda}  # DEVICE=cpu: a dry run of this script on a machine without a GPU
mkdir -p "$out"
(nvidia-smi --query-gpu=name,memory.total --format=csv || true) > "$out/gpu.txt" 2>&1
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'gpus', torch.cuda.device_count())" | tee -a "$out/gpu.txt"
timed() {  # run "$@" and print its wall time (and peak memory where /usr/bin/time exists)
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f "TIME %e s, peak RSS %M KB" "$@"
    else
        local t0 t1
        t0=$(date +%s.%N); "$@"; t1=$(date +%s.%N)
        awk -v a="$t0" -v b="$t1" 'BEGIN { printf "TIME %.2f s (no /usr/bin/time here: no peak RSS)\n", b - a }'
    fi
}
trmseq generate --n 2000 --preset realistic --seed 778 -o "$out/realistic_2000.mgf" > /dev/null
python3 -m cProfile -s cumtime -m trmseq predict "$out/realistic_2000.mgf" --device "$device" --batch-size 1024 \
    -o "$out/profile.mztab" > "$out/profile.txt" 2>&1
head -60 "$out/profile.txt"
spectra="$out/realistic_$n.mgf"
[ -f "$spectra" ] || trmseq generate --n "$n" --preset realistic --seed 777 -o "$spectra" > /dev/null
for batch in 1024 128; do
    timed trmseq predict "$spectra" --device "$device" --batch-size "$batch" \
        -o "$out/gpu_b$batch.mztab" 2>&1 | tee "$out/predict_b$batch.log"
done
gpus=$(python3 -c "import torch; print(torch.cuda.device_count())")  # 0 on a CPU dry run
if [ "$gpus" -gt 1 ]; then
    timed torchrun --nproc_per_node "$gpus" -m trmseq predict "$spectra" --device "$device" \
        --batch-size 1024 -o "$out/gpu_torchrun.mztab" 2>&1 | tee "$out/predict_torchrun.log"
    cmp "$out/gpu_torchrun.mztab" "$out/gpu_b1024.mztab" && echo "torchrun output identical" | tee -a "$out/predict_torchrun.log"
fi
