"""Shared fixtures: paths to real data, and tiny MGF / mzML / mzXML files from known peptides.

``pyteomics_ref.py`` gives the expected masses and ``spectrum_files.py`` writes the XML files;
pytest puts this folder on ``sys.path``, so tests import them by name.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from spectrum_files import write_tiny_mzml, write_tiny_mzxml

settings.register_profile(
    "trmseq",
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("trmseq")

TESTS = Path(__file__).resolve().parent
TEST_DATA = TESTS / "data"
CASANOVO_SAMPLE = TEST_DATA / "casanovo_sample_10.mgf"


@pytest.fixture
def casanovo_sample() -> Path:
    """The first 10 spectra of Casanovo's sample MGF (tests/data, Apache-2.0)."""
    return CASANOVO_SAMPLE


@pytest.fixture
def write_text(tmp_path: Path):
    """Write a (dedented) text file under tmp_path and return its path."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def tiny_mzml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path to the mzML written by :func:`write_tiny_mzml` (built once per session)."""
    return write_tiny_mzml(tmp_path_factory.mktemp("mzml") / "tiny.mzML")


@pytest.fixture
def tiny_mzxml(tmp_path: Path) -> Path:
    """Path to the mzXML written by :func:`write_tiny_mzxml`."""
    return write_tiny_mzxml(tmp_path / "tiny.mzXML")
