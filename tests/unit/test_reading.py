"""usable_spectra: every spectrum read is either used or counted under a reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import pyteomics_ref as ref
from trmseq.config import DataConfig, VocabConfig
from trmseq.reading import read_annotation, usable_spectra
from trmseq.spectrum import SkipCounter
from trmseq.vocab import DEFAULT_VARIABLE_MODS, Vocabulary

PEAKS = "\n".join(f"{100.0 + 10 * i:.1f} {1.0 + i}" for i in range(25))


def block(seq: str | None, pepmass: float, charge: str | None = "2+") -> str:
    lines = ["BEGIN IONS", f"PEPMASS={pepmass:.6f}"]
    if charge:
        lines.append(f"CHARGE={charge}")
    if seq:
        lines.append(f"SEQ={seq}")
    return "\n".join([*lines, PEAKS, "END IONS", ""])


def mz2(tokens: tuple[str, ...]) -> float:
    return ref.precursor_mz(tokens, 2)


def annotated_file(tmp_path: Path) -> Path:
    good = ("P", "E", "P", "T", "M+15.995", "L", "D", "E", "K")
    blocks = [
        block("PEPTM+15.995IDEK", mz2(good)),  # used
        block("PEPTM[Oxidation]IDEK", mz2(good) + ref.C13_DIFF / 2),  # used: +1 isotope
        block(None, mz2(good)),  # no annotation
        block("E-18.011AC+57.021K", 300.0),  # pyro-glu not in the vocabulary
        block("PEPS+79.966K", 300.0),  # phospho not configured
        block("PEPTIDEK", mz2(good)),  # mass 16 Da off
        block("PEPTXDEK", 300.0),  # unknown residue
        block("PEPTM+15.995IDEK", mz2(good), charge=None),  # no charge
        block("PEPTM+15.995IDEK", ref.precursor_mz(good, 5), charge="5+"),  # charge above 4
    ]
    path = tmp_path / "annotated.mgf"
    path.write_text("".join(blocks))
    return path


def test_usable_spectra_with_vocabulary(tmp_path: Path) -> None:
    path = annotated_file(tmp_path)
    counter = SkipCounter()
    used = list(usable_spectra([path], DataConfig(), counter, Vocabulary()))
    assert counter.read == 9
    assert len(used) == counter.n_used == 2
    assert counter.n_used + counter.n_skipped == counter.read
    assert [s.ref for s, _ in used] == ["index=0", "index=1"]
    assert used[0][1] == used[1][1] == ("P", "E", "P", "T", "M+15.995", "L", "D", "E", "K")
    reasons = dict(counter.counts)
    assert reasons.pop("no annotation (SEQ=)") == 1
    assert reasons.pop("missing or ambiguous precursor charge") == 1
    assert reasons.pop("charge above 4") == 1
    off = [r for r in reasons if "off the precursor" in r]
    assert len(off) == 1 and reasons.pop(off[0]) == 1
    rest = sorted(reasons)
    assert len(rest) == 3 and all(reasons[r] == 1 for r in rest)
    assert any("E-18.011" in r for r in rest)
    assert any("S+79.966" in r for r in rest)
    assert any("'X'" in r for r in rest)
    for s, _ in used:  # preprocessed
        assert abs(np.linalg.norm(s.intensity) - 1.0) < 1e-5


def test_phospho_is_used_when_configured(tmp_path: Path) -> None:
    tokens = ("P", "E", "P", "S+79.966", "K")
    path = tmp_path / "phospho.mgf"
    path.write_text(block("PEPS+79.966K", mz2(tokens)) + block("PEPS[Phospho]K", mz2(tokens)))
    vocab = VocabConfig(variable_mods=(*DEFAULT_VARIABLE_MODS, "S+79.966")).build()
    counter = SkipCounter()
    used = list(usable_spectra([path], DataConfig(), counter, vocab))
    assert [p for _, p in used] == [tokens, tokens]
    counter = SkipCounter()
    assert list(usable_spectra([path], DataConfig(), counter, Vocabulary())) == []
    assert counter.counts == {
        "annotation: modification S+79.966 is not in the vocabulary": 2
    }


def test_without_vocabulary_annotations_are_ignored(tmp_path: Path) -> None:
    path = annotated_file(tmp_path)
    counter = SkipCounter()
    used = list(usable_spectra([path, path], DataConfig(), counter))
    assert counter.read == 18
    assert len(used) == counter.n_used == 14
    assert all(p is None for _, p in used)
    assert dict(counter.counts) == {
        "missing or ambiguous precursor charge": 2,
        "charge above 4": 2,
    }


def test_read_annotation_tolerance() -> None:
    from trmseq.spectrum import Spectrum

    tokens = tuple("PEPTLDEK")
    exact = ref.precursor_mz(tokens, 2)

    def spectrum(mz: float) -> Spectrum:
        return Spectrum(np.zeros(0), np.zeros(0, np.float32), mz, 2, "f", 0, "index=0",
                        annotation="PEPTIDEK")  # fmt: skip

    vocab = Vocabulary()
    assert read_annotation(spectrum(exact * (1 + 40e-6)), vocab) == tokens
    assert isinstance(read_annotation(spectrum(exact * (1 + 60e-6)), vocab), str)
    assert read_annotation(spectrum(exact - ref.C13_DIFF / 2), vocab) == tokens  # isotope -1
