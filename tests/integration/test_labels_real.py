"""--labels on real files: the Comet pepXML + mzML pairs in shared/data/raw, checked against an
independent join written here with pyteomics, and mzIdentML / mzTab label files written by
psims and by trmseq itself."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from pyteomics import mass, mzml, mztab, pepxml, proforma
from typer.testing import CliRunner

from model_helpers import tiny_config
from trmseq import config as tc
from trmseq.cli import app
from trmseq.config import DataConfig
from trmseq.labels import read_labels
from trmseq.reading import NO_LABEL, usable_spectra
from trmseq.spectrum import SkipCounter
from trmseq.vocab import Vocabulary

RAW = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "raw"
ELFRAG = "elfragmentador/01625b_GA1-TUM_first_pool_1_01_01-2xIT_2xHCD-1h-R1"
PAIRS = {"ms2ml": "ms2ml/sample_tiny_hela", "elfragmentador": ELFRAG}

PROTON = mass.nist_mass["H+"][0][0]
H2O = mass.calculate_mass(formula="H2O")
C13 = mass.nist_mass["C"][13][0] - mass.nist_mass["C"][12][0]
AA = mass.std_aa_mass


def pair(name: str) -> tuple[Path, Path]:
    stem = RAW / PAIRS[name]
    mzml_path, pepxml_path = stem.with_suffix(".mzML"), Path(f"{stem}.pep.xml")
    if not (mzml_path.is_file() and pepxml_path.is_file()):
        pytest.skip(f"real data not found: {stem}")
    return mzml_path, pepxml_path


def run(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


# -- the independent join ------------------------------------------------------------------------


def residue_masses(hit: dict) -> list[float]:
    """Per-residue masses of a pepXML hit: pyteomics masses, modified residues at their given mass."""
    masses = [AA[aa] for aa in hit["peptide"]]
    for mod in hit.get("modifications", []):
        assert 1 <= mod["position"] <= len(masses), "terminal mods do not occur in these files"
        masses[mod["position"] - 1] = mod["mass"]
    return masses


def fits(peptide_mass: float, precursor_mz: float, charge: int) -> bool:
    observed = (precursor_mz - PROTON) * charge
    return min(abs(observed - k * C13 - peptide_mass) / peptide_mass * 1e6 for k in (-1, 0, 1, 2)) <= 50


def usable(spectrum: dict, charge: int) -> bool:
    """Casanovo's preprocessing as docs/input.md states it: charge 1-4 and 20 peaks left."""
    ion = spectrum["precursorList"]["precursor"][0]["selectedIonList"]["selectedIon"][0]
    mz, intensity = spectrum["m/z array"], spectrum["intensity array"]
    keep = (intensity > 0) & (mz >= 50) & (mz <= 2500) & (np.abs(mz - ion["selected ion m/z"]) > 2)
    return 1 <= charge <= 4 and int(keep.sum()) >= 20


def independent_join(mzml_path: Path, pepxml_path: Path, max_expect: float = 0.01) -> dict:
    """Rank-1 hits; DECOY_ on every protein is a decoy; expect <= max_expect; joined by nativeID."""
    spectra = {s["id"]: s for s in mzml.read(str(mzml_path)) if s["ms level"] == 2}
    counts = {"read": 0, "decoy": 0, "over": 0}
    passing: dict[str, tuple[dict, dict]] = {}
    hits = {}
    for query in pepxml.read(str(pepxml_path)):
        ranked = [h for h in query.get("search_hit", []) if h["hit_rank"] == 1]
        if not ranked:
            continue
        counts["read"] += 1
        hit = ranked[0]
        hits[query["spectrumNativeID"]] = (query, hit)
        if all(p["protein"].startswith("DECOY_") for p in hit["proteins"]):
            counts["decoy"] += 1
        elif hit["search_score"]["expect"] > max_expect:
            counts["over"] += 1
        else:
            passing[query["spectrumNativeID"]] = (query, hit)
    joined = {nid: v for nid, v in passing.items() if nid in spectra}
    kept, off, unusable = {}, 0, 0
    for nid, (query, hit) in joined.items():
        s = spectra[nid]
        ion = s["precursorList"]["precursor"][0]["selectedIonList"]["selectedIon"][0]
        charge = int(ion.get("charge state", query["assumed_charge"]))
        masses = residue_masses(hit)
        if not fits(sum(masses) + H2O, ion["selected ion m/z"], charge):
            off += 1
        elif not usable(s, charge):
            unusable += 1
        else:
            kept[nid] = (hit["peptide"].replace("I", "L"), masses)
    return {**counts, "n_spectra": len(spectra), "joined": len(joined), "off": off,
            "unusable": unusable, "kept": kept, "hits": hits}  # fmt: skip


def trmseq_join(mzml_path: Path, labels) -> tuple[SkipCounter, dict]:
    vocab = Vocabulary()
    counter = SkipCounter()
    out = {}
    for s, peptide in usable_spectra([mzml_path], DataConfig(), counter, vocab, labels):
        residues = "".join(vocab[t].residue for t in peptide)
        out[s.ref] = (residues, vocab.residue_masses(peptide).tolist())
    return counter, out


def assert_same_labels(found: dict, expected: dict) -> None:
    assert sorted(found) == sorted(expected)
    for nid, (residues, masses) in expected.items():
        assert found[nid][0] == residues, nid
        assert found[nid][1] == pytest.approx(masses, abs=1e-4), nid


# -- pepXML ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_real_pepxml_labels_match_an_independent_join(name: str) -> None:
    mzml_path, pepxml_path = pair(name)
    expected = independent_join(mzml_path, pepxml_path)
    labels = read_labels([pepxml_path])
    counter, found = trmseq_join(mzml_path, labels)
    summary = labels.summary()
    assert summary["read"] == expected["read"]
    assert summary["joined"] == expected["joined"]
    assert summary["kept"] == len(expected["kept"]) > 0
    skipped = dict(summary["skipped"])
    assert skipped.pop("decoy", 0) == expected["decoy"]
    assert skipped.pop("expect above 0.01", 0) == expected["over"]
    assert skipped.pop("label mass off the precursor by more than 50 ppm", 0) == expected["off"]
    assert sum(n for r, n in skipped.items() if r.startswith("its spectrum is skipped")) == expected["unusable"]
    assert summary["read"] == summary["kept"] + sum(summary["skipped"].values())
    assert_same_labels(found, expected["kept"])
    assert counter.read == expected["n_spectra"]
    assert counter.n_used == len(expected["kept"])
    assert counter.counts[NO_LABEL] == summary["spectra_without_label"] == expected["n_spectra"] - expected["joined"]


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_inspect_with_labels_reports_the_join(name: str) -> None:
    mzml_path, pepxml_path = pair(name)
    expected = independent_join(mzml_path, pepxml_path)
    result = run("inspect", mzml_path, "--labels", pepxml_path)
    assert result.exit_code == 0, result.output
    out = result.stdout
    usable_line = re.search(r"^\s*usable\s+([\d,]+)", out, re.MULTILINE)
    assert usable_line and int(usable_line[1]) == len(expected["kept"])
    assert (f"labels: {expected['read']} identifications read from 1 file; {expected['joined']} joined to "
            f"spectra, {len(expected['kept'])} kept") in out  # fmt: skip
    assert f"skipped {expected['over']}: expect above 0.01" in out
    assert f"{pepxml_path}: {expected['read']} identifications, kept if expect <= 0.01" in out
    assert f"spectra without a label: {expected['n_spectra'] - expected['joined']}" in out


def test_a_stricter_expect_threshold_keeps_fewer(tmp_path: Path) -> None:
    mzml_path, pepxml_path = pair("elfragmentador")
    expected = independent_join(mzml_path, pepxml_path, max_expect=1e-4)
    labels = read_labels([pepxml_path], max_expect=1e-4)
    _, found = trmseq_join(mzml_path, labels)
    assert_same_labels(found, expected["kept"])
    assert labels.skipped["expect above 0.0001"] == expected["over"]


def test_both_pairs_at_once_join_each_to_its_own_run() -> None:
    (mzml_a, pep_a), (mzml_b, pep_b) = pair("ms2ml"), pair("elfragmentador")
    labels = read_labels([pep_a, pep_b])
    counter, found = trmseq_join(mzml_a, labels)
    expected_a = independent_join(mzml_a, pep_a)
    assert_same_labels(found, expected_a["kept"])
    skipped = labels.skip_counts()
    run_b = pep_b.name.removesuffix(".pep.xml")
    not_joined = independent_join(mzml_b, pep_b)["joined"]  # all of b's labels: its run was not read
    assert skipped[f"names run {run_b!r}, which matches no input file"] == not_joined


# -- mzIdentML written with psims from the real identifications ---------------------------------------


def write_mzid(path: Path, mzml_path: Path, hits: dict) -> Path:
    """Every rank-1 hit as an mzIdentML SpectrumIdentificationResult; q-value := Comet's expect,
    capped at 1 (a q-value above 1 is an error)."""
    from psims.mzid import MzIdentMLWriter

    with MzIdentMLWriter(str(path), close=True) as w:
        w.controlled_vocabularies()
        w.provenance(software=[{"name": "Comet", "id": 1, "version": "2022"}])
        for kind in ("SpectraData", "SearchDatabase", "SpectrumIdentificationList",
                     "SpectrumIdentificationProtocol"):  # fmt: skip
            w.register(kind, 1)
        with w.sequence_collection():
            for k, (_, hit) in enumerate(hits.values(), start=1):
                proteins = [p["protein"] for p in hit["proteins"]]
                w.write_db_sequence(proteins[0], hit["peptide"], id=k, search_database_id=1)
                mods = [{"location": m["position"], "name": "unknown modification",
                         "monoisotopic_mass_delta": m["mass"] - AA[hit["peptide"][m["position"] - 1]]}
                        for m in hit.get("modifications", [])]  # fmt: skip
                w.write_peptide(hit["peptide"], id=k, modifications=mods)
                w.write_peptide_evidence(k, k, k, 1, len(hit["peptide"]),
                                         is_decoy=all(p.startswith("DECOY_") for p in proteins))
        with w.analysis_collection():
            w.SpectrumIdentification([1], [1]).write(w)
        with w.analysis_protocol_collection():
            w.spectrum_identification_protocol(id=1, enzymes=[{"name": "trypsin", "id": 1}])
        with w.data_collection():
            w.inputs(spectra_data=[{"id": 1, "location": mzml_path.resolve().as_uri(), "file_format": "mzML format",
                                    "spectrum_id_format": "Thermo nativeID format"}],
                     search_databases=[{"id": 1, "location": "file:///db.fasta", "file_format": "fasta format",
                                        "name": "db"}])  # fmt: skip
            with w.analysis_data(), w.spectrum_identification_list(id=1):
                for k, (nid, (query, hit)) in enumerate(hits.items(), start=1):
                    expect = hit["search_score"]["expect"]
                    w.write_spectrum_identification_result(
                        spectrum_id=nid, id=k, spectra_data_id=1,
                        identifications=[{"experimental_mass_to_charge": 500.0, "id": k,
                                          "charge_state": query["assumed_charge"], "peptide_id": k,
                                          "peptide_evidence_id": k,
                                          "score": {"MS-GF:QValue": min(expect, 1.0)}}])  # fmt: skip
    return path


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_mzid_labels_written_with_psims(tmp_path: Path, name: str) -> None:
    mzml_path, pepxml_path = pair(name)
    expected = independent_join(mzml_path, pepxml_path)
    path = write_mzid(tmp_path / f"{mzml_path.stem}.mzid", mzml_path, expected["hits"])
    labels = read_labels([path])
    _, found = trmseq_join(mzml_path, labels)
    assert_same_labels(found, expected["kept"])
    summary = labels.summary()
    assert (summary["read"], summary["joined"]) == (expected["read"], expected["joined"])
    assert summary["skipped"].get("decoy", 0) == expected["decoy"]
    assert summary["skipped"].get("q-value above 0.01", 0) == expected["over"]
    result = run("inspect", mzml_path, "--labels", path)
    assert result.exit_code == 0, result.output
    assert f"{len(expected['kept'])} kept" in result.stdout and "kept if q-value <= 0.01" in result.stdout


# -- trmseq's own mzTab as labels: predict, then evaluate against it ----------------------------------


@pytest.mark.slow
def test_trmseq_mztab_round_trips_as_labels(tmp_path: Path, casanovo_sample: Path) -> None:
    out = tmp_path / "p.mztab"
    result = run("predict", casanovo_sample, "-o", out, "--threads", 1)
    assert result.exit_code == 0, result.output
    rows = mztab.MzTab(str(out)).spectrum_match_table
    rows = rows[rows["opt_global_rank"] == 1]
    # With a calibrated model the file has q-values: a row without one is no label.
    q = rows["opt_global_q_value"] if "opt_global_q_value" in rows.columns else None
    eligible = rows[q.notna()] if q is not None and q.notna().any() else rows
    fitting = 0
    for _, row in eligible.iterrows():
        peptide_mass = proforma.ProForma.parse(row["opt_global_cv_MS:1003169_proforma_peptidoform_sequence"]).mass
        fitting += fits(peptide_mass, row["exp_mass_to_charge"], int(row["charge"]))
    assert fitting > 0
    # every prediction, however unsure, is a label here: --max-q 1
    result = run("evaluate", casanovo_sample, "--labels", out, "--predictions", out, "--max-q", 1)
    assert result.exit_code == 0, result.output
    assert re.search(rf"^spectra evaluated\s+{fitting} \(read 10, skipped {10 - fitting}\)", result.stdout, re.M)
    assert re.search(r"^peptide recall\s+1\.0000$", result.stdout, re.M)
    assert re.search(r"^AA precision\s+1\.0000$", result.stdout, re.M)
    assert (f"labels: {len(rows)} identifications read from 1 file; {len(eligible)} joined to spectra, "
            f"{fitting} kept") in result.stderr  # fmt: skip


# -- evaluate and fine-tune from the command line -------------------------------------------------------


@pytest.mark.slow
def test_evaluate_with_labels_on_the_default_model() -> None:
    mzml_path, pepxml_path = pair("ms2ml")
    expected = independent_join(mzml_path, pepxml_path)
    n = expected["n_spectra"]
    kept = len(expected["kept"])
    result = run("evaluate", mzml_path, "--labels", pepxml_path, "--threads", 1)
    assert result.exit_code == 0, result.output
    assert re.search(rf"^spectra evaluated\s+{kept} \(read {n}, skipped {n - kept}\)", result.stdout, re.M)
    assert "labels:" not in result.stdout  # the summary goes to stderr; stdout holds the metrics
    assert f"skipped {n - kept}: {NO_LABEL}" in result.stderr


def test_evaluate_with_labels_that_join_nothing_is_one_line(tmp_path: Path) -> None:
    (mzml_path, _), (_, other) = pair("elfragmentador"), pair("ms2ml")
    result = run("evaluate", mzml_path, "--labels", other, "--predictions", tmp_path / "none.mztab")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in result.output
    assert "names run 'sample_tiny_hela', which matches no input file" in lines[0] or "no such" in lines[0]


def test_fine_tune_on_labelled_real_spectra_and_resume(tmp_path: Path) -> None:
    mzml_path, pepxml_path = pair("ms2ml")
    config = tiny_config(max_steps=2, val_every=2, checkpoint_every=2)
    kept = independent_join(mzml_path, pepxml_path)["kept"]
    short = sum(len(residues) <= config.model.max_tokens for residues, _ in kept.values())
    assert 0 < short < len(kept)  # the tiny model's 11 tokens drop some: counted, not lost
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(tc.to_dict(config)))
    out = tmp_path / "run"
    result = run("train", "--config", cfg, "-o", out, "--train", mzml_path, "--val", mzml_path,
                 "--labels", pepxml_path, "--threads", 1, "--device", "cpu")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"training spectra: {short} usable of 23 read" in result.stderr
    # validation reads the same file: the same labels again, counted once
    assert f"23 identifications read from 1 file; {len(kept)} joined to spectra, {short} kept" in result.stderr
    assert f"skipped {len(kept) - short}: peptide longer than {config.model.max_tokens} tokens" in result.stderr
    more = run("train", "-o", out, "--resume", "--max-steps", 3, "--threads", 1)
    assert more.exit_code == 0, more.output
    assert f"training spectra: {short} usable of 23 read" in more.stderr
    assert str(pepxml_path) in more.stderr  # the labels were read again from the same file
    refused = run("train", "-o", out, "--resume", "--labels", pepxml_path)
    assert refused.exit_code == 1 and "--resume continues" in refused.stderr


@pytest.mark.slow
def test_calibrate_on_search_results(tmp_path: Path) -> None:
    """A lab calibrates on its own runs with their pepXML as labels."""
    from typer.testing import CliRunner

    from trmseq.cli import app

    pairs = [RAW / "ms2ml" / "sample_tiny_hela",
             RAW / "elfragmentador" / "01625b_GA1-TUM_first_pool_1_01_01-2xIT_2xHCD-1h-R1"]  # fmt: skip
    if not all(p.with_suffix(".mzML").is_file() for p in pairs):
        pytest.skip("real data not found")
    args = ["calibrate", *(str(p.with_suffix(".mzML")) for p in pairs)]
    for p in pairs:
        args += ["--labels", str(p.with_suffix(".pep.xml"))]
    result = CliRunner().invoke(app, [*args, "--synthetic", "100", "-o", str(tmp_path / "lab.ckpt"), "--threads", "1"])
    assert result.exit_code == 0, result.output
    # 9 + 39 labelled spectra (the counts test_pepxml_pairs checks against pyteomics), 100 synthetic
    assert "fitted on 48 annotated spectra" in result.output and "and 100 synthetic" in result.output
