"""`trmseq evaluate`: how accurate a model (or a predictions file) is on annotated spectra.

Builds an :class:`Evaluation`: Casanovo-compatible residue and peptide metrics, the
precision-coverage curve, peptide recall at 1% and 5% FDR, breakdowns by peptide length and
charge, and, with a model, accuracy after each recursion step.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from trmseq import checkpoint
from trmseq.confidence import expected_calibration_error, fdr_table, reliability
from trmseq.config import Config
from trmseq.decode import peptide_masses, peptide_score
from trmseq.device import resolve_device
from trmseq.errors import InputError, PeptideError
from trmseq.evaluate import Curve, Metrics, precision_coverage, recall_at_fdr, score_peptides
from trmseq.inference import Runner
from trmseq.io.atomic import atomic_write
from trmseq.labels import Labels
from trmseq.paths import resolve_model
from trmseq.reading import usable_spectra
from trmseq.spectrum import SkipCounter
from trmseq.vocab import Vocabulary

logger = logging.getLogger(__name__)


@dataclass
class Evaluation:
    """Everything `trmseq evaluate` reports."""

    metrics: Metrics
    curve: Curve
    recall_at_fdr: dict[str, tuple[float, float | None]]  # "1%" -> (recall, score threshold)
    by_length: dict[int, Metrics]
    by_charge: dict[int, Metrics]
    per_step: list[dict[str, float]]  # with a model: metrics after each recursion step
    counter: SkipCounter
    n_fit: int = 0
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    calibration: dict[str, Any] | None = None  # with a calibrated model: does it hold?


def _masses(peptide: Sequence[str] | None, vocab: Vocabulary) -> list[float] | None:
    return peptide_masses(peptide, vocab) if peptide else None


def build(
    truths: list[tuple[str, ...]],
    charges: list[int],
    predictions: list[tuple[str, ...] | None],
    scores: list[float],
    vocab: Vocabulary,
    counter: SkipCounter,
    per_step: list[dict[str, float]] | None = None,
    source: str = "",
) -> Evaluation:
    """Assemble the evaluation from aligned truths, predictions and scores."""
    true_m = [vocab.residue_masses(t).tolist() for t in truths]
    pred_m = [_masses(p, vocab) for p in predictions]
    metrics, exact = score_peptides(true_m, pred_m)
    has = [i for i, p in enumerate(pred_m) if p]
    curve = precision_coverage([scores[i] for i in has], [exact[i] for i in has], len(truths))
    fdr = {f"{int(f * 100)}%": recall_at_fdr([scores[i] for i in has], [exact[i] for i in has],
                                              len(truths), f) for f in (0.01, 0.05)}  # fmt: skip

    def split(keys: list[int]) -> dict[int, Metrics]:
        out = {}
        for key in sorted(set(keys)):
            idx = [i for i, k in enumerate(keys) if k == key]
            out[key] = score_peptides([true_m[i] for i in idx], [pred_m[i] for i in idx])[0]
        return out

    lengths = [vocab.n_residues(t) for t in truths]
    n_fit = 0
    return Evaluation(metrics, curve, fdr, split(lengths), split(charges), per_step or [],
                      counter, n_fit, source)  # fmt: skip


def evaluate_model(
    files: Sequence[Path],
    model_path: str | Path | None,
    config_override: Config | None = None,
    device: str = "auto",
    decode_changes: dict | None = None,
    on_spectra: Callable[[int], object] | None = None,
    labels: Labels | None = None,
) -> Evaluation:
    """Run a model on annotated spectra and score it, step by step and after decoding.

    With ``labels`` the true peptides come from identification files, not ``SEQ=``.
    """
    path = resolve_model(model_path)
    model, tokenizer, config, payload = checkpoint.load_model(path)
    decode = config_override.decode if config_override else config.decode
    decode = dataclasses.replace(decode, **{k: v for k, v in (decode_changes or {}).items()
                                            if v is not None}, top_k=1)  # fmt: skip
    runner = Runner(model, tokenizer, decode, resolve_device(device), checkpoint.calibrator(payload, path))
    n_sup = runner.n_sup
    vocab = tokenizer.vocab
    counter = SkipCounter()
    examples = list(usable_spectra(files, config.data, counter, vocab, labels))
    if not examples:
        raise InputError(f"{', '.join(map(str, files))}: no usable annotated spectra to evaluate"
                         f"{_skips(counter)}")  # fmt: skip
    if on_spectra is not None:
        on_spectra(counter.n_skipped)  # done with those: progress counts every spectrum read
    truths = [p for _, p in examples]
    charges = [s.charge for s, _ in examples]
    predictions: list[tuple[str, ...] | None] = []
    scores: list[float] = []
    step_preds: list[list[tuple[str, ...] | None]] = [[] for _ in range(n_sup)]
    step_greedy: list[list[tuple[str, ...]]] = [[] for _ in range(n_sup)]
    probabilities: list[float | None] = []
    n_fit = 0
    for i in range(0, len(examples), decode.batch_size):
        chunk = [s for s, _ in examples[i : i + decode.batch_size]]
        for answer in runner.answer(chunk, decode_steps=True):
            assert answer.decoded_by_step is not None and answer.greedy_by_step is not None
            for k in range(n_sup):
                step_greedy[k].append(answer.greedy_by_step[k])
                found = answer.decoded_by_step[k]
                step_preds[k].append(found[0].peptide if found else None)
            best = answer.candidates[0] if answer.candidates else None
            predictions.append(best.peptide if best else None)
            scores.append(peptide_score(best) if best else -2.0)
            probabilities.append(answer.evidence[0].probability if best else None)
            n_fit += bool(best and best.fits)
        if on_spectra is not None:
            on_spectra(len(chunk))
    true_m = [vocab.residue_masses(t).tolist() for t in truths]
    steps = []
    for k in range(n_sup):
        decoded = score_peptides(true_m, [_masses(p, vocab) for p in step_preds[k]])[0]
        greedy = score_peptides(true_m, [_masses(p, vocab) for p in step_greedy[k]])[0]
        steps.append({"step": k + 1, "peptide_recall": decoded.peptide_recall,
                      "aa_precision": decoded.aa_precision, "aa_recall": decoded.aa_recall,
                      "greedy_peptide_recall": greedy.peptide_recall,
                      "greedy_aa_precision": greedy.aa_precision})  # fmt: skip
    ev = build_ranked(truths, charges, predictions, scores, probabilities, vocab, counter, steps, str(path))
    ev.n_fit = n_fit
    return ev


def build_ranked(truths: list[tuple[str, ...]], charges: list[int], predictions: list[tuple[str, ...] | None],
                 scores: list[float], probabilities: list[float | None], vocab: Vocabulary, counter: SkipCounter,
                 per_step: list[dict[str, float]] | None = None, source: str = "") -> Evaluation:  # fmt: skip
    """:func:`build`, ranked by the calibrated probability where there is one (the number a lab
    filters on), else by the score; with the calibration check."""
    calibrated = any(p is not None for p in probabilities)
    if calibrated:
        scores = [p if p is not None else -1.0 for p in probabilities]
    ev = build(truths, charges, predictions, scores, vocab, counter, per_step, source)
    ev.calibration = calibration_check(truths, predictions, probabilities, vocab)
    ev.extra["ranked_by"] = "probability" if calibrated else "score"
    return ev


def calibration_check(truths: list[tuple[str, ...]], predictions: list[tuple[str, ...] | None],
                      probabilities: list[float | None], vocab: Vocabulary) -> dict[str, Any] | None:  # fmt: skip
    """Whether the probabilities mean what they say on these spectra: reliability bins,
    expected calibration error, and estimated against true FDR at q 0.01, 0.05 and 0.10."""
    has = [i for i, p in enumerate(probabilities) if p is not None]
    if not has:
        return None
    _, exact = score_peptides([vocab.residue_masses(truths[i]).tolist() for i in has],
                              [_masses(predictions[i], vocab) for i in has])  # fmt: skip
    p, right = np.array([probabilities[i] for i in has]), np.array(exact, dtype=bool)
    return {"n": len(has), "expected_calibration_error": expected_calibration_error(p, right),
            "reliability": reliability(p, right), "fdr": fdr_table(p, right, len(truths))}  # fmt: skip


def evaluate_predictions(
    files: Sequence[Path], predictions: Path, config: Config, labels: Labels | None = None
) -> Evaluation:
    """Score a predictions file (trmseq's mzTab or TSV; Casanovo 5 mzTab) on annotated files.

    With ``labels`` the true peptides come from identification files, not ``SEQ=``.
    """
    vocab = config.vocab.build()
    table = _read_predictions(predictions)
    # Results moved along with their spectra still name the old folder: match by file name
    # where the name is unambiguous and the file it names was not given too. Names split at
    # either separator, since a results file may come from Windows.
    given = {str(Path(f).resolve()) for f in files}
    names: dict[str, set[str]] = {}
    for file, _ in table:
        names.setdefault(re.split(r"[\\/]", file)[-1], set()).add(file)
    names = {k: v for k, v in names.items() if len(v) == 1 and not v & given}
    counter = SkipCounter()
    truths, charges, preds, scores, probabilities = [], [], [], [], []
    n_fit = n_matched = 0
    by_name: set[Path] = set()
    for spectrum, peptide in usable_spectra(files, config.data, counter, vocab, labels):
        truths.append(peptide)
        charges.append(spectrum.charge)
        file = Path(spectrum.file).resolve()
        same_name = names.get(file.name, set())
        row = table.get((str(file), spectrum.ref))
        if row is None and same_name:
            row = table.get((next(iter(same_name)), spectrum.ref))
            if row is not None and file not in by_name:
                by_name.add(file)
                logger.warning("%s names %s; matched to %s by file name", predictions, next(iter(same_name)), file)
        if row is None:
            preds.append(None)
            scores.append(-2.0)
            probabilities.append(None)
            continue
        text, score, probability = row
        try:
            preds.append(vocab.parse(text))
        except PeptideError:
            preds.append(None)
        scores.append(score)
        probabilities.append(probability)
        n_fit += score >= 0
        n_matched += 1
    if not truths:
        raise InputError(f"{', '.join(map(str, files))}: no usable annotated spectra to evaluate"
                         f"{_skips(counter)}")  # fmt: skip
    if table and not n_matched:
        every = sorted({re.split(r"[\\/]", file)[-1] for file, _ in table})
        named = ", ".join(every[:3]) + (", ..." if len(every) > 3 else "")
        raise InputError(f"{predictions}: none of its {len(table):,} PSMs is for a spectrum given "
                         f"(it names {named})")  # fmt: skip
    ev = build_ranked(truths, charges, preds, scores, probabilities, vocab, counter, None, str(predictions))
    ev.n_fit = n_fit
    return ev


def _skips(counter: SkipCounter) -> str:
    """'' or ' (skipped: N reason; ...)' for an error that says why nothing was usable."""
    if not counter.counts:
        return ""
    return " (skipped: " + "; ".join(f"{n:,} {reason}" for reason, n in counter.counts.most_common()) + ")"


def _read_predictions(path: Path) -> dict[tuple[str, str], tuple[str, float, float | None]]:
    """(absolute file, spectrum ref) -> (peptide, score, probability or None) for the rank-1
    PSMs of a results file."""
    import pandas as pd
    from pyteomics import mztab

    if not path.is_file():
        raise InputError(f"{path}: no such predictions file")
    proforma = "opt_global_cv_MS:1003169_proforma_peptidoform_sequence"
    try:
        if path.suffix.lower() == ".mztab":
            tab = mztab.MzTab(str(path))
            runs = {k.removesuffix("-location"): _from_uri(v) for k, v in tab.metadata.items()
                    if k.startswith("ms_run[") and k.endswith("-location")}  # fmt: skip
            psms = tab.spectrum_match_table
        else:
            psms = pd.read_csv(path, sep="\t")
            runs = {}
    except Exception as e:  # pyteomics and pandas raise many kinds on malformed files
        raise InputError(f"{path}: cannot read predictions ({type(e).__name__}: {e})") from None
    column = proforma if proforma in psms.columns else "sequence"
    needed = [c for c in ("spectra_ref", "search_engine_score[1]", column) if c not in psms.columns]
    if "file" not in psms.columns and not runs:
        needed.append("file")
    if needed:
        raise InputError(f"{path}: not a results file of trmseq or Casanovo (no column {', '.join(needed)})")
    probability = next((c for c in ("opt_global_probability", "probability") if c in psms.columns), None)
    out: dict[tuple[str, str], tuple[str, float, float | None]] = {}
    for _, row in psms.iterrows():
        if "opt_global_rank" in psms.columns and str(row["opt_global_rank"]) not in ("1", "1.0"):
            continue
        run, _, ref = str(row["spectra_ref"]).partition(":")
        file = str(Path(row["file"]).resolve()) if "file" in psms.columns else runs.get(run)
        if file is None or row[column] in (None, "null") or row[column] != row[column]:
            continue
        p = row[probability] if probability else None
        p = None if p in (None, "null") or p != p else float(p)  # null, or NaN from pandas
        out[(file, ref)] = (str(row[column]), float(row["search_engine_score[1]"]), p)
    return out


def _from_uri(uri: str) -> str:
    from urllib.parse import unquote, urlparse

    return str(Path(unquote(urlparse(uri).path)).resolve())


# -- output ----------------------------------------------------------------------------------


def to_json(ev: Evaluation) -> dict[str, Any]:
    """The evaluation as plain JSON-ready data."""
    return {
        "source": ev.source,
        "spectra": {"read": ev.counter.read, "evaluated": ev.metrics.n_spectra,
                    "skipped": dict(ev.counter.counts)},  # fmt: skip
        "metrics": dataclasses.asdict(ev.metrics),
        "fits_precursor": ev.n_fit,
        "precision_coverage_auc": ev.curve.auc,
        "peptide_recall_at_fdr": {k: {"recall": r, "score_threshold": t}
                                  for k, (r, t) in ev.recall_at_fdr.items()},  # fmt: skip
        "by_length": {str(k): dataclasses.asdict(m) for k, m in ev.by_length.items()},
        "by_charge": {str(k): dataclasses.asdict(m) for k, m in ev.by_charge.items()},
        "per_recursion_step": ev.per_step,
        "calibration": ev.calibration,
        "ranked_by": ev.extra.get("ranked_by", "score"),
        "labels": ev.extra.get("labels"),  # with --labels: identifications read, kept, skipped
        "curve": {"coverage": ev.curve.coverage[:: max(1, len(ev.curve.coverage) // 200)].tolist(),
                  "precision": ev.curve.precision[:: max(1, len(ev.curve.precision) // 200)].tolist()},
    }  # fmt: skip


def format_table(ev: Evaluation) -> str:
    """A plain-text report for stdout."""
    m = ev.metrics
    ranked = ev.extra.get("ranked_by", "score")
    lines = [
        f"spectra evaluated   {m.n_spectra:,} (read {ev.counter.read:,}, skipped {ev.counter.n_skipped:,})",
        f"AA precision        {m.aa_precision:.4f}",
        f"AA recall           {m.aa_recall:.4f}",
        f"peptide precision   {m.peptide_precision:.4f}",
        f"peptide recall      {m.peptide_recall:.4f}",
        f"precision-coverage AUC  {ev.curve.auc:.4f}" + (" (ranked by probability)" if ranked == "probability" else ""),
    ]
    for name, (recall, threshold) in ev.recall_at_fdr.items():
        where = f"{ranked} >= {threshold:.4f}" if threshold is not None else "not reached"
        lines.append(f"peptide recall at {name} FDR  {recall:.4f} ({where})")
    lines.append("")
    lines.append("by length   n      AA prec  pep recall")
    for k, x in ev.by_length.items():
        lines.append(f"  {k:>3}   {x.n_spectra:>6,}   {x.aa_precision:.3f}    {x.peptide_recall:.3f}")
    lines.append("by charge   n      AA prec  pep recall")
    for k, x in ev.by_charge.items():
        lines.append(f"  {k:>2}+   {x.n_spectra:>6,}   {x.aa_precision:.3f}    {x.peptide_recall:.3f}")
    if ev.calibration:
        c = ev.calibration
        lines.append(f"calibration: expected calibration error {c['expected_calibration_error']:.4f}")
        lines.append("  q <=    accepted  estimated FDR  true FDR  peptide recall")
        for r in c["fdr"]:
            lines.append(f"  {r['q']:<6.2f}  {r['accepted']:>8,}  {r['estimated_fdr']:>13.4f}  "
                         f"{r['true_fdr']:>8.4f}  {r['peptide_recall']:>14.4f}")  # fmt: skip
    if ev.per_step:
        lines.append("recursion step   pep recall  AA prec   (greedy: pep recall, AA prec)")
        for s in ev.per_step:
            lines.append(f"  {s['step']:>2}             {s['peptide_recall']:.4f}     "
                         f"{s['aa_precision']:.4f}    ({s['greedy_peptide_recall']:.4f}, "
                         f"{s['greedy_aa_precision']:.4f})")  # fmt: skip
    return "\n".join(lines)


def plot(ev: Evaluation, path: Path) -> None:
    """Precision-coverage curve and accuracy per recursion step, as a PNG.

    Raises
    ------
    ImportError
        When matplotlib is not installed (``pip install "trmseq[plot]"``).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt


    panels = 1 + bool(ev.per_step) + bool(ev.calibration)
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4.2), squeeze=False)
    ax = axes[0][0]
    ax.plot(ev.curve.coverage, ev.curve.precision)
    ax.set(xlabel="coverage", ylabel="peptide precision", xlim=(0, 1), ylim=(0, 1.02),
           title=f"precision-coverage (AUC {ev.curve.auc:.3f})")  # fmt: skip
    if ev.per_step:
        ax = axes[0][1]
        steps = [s["step"] for s in ev.per_step]
        ax.plot(steps, [s["peptide_recall"] for s in ev.per_step], "o-", label="peptide recall")
        ax.plot(steps, [s["aa_precision"] for s in ev.per_step], "s-", label="AA precision")
        ax.set(xlabel="recursion step (supervision step)", ylim=(0, 1.02), xticks=steps,
               title="accuracy per recursion step")  # fmt: skip
        ax.legend()
    if ev.calibration:
        _plot_reliability(axes[0][-1], ev.calibration)
    fig.tight_layout()
    with atomic_write(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=120)
    plt.close(fig)


def _plot_reliability(ax, calibration: dict[str, Any]) -> None:
    """Predicted probability against the observed share right, with each bin's count."""
    bins = [b for b in calibration["reliability"] if b["n"]]
    ax.plot([0, 1], [0, 1], ":", color="grey", label="perfect calibration")
    ax.plot([b["predicted"] for b in bins], [b["observed"] for b in bins], "o-", label="observed")
    for b in bins:
        ax.annotate(str(b["n"]), (b["predicted"], b["observed"]), textcoords="offset points",
                    xytext=(4, -10), fontsize=7)  # fmt: skip
    ax.set(xlabel="predicted probability", ylabel="share exactly right", xlim=(0, 1), ylim=(0, 1.02),
           title=f"reliability (ECE {calibration['expected_calibration_error']:.3f})")  # fmt: skip
    ax.legend(loc="upper left")


def write_json(ev: Evaluation, path: Path) -> None:
    """Write :func:`to_json` atomically."""

    with atomic_write(path) as handle:
        json.dump(to_json(ev), handle, indent=2)
