"""De novo sequencing of spectrum files: read, batch, recurse, decode, and account for all.

Spectra stream through in input order; every one comes out as a :class:`~trmseq.psm.PSM`,
sequenced or with the reason it was skipped, so the output reconciles with the input.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from trmseq.config import Config, DecodeConfig
from trmseq.constants import C13_DIFF, H2O
from trmseq.data import collate
from trmseq.decode import Candidate, fits_precursor, mass_constrained, path_candidate
from trmseq.io import read_spectra
from trmseq.masses import mz, neutral_mass, precursor_error_ppm
from trmseq.model.trm import TRM
from trmseq.psm import PSM
from trmseq.spectrum import SkipCounter, Spectrum, preprocess
from trmseq.tokenizer import Tokenizer


@dataclass
class Inference:
    """Model outputs for a batch, after each spectrum's last recursion step."""

    log_probs: torch.Tensor  # (batch, n_slots, n_classes)
    q: torch.Tensor  # (batch,) halting logits
    steps: torch.Tensor  # (batch,) supervision steps run
    per_step: list[torch.Tensor] | None = None  # log-probs after every step (keep_steps)
    per_step_q: list[torch.Tensor] | None = None  # halting logits after every step (keep_steps)


@torch.no_grad()
def infer(model: TRM, batch, n_sup: int, halting: bool = True, keep_steps: bool = False) -> Inference:
    """Run the recursion; with ``halting``, a spectrum stops once its halting logit is > 0.

    Halted spectra leave the batch, so easy spectra cost fewer recursion steps.
    """
    memory = model.encode(batch)
    carry = model.initial_carry(memory)
    b = len(batch)
    n_slots, n_classes = memory.x.shape[1], model.head.out_features
    device = batch.mz.device
    final = torch.zeros((b, n_slots, n_classes), device=device)
    q_final = torch.zeros(b, device=device)
    steps = torch.full((b,), n_sup, dtype=torch.int64, device=device)
    active = torch.arange(b, device=device)
    per_step = [] if keep_steps else None
    per_step_q = [] if keep_steps else None
    for k in range(1, n_sup + 1):
        carry, out = model.supervision_step(carry, memory, check=k < n_sup)
        log_probs = out.logits.float().log_softmax(-1)
        final[active], q_final[active] = log_probs, out.q.float()
        if per_step is not None and per_step_q is not None:
            per_step.append(final.clone())
            per_step_q.append(q_final.clone())
        if halting and k < n_sup:
            done = out.q > 0
            steps[active[done]] = k
            keep = (~done).nonzero().squeeze(1)
            if len(keep) == 0:
                if per_step is not None and per_step_q is not None:
                    per_step.extend(final.clone() for _ in range(k, n_sup))
                    per_step_q.extend(q_final.clone() for _ in range(k, n_sup))
                break
            if len(keep) < len(active):
                active, carry, memory = active[keep], carry.select(keep), memory.select(keep)
    return Inference(final, q_final, steps, per_step, per_step_q)


def decode_spectrum(
    log_probs: np.ndarray, spectrum: Spectrum, tokenizer: Tokenizer, decode: DecodeConfig
) -> list[Candidate]:
    """Greedy answer if it fits the precursor, else the mass-constrained search's best ones.

    Falls back to the greedy answer, flagged as not fitting, when no path fits.
    """
    vocab = tokenizer.vocab
    observed = float(neutral_mass(spectrum.precursor_mz, spectrum.charge))
    path = log_probs.argmax(-1)
    greedy = path_candidate(path, np.exp(log_probs), tokenizer,
                            float(log_probs[np.arange(len(path)), path].sum()), False)  # fmt: skip
    if _valid(greedy.peptide, vocab):
        fit = fits_precursor(vocab.peptide_mass(greedy.peptide), observed,
                             decode.precursor_tol_ppm, decode.isotopes)  # fmt: skip
        greedy = dataclasses.replace(greedy, fits=fit)
        if (fit and decode.top_k == 1) or not decode.mass_control:
            return [greedy]
    elif not decode.mass_control:
        return []
    found = mass_constrained(log_probs, tokenizer, observed, decode.precursor_tol_ppm,
                             decode.isotopes, decode.beam, decode.top_k)  # fmt: skip
    found = [c for c in found if _valid(c.peptide, vocab)]
    if found:
        return found
    return [greedy] if _valid(greedy.peptide, vocab) else []


def unreachable_reason(spectrum: Spectrum, vocab, max_tokens: int, decode: DecodeConfig) -> str | None:
    """Why no peptide of at most ``max_tokens`` residues can fit the precursor, or None.

    Such a precursor (a corrupt m/z, or a protein-sized ion) would still get the model's best
    guess, of a mass far from it; it is skipped instead.
    """
    residues = [t.mass for t in vocab.tokens if not t.is_nterm]
    slack = 1 + decode.precursor_tol_ppm * 1e-6
    mass = float(neutral_mass(spectrum.precursor_mz, spectrum.charge)) - H2O
    lightest, heaviest = min(residues) / slack, max_tokens * max(residues) * slack
    if mass - max(decode.isotopes) * C13_DIFF < lightest:
        return f"precursor mass below the lightest peptide ({lightest + H2O:.1f} Da)"
    if mass - min(decode.isotopes) * C13_DIFF > heaviest:
        return (f"precursor mass above the heaviest peptide the model writes "
                f"({max_tokens} residues, {heaviest + H2O:.0f} Da)")  # fmt: skip
    return None


def _valid(peptide: tuple[str, ...], vocab) -> bool:
    """A peptide with residues, and an N-terminal modification only at the start."""
    if vocab.n_residues(peptide) == 0:
        return False
    return not any(vocab[t].is_nterm for t in peptide[1:])


def peptide_score(candidate: Candidate) -> float:
    """Geometric mean of the per-token probabilities, in [0, 1]; minus 1 if it does not fit."""
    score = math.exp(float(np.mean(np.log(np.clip(candidate.aa_scores, 1e-12, 1.0)))))
    return score if candidate.fits else score - 1.0


def _psms(spectrum: Spectrum, candidates: list[Candidate], steps: int, tokenizer: Tokenizer,
          decode: DecodeConfig) -> list[PSM]:  # fmt: skip
    vocab = tokenizer.vocab
    light = dataclasses.replace(spectrum, mz=np.empty(0), intensity=np.empty(0, np.float32))
    if not candidates:
        return [PSM(light, None, 0.0, (), False, None, None, None, steps,
                    skip_reason="no peptide decoded")]  # fmt: skip
    out = []
    for rank, c in enumerate(candidates, start=1):
        mass = vocab.peptide_mass(c.peptide)
        error, isotope = precursor_error_ppm(mass, spectrum.precursor_mz, spectrum.charge,
                                             decode.isotopes)  # fmt: skip
        out.append(PSM(light, c.peptide, peptide_score(c), c.aa_scores, c.fits, error, isotope,
                       float(mz(mass, spectrum.charge)), steps, rank))  # fmt: skip
    return out


class Predictor:
    """Sequences spectra with one model; see :meth:`run`."""

    def __init__(self, model: TRM, tokenizer: Tokenizer, config: Config, device: torch.device) -> None:
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.config = config
        self.device = device
        self.n_sup = config.decode.n_sup or config.model.n_sup

    def run(
        self,
        paths: Sequence[str | Path],
        counter: SkipCounter,
        on_spectra: Callable[[int], object] | None = None,
    ) -> Iterator[PSM]:
        """Yield PSMs for every spectrum of the files, in input order.

        Skipped spectra (and spectra for which no peptide could be decoded) come as PSMs with
        ``peptide=None``; ``counter`` counts them by reason.
        """
        pending: list[tuple[Spectrum, Spectrum | str]] = []
        for spectrum in _spectra(paths):
            counter.read += 1
            processed = preprocess(spectrum, self.config.data)
            if not isinstance(processed, str):
                processed = unreachable_reason(processed, self.tokenizer.vocab,
                                               self.config.model.max_length,
                                               self.config.decode) or processed  # fmt: skip
            pending.append((spectrum, processed))
            if sum(not isinstance(p, str) for _, p in pending) >= self.config.decode.batch_size:
                yield from self._flush(pending, counter, on_spectra)
                pending = []
        if pending:
            yield from self._flush(pending, counter, on_spectra)

    def _flush(self, pending, counter: SkipCounter, on_spectra) -> Iterator[PSM]:
        usable = [p for _, p in pending if not isinstance(p, str)]
        results: list[list[Candidate]] = []
        steps: list[int] = []
        if usable:
            batch = collate([(s, None) for s in usable]).to(self.device)
            out = infer(self.model, batch, self.n_sup, self.config.decode.halting)
            log_probs = out.log_probs.cpu().numpy()
            steps = out.steps.cpu().tolist()
            results = [decode_spectrum(lp, s, self.tokenizer, self.config.decode)
                       for lp, s in zip(log_probs, usable, strict=True)]  # fmt: skip
        i = 0
        for spectrum, processed in pending:
            if isinstance(processed, str):
                counter.skip(spectrum, processed)
                light = dataclasses.replace(spectrum, mz=np.empty(0), intensity=np.empty(0, np.float32))
                yield PSM(light, None, 0.0, (), False, None, None, None, 0, skip_reason=processed)
                continue
            psms = _psms(spectrum, results[i], steps[i], self.tokenizer, self.config.decode)
            if psms[0].peptide is None:
                counter.skip(spectrum, "no peptide decoded")
            yield from psms
            i += 1
        if on_spectra is not None:
            on_spectra(len(pending))


def _spectra(paths: Iterable[str | Path]) -> Iterator[Spectrum]:
    for path in paths:
        yield from read_spectra(path)


@dataclass
class Summary:
    """What ``predict_files`` did."""

    counter: SkipCounter
    n_rows: int  # PSM rows written
    n_fit: int  # sequenced spectra whose best peptide fits the precursor
    skipped_log: Path | None  # where unsequenced spectra are listed, if any were


def predict_files(
    files: Sequence[Path],
    output: Path,
    model_path: str | Path | None = None,
    config_override: Config | None = None,
    device: str = "auto",
    decode_changes: dict | None = None,
    on_spectra: Callable[[int], object] | None = None,
) -> Summary:
    """Sequence every spectrum of ``files`` and write ``output`` (.mztab or .tsv) atomically.

    The model's checkpoint supplies the vocabulary, preprocessing and network; the decoding
    settings come from ``config_override`` (its ``decode`` section) and ``decode_changes``.
    Spectra that are not sequenced are listed, with their reason, in ``<output>.skipped.tsv``.

    Raises
    ------
    TrmseqError
        For a bad output suffix, a missing or corrupt model, or unreadable input.
    """
    from trmseq import checkpoint
    from trmseq.errors import ConfigError
    from trmseq.io.atomic import atomic_write
    from trmseq.io.mztab import write_mztab, write_tsv
    from trmseq.paths import resolve_model
    from trmseq.train import resolve_device

    suffix = output.suffix.lower()
    if suffix not in (".mztab", ".tsv"):
        raise ConfigError(f"{output}: output must end in .mztab or .tsv")
    path = resolve_model(model_path)
    model, tokenizer, config, _ = checkpoint.load_model(path)
    decode = config_override.decode if config_override else config.decode
    changes = {k: v for k, v in (decode_changes or {}).items() if v is not None}
    decode = dataclasses.replace(decode, **changes)
    config = dataclasses.replace(config, decode=decode)
    predictor = Predictor(model, tokenizer, config, resolve_device(device))
    counter = SkipCounter()
    settings = [("model", str(path)), ("precursor_tol_ppm", f"{decode.precursor_tol_ppm:g}"),
                ("isotopes", ",".join(map(str, decode.isotopes))), ("n_sup", str(predictor.n_sup)),
                ("halting", str(decode.halting).lower()), ("beam", str(decode.beam)),
                ("top_k", str(decode.top_k))]  # fmt: skip
    skipped: list[PSM] = []
    n_fit = 0

    def track(psms: Iterable[PSM]) -> Iterator[PSM]:
        nonlocal n_fit
        for psm in psms:
            if psm.peptide is None:
                skipped.append(psm)
            elif psm.rank == 1 and psm.fits_precursor:
                n_fit += 1
            yield psm

    psms = track(predictor.run(files, counter, on_spectra))
    with atomic_write(output) as handle:
        if suffix == ".mztab":
            n_rows = write_mztab(handle, psms, tokenizer.vocab, files, settings)
        else:
            n_rows = write_tsv(handle, psms, tokenizer.vocab, files)
    log = output.with_name(output.name + ".skipped.tsv")
    if not skipped:
        log.unlink(missing_ok=True)  # an older run's list would name spectra of other files
        return Summary(counter, n_rows, n_fit, None)
    run_of = {str(p): i for i, p in enumerate(files, start=1)}  # as in the PSM table
    with atomic_write(log) as handle:
        handle.write("file\tspectra_ref\ttitle\treason\n")
        for psm in skipped:
            s = psm.spectrum
            handle.write(f"{s.file}\tms_run[{run_of[s.file]}]:{s.ref}\t{s.title or ''}\t{psm.skip_reason}\n")
    return Summary(counter, n_rows, n_fit, log)
