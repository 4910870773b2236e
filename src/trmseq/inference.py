"""Running a trained model on spectra: recursion with halting, then decoding and scoring.

The one inference path: ``predict``, ``evaluate`` and validation during training all call a
:class:`Runner`. A batch of preprocessed spectra goes through the encoder once, then through
the supervision steps (a spectrum leaves the batch once its halting logit is > 0), and each
batch's log-probabilities are decoded into candidates (:func:`trmseq.decode.decode_batch`).
With a calibration, the search's first ``decode.rerank`` candidates (for spectra whose greedy
answer misses the precursor), with the same-mass rivals of a second search and the peptides of a
third one guided by the peaks, are then ordered by their calibrated probability of being right,
which weighs the model's likelihood against how well each candidate explains the spectrum
(matched b/y intensity, bond coverage, ladder length).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from trmseq.batch import collate
from trmseq.confidence import Calibrator, features
from trmseq.config import DecodeConfig
from trmseq.decode import Candidate, decode_batch, greedy_decode
from trmseq.masses import precursor_error_ppm
from trmseq.model.trm import TRM
from trmseq.spectrum import Spectrum
from trmseq.tokenizer import Tokenizer
from trmseq.vocab import Vocabulary


@dataclass
class Inference:
    """Model outputs for a batch.

    ``log_probs`` are each spectrum's outputs after step ``steps`` (its halting step, or the
    last); with ``keep_steps``, ``per_step`` holds every step's outputs for every spectrum.
    """

    log_probs: torch.Tensor  # (batch, n_slots, n_classes)
    q: torch.Tensor  # (batch,) halting logits at that step
    steps: torch.Tensor  # (batch,) supervision steps whose answer is taken, 1-based
    changed: torch.Tensor  # (batch,) bool: that step changed the draft it started from
    per_step: list[torch.Tensor] | None = None  # n_sup x (batch, n_slots, n_classes)
    per_step_q: list[torch.Tensor] | None = None  # n_sup x (batch,)
    per_step_changed: list[torch.Tensor] | None = None  # n_sup x (batch,)


@dataclass(frozen=True)
class Evidence:
    """How one candidate fits its spectrum, and how far to trust it."""

    precursor_error_ppm: float  # at the isotope offset that fits best
    isotope: int
    features: np.ndarray  # :data:`trmseq.confidence.FEATURES`
    probability: float | None  # calibrated P(exactly right); None without a calibration


@dataclass
class Answer:
    """What the model says about one spectrum."""

    candidates: list[Candidate]  # best first; empty when no peptide could be decoded
    evidence: list[Evidence]  # one per candidate
    steps: int  # supervision steps run before the answer was taken
    greedy_by_step: list[tuple[str, ...]] | None = None  # greedy peptide after each step
    decoded_by_step: list[list[Candidate]] | None = None  # decoded candidates after each step


class Runner:
    """One model, its tokenizer and decoding settings, on one device.

    Parameters
    ----------
    decode
        Decoding settings; ``decode.n_sup == 0`` means the model's own depth. This is the one
        place where the inference depth is resolved.
    calibrator
        Turns each candidate's evidence into a probability; with one and ``decode.rerank`` > 1,
        the search's first ``max(decode.top_k, decode.rerank)`` candidates, and the same-mass
        rivals of ``decode.rival_beam`` and the peptides of the search guided by the peaks
        (``decode.evidence_beam``), are re-ranked by it (for a spectrum whose greedy answer
        fits the precursor, with ``top_k`` 1: that answer).
    """

    def __init__(self, model: TRM, tokenizer: Tokenizer, decode: DecodeConfig,
                 device: torch.device | str = "cpu", calibrator: Calibrator | None = None) -> None:  # fmt: skip
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.decode = decode
        self.device = torch.device(device)
        self.n_sup = decode.n_sup or model.config.n_sup
        self.calibrator = calibrator
        self._rerank = calibrator is not None and decode.rerank > 1

    @torch.no_grad()
    def infer(self, batch, keep_steps: bool = False) -> Inference:
        """Run the recursion on a collated batch.

        Without ``keep_steps``, a spectrum leaves the batch once its halting logit is > 0
        (with ``decode.halting``), so easy spectra cost fewer steps. With ``keep_steps``, every
        spectrum runs every step and ``steps`` says where halting would have stopped.
        """
        model, n_sup = self.model, self.n_sup
        halting = self.decode.halting
        memory = model.encode(batch)
        carry = model.initial_carry(memory)
        b = len(batch)
        device = batch.mz.device
        final = torch.zeros((b, memory.x.shape[1], model.head.out_features), device=device)
        q_final = torch.zeros(b, device=device)
        steps = torch.full((b,), n_sup, dtype=torch.int64, device=device)
        changed = torch.zeros(b, dtype=torch.bool, device=device)
        active = torch.arange(b, device=device)
        per_step: list[torch.Tensor] = []
        per_step_q: list[torch.Tensor] = []
        per_step_changed: list[torch.Tensor] = []
        for k in range(1, n_sup + 1):
            draft = carry.path
            carry, out = model.supervision_step(carry, memory, check=k < n_sup)
            log_probs = out.logits.float().log_softmax(-1)
            moved = (carry.path != draft).any(-1)
            if keep_steps:
                per_step.append(log_probs)
                per_step_q.append(out.q.float())
                per_step_changed.append(moved)
                continue
            final[active], q_final[active], changed[active] = log_probs, out.q.float(), moved
            if halting and k < n_sup:
                done = out.q > 0
                steps[active[done]] = k
                keep = (~done).nonzero().squeeze(1)
                if len(keep) == 0:
                    break
                if len(keep) < len(active):
                    active, carry, memory = active[keep], carry.select(keep), memory.select(keep)
        if not keep_steps:
            return Inference(final, q_final, steps, changed)
        if halting:
            for k in range(n_sup - 1, 0, -1):  # the first step whose halting logit is > 0
                steps[per_step_q[k - 1] > 0] = k
        at = (steps - 1, torch.arange(b, device=device))
        return Inference(torch.stack(per_step)[at], torch.stack(per_step_q)[at], steps,
                         torch.stack(per_step_changed)[at], per_step, per_step_q, per_step_changed)  # fmt: skip

    def answer(self, spectra: Sequence[Spectrum], by_step: bool = False,
               decode_steps: bool = False) -> list[Answer]:  # fmt: skip
        """Sequence preprocessed spectra (one batch).

        ``by_step`` adds the greedy peptide after every step; ``decode_steps`` also decodes
        (and ranks) every step's outputs (slower: one precursor-constrained search per step).
        """
        batch = collate([(s, None) for s in spectra]).to(self.device)
        out = self.infer(batch, keep_steps=by_step or decode_steps)
        steps = out.steps.cpu().tolist()
        greedy = [greedy_decode(lp, self.tokenizer) for lp in out.per_step] if out.per_step else []
        if decode_steps:
            assert out.per_step is not None and out.per_step_q is not None and out.per_step_changed is not None
            outputs = list(zip(out.per_step, out.per_step_q, out.per_step_changed, strict=True))
        else:
            outputs = [(out.log_probs, out.q, out.changed)]
        ranked = [self._ranked(lp, q, changed, spectra) for lp, q, changed in outputs]
        answers = []
        for j, k in enumerate(steps):
            candidates, evidence = ranked[k - 1][j] if decode_steps else ranked[0][j]
            decoded = [r[j][0] for r in ranked] if decode_steps else None
            answers.append(Answer(candidates, evidence, k, [g[j] for g in greedy] or None, decoded))
        return answers

    def _ranked(self, log_probs: torch.Tensor, q: torch.Tensor, changed: torch.Tensor,
                spectra: Sequence[Spectrum]) -> list[tuple[list[Candidate], list[Evidence]]]:  # fmt: skip
        """Per spectrum: its ``top_k`` candidates, best first, and their evidence.

        The first is the answer ``top_k`` 1 gives, with the same probability; the others come
        from an exact top-k search, whose larger pool would otherwise change the answer too.
        """
        best = self._pool_ranked(dataclasses.replace(self.decode, top_k=1), log_probs, q, changed, spectra)
        if self.decode.top_k == 1:
            return best
        more = self._pool_ranked(self.decode, log_probs, q, changed, spectra)
        out = []
        for (first, first_e), (others, others_e) in zip(best, more, strict=True):
            if not first:  # no answer without --top-k: none with it either
                out.append((first, first_e))
                continue
            taken = {c.peptide for c in first}
            rest = [(c, e) for c, e in zip(others, others_e, strict=True) if c.peptide not in taken]
            rest = rest[: self.decode.top_k - len(first)]
            out.append((first + [c for c, _ in rest], first_e + [e for _, e in rest]))
        return out

    def _pool_ranked(self, decode: DecodeConfig, log_probs: torch.Tensor, q: torch.Tensor, changed: torch.Tensor,
                     spectra: Sequence[Spectrum]) -> list[tuple[list[Candidate], list[Evidence]]]:  # fmt: skip
        """Per spectrum: the first ``decode.top_k`` of the search's pool, re-ranked, with their evidence."""
        # With a calibration, rivals (decode.rival_beam) join the pool whether or not it re-ranks, so
        # that a peptide's probability (its lead over its best rival) does not depend on --rerank.
        rivals = self.calibrator is not None
        # At least two candidates, so that each one's evidence knows its best rival; extra
        # ones cost nothing in a top-1 search (decode_batch).
        pool = max(decode.top_k, decode.rerank, 2)
        decoded = decode_batch(log_probs, spectra, self.tokenizer, decode, pool, rivals,
                               self.model.config.match_tol_da)
        greedy_log_probs = log_probs.max(-1).values.cpu().numpy()
        halting, moved = q.cpu().tolist(), changed.cpu().tolist()
        out = []
        for j, (spectrum, candidates) in enumerate(zip(spectra, decoded, strict=True)):
            greedy_log_prob = float(greedy_log_probs[j].sum())
            log_p = [c.log_prob for c in candidates]
            rivals = [max(log_p[:i] + log_p[i + 1 :], default=None) for i in range(len(candidates))]
            evidence = [self._evidence(c, spectrum, greedy_log_prob, halting[j], moved[j], rival)
                        for c, rival in zip(candidates, rivals, strict=True)]  # fmt: skip
            order = list(range(len(candidates)))
            if self._rerank:  # stable: ties keep the search's order
                order.sort(key=lambda i: -evidence[i].probability)  # type: ignore[operator]
            order = order[: decode.top_k]
            out.append(([candidates[i] for i in order], [evidence[i] for i in order]))
        return out

    def _evidence(self, c: Candidate, spectrum: Spectrum, greedy_log_prob: float, halting: float,
                  changed: bool, rival_log_prob: float | None) -> Evidence:  # fmt: skip
        return evidence(c, spectrum, self.tokenizer.vocab, self.decode.isotopes, greedy_log_prob, halting,
                        changed, self.model.config.match_tol_da, self.calibrator, rival_log_prob)  # fmt: skip


def evidence(
    c: Candidate, spectrum: Spectrum, vocab: Vocabulary, isotopes: Sequence[int], greedy_log_prob: float,
    halting: float, changed: bool, tol_da: float, calibrator: Calibrator | None = None,
    rival_log_prob: float | None = None,
) -> Evidence:  # fmt: skip
    """How a candidate fits its (preprocessed) spectrum, and its probability with a calibration.

    ``rival_log_prob``: the log-probability of the best other fitting peptide decoded, if any.
    """
    error, isotope = precursor_error_ppm(vocab.peptide_mass(c.peptide), spectrum.precursor_mz,
                                         spectrum.charge, isotopes)  # fmt: skip
    x = features(c.aa_scores, c.log_prob, greedy_log_prob, c.fits, error, isotope,
                 vocab.residue_masses(c.peptide), spectrum.mz, spectrum.intensity, spectrum.charge,
                 halting, changed, tol_da, rival_log_prob)  # fmt: skip
    p = float(calibrator.probability(x)) if calibrator is not None else None
    return Evidence(error, isotope, x, p)


def validation_runner(model: TRM, tokenizer: Tokenizer, decode: DecodeConfig | None,
                      device: torch.device | str) -> Runner:  # fmt: skip
    """A runner as validation during training uses it: the model's depth, every step, best only."""
    decode = dataclasses.replace(decode or DecodeConfig(), top_k=1, halting=False, n_sup=0)
    return Runner(model, tokenizer, decode, device)
