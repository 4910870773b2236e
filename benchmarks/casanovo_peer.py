"""Helpers for benchmarks/casanovo_peer.sh: train Casanovo 5.2.1 under a wall-clock budget.

Runs inside Casanovo's own virtual environment (not trmseq's). Subcommands:

  config SIZE OUT    Casanovo's default configuration (`casanovo configure`) with this benchmark's
                     changes (OVERRIDES below) for SIZE small or default, written to OUT
  unimod-cache DIR   write spectrum_utils' UNIMOD controlled-vocabulary cache (DIR/spectrum_utils/
                     UNIMOD.pkl) from the Unimod tables that psims ships, so that Casanovo's mzTab
                     writer works offline (see the .sh for why)
  prep IN OUT        copy an annotated MGF keeping only spectra whose SEQ= Casanovo's tokenizer
                     accepts (it aborts training on the first unknown token otherwise), after
                     rewriting two mass-identical N-terminal forms into Casanovo's vocabulary
  train MINUTES ...  `casanovo train ...` with Lightning's max_time set to MINUTES and a callback
                     that logs throughput (steps, spectra, seconds) to throughput.json
"""

from __future__ import annotations

import datetime
import gzip
import json
import os
import pickle
import re
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

# What the benchmark changes in Casanovo's defaults, and why:
# - CPU only; predictions in batches of 64 (the default 1,024 is for GPU memory).
# - massivekb_tokenizer: trmseq's SEQ= uses MassIVE-KB mass offsets (C+57.021, -17.027...).
# - warmup_iters 200: the default 100,000 would keep a budget-limited CPU run at a few percent
#   of the learning rate (the cosine half period stays 600,000: practically constant after).
# - max_peptide_len 50 (default 100): Casanovo keeps a beam only once it predicts the stop token
#   and re-runs the decoder over the whole prefix at each step, so an undertrained model costs
#   O(max_len^2) per spectrum; the longest real test peptide has 41 residues, synthetic ones 30.
# - validation every 1,000 steps (logged only; the scored model is the last checkpoint).
OVERRIDES = {
    "accelerator": "cpu",
    "devices": 1,
    "predict_batch_size": 64,
    "massivekb_tokenizer": True,
    "warmup_iters": 200,
    "max_peptide_len": 50,
    "val_check_interval": 1000,
}
# Small: 4.1M parameters against the default's 47.9M (d 512, feed-forward 1,024, 9 layers),
# about 10x the default's training throughput on one CPU thread.
SMALL = {"dim_model": 256, "n_head": 8, "dim_feedforward": 512, "n_layers": 3}


def config(size: str, out: str) -> None:
    """Write Casanovo's own default configuration with OVERRIDES (and SMALL) applied."""
    import subprocess
    import tempfile

    import yaml

    with tempfile.TemporaryDirectory() as tmp:
        casanovo = Path(sys.executable).parent / "casanovo"
        subprocess.run([str(casanovo), "configure", "-d", tmp, "-o", "default.yaml"], check=True,
                       capture_output=True)  # fmt: skip
        cfg = yaml.safe_load((Path(tmp) / "default.yaml").read_text())
    changes = {**OVERRIDES, **(SMALL if size == "small" else {})}
    cfg.update(changes)
    Path(out).write_text(yaml.safe_dump(cfg, sort_keys=False))
    print(f"wrote {out}: Casanovo's defaults with " + ", ".join(f"{k}={v}" for k, v in changes.items()))


def unimod_cache(cache_home: str) -> None:
    """spectrum_utils.proforma looks modifications up by name ("M[Oxidation]") in the UNIMOD CV.

    It downloads http://www.unimod.org/obo/unimod.obo on first use and pickles
    ``((by_accession, by_name), utc_time)`` to ``user_cache_dir("spectrum_utils")/UNIMOD.pkl``;
    for UNIMOD (not hosted on GitHub) a cached pickle is used as is, without a freshness check.
    We build the same two mappings from psims' vendored unimod_tables.xml.gz (code_name,
    record_id, mono_mass), which is the same Unimod database in its XML form. The OBO term
    name is the PSI-MS name, which the XML keeps in ``ex_code_name`` ("Oxidation" for
    UNIMOD:35, whose ``code_name`` is "Hydroxylation"), so that is the name used here.
    """
    import psims

    src = Path(psims.__file__).parent / "controlled_vocabulary" / "vendor" / "unimod_tables.xml.gz"
    by_acc: dict[str, tuple[float, str]] = {}
    by_name: dict[str, tuple[float, str]] = {}
    with gzip.open(src) as fh:
        for _, el in ET.iterparse(fh):
            if el.tag.endswith("modifications_row"):
                acc = f"UNIMOD:{el.get('record_id')}"
                name = el.get("ex_code_name") or el.get("code_name")
                mass = float(el.get("mono_mass"))
                by_acc[acc] = (mass, name)
                by_name[name] = (mass, acc)
            el.clear()
    out = Path(cache_home) / "spectrum_utils"
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "UNIMOD.pkl", "wb") as f:
        pickle.dump(((by_acc, by_name), datetime.datetime.now(datetime.timezone.utc)), f)
    print(f"wrote {out / 'UNIMOD.pkl'} ({len(by_acc)} Unimod entries from {src.name})")


def _tokenizer():
    from casanovo.config import Config
    from depthcharge.tokenizers.peptides import MskbPeptideTokenizer, PeptideTokenizer

    cfg = Config(os.environ.get("CASANOVO_CONFIG"))
    cls = MskbPeptideTokenizer if cfg.massivekb_tokenizer else PeptideTokenizer
    return cls(residues=cfg.residues, replace_isoleucine_with_leucine=True, reverse=True,
               start_token=None, stop_token="$")


# trmseq writes pyro forms as a mod on the first residue; Casanovo (MassIVE-KB convention) has
# them as the N-terminal [Ammonia-loss]- token. Same residue masses, so trmseq's mass-based
# metric scores either spelling the same.
_NTERM_REWRITES = [
    (re.compile(r"^Q-17\.027"), "-17.027Q"),  # pyro-Glu from Q
    (re.compile(r"^C\+39\.995"), "-17.027C+57.021"),  # pyro-carbamidomethyl C (57.021 - 17.027)
]


def prep(src: str, dst: str) -> None:
    """Keep the spectra whose SEQ= parses with the configured Casanovo vocabulary."""
    tok = _tokenizer()
    rewritten = 0
    kept = dropped = 0
    bad: dict[str, int] = {}
    with open(src) as fin, open(dst, "w") as fout:
        block: list[str] = []
        for line in fin:
            block.append(line)
            if line.startswith("END IONS"):
                at = next((i for i, text in enumerate(block) if text.startswith("SEQ=")), None)
                seq = block[at].strip()[4:] if at is not None else None
                ok = seq is not None
                if ok:
                    new = seq
                    for pat, rep in _NTERM_REWRITES:
                        new = pat.sub(rep, new)
                    if new != seq:
                        seq, block[at] = new, f"SEQ={new}\n"
                        rewritten += 1
                if ok:
                    try:
                        tok.tokenize([seq])
                    except Exception:  # noqa: BLE001 - depthcharge raises several kinds
                        ok = False
                if ok:
                    fout.writelines(block)
                    kept += 1
                else:
                    dropped += 1
                    bad[str(seq)] = bad.get(str(seq), 0) + 1
                block = []
    print(f"{src}: kept {kept} ({rewritten} with Q-17.027/C+39.995 moved to an N-terminal "
          f"-17.027), dropped {dropped} (unparseable by Casanovo's vocabulary)")
    for s, n in sorted(bad.items(), key=lambda x: -x[1])[:10]:
        print(f"  dropped x{n}: {s}")


def train(minutes: float, argv: list[str], out_json: str) -> None:
    import lightning.pytorch as pl
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    stats = {"budget_minutes": minutes, "steps": 0, "spectra": 0, "train_seconds": 0.0,
             "epochs_finished": 0}

    class Throughput(pl.Callback):
        def on_train_start(self, trainer, module):
            self.t0 = time.monotonic()

        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
            now = time.monotonic()
            if stats["steps"] == 0:
                self.t1, self.n1 = now, int(len(batch["seq"]))  # end of the first step
            stats["steps"] = trainer.global_step
            stats["spectra"] += int(len(batch["seq"]))
            stats["train_seconds"] = now - self.t0
            if stats["steps"] > 1:  # steady state: after the first step, training steps only
                stats["steady_steps_per_s"] = (stats["steps"] - 1) / (now - self.t1)
                stats["steady_spectra_per_s"] = (stats["spectra"] - self.n1) / (now - self.t1)
            if stats["steps"] % 5 == 0:
                self._dump()

        def on_train_epoch_end(self, trainer, module):
            stats["epochs_finished"] = trainer.current_epoch + 1
            self._dump()

        def on_train_end(self, trainer, module):
            stats["train_seconds"] = time.monotonic() - self.t0
            self._dump()

        def _dump(self):
            s = max(stats["train_seconds"], 1e-9)
            stats["steps_per_s"] = stats["steps"] / s
            stats["spectra_per_s"] = stats["spectra"] / s
            Path(out_json).write_text(json.dumps(stats, indent=1))

    base = pl.Trainer

    class BudgetTrainer(base):
        def __init__(self, *args, **kw):
            if kw.get("enable_checkpointing"):  # the training Trainer, not the predict one
                # Lightning's Timer stops after the budget; the stop ends the epoch, so
                # Casanovo's epoch-end ModelCheckpoint writes {epoch}-{step}.ckpt then.
                kw["max_time"] = datetime.timedelta(minutes=minutes)
                kw["max_epochs"] = -1
                kw["callbacks"] = list(kw.get("callbacks") or []) + [Throughput()]
                kw["enable_progress_bar"] = False
            super().__init__(*args, **kw)

    pl.Trainer = BudgetTrainer
    from casanovo.casanovo import main

    sys.argv = ["casanovo", "train", *argv]
    try:
        main()
    except SystemExit as e:  # click exits; keep its code
        if e.code not in (0, None):
            raise


if __name__ == "__main__":
    cmd, *rest = sys.argv[1:]
    if cmd == "config":
        config(rest[0], rest[1])
    elif cmd == "unimod-cache":
        unimod_cache(rest[0])
    elif cmd == "prep":
        prep(rest[0], rest[1])
    elif cmd == "train":
        train(float(rest[0]), rest[2:], rest[1])
    else:
        sys.exit(f"unknown subcommand {cmd}")
