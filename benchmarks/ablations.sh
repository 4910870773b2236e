#!/usr/bin/env bash
# Equal-wall-time ablations of docs/benchmarks.md, one after another, one CPU thread each.
# M=minutes per run (default 6); OUT=log folder (default runs/ablation).
cd "$(dirname "$0")/.."; mkdir -p "${OUT:-runs/ablation}"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
M=${M:-6}
run() { name=$1; shift; python benchmarks/ablation.py --minutes $M --every 100 "$@" > ${OUT:-runs/ablation}/$name.log 2>&1; }
run default
run shallow --set model.n_sup=1 --set train.depth_warmup=0
run deeper --set model.h_cycles=2 --set model.l_cycles=2
run spectrum_loss --set train.spectrum_loss_weight=0.1
run no_physics --set model.draft_feedback=false --set model.evidence_head=false --set model.initial_draft=blank
run positional --set model.loss=positional
run full_backprop --set train.full_backprop=true
