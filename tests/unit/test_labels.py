"""Labels from search-engine results: the four readers, the threshold, and the join to spectra.

Expected peptides and counts are written by hand from the fixtures (or computed with
pyteomics), never taken from trmseq's output.
"""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import numpy as np
import pytest
from pyteomics import mass

import pyteomics_ref as ref
from trmseq.config import DataConfig
from trmseq.errors import InputError
from trmseq.labels import Labels, read_label_file, read_labels
from trmseq.labels.identification import (
    Identification,
    LabelFile,
    protein_flags,
    q_values_from_probabilities,
    ref_keys,
    run_name,
    scan_key,
    spectrum_keys,
)
from trmseq.reading import NO_LABEL, usable_spectra
from trmseq.spectrum import SkipCounter, Spectrum
from trmseq.vocab import Vocabulary

VOCAB = Vocabulary()
H = mass.calculate_mass(formula="H")
OH = mass.calculate_mass(formula="OH")
AA = mass.std_aa_mass

# -- naming spectra and runs -----------------------------------------------------------------------


def test_spectrum_references_become_join_keys() -> None:
    assert ref_keys("index=7") == [("index", "7")]
    assert ref_keys("scan=0012") == [("scan", "12")]
    native = "controllerType=0 controllerNumber=1 scan=2561"
    assert ref_keys(native) == [("native", native), ("scan", "2561")]
    assert ref_keys("merged=11 frame=12") == [("native", "merged=11 frame=12")]
    for text in ("12", "12.0", "scan=12", "ms_run[3]:scan=12", " 12 "):
        assert scan_key(text) == ("scan", "12"), text
    assert scan_key("null") is None and scan_key("") is None
    assert scan_key("12-14") == ("scan", "12-14")


def test_an_msconvert_title_gives_its_native_id() -> None:
    title = 'run.2561.2561.3 File:"run.raw", NativeID:"controllerType=0 controllerNumber=1 scan=2561"'
    s = Spectrum(np.zeros(0), np.zeros(0, np.float32), 500.0, 2, "run.mgf", 4, "index=4",
                 scan=None, title=title)  # fmt: skip
    keys = spectrum_keys(s)
    assert keys[0] == ("index", "4")
    assert ("native", "controllerType=0 controllerNumber=1 scan=2561") in keys
    assert ("scan", "2561") in keys
    assert ("title", "run.2561.2561.3") in keys and ("title", title) in keys


@pytest.mark.parametrize(
    ("location", "name"),
    [("/data/run1.mzML", "run1"), ("file:///C:/data/My%20Run.raw", "My Run"), (r"C:\data\a.b.mgf", "a.b"),
     ("/data/01625b_GA1-R1", "01625b_GA1-R1"), ("run.mzXML", "run"), ("plain", "plain"),
     ("/data/run.mzXML.gz", "run"), ("run.MGF.GZ", "run")],
)  # fmt: skip
def test_run_names(location: str, name: str) -> None:
    assert run_name(location) == name


def test_decoys_and_contaminants_by_protein() -> None:
    assert protein_flags(["DECOY_sp|P1|X", "rev_sp|P2|Y"]) == (True, False)
    assert protein_flags(["DECOY_sp|P1|X", "sp|P2|Y"]) == (False, False)  # shared with a target
    assert protein_flags(["CON__P02768", "contam_sp|P00761|TRYP_PIG"]) == (False, True)
    assert protein_flags(["CON__P02768", "sp|P2|Y"]) == (False, False)
    assert protein_flags(["CON__P02768", "REV__P1"]) == (False, True)
    assert protein_flags([]) == (False, False)


def test_q_values_from_probabilities_match_brute_force() -> None:
    rng = np.random.default_rng(0)
    probabilities = [float(p) for p in rng.choice([0.2, 0.5, 0.9, 0.95, 0.99, 1.0], size=40)]
    q = q_values_from_probabilities(probabilities)
    for i, p in enumerate(probabilities):
        fdrs = []
        for t in set(probabilities):
            if t <= p:
                accepted = [x for x in probabilities if x >= t]
                fdrs.append(sum(1 - x for x in accepted) / len(accepted))
        assert q[i] == pytest.approx(min(fdrs)), (i, p)


# -- pepXML ------------------------------------------------------------------------------------------

PEPXML_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<msms_pipeline_analysis xmlns="http://regis-web.systemsbiology.net/pepXML">
<msms_run_summary base_name="/data/runA" raw_data=".mzML">
"""
PEPXML_TAIL = "</msms_run_summary>\n</msms_pipeline_analysis>\n"


def query(n: int, hit: str | None, charge: int = 2) -> str:
    result = f"<search_result>{hit}</search_result>" if hit else "<search_result/>"
    return (f'<spectrum_query spectrum="runA.{n:05d}.{n:05d}.{charge}" start_scan="{n}" end_scan="{n}" '
            f'spectrumNativeID="controllerType=0 controllerNumber=1 scan={n}" assumed_charge="{charge}" '
            f'precursor_neutral_mass="1000.0" index="{n}">{result}</spectrum_query>\n')  # fmt: skip


EXPECT = '<search_score name="expect" value="1e-5"/>'


def hit(peptide: str, protein: str = "sp|P1|A", mods: str = "", scores: str = EXPECT,
        alternatives: tuple[str, ...] = (), rank: int = 1) -> str:  # fmt: skip
    alt = "".join(f'<alternative_protein protein="{p}"/>' for p in alternatives)
    info = f"<modification_info {mods.split('|')[0]}>{mods.split('|')[1]}</modification_info>" if mods else ""
    return (f'<search_hit hit_rank="{rank}" peptide="{peptide}" protein="{protein}" num_tot_proteins="1" '
            f'calc_neutral_pep_mass="1000.0" massdiff="0.0">{alt}{info}{scores}</search_hit>')  # fmt: skip


def aa_mod(position: int, residue_mass: float) -> str:
    return f'<mod_aminoacid_mass position="{position}" mass="{residue_mass:.6f}"/>'


def write_pepxml(path: Path, queries: list[str]) -> Path:
    path.write_text(PEPXML_HEAD + "".join(queries) + PEPXML_TAIL)
    return path


def test_pepxml_peptides_modifications_and_filters(tmp_path: Path) -> None:
    cam = AA["C"] + 57.021464
    queries = [
        # acetyl N-terminus (pepXML: H + delta) and oxidised M (full residue mass)
        query(1, hit("PEPTMK", mods=f'mod_nterm_mass="{H + 42.010565:.6f}"|{aa_mod(5, AA["M"] + 15.994915)}')),
        query(2, hit("QPEPK", mods=f"|{aa_mod(1, AA['Q'] - 17.026549)}")),  # pyro-glu as on Q
        query(3, hit("PEPSK", mods=f"|{aa_mod(4, AA['S'] + 79.966331)}")),  # phospho: not in vocab
        query(4, hit("PEPCK")),  # unmodified C: the vocabulary has only C+57.021
        query(5, hit("PEPCK", mods=f"|{aa_mod(4, cam)}")),
        query(6, hit("LLLK", protein="DECOY_sp|P9|Z", alternatives=("DECOY_sp|P8|Y",))),
        query(7, hit("IIIK", protein="DECOY_sp|P9|Z", alternatives=("sp|P7|T",))),  # shared: target
        query(8, hit("AAAK", protein="CON__P02768")),
        query(9, hit("GGGK", scores='<search_score name="expect" value="0.5"/>')),
        query(10, None),  # searched, no hit: not an identification
        query(11, hit("PEPK", mods=f'mod_cterm_mass="{OH + 0.984016:.6f}"|')),
        query(12, hit("WWK", rank=2) + hit("PEPTIDEK", rank=1), charge=3),
    ]
    f = read_label_file(write_pepxml(tmp_path / "runA.pep.xml", queries))
    assert f.score == "expect"
    ids = {i.keys[1][1]: i for i in f.identifications}  # by scan number
    assert sorted(ids, key=int) == [str(n) for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12)]
    one = ids["1"]
    assert one.run == "runA" and one.charge == 2 and one.expect == 1e-5
    assert one.keys == (("native", "controllerType=0 controllerNumber=1 scan=1"), ("scan", "1"),
                        ("title", "runA.00001.00001.2"))  # fmt: skip
    assert one.tokens(VOCAB) == ("+42.011", "P", "E", "P", "T", "M+15.995", "K")
    assert ids["2"].tokens(VOCAB) == ("-17.027", "Q", "P", "E", "P", "K")
    assert ids["3"].tokens(VOCAB) == "modification S+79.966 is not in the vocabulary"
    assert ids["4"].tokens(VOCAB) == "C without its fixed modification C+57.021"
    assert ids["5"].tokens(VOCAB) == ("P", "E", "P", "C+57.021", "K")
    assert (ids["6"].decoy, ids["7"].decoy, ids["8"].contaminant) == (True, False, True)
    assert ids["11"].tokens(VOCAB) == "C-terminal modification +0.984 is not in the vocabulary"
    assert ids["12"].tokens(VOCAB) == tuple("PEPTLDEK") and ids["12"].charge == 3

    labels = Labels([f])
    assert labels.read == 11
    assert labels.skipped == {"decoy": 1, "contaminant": 1, "expect above 0.01": 1}
    strict = Labels([f], max_expect=1e-6)
    assert strict.skipped["expect above 1e-06"] == 9


def test_pepxml_q_values_beat_expect_and_prophet_probabilities_become_q_values(tmp_path: Path) -> None:
    def scores(q: float) -> str:
        return f'<search_score name="expect" value="0.5"/><search_score name="percolator_qvalue" value="{q}"/>'

    f = read_label_file(write_pepxml(tmp_path / "perc.pep.xml",
                                     [query(1, hit("PEPK", scores=scores(0.001))),
                                      query(2, hit("PEPR", scores=scores(0.2)))]))  # fmt: skip
    assert f.score == "q-value"
    assert Labels([f]).skipped == {"q-value above 0.01": 1}
    assert Labels([f], max_q=0.5).skipped == {}

    def prophet(p: float) -> str:
        return (f'<analysis_result analysis="peptideprophet"><peptideprophet_result probability="{p}"/>'
                f'</analysis_result>')  # fmt: skip

    probabilities = [1.0, 0.999, 0.99, 0.9, 0.5]
    f = read_label_file(write_pepxml(tmp_path / "pp.pep.xml", [
        query(n, hit("PEPK", scores='<search_score name="expect" value="0.5"/>' + prophet(p)))
        for n, p in enumerate(probabilities, start=1)]))  # fmt: skip
    assert (f.score, f.note) == ("q-value", "from PeptideProphet probabilities")
    # q at p = 0.99: mean(1 - p) over {1.0, 0.999, 0.99} = 0.011/3; at 0.9: 0.111/4
    q = [i.q_value for i in f.identifications]
    assert q == pytest.approx([0.0, 0.0005, 0.011 / 3, 0.111 / 4, 0.611 / 5])
    assert Labels([f]).skipped == {"q-value above 0.01": 2}


# -- mzIdentML (written with psims) ------------------------------------------------------------------


def write_mzid(path: Path, results: list[dict], location: str = "file:///data/runB.mgf") -> Path:
    from psims.mzid import MzIdentMLWriter

    peptides = {r["id"]: r for r in results}
    with MzIdentMLWriter(str(path), close=True) as w:
        w.controlled_vocabularies()
        w.provenance(software=[{"name": "MS-GF+", "id": 1, "version": "1"}])
        for kind in ("SpectraData", "SearchDatabase", "SpectrumIdentificationList",
                     "SpectrumIdentificationProtocol"):  # fmt: skip
            w.register(kind, 1)
        with w.sequence_collection():
            for k, r in peptides.items():
                w.write_db_sequence(r["protein"], "M" * 40, id=k, search_database_id=1)
                w.write_peptide(r["peptide"], id=k, modifications=r.get("mods", []))
                w.write_peptide_evidence(k, k, k, 1, 10, is_decoy=r.get("decoy", False))
        with w.analysis_collection():
            w.SpectrumIdentification([1], [1]).write(w)
        with w.analysis_protocol_collection():
            w.spectrum_identification_protocol(id=1, enzymes=[{"name": "trypsin", "id": 1}])
        with w.data_collection():
            w.inputs(spectra_data=[{"id": 1, "location": location, "file_format": "Mascot MGF format",
                                    "spectrum_id_format": "multiple peak list nativeID format"}],
                     search_databases=[{"id": 1, "location": "file:///db.fasta",
                                        "file_format": "fasta format", "name": "db"}])  # fmt: skip
            with w.analysis_data(), w.spectrum_identification_list(id=1):
                for k, r in peptides.items():
                    w.write_spectrum_identification_result(
                        spectrum_id=r["spectrum_id"], id=k, spectra_data_id=1,
                        identifications=[{"experimental_mass_to_charge": 500.0, "charge_state": r["charge"],
                                          "peptide_id": k, "peptide_evidence_id": k, "id": k,
                                          "score": {"MS-GF:QValue": r["q"]},
                                          "params": [{"name": "MS-GF:PepQValue", "value": 0.5}]}],
                        params=r.get("params", []))  # fmt: skip
    return path


def test_mzid_reader(tmp_path: Path) -> None:
    results = [
        {"id": 1, "spectrum_id": "index=0", "peptide": "PEPTMK", "protein": "sp|P1|A", "charge": 2, "q": 0.001,
         "mods": [{"location": 0, "monoisotopic_mass_delta": 42.010565, "name": "Acetyl"},
                  {"location": 5, "monoisotopic_mass_delta": 15.994915, "residues": ["M"], "name": "Oxidation"}]},
        {"id": 2, "spectrum_id": "index=1", "peptide": "PEPCK", "protein": "DECOY_P1", "charge": 3, "q": 0.0,
         "decoy": True, "mods": [{"location": 4, "monoisotopic_mass_delta": 57.021464, "name": "Carbamidomethyl"}]},
        {"id": 3, "spectrum_id": "controllerType=0 controllerNumber=1 scan=17", "peptide": "LESLIEK",
         "protein": "sp|P3|C", "charge": 2, "q": 0.03, "params": [{"name": "spectrum title", "value": "t17"}]},
    ]  # fmt: skip
    f = read_label_file(write_mzid(tmp_path / "b.mzid", results))
    assert f.score == "q-value"  # MS-GF:QValue, not the peptide-level PepQValue
    first, decoy, third = f.identifications
    assert (first.run, first.keys, first.charge, first.q_value) == ("runB", (("index", "0"),), 2, 0.001)
    assert first.tokens(VOCAB) == ("+42.011", "P", "E", "P", "T", "M+15.995", "K")
    assert decoy.decoy and decoy.tokens(VOCAB) == ("P", "E", "P", "C+57.021", "K")
    assert third.keys == (("native", "controllerType=0 controllerNumber=1 scan=17"), ("scan", "17"), ("title", "t17"))
    assert third.q_value == 0.03
    assert Labels([f]).skipped == {"decoy": 1, "q-value above 0.01": 1}


# -- mzTab and TSV -----------------------------------------------------------------------------------


def mztab_text(rows: list[list[str]], extra_columns: tuple[str, ...] = ()) -> str:
    header = ["sequence", "PSM_ID", "accession", "search_engine_score[1]", "modifications", "charge",
              "spectra_ref", *extra_columns]  # fmt: skip
    lines = [
        "MTD\tmzTab-version\t1.0.0",
        "MTD\tms_run[1]-location\tfile:///data/runC.mzML",
        "MTD\tms_run[2]-location\tfile:///data/runD.mgf",
        "MTD\tpsm_search_engine_score[1]\t[MS, MS:1002354, PSM-level q-value, ]",
        "",
        "PSH\t" + "\t".join(header),
        *("PSM\t" + "\t".join(r) for r in rows),
    ]
    return "\n".join(lines) + "\n"


def test_mztab_reader(tmp_path: Path) -> None:
    native = "ms_run[1]:controllerType=0 controllerNumber=1 scan=5"
    rows = [
        ["PEPTMK", "1", "sp|P1|A", "0.001", "0-UNIMOD:1,5-UNIMOD:35", "2", native],
        ["PEPTMK", "1", "sp|P2|B", "0.001", "0-UNIMOD:1,5-UNIMOD:35", "2", native],
        ["PEPCK", "2", "sp|P1|A", "0.002", "4-CHEMMOD:+57.021464", "2", "ms_run[2]:index=3"],
        ["PEPCK", "3", "sp|P1|A", "0.002", "null", "2", "ms_run[2]:index=4"],
        ["PEPSK", "4", "sp|P1|A", "0.002", "4-UNIMOD:21", "2", "ms_run[2]:index=5"],
        ["PEPSK", "5", "sp|P1|A", "0.002", "3|4-UNIMOD:21", "2", "ms_run[2]:index=6"],
        ["PEPK", "6", "DECOY_P1", "0.0", "null", "2", "ms_run[2]:index=7"],
        ["PEPR", "7", "sp|P1|A", "0.5", "null", "3", "ms_run[2]:index=8"],
    ]  # fmt: skip
    path = tmp_path / "c.mzTab"
    path.write_text(mztab_text(rows))
    f = read_label_file(path)
    assert f.score == "q-value"
    ids = f.identifications
    assert len(ids) == 7  # PSM 1 is listed for two proteins
    assert (ids[0].run, ids[0].keys[0]) == ("runC", ("native", "controllerType=0 controllerNumber=1 scan=5"))
    assert ids[0].tokens(VOCAB) == ("+42.011", "P", "E", "P", "T", "M+15.995", "K")
    assert (ids[1].run, ids[1].keys) == ("runD", (("index", "3"),))
    assert ids[1].tokens(VOCAB) == ("P", "E", "P", "C+57.021", "K")
    assert ids[2].tokens(VOCAB) == "C without its fixed modification C+57.021"
    assert ids[3].tokens(VOCAB) == "modification S+79.966 is not in the vocabulary"
    assert ids[4].tokens(VOCAB) == "cannot read modification '3|4-UNIMOD:21'"
    assert ids[5].decoy and ids[6].charge == 3
    assert Labels([f]).skipped == {"decoy": 1, "q-value above 0.01": 1}


def test_trmseq_mztab_and_tsv_round_trip(tmp_path: Path) -> None:
    """A trmseq results file, used as labels, gives back the peptides that were written."""
    from trmseq.io.mztab import write_mztab, write_tsv
    from trmseq.psm import PSM

    run = tmp_path / "r.mgf"
    peptides = [("+42.011", "P", "E", "M+15.995", "C+57.021", "K"), ("-17.027", "Q", "N+0.984", "K"),
                ("+43.006-17.027", "Q", "L", "R"), ("P", "E", "P", "T", "L", "D", "E", "K")]  # fmt: skip
    psms = []
    for i, peptide in enumerate(peptides):
        s = Spectrum(np.zeros(1), np.ones(1, np.float32), 500.0, 2, str(run), i, f"index={i}",
                     scan=str(100 + i), title=f"spec{i}")  # fmt: skip
        psms.append(PSM(s, peptide, 0.9, (0.9,) * len(peptide), True, 1.0, 0, 500.0, 3))
    with open(tmp_path / "r.mztab", "w") as handle:
        write_mztab(handle, psms, VOCAB, [run])
    with open(tmp_path / "r.tsv", "w") as handle:
        write_tsv(handle, psms, VOCAB, [run])
    for name in ("r.mztab", "r.tsv"):
        f = read_label_file(tmp_path / name)
        assert [i.tokens(VOCAB) for i in f.identifications] == peptides, name
        assert [i.run for i in f.identifications] == ["r"] * 4
        assert [i.keys[:2] for i in f.identifications] == [
            (("index", str(i)), ("scan", str(100 + i))) for i in range(4)]  # fmt: skip
        assert Labels([f]).skipped == {}


def test_tsv_reader(tmp_path: Path) -> None:
    path = tmp_path / "ids.tsv"
    path.write_text("title\tscan\tSequence\tq_value\tprotein\tfile\n"
                    "t1\t\tPEPTM[Oxidation]K\t0.001\tsp|P1|A\t\n"
                    "\t7\tPEPTM+15.995K\t0.02\trev_P1;DECOY_P2\tother.mzML\n"
                    "t3\t\tC+57.021PEPK\tNaN\t\t\n")  # fmt: skip
    f = read_label_file(path)
    a, b, c = f.identifications
    assert (a.run, a.keys, a.q_value) == (None, (("title", "t1"),), 0.001)
    assert (b.run, b.keys, b.decoy) == ("other", (("scan", "7"),), True)
    assert a.tokens(VOCAB) == b.tokens(VOCAB) == ("P", "E", "P", "T", "M+15.995", "K")
    assert c.q_value is None and c.tokens(VOCAB) == ("C+57.021", "P", "E", "P", "K")
    assert Labels([f]).skipped == {"decoy": 1, "no q-value": 1}


def test_a_psm_on_several_proteins_is_a_decoy_only_if_every_protein_is(tmp_path: Path) -> None:
    rows = [["PEPK", "1", "DECOY_P1", "0.001", "null", "2", "ms_run[2]:index=1"],
            ["PEPK", "1", "sp|P1|A", "0.001", "null", "2", "ms_run[2]:index=1"],
            ["PEPR", "2", "DECOY_P2", "0.001", "null", "2", "ms_run[2]:index=2"],
            ["PEPR", "2", "REV_P3", "0.001", "null", "2", "ms_run[2]:index=2"]]  # fmt: skip
    for order in (rows, [rows[1], rows[0], rows[3], rows[2]]):
        path = tmp_path / "m.mzTab"
        path.write_text(mztab_text(order))
        ids = read_label_file(path).identifications
        assert [(i.keys, i.decoy) for i in ids] == [((("index", "1"),), False), ((("index", "2"),), True)]


def test_an_mztab_decoy_flag_counts_over_all_rows_of_a_psm(tmp_path: Path) -> None:
    rows = [["PEPK", "1", "DECOY_P9", "0.001", "null", "2", "ms_run[2]:index=1", "1"],
            ["PEPK", "1", "sp|P1|A", "0.001", "null", "2", "ms_run[2]:index=1", "0"]]  # fmt: skip
    for order in (rows, rows[::-1]):
        path = tmp_path / "f.mzTab"
        path.write_text(mztab_text(order, ("opt_global_cv_MS:1002217_decoy_peptide",)))
        assert [i.decoy for i in read_label_file(path).identifications] == [False]


def test_mokapot_labels_say_target(tmp_path: Path) -> None:
    path = tmp_path / "mokapot.psms.tsv"
    path.write_text("SpecId\tLabel\tScanNr\tmokapot q-value\tPeptide\tProteins\n"
                    "a\tTrue\t12\t0.001\tK.PEPTIDE.R\tsp|P1|A\n"
                    "b\tFalse\t13\t0.2\tK.PEPTIDR.R\tsp|P2|B\n")  # fmt: skip
    f = read_label_file(path)
    a, b = f.identifications
    assert f.score == "q-value" and (a.decoy, b.decoy) == (False, True)
    assert ("scan", "12") in a.keys and a.tokens(VOCAB) == ("P", "E", "P", "T", "L", "D", "E")
    path.write_text("SpecId\tLabel\tScanNr\tPeptide\na\tmaybe\t12\tPEPK\n")
    with pytest.raises(InputError, match="Label 'maybe' is neither a target"):
        read_label_file(path)


def test_a_spreadsheets_table_reads_or_says_why_not(tmp_path: Path) -> None:
    quoted = tmp_path / "q.tsv"
    quoted.write_text('"title"\t"sequence"\t"charge"\n"t1"\t"PEPK"\t"2+"\n')
    (ident,) = read_label_file(quoted).identifications
    assert (ident.keys, ident.charge, ident.tokens(VOCAB)) == ((("title", "t1"),), 2, ("P", "E", "P", "K"))
    comma = tmp_path / "c.tsv"
    comma.write_text("title,sequence\nt1,PEPK\n")
    with pytest.raises(InputError, match="not tab-separated"):
        read_label_file(comma)


def test_label_files_given_twice_are_read_once(tmp_path: Path) -> None:
    path = tmp_path / "l.tsv"
    path.write_text("title\tsequence\nt1\tPEPK\n")
    assert read_labels([path, tmp_path / "." / "l.tsv"]).summary()["read"] == 1


def test_a_nan_q_value_in_xml_is_no_q_value() -> None:
    from trmseq.labels.identification import is_q_value_name
    from trmseq.labels.xml import _first_score

    assert _first_score({"MS-GF:QValue": "NaN"}, is_q_value_name) is None


def test_an_unknown_mztab_location_joins_any_run(tmp_path: Path) -> None:
    path = tmp_path / "n.mzTab"
    path.write_text(mztab_text([["PEPK", "1", "sp|P1|A", "0.001", "null", "2", "ms_run[1]:index=0"]])
                    .replace("file:///data/runC.mzML", "null"))  # fmt: skip
    (ident,) = read_label_file(path).identifications
    assert ident.run is None and ident.keys == (("index", "0"),)


def test_a_windows_1252_table_is_read(tmp_path: Path) -> None:
    path = tmp_path / "excel.tsv"
    path.write_bytes("title\tsequence\ncafé 1\tPEPK\n".encode("cp1252"))
    (ident,) = read_label_file(path).identifications
    assert ident.keys == (("title", "café 1"),)


def test_decoy_columns_as_search_engines_write_them(tmp_path: Path) -> None:
    maxquant = tmp_path / "mq.tsv"  # MaxQuant's Reverse column: "+" for a decoy, empty for a target
    maxquant.write_text("title\tsequence\tReverse\nt1\tPEPK\t+\nt2\tPEPR\t\n")
    assert [i.decoy for i in read_label_file(maxquant).identifications] == [True, False]
    sage = tmp_path / "results.sage.tsv"  # Sage: scannr a nativeID, label -1 a decoy, spectrum_q
    native = "controllerType=0 controllerNumber=1 scan="
    sage.write_text("psm_id\tpeptide\tproteins\tfilename\tscannr\trank\tlabel\tcharge\tspectrum_q\n"
                    f"1\tPEPTM[+15.9949]K\tsp|P1|A\trun.mzML\t{native}7\t1\t1\t2\t0.004\n"
                    f"2\tPEPR\trev_sp|P1|A\trun.mzML\t{native}8\t1\t-1\t2\t0.5\n")  # fmt: skip
    f = read_label_file(sage)
    a, b = f.identifications
    assert f.score == "q-value" and (a.run, a.q_value, a.decoy, b.decoy) == ("run", 0.004, False, True)
    assert a.keys == (("native", "controllerType=0 controllerNumber=1 scan=7"), ("scan", "7"))
    assert a.tokens(VOCAB) == ("P", "E", "P", "T", "M+15.995", "K")


def test_a_tpp_title_gives_its_scan() -> None:
    def keys(title: str, scan: str | None = None) -> list:
        return spectrum_keys(Spectrum(np.zeros(1), np.ones(1, np.float32), 500.0, 2, "r.mgf", 0, "index=0",
                                      scan=scan, title=title))  # fmt: skip

    assert ("scan", "10181") in keys("HCT116_1.10181.10181")  # MaxQuant
    assert ("scan", "12") in keys("run.00012.00012.2")  # TPP, with the charge
    assert not [k for k in keys("run.12.13.2") if k[0] == "scan"]  # two scans summed: no one scan
    assert keys("run.12.12.2", scan="40").count(("scan", "12")) == 0  # SCANS= says otherwise


@pytest.mark.parametrize(
    ("name", "content", "named"),
    [
        ("a.tsv", "title\tsequence\tq_value\nt1\tPEPK\tlow\n", "line 2: q_value 'low' is not a number"),
        ("a2.tsv", "title\tsequence\tq_value\nt1\tPEPK\t5\n", "line 2: q-value 5 is outside 0-1; a percentage?"),
        ("a3.tsv", "title\tsequence\tdecoy\nt1\tPEPK\tmaybe\n", "line 2: decoy 'maybe' is neither a decoy"),
        ("b.tsv", "title\tsequence\nt1\tPEPK\textra\n", "line 2: 3 cells, but the header has 2"),
        ("c.tsv", "peptide_id\tscore\n", "no sequence column"),
        ("d.tsv", "sequence\tscore\nPEPK\t1\n", "no spectra_ref, scan or title column"),
        ("e.tsv", "", "empty"),
        ("f.tsv", "title\tsequence\n\tPEPK\n", "line 2: names no spectrum"),
        ("g.mztab", "MTD\tmzTab-version\t1.0.0\n", "no PSM section"),
        ("h.mztab", "PSM\tPEPK\n", "line 1: PSM line before the PSH header"),
        ("i.mztab", "MTD\tms_run[1]-location\tfile:///a.mgf\nPSH\tsequence\tspectra_ref\nPSM\tPEPK\tms_run[4]:index=0\n",
         "line 3: spectra_ref names ms_run[4], which the metadata does not define"),
        ("j.pep.xml", "<msms_pipeline_analysis><msms_run_summary><spectrum_query spectrum='x.1.1.2'",
         "malformed pepXML"),
        ("k.pep.xml", "<?xml version='1.0'?><mzML/>", "no spectrum_query elements"),
        ("l.pep.xml", PEPXML_HEAD + '<spectrum_query assumed_charge="2" index="1"/>' + PEPXML_TAIL,
         "spectrum_query 1: names no spectrum"),
        ("m.mzid", "<MzIdentML><DataCollection>", "malformed mzIdentML"),
        ("n.tsv", b"\xff\xfe\x00binary", "UTF-16 text"),
        ("n2.tsv", b"title\tsequence\n\x00\x01\x02", "not a text file (a NUL byte)"),
        ("o.csv", "title,sequence\n", "unknown labels file type"),
        ("o2.tsv.gz", b"\x1f\x8b", "gzip-compressed; decompress it first"),
        ("o3.tsv", gzip.compress(b"title\tsequence\n" * 50)[:30], "cannot read (Compressed file ended"),
        ("p.pep.xml", PEPXML_HEAD + query(1, hit("PEPMK", mods='|<mod_aminoacid_mass position="4" mass="heavy"/>'))
         + PEPXML_TAIL, "spectrum_query 1 (runA.00001.00001.2): could not convert string to float: 'heavy'"),
    ],
)  # fmt: skip
def test_bad_label_files_name_the_file_and_record(tmp_path: Path, name: str, content: str | bytes, named: str) -> None:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(InputError) as e:
        read_labels([path])
    message = str(e.value)
    assert str(path) in message and named in message
    assert "\n" not in message


def test_missing_label_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such labels file"):
        read_labels([tmp_path / "gone.pep.xml"])
    with pytest.raises(InputError, match="is a folder"):
        (tmp_path / "dir.mzid").mkdir()
        read_labels([tmp_path / "dir.mzid"])


# -- the join ----------------------------------------------------------------------------------------

PEAKS = "\n".join(f"{100.0 + 10 * i:.1f} {1.0 + i}" for i in range(25))
GOOD = ("P", "E", "P", "T", "M+15.995", "L", "D", "E", "K")


def mgf_block(title: str, pepmass: float, charge: str | None = "2+", scans: str | None = None) -> str:
    lines = ["BEGIN IONS", f"TITLE={title}", f"PEPMASS={pepmass:.6f}"]
    lines += [f"CHARGE={charge}"] if charge else []
    lines += [f"SCANS={scans}"] if scans else []
    return "\n".join([*lines, PEAKS, "END IONS", ""])


def test_join_counts_every_label_and_spectrum(tmp_path: Path) -> None:
    mz = ref.precursor_mz(GOOD, 2)
    spectra = tmp_path / "runE.mgf"
    spectra.write_text("".join([
        mgf_block("s0", mz),                          # 0: labelled by index, kept
        mgf_block("s1", mz + ref.C13_DIFF / 2),       # 1: labelled by title, +1 isotope: kept
        mgf_block("s2", mz, charge=None),             # 2: no charge: takes the label's (2), kept
        mgf_block("s3", mz + 0.25),                   # 3: label 0.5 Da off the precursor
        mgf_block("s4", mz, scans="44"),              # 4: labelled by scan, phospho: not in vocab
        mgf_block("s5", mz),                          # 5: no label
        mgf_block("s6", ref.precursor_mz(GOOD, 5), charge="5+"),  # 6: labelled; charge above 4
        mgf_block("s7", mz),                          # 7: two labels (index and title)
    ]))  # fmt: skip
    table = tmp_path / "ids.tsv"
    table.write_text("\n".join([
        "spectra_ref\ttitle\tscan\tsequence\tcharge\tfile\tq_value",
        "ms_run[1]:index=0\t\t\tPEPTM+15.995LDEK\t2\t\t0.001",
        "\ts1\t\tPEPTM[Oxidation]IDEK\t2\t\t0.001",
        "index=2\t\t\tPEPTM+15.995LDEK\t2\trunE.mgf\t0.001",
        "index=3\t\t\tPEPTM+15.995LDEK\t2\t\t0.001",
        "\t\t44\tPEPS+79.966LDEK\t2\t\t0.001",
        "index=6\t\t\tPEPTM+15.995LDEK\t5\t\t0.001",
        "index=7\t\t\tPEPTM+15.995LDEK\t2\t\t0.001",
        "\ts7\t\tPEPTM+15.995LDEK\t2\t\t0.001",
        "index=9\t\t\tPEPTM+15.995LDEK\t2\t\t0.001",       # no such spectrum
        "index=0\t\t\tPEPTM+15.995LDEK\t2\tother.mzML\t0.001",  # another run
        "index=1\t\t\tPEPTM+15.995LDEK\t2\t\t0.5",          # over the threshold
    ]) + "\n")  # fmt: skip
    labels = read_labels([table])
    counter = SkipCounter()
    used = list(usable_spectra([spectra], DataConfig(), counter, VOCAB, labels))
    assert [s.title for s, _ in used] == ["s0", "s1", "s2", "s7"]
    assert all(p == GOOD for _, p in used)
    assert used[2][0].charge == 2
    assert counter.read == 8 and counter.counts == {
        "label mass off the precursor by more than 50 ppm": 1,
        "label: modification S+79.966 is not in the vocabulary": 1,
        NO_LABEL: 1, "charge above 4": 1}  # fmt: skip
    summary = labels.summary()
    assert (summary["read"], summary["joined"], summary["kept"]) == (11, 7, 4)
    assert summary["skipped"] == {
        "q-value above 0.01": 1,
        "label mass off the precursor by more than 50 ppm": 1,
        "modification S+79.966 is not in the vocabulary": 1,
        "its spectrum is skipped: charge above 4": 1,
        "another identification of the same spectrum came first": 1,
        "matches no spectrum in the input files": 1,
        "names run 'other', which matches no input file": 1,
    }
    assert summary["read"] == summary["kept"] + sum(summary["skipped"].values())
    assert summary["spectra_without_label"] == 1
    lines = labels.summary_lines()
    assert lines[0].startswith("labels: 11 identifications read from 1 file; 7 joined to spectra, 4 kept")
    assert "spectra without a label: 1" in lines[-1]
    # the same file read again (training and validation on one file): the same labels, counted once
    again = list(usable_spectra([spectra], DataConfig(), SkipCounter(), VOCAB, labels))
    assert [(s.title, p) for s, p in again] == [(s.title, p) for s, p in used]
    assert labels.summary() == summary


def test_labels_naming_a_run_join_only_that_run(tmp_path: Path) -> None:
    mz = ref.precursor_mz(GOOD, 2)
    for name in ("a.mgf", "b.mgf"):
        (tmp_path / name).write_text(mgf_block("s0", mz) + mgf_block("s1", mz))
    table = tmp_path / "ids.tsv"
    table.write_text("spectra_ref\tsequence\tfile\nindex=1\tPEPTMLDEK\tb.mgf\nindex=0\tPEPTM+15.995LDEK\t\n")
    labels = read_labels([table])
    counter = SkipCounter()
    used = list(usable_spectra([tmp_path / "a.mgf", tmp_path / "b.mgf"], DataConfig(), counter, VOCAB, labels))
    # the run-less label joins the first spectrum index=0 met (in a.mgf); b.mgf index=1 has its own
    assert [(Path(s.file).name, s.ref) for s, _ in used] == [("a.mgf", "index=0")]
    assert counter.counts == {NO_LABEL: 2, "label mass off the precursor by more than 50 ppm": 1}
    assert labels.kept == 1 and labels.n_unlabelled == 2


def test_without_labels_the_seq_path_is_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "x.mgf"
    path.write_text(mgf_block("s0", ref.precursor_mz(GOOD, 2)).replace("END IONS", "SEQ=PEPTM+15.995IDEK\nEND IONS"))
    counter = SkipCounter()
    assert [p for _, p in usable_spectra([path], DataConfig(), counter, VOCAB)] == [GOOD]
    with pytest.raises(ValueError):
        list(usable_spectra([path], DataConfig(), SkipCounter(), None, Labels([])))


def test_100k_labels_join_in_seconds() -> None:
    n = 100_000
    native = "controllerType=0 controllerNumber=1 scan={}"
    ids = tuple(Identification(where=f"t, line {i}", run="big", keys=(("native", native.format(i)), ("scan", str(i))),
                               peptide="PEPTIDEK", q_value=0.001) for i in range(n))  # fmt: skip
    start = time.perf_counter()
    labels = Labels([LabelFile("t.tsv", ids, "q-value")])
    found = 0
    for i in range(n):
        s = Spectrum(np.zeros(0), np.zeros(0, np.float32), 500.0, 2, "/x/big.mzML", i, native.format(i),
                     scan=str(i))  # fmt: skip
        found += labels.take(s) is not None
    elapsed = time.perf_counter() - start
    assert found == n and labels.joined == n
    assert elapsed < 10.0, elapsed  # about 1 s on one core
