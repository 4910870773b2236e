"""Tiny spectrum files built from known peptides: an mzML (psims) and an mzXML (by hand)."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np

import pyteomics_ref as ref

# -- mzML (psims, as in shared/FORMATS.md) -----------------------------------------------------

# (peptide, charge or None, retention time, its unit) of the MS2 scans 2, 3, 4; 1 and 5 are MS1.
MZML_MS2 = (
    ("PEPTIDE", 2, 62.0, "second"),
    ("LESLIEK", 3, 1.5, "minute"),
    ("SAMPLER", None, 64.0, "second"),
)


def _b_ladder(peptide: str) -> list[float]:
    return sorted(ref.fragment_ladder(peptide, "b", 1))


def write_tiny_mzml(path: Path) -> Path:
    """An XSD-valid mzML: MS1, three MS2 (one without a charge, one timed in minutes), MS1."""
    import psims
    from psims.mzml import MzMLWriter
    from pyteomics import mass

    with MzMLWriter(str(path)) as w:
        w.controlled_vocabularies()
        w.file_description(
            ["MS1 spectrum", "MSn spectrum", "centroid spectrum"],
            source_files=[
                w.SourceFile(
                    "file:///synthetic", "tiny.raw", id="RAW1",
                    params=["Thermo nativeID format", "Thermo RAW format"],
                )
            ],
        )  # fmt: skip
        w.software_list(
            [w.Software(id="psims_writer", version=psims.__version__, params=["python-psims"])]
        )
        w.instrument_configuration_list(
            [
                w.InstrumentConfiguration(
                    "IC1",
                    [
                        w.Source(1, ["electrospray ionization"]),
                        w.Analyzer(2, ["orbitrap"]),
                        w.Detector(3, ["inductive detector"]),
                    ],
                    ["Q Exactive"],
                )
            ]
        )
        w.data_processing_list(
            [
                w.DataProcessing(
                    [w.ProcessingMethod(1, "psims_writer", params=["Conversion to mzML"])],
                    id="DP1",
                )
            ]
        )
        with w.run(id="run1", instrument_configuration="IC1"):
            with w.spectrum_list(count=2 + len(MZML_MS2)):

                def ms1(scan: int, rt: float) -> None:
                    w.write_spectrum(
                        np.array([400.0, 500.0]), np.array([1e5, 2e5]),
                        id=f"controllerType=0 controllerNumber=1 scan={scan}", centroided=True,
                        scan_start_time={"name": "scan start time", "value": rt,
                                         "unit_name": "second"},
                        params=[{"ms level": 1}],
                    )  # fmt: skip

                ms1(1, 60.0)
                for scan, (pep, z, rt, unit) in enumerate(MZML_MS2, start=2):
                    prec = w.precursor_builder()
                    if z is None:
                        prec.selected_ion(mz=mass.fast_mass(pep, charge=2), intensity=1e4)
                    else:
                        prec.selected_ion(mz=mass.fast_mass(pep, charge=z), charge=z, intensity=1e4)
                    prec.activation(
                        {"params": ["beam-type collision-induced dissociation",
                                    {"collision energy": 30}]}
                    )  # fmt: skip
                    mzs = _b_ladder(pep)
                    w.write_spectrum(
                        np.array(mzs), np.arange(1.0, len(mzs) + 1.0) * 100.0,
                        id=f"controllerType=0 controllerNumber=1 scan={scan}", centroided=True,
                        scan_start_time={"name": "scan start time", "value": rt,
                                         "unit_name": unit},
                        params=[{"ms level": 2}, {"spectrum title": f"{pep}.{scan}"}],
                        precursor_information=prec,
                    )  # fmt: skip
                ms1(2 + len(MZML_MS2), 70.0)
    return path


# -- mzXML (hand-written, mzXML 3.2) ---------------------------------------------------------

def encode_peaks(mz: list[float], intensity: list[float], byte_order: str) -> str:
    """Base64 of interleaved (m/z, intensity) 32-bit floats, as mzXML stores them."""
    pairs = np.empty(2 * len(mz), dtype=np.float32)
    pairs[0::2], pairs[1::2] = mz, intensity
    dtype = ">f4" if byte_order == "network" else "<f4"
    return base64.b64encode(pairs.astype(dtype).tobytes()).decode("ascii")


# num -> (ms level, retentionTime, precursor m/z, charge, byte order, m/z, intensity)
MZXML_SCANS = {
    1: (1, "PT60S", None, None, "network", [400.0, 500.0], [1e5, 2e5]),
    2: (2, "PT62.5S", ref.precursor_mz("PEPTIDE", 2), 2, "network",
        _b_ladder("PEPTIDE"), [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]),
    3: (2, "PT75S", 500.25, None, "little", [150.5, 250.25, 350.125], [3.0, 2.0, 1.0]),
    4: (1, "PT80.25S", None, None, "network", [450.0], [1e5]),
    5: (2, "PT81S", ref.precursor_mz("LESLIEK", 3), 3, "little", _b_ladder("LESLIEK"),
        [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
}  # fmt: skip


def _mzxml_scan(num: int, nested: str = "") -> str:
    level, rt, prec, z, order, mz, inten = MZXML_SCANS[num]
    precursor = ""
    if prec is not None:
        charge = f' precursorCharge="{z}"' if z else ""
        precursor = (
            f'<precursorMz precursorIntensity="1000"{charge} activationMethod="HCD">'
            f"{prec:.6f}</precursorMz>"
        )
    return (
        f'<scan num="{num}" msLevel="{level}" peaksCount="{len(mz)}" polarity="+" '
        f'retentionTime="{rt}" lowMz="{min(mz)}" highMz="{max(mz)}" centroided="1">'
        f"{precursor}"
        f'<peaks precision="32" byteOrder="{order}" contentType="m/z-int" '
        f'compressionType="none" compressedLen="0">{encode_peaks(mz, inten, order)}</peaks>'
        f"{nested}</scan>\n"
    )


def write_tiny_mzxml(path: Path) -> Path:
    """mzXML 3.2: MS1 scan 1 holding MS2 scans 2 and 3, then MS1 scan 4 holding MS2 scan 5."""
    body = _mzxml_scan(1, _mzxml_scan(2) + _mzxml_scan(3)) + _mzxml_scan(4, _mzxml_scan(5))
    path.write_text(
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        '<mzXML xmlns="http://sashimi.sourceforge.net/schema_revision/mzXML_3.2" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://sashimi.sourceforge.net/schema_revision/mzXML_3.2 '
        'http://sashimi.sourceforge.net/schema_revision/mzXML_3.2/mzXML_idx_3.2.xsd">\n'
        '<msRun scanCount="5" startTime="PT60S" endTime="PT81S">\n'
        '<parentFile fileName="file:///synthetic/tiny.raw" fileType="RAWData" '
        'fileSha1="0000000000000000000000000000000000000000"/>\n'
        '<msInstrument><msManufacturer category="msManufacturer" value="Thermo Scientific"/>'
        '<msModel category="msModel" value="Q Exactive"/>'
        '<msIonisation category="msIonisation" value="ESI"/>'
        '<msMassAnalyzer category="msMassAnalyzer" value="orbitrap"/>'
        '<msDetector category="msDetector" value="unknown"/></msInstrument>\n'
        '<dataProcessing centroided="1"><software type="conversion" name="hand" version="1"/>'
        "</dataProcessing>\n"
        f"{body}</msRun>\n</mzXML>\n",
        encoding="ISO-8859-1",
    )
    return path
