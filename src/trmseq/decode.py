"""From per-slot probabilities to peptides: greedy CTC decoding and precursor-mass control.

:func:`decode_batch` is the policy ``predict`` uses: a spectrum's greedy answer when it fits the
precursor, else the best peptides that do, found for the whole batch at once by the
precursor-constrained search (:mod:`trmseq.search`, PrimeNovo's "precise mass control").
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from trmseq.config import DecodeConfig
from trmseq.constants import C13_DIFF, PROTON
from trmseq.masses import neutral_mass
from trmseq.search import search
from trmseq.spectrum import Spectrum
from trmseq.tokenizer import BLANK, Tokenizer, ctc_collapse, ctc_runs
from trmseq.vocab import Vocabulary

_RIVALS_PER_STATE = 3  # peptides each state keeps in the search for rivals (decode.rival_beam)


@dataclass(frozen=True)
class Candidate:
    """One decoded peptide for a spectrum."""

    peptide: tuple[str, ...]
    aa_scores: tuple[float, ...]  # per token: its highest slot probability
    log_prob: float  # log-probability of the chosen path
    fits: bool  # fits the precursor within the tolerance and isotopes


def greedy_decode(logits: torch.Tensor, tokenizer: Tokenizer) -> list[tuple[str, ...]]:
    """Most probable class at every slot, collapsed (CTC); one peptide per spectrum.

    Parameters
    ----------
    logits : torch.Tensor of shape (batch, n_slots, n_classes)
    """
    paths = logits.argmax(-1).cpu().numpy()
    return [tokenizer.decode(ctc_collapse(path)) for path in paths]


def peptide_masses(peptide: Sequence[str], vocab: Vocabulary) -> list[float] | None:
    """Residue masses of a decoded peptide for scoring; None if it has no residue.

    An N-terminal token anywhere but first is scored as a residue of its own mass (and so
    never matches), rather than rejected.
    """
    if vocab.n_residues(peptide) == 0:
        return None
    masses = [vocab[t].mass for t in peptide]
    if vocab[peptide[0]].is_nterm:
        masses = [masses[0] + masses[1], *masses[2:]]
    return [float(m) for m in masses]


def fits_precursor(
    peptide_mass: float, observed_mass: float, tol_ppm: float, isotopes: Sequence[int]
) -> bool:
    """Whether a peptide's neutral mass matches an observed one at any isotope offset."""
    return any(
        abs(observed_mass - k * C13_DIFF - peptide_mass) <= tol_ppm * 1e-6 * peptide_mass
        for k in isotopes
    )


def path_candidate(
    path: np.ndarray, probs: np.ndarray, tokenizer: Tokenizer, log_prob: float, fits: bool
) -> Candidate:
    """Turn a CTC path into a candidate, scoring each token by its best slot probability."""
    starts = ctc_runs(path)
    best = np.maximum.reduceat(probs[np.arange(len(path)), path], starts) if len(starts) else starts
    classes = path[starts]
    tokens = classes[classes != BLANK]
    scores = tuple(float(x) for x in best[classes != BLANK])
    return Candidate(tokenizer.decode(tokens.tolist()), scores, log_prob, fits)


def mass_constrained(
    log_probs: np.ndarray,
    tokenizer: Tokenizer,
    observed_mass: float,
    tol_ppm: float = 50.0,
    isotopes: Sequence[int] = (0, 1),
    beam: int = 256,
    top_k: int = 1,
) -> list[Candidate]:
    """The ``top_k`` most probable peptides that fit the precursor, each by its best CTC path.

    One spectrum's :func:`trmseq.search.search`.

    Parameters
    ----------
    log_probs : numpy.ndarray of shape (n_slots, n_classes)
        Log-probabilities of one spectrum.
    observed_mass
        Neutral precursor mass (from m/z and charge).

    Returns
    -------
    list of Candidate
        Best first, distinct peptides; empty when no path within the beam fits.
    """
    found = search(torch.from_numpy(log_probs)[None], [observed_mass], tokenizer, tol_ppm, isotopes,
                   beam, top_k)[0]  # fmt: skip
    probs = np.exp(log_probs)
    return [path_candidate(path, probs, tokenizer, score, True) for path, score in found]


# -- the decoding policy ------------------------------------------------------------------


def decode_batch(
    log_probs: torch.Tensor, spectra: Sequence[Spectrum], tokenizer: Tokenizer, decode: DecodeConfig,
    pool: int = 0, rivals: bool = False, tol_da: float = 0.02,
) -> list[list[Candidate]]:
    """Each spectrum's greedy answer if it fits the precursor, else the search's best ones.

    The spectra that need the search go through it together, on the device of ``log_probs``
    (batch, n_slots, n_classes). A spectrum falls back to its greedy answer, flagged as not
    fitting, when no path fits. The search returns ``max(pool, decode.top_k)`` candidates (more
    than ``top_k`` for a re-ranking to choose from: the extra ones from the best fitting final
    states, at no extra cost); a greedy answer that fits is searched further only for
    ``top_k`` > 1. With ``rivals`` (a calibrated model) and ``decode.rival_beam``, a top-1
    search also adds the fitting peptides of a narrow search that keeps several per state, and
    with ``decode.evidence_beam`` those of a search guided by the peaks (:func:`prefix_support`,
    within ``tol_da``), each with its model log-probability.
    """
    vocab = tokenizer.vocab
    observed = [float(neutral_mass(s.precursor_mz, s.charge)) for s in spectra]
    lp = log_probs.cpu().numpy()
    probs = np.exp(lp)
    slots = np.arange(lp.shape[1])
    answers: list[list[Candidate]] = []
    need: list[int] = []
    for j, path in enumerate(log_probs.argmax(-1).cpu().numpy()):
        greedy = path_candidate(path, probs[j], tokenizer, float(lp[j, slots, path].sum()), False)
        if not _valid(greedy.peptide, vocab):
            answers.append([])
            need += [j] if decode.mass_control else []
            continue
        fit = fits_precursor(vocab.peptide_mass(greedy.peptide), observed[j], decode.precursor_tol_ppm,
                             decode.isotopes)  # fmt: skip
        answers.append([dataclasses.replace(greedy, fits=fit)])
        if decode.mass_control and not (fit and decode.top_k == 1):
            need.append(j)
    if not need:
        return answers
    lp_need, mass_need = log_probs[need], [observed[j] for j in need]
    found = search(lp_need, mass_need, tokenizer, decode.precursor_tol_ppm, decode.isotopes, decode.beam,
                   max(pool, decode.top_k), decode.top_k)  # fmt: skip
    rival_beam, evidence_beam = extra_searches(decode, rivals)
    if rival_beam:
        # A top-1 search keeps one peptide per state (mass, last class), so it never holds two
        # that differ only by swapped or isobaric residues before the last: the mistakes that
        # remain at the top. A narrow search keeping three per state finds them for little.
        more = search(lp_need, mass_need, tokenizer, decode.precursor_tol_ppm, decode.isotopes, rival_beam,
                      max(pool, 1), _RIVALS_PER_STATE)  # fmt: skip
        found = [first + extra for first, extra in zip(found, more, strict=True)]
    if evidence_beam:
        # The model alone ranks the right peptide far down when it is unsure of a few residues,
        # while the peaks still show most of its ladder: a search that rewards each residue
        # boundary a b or y ion supports proposes it, and the calibrated re-ranking judges it.
        guided = search(lp_need, mass_need, tokenizer, decode.precursor_tol_ppm, decode.isotopes,
                        evidence_beam, max(pool, 1), 1, support=prefix_support([spectra[j] for j in need],
                        mass_need), support_tol=tol_da, support_weight=decode.evidence_weight)  # fmt: skip
        # its paths with their model log-probability, without the bonus
        found = [first + [(path, float(lp[j, slots, path].sum())) for path, _ in extra]
                 for j, first, extra in zip(need, found, guided, strict=True)]  # fmt: skip
    for j, paths_j in zip(need, found, strict=True):
        candidates = _distinct([path_candidate(path, probs[j], tokenizer, score, True) for path, score in paths_j])
        candidates = [c for c in candidates if _valid(c.peptide, vocab)]
        if candidates:
            answers[j] = candidates
    return answers


def extra_searches(decode: DecodeConfig, calibrated: bool) -> tuple[int, int]:
    """Beams of the search for same-mass rivals and of the one guided by the peaks, as run (0: not).

    Both need a calibration, to judge what they add, and a top-1 search: a top-k search keeps
    several peptides per state itself.
    """
    on = calibrated and decode.top_k == 1
    return (decode.rival_beam if on else 0, decode.evidence_beam if on and decode.evidence_weight > 0 else 0)


def prefix_support(spectra: Sequence[Spectrum], observed_mass: Sequence[float]) -> torch.Tensor:
    """Per spectrum, the prefix residue masses its peaks imply as b or y ions, sorted.

    A peak at m/z ``x`` is a b ion of charge z of a prefix of mass ``z (x - proton)`` or a y
    ion of the suffix that leaves ``M - z (x - proton)`` (M the neutral precursor mass), for z
    up to the precursor charge - 1. Rows are padded with infinity; float64 of shape (n, width).
    """
    rows = []
    for s, neutral in zip(spectra, observed_mass, strict=True):
        x = np.concatenate([z * (s.mz.astype(np.float64) - PROTON) for z in range(1, max(1, s.charge - 1) + 1)])
        rows.append(np.sort(np.r_[x, neutral - x]))
    out = np.full((len(rows), max((len(r) for r in rows), default=0) or 1), np.inf)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return torch.from_numpy(out)


def _distinct(candidates: list[Candidate]) -> list[Candidate]:
    """The first candidate of each peptide, in order (two searches may find one peptide by two paths)."""
    out: dict[tuple[str, ...], Candidate] = {}
    for c in candidates:
        out.setdefault(c.peptide, c)
    return list(out.values())


def decode_spectrum(
    log_probs: np.ndarray, spectrum: Spectrum, tokenizer: Tokenizer, decode: DecodeConfig
) -> list[Candidate]:
    """:func:`decode_batch` for one spectrum's log-probabilities, shape (n_slots, n_classes)."""
    return decode_batch(torch.from_numpy(log_probs)[None], [spectrum], tokenizer, decode)[0]


def _valid(peptide: tuple[str, ...], vocab) -> bool:
    """A peptide with residues, and an N-terminal modification only at the start."""
    if vocab.n_residues(peptide) == 0:
        return False
    return not any(vocab[t].is_nterm for t in peptide[1:])


def peptide_score(candidate: Candidate) -> float:
    """Geometric mean of the per-token probabilities, in [0, 1]; minus 1 if it does not fit."""
    score = math.exp(float(np.mean(np.log(np.clip(candidate.aa_scores, 1e-12, 1.0)))))
    return score if candidate.fits else score - 1.0
