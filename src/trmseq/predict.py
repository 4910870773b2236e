"""De novo sequencing of spectrum files: read, batch, recurse, decode, and account for all.

Spectra stream through in input order; every one comes out as a :class:`~trmseq.psm.PSM`,
sequenced or with the reason it was skipped, so the output reconciles with the input.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trmseq.ahead import read_ahead
from trmseq.confidence import q_values
from trmseq.config import Config, DecodeConfig
from trmseq.constants import C13_DIFF, H2O
from trmseq.decode import extra_searches, peptide_score
from trmseq.inference import Answer, Runner
from trmseq.io import read_spectra
from trmseq.masses import mz, neutral_mass
from trmseq.psm import PSM
from trmseq.spectrum import SkipCounter, Spectrum, preprocess
from trmseq.tokenizer import Tokenizer


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


def _psms(spectrum: Spectrum, answer: Answer, tokenizer: Tokenizer) -> list[PSM]:
    """One PSM per candidate (rank 1 first), or one saying that no peptide was decoded."""
    vocab = tokenizer.vocab
    light = _without_peaks(spectrum)
    if not answer.candidates:
        return [PSM.skipped(light, "no peptide decoded", recursion_steps=answer.steps)]
    out = []
    for rank, (c, e) in enumerate(zip(answer.candidates, answer.evidence, strict=True), start=1):
        mass = vocab.peptide_mass(c.peptide)
        out.append(PSM(spectrum=light, peptide=c.peptide, score=peptide_score(c),
                       aa_scores=c.aa_scores, fits_precursor=c.fits,
                       precursor_error_ppm=e.precursor_error_ppm, isotope=e.isotope,
                       calc_mz=float(mz(mass, spectrum.charge)), recursion_steps=answer.steps,
                       rank=rank, probability=e.probability))  # fmt: skip
    return out


def with_q_values(psms: list[PSM]) -> list[PSM]:
    """The PSMs with their q-values, from the probabilities of the answers (rank 1) that have one.

    The other candidates of ``--top-k`` are alternatives to an answer, not answers: counting
    them would change an answer's q-value with ``--top-k``, so theirs stays None.
    """
    scored = [i for i, p in enumerate(psms) if p.probability is not None and p.rank == 1]
    q = q_values([psms[i].probability for i in scored])  # type: ignore[misc]
    out = list(psms)
    for i, value in zip(scored, q, strict=True):
        out[i] = dataclasses.replace(psms[i], q_value=float(value))
    return out


def _without_peaks(spectrum: Spectrum) -> Spectrum:
    """The spectrum's identity and precursor, without its peaks (PSMs outlive the batch)."""
    return dataclasses.replace(spectrum, mz=np.empty(0), intensity=np.empty(0, np.float32))


class Predictor:
    """Sequences the spectra of files with one :class:`~trmseq.inference.Runner`; see :meth:`run`."""

    def __init__(self, runner: Runner, config: Config) -> None:
        self.runner = runner
        self.config = config

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
        for _, psms in self.batches(paths, counter, on_spectra):
            yield from psms

    def batches(
        self,
        paths: Sequence[str | Path],
        counter: SkipCounter,
        on_spectra: Callable[[int], object] | None = None,
        shard: tuple[int, int] = (0, 1),
    ) -> Iterator[tuple[int, list[PSM]]]:
        """Yield (batch number, its PSMs) for the batches of shard ``(rank, world size)``.

        Every process forms the same batches (``batch_size`` sequenceable spectra each, with the
        skipped ones between them) and sequences those whose number is ``rank`` modulo the world
        size, so that the shards together give exactly what one process gives.
        """
        rank, world = shard
        # The next batches are read and preprocessed while this one is sequenced.
        for number, pending in enumerate(read_ahead(self._pending(paths, counter))):
            if number % world == rank:
                yield number, self._flush(pending, counter)
            if on_spectra is not None:
                on_spectra(len(pending))

    def _pending(self, paths: Sequence[str | Path], counter: SkipCounter) -> Iterator[list]:
        """Lists of (spectrum as read, preprocessed or why not), ``batch_size`` usable in each."""
        vocab = self.runner.tokenizer.vocab
        pending: list[tuple[Spectrum, Spectrum | str]] = []
        for spectrum in _spectra(paths):
            counter.read += 1
            processed = preprocess(spectrum, self.config.data)
            if not isinstance(processed, str):
                processed = unreachable_reason(processed, vocab, self.config.model.max_tokens,
                                               self.config.decode) or processed  # fmt: skip
            pending.append((spectrum, processed))
            if sum(not isinstance(p, str) for _, p in pending) >= self.config.decode.batch_size:
                yield pending
                pending = []
        if pending:
            yield pending

    def _flush(self, pending, counter: SkipCounter) -> list[PSM]:
        usable = [p for _, p in pending if not isinstance(p, str)]
        answers = iter(self.runner.answer(usable) if usable else [])
        out: list[PSM] = []
        for spectrum, processed in pending:
            if isinstance(processed, str):
                counter.skip(spectrum, processed)
                out.append(PSM.skipped(_without_peaks(spectrum), processed))
                continue
            psms = _psms(spectrum, next(answers), self.runner.tokenizer)
            if psms[0].peptide is None:
                counter.skip(spectrum, "no peptide decoded")
            out += psms
        return out


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
    n_above_q: int = 0  # PSMs left out by max_q


def predict_files(
    files: Sequence[Path],
    output: Path,
    model_path: str | Path | None = None,
    config_override: Config | None = None,
    device: str = "auto",
    decode_changes: dict | None = None,
    on_spectra: Callable[[int], object] | None = None,
    max_q: float | None = None,
) -> Summary:
    """Sequence every spectrum of ``files`` and write ``output`` (.mztab or .tsv) atomically.

    The model's checkpoint supplies the vocabulary, preprocessing, network and calibration; the
    decoding settings come from ``config_override`` (its ``decode`` section) and
    ``decode_changes``. Spectra that are not sequenced are listed, with their reason, in
    ``<output>.skipped.tsv``. With ``max_q``, only PSMs with a q-value at most that are written.

    Raises
    ------
    TrmseqError
        For a bad output suffix, a missing or corrupt model, or unreadable input.
    """
    from trmseq import checkpoint
    from trmseq.device import join_torchrun, process_device, resolve_device
    from trmseq.errors import ConfigError
    from trmseq.io.atomic import atomic_write, check_writable
    from trmseq.io.mztab import tsv_cell, write_mztab, write_tsv
    from trmseq.paths import resolve_model

    suffix = output.suffix.lower()
    if suffix not in (".mztab", ".tsv"):
        raise ConfigError(f"{output}: output must end in .mztab or .tsv")
    log = output.with_name(output.name + ".skipped.tsv")
    check_writable(log)  # written (or removed) after the work: fail before it
    path = resolve_model(model_path)
    model, tokenizer, config, payload = checkpoint.load_model(path)
    calibrator = checkpoint.calibrator(payload, path)
    if max_q is not None and calibrator is None:
        raise ConfigError(f"{path}: this model has no calibration, so no q-values for --max-q; "
                          "add one with `trmseq calibrate`")  # fmt: skip
    decode = config_override.decode if config_override else config.decode
    changes = {k: v for k, v in (decode_changes or {}).items() if v is not None}
    decode = dataclasses.replace(decode, **changes)
    config = dataclasses.replace(config, decode=decode)
    rank, world = join_torchrun("gloo")  # the spectra go to the processes by batch; rank 0 writes
    runner = Runner(model, tokenizer, decode, process_device(resolve_device(device), rank, world), calibrator)
    predictor = Predictor(runner, config)
    counter = SkipCounter()
    if rank > 0:
        _gather(list(predictor.batches(files, counter, None, (rank, world))), counter)
        return Summary(counter, 0, 0, None)
    rival_beam, evidence_beam = extra_searches(decode, calibrator is not None)
    settings = [("model", str(path)), ("precursor_tol_ppm", f"{decode.precursor_tol_ppm:g}"),
                ("isotopes", ",".join(map(str, decode.isotopes))), ("n_sup", str(predictor.runner.n_sup)),
                ("halting", str(decode.halting).lower()), ("beam", str(decode.beam)),
                ("top_k", str(decode.top_k)),
                ("rerank", str(decode.rerank if calibrator is not None else 1)),
                ("rival_beam", str(rival_beam)), ("evidence_beam", str(evidence_beam)),
                ("evidence_weight", f"{decode.evidence_weight if evidence_beam else 0:g}")]  # fmt: skip
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

    n_above_q = 0
    with atomic_write(output) as handle:  # opened first: a bad output path fails before the work
        # Held until every spectrum is done: a q-value depends on the probabilities of all PSMs.
        if world == 1:
            psms = list(predictor.run(files, counter, on_spectra))
        else:
            psms = _gather(list(predictor.batches(files, counter, on_spectra, (0, world))), counter)
        psms = with_q_values(list(track(psms)))
        if max_q is not None:  # a spectrum whose answer passes keeps its other candidates too
            passed = {(p.spectrum.file, p.spectrum.ref) for p in psms
                      if p.rank == 1 and p.q_value is not None and p.q_value <= max_q}  # fmt: skip
            kept = [p for p in psms if p.peptide is None or (p.spectrum.file, p.spectrum.ref) in passed]
            n_above_q, psms = len(psms) - len(kept), kept
        if suffix == ".mztab":
            n_rows = write_mztab(handle, psms, tokenizer.vocab, files, settings)
        else:
            n_rows = write_tsv(handle, psms, tokenizer.vocab, files)
    if not skipped:
        log.unlink(missing_ok=True)  # an older run's list would name spectra of other files
        return Summary(counter, n_rows, n_fit, None, n_above_q)
    run_of = {str(p): i for i, p in enumerate(files, start=1)}  # as in the PSM table
    with atomic_write(log) as handle:
        handle.write("file\tspectra_ref\ttitle\treason\n")
        for psm in skipped:
            s = psm.spectrum
            cells = (s.file, f"ms_run[{run_of[s.file]}]:{s.ref}", s.title or "", psm.skip_reason or "")
            handle.write("\t".join(map(tsv_cell, cells)) + "\n")
    return Summary(counter, n_rows, n_fit, log, n_above_q)


def _gather(batches: list[tuple[int, list[PSM]]], counter: SkipCounter) -> list[PSM]:
    """Under torchrun: rank 0 gets every process's batches, in input order, and their skip counts."""
    import torch.distributed as dist

    mine = (batches, counter.counts, counter.examples)
    everyone = [None] * dist.get_world_size() if dist.get_rank() == 0 else None
    dist.gather_object(mine, everyone, dst=0)
    dist.destroy_process_group()
    if everyone is None:
        return []
    for _, counts, examples in everyone[1:]:
        counter.counts.update(counts)
        for reason, shown in examples.items():
            kept = counter.examples.setdefault(reason, [])
            kept += shown[: counter.max_examples - len(kept)]
    ordered = sorted((b for part in everyone for b in part[0]), key=lambda b: b[0])
    return [psm for _, psms in ordered for psm in psms]
