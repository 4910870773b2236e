"""Compare synthetic spectra (each preset) with real annotated spectra: peak statistics.

Run by hand; prints markdown tables (docs/synthetic.md quotes them)::

    python benchmarks/synthetic_vs_real.py --n-synthetic 1000 --seed 0 --by-charge --breakdown \
        --plot docs/img/synthetic_vs_real.png

For every spectrum with a known peptide it computes, on the peaks as read (``raw``) and after
``trmseq.spectrum.preprocess`` with the default DataConfig (``prep``):

- ``peaks``: number of peaks;
- ``by%``: share of peaks within the tolerance of a b or y ion at fragment charge 1..max(1, z-1);
- ``all%``: the same with a ions, H2O/NH3 losses, +1/+2 13C isotope peaks of every fragment,
  immonium ions and the precursor (charges 1..z, with H2O/NH3 loss) added;
- ``int_by%``, ``int_all%``: share of total intensity in those peaks;
- ``cov%``: share of the n-1 peptide bonds with a b or y ion observed;
- ``q25/q50/q75/q90``: quantiles of peak intensity relative to the base peak;
- ``>10%``: share of peaks above 10% of the base peak;
- ``top10_by%``: share of the 10 most intense peaks explained by b/y;
- ``ppm``: mean signed m/z error of matched b/y fragments (``|ppm|``: median absolute error);
- ``prec |ppm|``, ``iso err``: the precursor's error and whether it is an isotope peak;
- ``base@prec``: whether the base peak lies within the preprocessing's precursor window.

Each row gives the median over spectra (and, for some columns, the inter-quartile range;
``iso err`` and ``base@prec`` are means). ``--by-charge`` splits the real pool and ``realistic``
by precursor charge; ``--breakdown`` assigns every peak to an ion type (b, y, 2+ b/y, isotopes,
a, losses, precursor, immonium, internal, unexplained) and tabulates how often each b/y ion is
seen; ``--plot`` draws histograms. m/z values rounded to 0.01 Da in a file (PepNet) get half a
step added to the tolerance and no ppm statistics.
Intensity shares after preprocessing use the kept peaks' acquired intensities (the square of
the model's sqrt-scaled input), so they compare with the raw column directly.

Real spectra: ``real_dev.mgf`` restricted to KIND=single and KIND=best-of-library, peptides read
with :func:`trmseq.reading.read_annotation`. Sources whose matched fragments show errors far
above high-resolution levels are matched with ``--lowres-tol-da`` and left out of the pooled
rows and the ppm columns.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import re
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from trmseq.config import DataConfig
from trmseq.constants import C13_DIFF, CO, H2O, NH3, PROTON
from trmseq.io.mgf import read_mgf
from trmseq.masses import fragment_bonds, fragment_mz, precursor_error_ppm
from trmseq.peptides import PeptideSampler
from trmseq.reading import ANNOTATION_ISOTOPES, read_annotation
from trmseq.spectrum import Spectrum, preprocess
from trmseq.synthetic import PRESETS, generate
from trmseq.vocab import Vocabulary

DEFAULT_REAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "real_dev.mgf"
REALISTIC_KINDS = ("single", "best-of-library")
SECONDARY = ("a", "b-H2O", "b-NH3", "y-H2O", "y-NH3")


# -- reading the real file ------------------------------------------------------------------


def parameter_blocks(path: Path) -> list[dict[str, str]]:
    """The KEY=value lines of each spectrum of an MGF file, in file order (keys upper-case)."""
    extras: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            text = line.strip()
            if text == "BEGIN IONS":
                current = {}
            elif text == "END IONS":
                extras.append(current or {})
                current = None
            elif current is not None and "=" in text and not text[0].isdigit():
                key, value = text.split("=", 1)
                current[key.upper()] = value
    return extras


def read_real(path: Path, vocab: Vocabulary) -> tuple[list[tuple[Spectrum, tuple, dict]], Counter]:
    """Return (spectrum, peptide, extra params) for usable realistic spectra, and skip counts."""
    extras = parameter_blocks(path)
    out, skipped = [], Counter()
    spectra = list(read_mgf(path))
    if len(spectra) != len(extras):
        raise SystemExit(f"{path}: {len(spectra)} spectra but {len(extras)} parameter blocks")
    for spectrum, extra in zip(spectra, extras, strict=True):
        if extra.get("KIND") not in REALISTIC_KINDS:
            skipped[f"KIND={extra.get('KIND')}"] += 1
            continue
        peptide = read_annotation(spectrum, vocab)
        if isinstance(peptide, str):
            skipped[f"{extra.get('SOURCE')}: {peptide}"] += 1
            continue
        out.append((spectrum, peptide, extra))
    return out, skipped


# -- theoretical ions and matching ----------------------------------------------------------


def theoretical(masses: np.ndarray, charge: int, residues: list[float]):
    """Return (b/y m/z, bond index of each) and the m/z of every annotated ion type."""
    n = len(masses)
    max_z = max(1, charge - 1)
    by_mz, by_bond = [], []
    for z in range(1, max_z + 1):
        by_mz += [fragment_mz(masses, "b", z), fragment_mz(masses, "y", z)]
        by_bond += [fragment_bonds(n, "b"), fragment_bonds(n, "y")]
    by_mz_arr, by_bond_arr = np.concatenate(by_mz), np.concatenate(by_bond)
    other = [fragment_mz(masses, ion, z) for ion in SECONDARY for z in range(1, max_z + 1)]
    frag = np.concatenate([by_mz_arr, *other])
    zs = np.concatenate(
        [np.full(n - 1, z) for z in range(1, max_z + 1) for _ in range(2)]
        + [np.full(n - 1, z) for _ in SECONDARY for z in range(1, max_z + 1)]
    )
    iso = [frag + k * C13_DIFF / zs for k in (1, 2)]
    neutral = float(masses.sum()) + H2O
    charges = range(1, charge + 1)
    prec = [(neutral - loss + z * PROTON) / z for z in charges for loss in (0, H2O, NH3)]
    prec += [(neutral + C13_DIFF + z * PROTON) / z for z in range(1, charge + 1)]
    immonium = [r - CO + PROTON for r in residues]
    every = np.concatenate([frag, *iso, np.asarray(prec), np.asarray(immonium)])
    return by_mz_arr, by_bond_arr, np.sort(every)


def nearest(sorted_ref: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each query value, the index of and the signed distance to the nearest ref value."""
    pos = np.clip(np.searchsorted(sorted_ref, query), 1, len(sorted_ref) - 1)
    left, right = sorted_ref[pos - 1], sorted_ref[pos]
    use_left = np.abs(query - left) <= np.abs(query - right)
    idx = np.where(use_left, pos - 1, pos)
    return idx, query - sorted_ref[idx]


def within(
    ref: np.ndarray, query: np.ndarray, ppm: float, da: float | None, grid: float = 0.0
) -> np.ndarray:
    """Boolean mask: query values with a ref value within tolerance.

    ``da`` replaces the ppm tolerance (low-resolution data); ``grid`` is the step to which the
    file rounded its m/z values (0 when it did not), half of which is added to the tolerance.
    """
    if len(ref) == 0 or len(query) == 0:
        return np.zeros(len(query), dtype=bool)
    ref = np.sort(ref) if len(ref) > 1 else np.concatenate([ref, ref])
    _, diff = nearest(ref, query)
    tol = da if da is not None else ppm * 1e-6 * query + grid / 2
    return np.abs(diff) <= tol


def mz_grid(mz: np.ndarray) -> float:
    """The step to which m/z values were rounded: 0.1 or 0.01 Da, or 0 when finer."""
    for step in (0.1, 0.01):
        scaled = mz / step
        if len(mz) and np.all(np.abs(scaled - np.round(scaled)) < 1e-4):
            return step
    return 0.0


def spectrum_stats(
    mz: np.ndarray,
    intensity: np.ndarray,
    masses: np.ndarray,
    charge: int,
    residues: list[float],
    ppm_tol: float,
    da_tol: float | None,
) -> dict[str, float]:
    """The per-spectrum statistics listed in the module docstring."""
    intensity = intensity.astype(np.float64)
    grid = mz_grid(mz)
    by_mz, by_bond, every = theoretical(masses, charge, residues)
    by_sorted = np.sort(by_mz)
    hit_by = within(by_sorted, mz, ppm_tol, da_tol, grid)
    hit_all = hit_by | within(every, mz, ppm_tol, da_tol, grid)
    total = intensity.sum()
    base = intensity.max()
    rel = intensity / base
    top = np.argsort(-intensity)[:10]
    # Coverage: a theoretical b/y ion is observed when a peak lies within tolerance of it.
    observed = within(np.sort(mz), by_mz, ppm_tol, da_tol, grid)
    n_bonds = len(masses) - 1
    coverage = len(np.unique(by_bond[observed])) / n_bonds if n_bonds else np.nan
    # Signed error of each b/y-matched peak against its nearest b/y ion.
    _, diff = nearest(by_sorted if len(by_sorted) > 1 else np.repeat(by_sorted, 2), mz)
    err_ppm = diff[hit_by] / (mz[hit_by] - diff[hit_by]) * 1e6
    if grid:  # rounded m/z: the error says more about the rounding than the instrument
        err_ppm = np.zeros(0)
    return {
        "peaks": len(mz),
        "by": hit_by.mean(),
        "all": hit_all.mean(),
        "int_by": intensity[hit_by].sum() / total,
        "int_all": intensity[hit_all].sum() / total,
        "cov": coverage,
        "q25": np.quantile(rel, 0.25),
        "q50": np.quantile(rel, 0.50),
        "q75": np.quantile(rel, 0.75),
        "q90": np.quantile(rel, 0.90),
        "above10": (rel > 0.1).mean(),
        "top10_by": hit_by[top].mean(),
        "ppm": err_ppm.mean() if len(err_ppm) else np.nan,
        "abs_ppm": np.median(np.abs(err_ppm)) if len(err_ppm) else np.nan,
    }


def dataset_stats(
    items: list[tuple[Spectrum, np.ndarray, list[float]]],
    ppm_tol: float,
    da_tol: float | None,
    config: DataConfig,
) -> tuple[dict[str, list[dict]], int]:
    """Per-spectrum stats on raw and on preprocessed peaks; also the count preprocessing skips."""
    raw, prep, n_skipped = [], [], 0
    for spectrum, masses, residues in items:
        if spectrum.n_peaks == 0:
            n_skipped += 1
            continue
        z = spectrum.charge
        stats = spectrum_stats(
            spectrum.mz, spectrum.intensity, masses, z, residues, ppm_tol, da_tol
        )
        error, offset = precursor_error_ppm(
            float(masses.sum()) + H2O, spectrum.precursor_mz, z, ANNOTATION_ISOTOPES
        )
        stats["prec_ppm"], stats["prec_iso"] = abs(error), float(offset != 0)
        theory = (float(masses.sum()) + H2O) / z + PROTON
        base_mz = spectrum.mz[np.argmax(spectrum.intensity)]
        stats["base_prec"] = float(abs(base_mz - theory) <= config.remove_precursor_tol_da)
        stats["mass"] = float(masses.sum()) + H2O
        raw.append(stats)
        processed = preprocess(spectrum, config)
        if isinstance(processed, str):
            n_skipped += 1
            continue
        prep.append(
            spectrum_stats(
                processed.mz,
                processed.intensity.astype(np.float64) ** 2,
                masses,
                z,
                residues,
                ppm_tol,
                da_tol,
            )
        )
    return {"raw": raw, "prep": prep}, n_skipped


CATEGORIES = ("b", "y", "b/y 2+", "b/y isotope", "a", "H2O/NH3 loss", "other isotope",
              "precursor", "immonium", "internal", "unexplained")  # fmt: skip


def breakdown(
    mz: np.ndarray, intensity: np.ndarray, masses: np.ndarray, charge: int, ppm_tol: float
) -> tuple[np.ndarray, np.ndarray, int]:
    """Share of peaks and of intensity in each of :data:`CATEGORIES`, and the base peak's.

    Each peak goes to the first category (in that order) with an ion within tolerance; b-type
    internal fragments span residues i..j with 1 <= i < j <= n - 2.
    """
    grid = mz_grid(mz)
    n, max_z = len(masses), max(1, charge - 1)
    neutral = float(masses.sum()) + H2O

    def ions(types, isotope=0, charges=range(1, max_z + 1)):
        parts = [fragment_mz(masses, t, z) + isotope * C13_DIFF / z for t in types for z in charges]
        return np.concatenate(parts) if parts else np.zeros(0)

    secondary = ("a", "b-H2O", "b-NH3", "y-H2O", "y-NH3")
    cumulative = np.concatenate([[0.0], np.cumsum(masses)])
    internal = [cumulative[j + 1] - cumulative[i] + PROTON
                for i in range(1, n - 1) for j in range(i + 1, n - 1)]  # fmt: skip
    charges = range(1, charge + 1)
    refs = [
        ions(["b"], charges=[1]),
        ions(["y"], charges=[1]),
        ions(["b", "y"], charges=range(2, max_z + 1)),
        np.concatenate([ions(["b", "y"], 1), ions(["b", "y"], 2)]),
        ions(["a"]),
        ions(["b-H2O", "b-NH3", "y-H2O", "y-NH3"]),
        np.concatenate([ions(secondary, 1), ions(secondary, 2)]),
        np.array(
            [(neutral - loss + z * PROTON) / z for z in charges for loss in (0, H2O, NH3)]
            + [(neutral + C13_DIFF + z * PROTON) / z for z in charges]
        ),  # fmt: skip
        np.unique(masses) - CO + PROTON,
        np.array(internal),
    ]
    label = np.full(len(mz), len(CATEGORIES) - 1)
    for k, ref in reversed(list(enumerate(refs))):
        label[within(ref, mz, ppm_tol, None, grid)] = k
    counts = np.bincount(label, minlength=len(CATEGORIES)) / len(mz)
    share = np.bincount(label, weights=intensity, minlength=len(CATEGORIES)) / intensity.sum()
    return counts, share, int(label[np.argmax(intensity)])


def breakdown_table(groups: list[tuple[str, list]], ppm_tol: float) -> str:
    """Mean share of peaks / of intensity per category, and how often each is the base peak."""
    lines = ["| category | " + " | ".join(name for name, _ in groups) + " |",
             "|---|" + "---|" * len(groups)]  # fmt: skip
    results = []
    for _, items in groups:
        rows = [breakdown(s.mz, s.intensity.astype(float), m, s.charge, ppm_tol)
                for s, m, _ in items if s.n_peaks]  # fmt: skip
        counts = np.mean([r[0] for r in rows], axis=0)
        shares = np.mean([r[1] for r in rows], axis=0)
        base = np.bincount([r[2] for r in rows], minlength=len(CATEGORIES)) / len(rows)
        results.append((counts, shares, base))
    for k, category in enumerate(CATEGORIES):
        cells = [f"{c[k]:.1%} / {sh[k]:.1%} / {b[k]:.0%}" for c, sh, b in results]
        lines.append(f"| {category} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def positions_table(groups: list[tuple[str, list]], ppm_tol: float, min_length: int = 10) -> str:
    """How often each of b1..b6, y1..y6 and the four largest b and y (1+) ions is observed."""
    head = [f"b{i}" for i in range(1, 7)] + ["b(n-4)", "b(n-3)", "b(n-2)", "b(n-1)"]
    head += [f"y{i}" for i in range(1, 7)] + ["y(n-4)", "y(n-3)", "y(n-2)", "y(n-1)"]
    lines = ["| data | n | " + " | ".join(head) + " |", "|---|---|" + "---|" * len(head)]
    for name, items in groups:
        seen = []
        for spectrum, masses, _ in items:
            if len(masses) < min_length:
                continue
            grid = mz_grid(spectrum.mz)
            ref = np.sort(spectrum.mz)
            b = within(ref, fragment_mz(masses, "b", 1), ppm_tol, None, grid)
            y = within(ref, fragment_mz(masses, "y", 1), ppm_tol, None, grid)
            seen.append(np.concatenate([b[:6], b[-4:], y[:6], y[-4:]]))
        rates = np.mean(seen, axis=0)
        lines.append(f"| {name} | {len(seen)} | " + " | ".join(f"{r:.2f}" for r in rates) + " |")
    return "\n".join(lines)


# -- tables ----------------------------------------------------------------------------------

COLUMNS = [
    ("peaks", "peaks", "{:.0f}", True),
    ("by", "by%", "{:.0%}", True),
    ("all", "all%", "{:.0%}", False),
    ("int_by", "int_by%", "{:.0%}", True),
    ("int_all", "int_all%", "{:.0%}", False),
    ("cov", "cov%", "{:.0%}", True),
    ("q25", "q25", "{:.3f}", False),
    ("q50", "q50", "{:.3f}", False),
    ("q75", "q75", "{:.3f}", False),
    ("q90", "q90", "{:.2f}", False),
    ("above10", ">10%", "{:.0%}", False),
    ("top10_by", "top10_by%", "{:.0%}", False),
    ("ppm", "ppm", "{:+.1f}", False),
    ("abs_ppm", "\\|ppm\\|", "{:.1f}", False),
    ("prec_ppm", "prec \\|ppm\\|", "{:.1f}", False),
    ("prec_iso", "iso err", "{:.1%}", False),
    ("base_prec", "base@prec", "{:.0%}", False),
]


def cell(values: np.ndarray, fmt: str, iqr: bool, mean: bool = False) -> str:
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return "-"
    text = fmt.format(np.mean(values) if mean else np.median(values))
    if iqr:
        lo, hi = np.quantile(values, [0.25, 0.75])
        text += f" ({fmt.format(lo).rstrip('%')}-{fmt.format(hi)})"
    return text


def table(rows: list[tuple[str, int, list[dict], bool]]) -> str:
    head = "| data | n | " + " | ".join(c[1] for c in COLUMNS) + " |"
    lines = [head, "|" + "---|" * (len(COLUMNS) + 2)]
    for name, n, stats, highres in rows:
        cells = []
        for key, _, fmt, iqr in COLUMNS:
            if key in ("ppm", "abs_ppm") and not highres:
                cells.append("(low-res)")
                continue
            values = np.array([s.get(key, np.nan) for s in stats], dtype=float)
            cells.append(cell(values, fmt, iqr, mean=key in ("prec_iso", "base_prec")))
        lines.append(f"| {name} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(real: list[dict], synthetic: list[dict], path: Path) -> None:
    """Histograms of the main per-spectrum statistics, real pool against ``realistic``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        ("peaks", "peaks per spectrum", np.linspace(0, 400, 41)),
        ("by", "share of peaks that are b/y", np.linspace(0, 0.5, 26)),
        ("all", "share of peaks annotated (all ion types)", np.linspace(0, 1, 26)),
        ("int_by", "share of intensity in b/y", np.linspace(0, 1, 26)),
        ("cov", "b/y bond coverage", np.linspace(0, 1, 21)),
        ("q50", "median peak / base peak", np.linspace(0, 0.15, 31)),
    ]
    fig, axes = plt.subplots(2, 3, figsize=(12, 6.5))
    for ax, (key, title, bins) in zip(axes.flat, panels, strict=True):
        for stats, label in (
            (real, f"real (n={len(real)})"),
            (synthetic, f"realistic (n={len(synthetic)})"),
        ):
            values = np.clip([s[key] for s in stats], bins[0], bins[-1])
            ax.hist(values, bins=bins, density=True, histtype="step", linewidth=1.5, label=label)
        ax.set_title(title, fontsize=10)
    axes.flat[0].legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)


# -- main ------------------------------------------------------------------------------------


def parse_range(text: str) -> tuple[int, ...]:
    lo, _, hi = text.partition("-")
    return tuple(range(int(lo), int(hi or lo) + 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real", type=Path, default=DEFAULT_REAL.resolve(), help="annotated MGF")
    parser.add_argument("--n-synthetic", type=int, default=1000, help="spectra per preset")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--charges", default="1-4", help="synthetic precursor charges, e.g. 2-3")
    parser.add_argument("--presets", default=",".join(PRESETS), help="comma-separated presets")
    parser.add_argument("--ppm", type=float, default=20.0, help="fragment tolerance (ppm)")
    parser.add_argument(
        "--lowres-tol-da", type=float, default=0.5, help="tolerance (Da) for low-res sources"
    )
    parser.add_argument(
        "--lowres-ppm",
        type=float,
        default=50.0,
        help="sources whose median |b/y error| within --lowres-tol-da exceeds this are low-res",
    )
    parser.add_argument("--by-charge", action="store_true", help="also tabulate by charge")
    parser.add_argument("--plot", type=Path, help="write histograms (real pool vs realistic)")
    parser.add_argument(
        "--breakdown", action="store_true", help="also tabulate ion types and positions (2+, 3+)"
    )
    parser.add_argument(
        "--pool-exclude",
        default="casanovo",
        help="sources left out of the pooled row (casanovo's file is already preprocessed)",
    )
    args = parser.parse_args()

    vocab = Vocabulary()
    config = DataConfig()
    started = time.time()

    def residue_list(peptide: tuple[str, ...]) -> list[float]:
        return sorted({vocab[t].mass for t in peptide if not vocab[t].is_nterm})

    real, skipped = read_real(args.real, vocab)
    by_source: dict[str, list] = defaultdict(list)
    extras_by_source: dict[str, list] = defaultdict(list)
    for spectrum, peptide, extra in real:
        source = extra.get("SOURCE", "?")
        if source in ("pyteomics", "sage", "spectrum_utils"):
            source = "pyteomics+sage+spectrum_utils"
        key = f"{source} ({extra.get('KIND')})"
        by_source[key].append((spectrum, vocab.residue_masses(peptide), residue_list(peptide)))
        extras_by_source[key].append(extra)

    # Resolution check: error of b/y matches found with the wide tolerance.
    resolution, precursor_ppm, grids = {}, {}, {}
    for key, items in by_source.items():
        errors = []
        for spectrum, masses, _ in items:
            by_mz = np.sort(theoretical(masses, spectrum.charge, [])[0])
            _, diff = nearest(np.repeat(by_mz, 2) if len(by_mz) == 1 else by_mz, spectrum.mz)
            hit = np.abs(diff) <= args.lowres_tol_da
            rel = np.abs(diff[hit] / spectrum.mz[hit])
            errors.append(np.median(rel) * 1e6 if hit.any() else np.nan)
        resolution[key] = float(np.nanmedian(errors))
        precursor_ppm[key] = float(
            np.median([abs(float(e.get("PRECURSOR_PPM", "nan"))) for e in extras_by_source[key]])
        )
        grids[key] = Counter(mz_grid(s.mz) for s, _, _ in items).most_common(1)[0][0]

    rows_raw, rows_prep, pooled_raw, pooled_prep = [], [], [], []
    charges = Counter()
    notes = []
    per_charge: dict[tuple[str, int], list] = defaultdict(list)
    pooled_items: list = []
    realistic_items: list = []
    for key in sorted(by_source, key=lambda k: -len(by_source[k])):
        items = by_source[key]
        highres = resolution[key] <= args.lowres_ppm
        stats, n_skip = dataset_stats(
            items, args.ppm, None if highres else args.lowres_tol_da, config
        )
        label = key if highres else f"{key} [low-res, {args.lowres_tol_da:g} Da]"
        rows_raw.append((label, len(stats["raw"]), stats["raw"], highres))
        rows_prep.append((label, len(stats["prep"]), stats["prep"], highres))
        if n_skip:
            notes.append(f"{key}: {n_skip} of {len(items)} skipped by preprocessing")
        if highres and key.split(" (")[0] not in args.pool_exclude.split(","):
            pooled_raw += stats["raw"]
            pooled_prep += stats["prep"]
            charges.update(s.charge for s, _, _ in items)
            for (spectrum, _, _), st in zip(items, stats["raw"], strict=False):
                per_charge[("real", spectrum.charge)].append(st)
            pooled_items += items
    pooled_label = f"**real, pooled high-res** (without {args.pool_exclude})"
    rows_raw.insert(0, (pooled_label, len(pooled_raw), pooled_raw, True))
    rows_prep.insert(0, (pooled_label, len(pooled_prep), pooled_prep, True))

    sampler = PeptideSampler(vocab)
    synth_charges = Counter()
    realistic_raw: list[dict] = []
    for preset in args.presets.split(","):
        items = []
        for spectrum in generate(
            args.n_synthetic, sampler, PRESETS[preset], args.seed, parse_range(args.charges)
        ):
            peptide = vocab.parse(spectrum.annotation)
            items.append((spectrum, vocab.residue_masses(peptide), residue_list(peptide)))
            if preset == "realistic":
                synth_charges[spectrum.charge] += 1
        stats, n_skip = dataset_stats(items, args.ppm, None, config)
        label = f"**synthetic: {preset}**"
        rows_raw.append((label, len(stats["raw"]), stats["raw"], True))
        rows_prep.append((label, len(stats["prep"]), stats["prep"], True))
        if n_skip:
            notes.append(f"{preset}: {n_skip} of {len(items)} skipped by preprocessing")
        if preset == "realistic":
            realistic_raw = stats["raw"]
            realistic_items = items
            for (spectrum, _, _), st in zip(items, stats["raw"], strict=True):
                per_charge[("realistic", spectrum.charge)].append(st)

    if args.plot and realistic_raw:
        plot(pooled_raw, realistic_raw, args.plot)
    when = datetime.date.today().isoformat()
    print(
        f"<!-- {' '.join(['python', 'benchmarks/synthetic_vs_real.py'])} "
        f"--n-synthetic {args.n_synthetic} --seed {args.seed} --charges {args.charges}; "
        f"{when}; {platform.machine()}; {time.time() - started:.0f} s -->"
    )
    print(
        f"\nFragment tolerance {args.ppm:g} ppm (low-res sources {args.lowres_tol_da:g} Da). "
        "Medians over spectra; (IQR) for some columns.\n"
    )
    print("### Raw peaks (as acquired / as written by the generator)\n")
    print(table(rows_raw))
    print("\n### After trmseq preprocessing (default DataConfig)\n")
    print(table(rows_prep))
    print(
        f"\nResolution check per source: median |b/y error| of matches within "
        f"{args.lowres_tol_da:g} Da / median |precursor error| (ppm) / m/z rounding step:\n"
    )
    for k in sorted(resolution):
        grid = f"{grids[k]:g} Da" if grids[k] else "none"
        print(f"- {k}: {resolution[k]:.1f} / {precursor_ppm[k]:.1f} / {grid}")
    print(
        "\nSpectra whose m/z are rounded to 0.01 Da get half a step added to the tolerance and "
        "no ppm statistics."
    )
    print(
        "\nReal high-res charges: "
        + ", ".join(f"{z}+: {n}" for z, n in sorted(charges.items()))
        + "; synthetic realistic: "
        + ", ".join(f"{z}+: {n}" for z, n in sorted(synth_charges.items()))
    )
    if notes:
        print("\n" + "; ".join(notes) + ".")
    if skipped:
        print(
            "\nReal spectra left out: "
            + "; ".join(f"{re.sub(r'[|]', '/', k)}: {n}" for k, n in skipped.most_common())
            + "."
        )
    if args.by_charge:
        rows = []
        for (name, z), stats in sorted(per_charge.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            if len(stats) >= 5:
                rows.append((f"{name} {z}+", len(stats), stats, True))
        print("\n### By precursor charge (raw peaks)\n")
        print(table(rows))
    if args.breakdown:
        groups = []
        for z in (2, 3):
            groups.append((f"real {z}+", [x for x in pooled_items if x[0].charge == z]))
            groups.append((f"realistic {z}+", [x for x in realistic_items if x[0].charge == z]))
        groups = [(f"{name} (n={len(items)})", items) for name, items in groups if items]
        print(
            "\n### Where peaks and intensity go (raw peaks; mean share of peaks / share of "
            "intensity / how often the base peak)\n"
        )
        print(breakdown_table(groups, args.ppm))
        print("\n### How often each b/y ion (1+) is seen, peptides of 10+ residues\n")
        print(positions_table(groups, args.ppm))
        correlations = []
        for name, st in (("real pool", pooled_raw), ("realistic", realistic_raw)):
            r = np.corrcoef([x["peaks"] for x in st], [x["mass"] for x in st])[0, 1]
            correlations.append(f"{name}: {r:+.2f}")
        print("\nCorrelation of peak count with peptide mass: " + ", ".join(correlations))


if __name__ == "__main__":
    main()
