#!/usr/bin/env bash
# Everything a lent GPU is wanted for, in one call of the device tool (issues 15 and 12):
#
#   bash benchmarks/gpu_session.sh OUT_DIR [FINETUNE_MINUTES]
#
# 1. `benchmarks/gpu_predict.sh`: a profile on 2,000 spectra, then throughput on 10,000
#    `realistic` spectra at batch 1,024 and 128 (issue 15, item 4); stopped at 200 s.
# 2. `benchmarks/gpu_finetune.sh` for FINETUNE_MINUTES (default 3): the bundled model's recipe
#    at a GPU's batch, its snapshots averaged into soup.ckpt (issue 12); stopped at 2 minutes
#    past its training time. The two limits keep the whole run under about 8.5 minutes.
# The device tool brings back at most 8 files, so OUT_DIR gets two: logs.tgz (every log,
# timing, profile and metrics file, without spectra and checkpoints, with each step's exit
# status in status.txt; packed again after each step, so a call stopped early still returns
# what was done) and soup.ckpt. With the tool: carry .whl, runs/real, runs/stage4.ckpt and
# runs/teacher_bank.npz (see benchmarks/device_env.sh and gpu_finetune.sh for how each is
# made; about 37 MB), command `bash benchmarks/gpu_session.sh $OUT`, timeout_s 600.
# Exit status 0, or 3 when a step failed or was stopped. DEVICE=cpu makes it a dry run on any
# machine (N_SPECTRA=300 keeps step 1 short on a CPU).
set -uo pipefail  # no -e: whatever happens, the logs are packed
out=${1:?usage: gpu_session.sh OUT_DIR [FINETUNE_MINUTES]}
minutes=${2:-3}
n=${N_SPECTRA:-10000}
work=runs/gpu-session
mkdir -p "$out"
rm -rf "$work" "$out/logs.tgz" "$out/soup.ckpt"
mkdir -p "$work"

pack() {
    tar czf "$out/logs.tgz" --exclude='*.mgf' --exclude='*.mztab' --exclude='*.ckpt' -C "$work" .
}

# step SECONDS NAME CMD...: run CMD in a process group of its own, log to NAME.log, and end the
# whole group at the deadline (`timeout` alone can leave a killed script's children running).
step() {
    local limit=$1 name=$2
    shift 2
    setsid "$@" > "$work/$name.log" 2>&1 &
    local pid=$!
    (sleep "$limit"; kill -TERM -- "-$pid" 2> /dev/null; sleep 15; kill -KILL -- "-$pid" 2> /dev/null) &
    local dog=$!
    wait "$pid"
    local rc=$?
    kill "$dog" 2> /dev/null
    kill -KILL -- "-$pid" 2> /dev/null  # anything the step left behind
    echo "$name: exit status $rc" >> "$work/status.txt"
    pack
    return "$rc"
}

status=0
if ! command -v trmseq > /dev/null || ! python3 -c "import pyteomics" 2> /dev/null; then
    # shellcheck source=benchmarks/device_env.sh
    source benchmarks/device_env.sh > "$work/device_env.log" 2>&1
    rc=$?
    echo "device_env: exit status $rc" >> "$work/status.txt"
    if [ "$rc" -ne 0 ]; then
        pack
        cat "$work/device_env.log" >&2
        exit 3
    fi
fi
step 200 predict bash benchmarks/gpu_predict.sh "$work/predict" "$n" || status=3
step $((minutes * 60 + 120)) finetune bash benchmarks/gpu_finetune.sh "$work/finetune" "$minutes" 12 || status=3
[ -f "$work/finetune/soup.ckpt" ] && cp "$work/finetune/soup.ckpt" "$out/"
cat "$work/status.txt"
tail -n 3 "$work/predict/predict_b1024.log" "$work/predict/predict_b128.log" "$work/finetune.log" 2> /dev/null
exit "$status"
