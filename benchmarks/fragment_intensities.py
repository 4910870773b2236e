"""Fragment intensities of forward models against real spectra, ion by ion (issue 12).

Run by hand; prints markdown tables (docs/synthetic.md quotes them)::

    python benchmarks/split_real_dev.py --out /tmp/real12
    python benchmarks/fragment_intensities.py --fit --train /tmp/real12/train.mgf \
        --test /tmp/real12/test.mgf

For each real single scan (KIND=single) with a readable peptide, the observed intensity of
every b and y ion at fragment charge 1 is the most intense peak within ``--ppm`` of its m/z
(plus half the rounding step for files that round m/z), 0 when there is none; the ions
b1..b(n-1), y1..y(n-1) form one vector per spectrum. Each model gives a vector for the same
ions, and the table reports the median per-spectrum Pearson correlation by SOURCE and overall
(spectra with no observed b/y ion, where Pearson is undefined, are counted and left out):

- ``flat``: every y ion 1, every b ion 0.5;
- ``realistic``: the ``realistic`` preset's ``simulate_peaks`` run ``--draws`` times on the
  spectrum's own peptide and charge; each draw's peak list is read by the same rule as a real
  spectrum (most intense peak within the tolerance of each b/y 1+ ion, 0 if absent) and the
  draws are averaged; also the preset as it was until 2026-12-01 (b/y levels from cleavage
  rules, ``bond_sigma`` 1.1);
- ``fitted``: :mod:`trmseq.intensity`'s log-linear model (``--model``; the shipped JSON by
  default). ``--fit`` first fits it on the scans of ``--train`` of ``--train-kinds`` (single
  and best-of-library by default; ridge chosen by peptide-grouped 5-fold cross-validation on
  the training scans only) and writes ``--model``.

With ``--test`` the same comparison runs on the test side of the peptide-disjoint split. A
second table gives, per source, the share of peaks and of intensity that b/y ions (charge
1..z-1) explain, the peaks per spectrum, and the quartiles of the unexplained peaks' m/z
divided by the precursor's neutral mass, for the real scans and for one ``realistic`` draw of
the same peptides at the same charges.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import platform
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from synthetic_vs_real import DEFAULT_REAL, mz_grid, read_real, theoretical, within

from trmseq.constants import H2O
from trmseq.intensity import DEFAULT_PATH, IntensityModel, fit, pearson
from trmseq.masses import fragment_mz
from trmseq.synthetic import PRESETS, _charge_weights, simulate_peaks
from trmseq.vocab import Vocabulary

MERGED_SOURCES = {"pyteomics", "sage", "spectrum_utils"}
LOWRES = "crux"  # ion-trap scans: a 20 ppm match finds few of their fragments


def load_single(path: Path, vocab: Vocabulary, kinds: tuple[str, ...] = ("single",)) -> list[dict]:
    """Scans of ``path`` of the given KINDs with their peptide: residues, masses, charge, peaks."""
    items, _ = read_real(path, vocab)
    out = []
    for spectrum, peptide, extra in items:
        if extra.get("KIND") not in kinds:
            continue
        source = extra.get("SOURCE", "?")
        out.append(
            {
                "source": "pyteomics+sage+spectrum_utils" if source in MERGED_SOURCES else source,
                "residues": "".join(vocab[t].residue for t in peptide if not vocab[t].is_nterm),
                "key": "".join(vocab[t].residue for t in peptide if not vocab[t].is_nterm),
                "masses": vocab.residue_masses(peptide),
                "charge": spectrum.charge,
                "mz": np.asarray(spectrum.mz, dtype=np.float64),
                "intensity": np.asarray(spectrum.intensity, dtype=np.float64),
            }
        )
    return out


def by_intensities(
    peak_mz: np.ndarray, peak_int: np.ndarray, masses: np.ndarray, ppm: float, charges: tuple[int, ...] = (1,)
) -> np.ndarray:
    """Intensity of b1..b(n-1), y1..y(n-1) summed over fragment ``charges`` (0 if none seen).

    At each charge the ion's intensity is the most intense peak within the tolerance of its m/z.
    """
    n = len(masses) - 1
    out = np.zeros(2 * n)
    if len(peak_mz) == 0:
        return out
    order = np.argsort(peak_mz)
    peak_mz, peak_int = peak_mz[order], peak_int[order]
    for z in charges:
        ions = np.concatenate([fragment_mz(masses, "b", z), fragment_mz(masses, "y", z)])
        tol = ions * ppm * 1e-6 + mz_grid(peak_mz) / 2
        lo = np.searchsorted(peak_mz, ions - tol, side="left")
        hi = np.searchsorted(peak_mz, ions + tol, side="right")
        for j in np.flatnonzero(hi > lo):
            out[j] += peak_int[lo[j] : hi[j]].max()
    return out


def fragment_charges(charge: int) -> tuple[int, ...]:
    """The fragment charges of a precursor of ``charge`` (as the ``realistic`` preset makes them)."""
    return tuple(range(1, max(1, min(PRESETS["realistic"].max_fragment_charge, charge - 1)) + 1))


def flat_model(masses: np.ndarray) -> np.ndarray:
    n = len(masses)
    return np.concatenate([np.full(n - 1, 0.5), np.ones(n - 1)])


def realistic_model(item: dict, draws: int, seed: int, index: int, ppm: float, params=None) -> np.ndarray:
    params = params or PRESETS["realistic"]
    total = np.zeros(2 * (len(item["masses"]) - 1))
    for d in range(draws):
        rng = np.random.default_rng([seed, index, d])
        mz_arr, int_arr = simulate_peaks(item["residues"], item["masses"], item["charge"], params, rng)
        total += by_intensities(mz_arr, int_arr, item["masses"], ppm)
    return total / draws


# The realistic preset as it was until 2026-12-01: b/y levels from cleavage rules, not the fitted
# model (docs/synthetic.md quotes both).
REALISTIC_RULES = dataclasses.replace(PRESETS["realistic"], fitted_intensities=False, bond_sigma=1.1)


def correlations(items: list[dict], ppm: float, draws: int, seed: int, model) -> dict[str, list]:
    """Per spectrum: (source, r_flat, r_realistic_until_2026_12_01, r_fitted, r_realistic); NaN where undefined."""
    rows = []
    for i, item in enumerate(items):
        observed = by_intensities(item["mz"], item["intensity"], item["masses"], ppm)
        preds = [flat_model(item["masses"]), realistic_model(item, draws, seed, i, ppm, REALISTIC_RULES)]
        if model is not None:
            preds.append(model.predict(item["residues"], item["charge"]))
            preds.append(realistic_model(item, draws, seed, i, ppm))
        rows.append((item["source"], *[pearson(observed, p) for p in preds]))
    return rows


def corr_table(rows: list[tuple], names: list[str]) -> str:
    groups: dict[str, list] = defaultdict(list)
    for row in rows:
        groups[row[0]].append(row[1:])
    order = sorted(groups, key=lambda s: -len(groups[s])) + ["**all**", f"**all but {LOWRES}**"]
    groups["**all**"] = [r[1:] for r in rows]
    groups[f"**all but {LOWRES}**"] = [r[1:] for r in rows if r[0] != LOWRES]
    head = "| source | n | no b/y seen | " + " | ".join(names) + " |"
    lines = [head, "|---|---|---|" + "---|" * len(names)]
    for source in order:
        values = np.array(groups[source], dtype=float)[:, : len(names)]
        defined = ~np.isnan(values[:, 0])
        cells = []
        for k in range(len(names)):
            v = values[defined, k]
            v = v[~np.isnan(v)]
            cells.append(f"{np.median(v):.2f}" if len(v) else "-")
        lines.append(f"| {source} | {len(values)} | {int((~defined).sum())} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def peak_stats(peak_mz: np.ndarray, peak_int: np.ndarray, masses: np.ndarray, charge: int, ppm: float):
    """(peaks, b/y peak share, b/y intensity share, unexplained m/z / precursor mass)."""
    by_mz = theoretical(masses, charge, [])[0]
    hit = within(by_mz, peak_mz, ppm, None, mz_grid(peak_mz))
    mass = float(masses.sum()) + H2O
    return len(peak_mz), hit.mean(), peak_int[hit].sum() / peak_int.sum(), peak_mz[~hit] / mass


def draw_realistic(items: list[dict], seed: int, params=None) -> list[tuple[np.ndarray, np.ndarray]]:
    """One ``realistic`` (or ``params``) spectrum of each item's peptide and charge."""
    params = params or PRESETS["realistic"]
    return [
        simulate_peaks(it["residues"], it["masses"], it["charge"], params, np.random.default_rng([seed, i, 0]))
        for i, it in enumerate(items)
    ]


def explained_table(items: list[dict], ppm: float, seed: int) -> str:
    groups: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for item, synth in zip(items, draw_realistic(items, seed), strict=True):
        for kind, (pmz, pint) in (("real", (item["mz"], item["intensity"])), ("realistic", synth)):
            if len(pmz) == 0:
                continue
            stats = peak_stats(pmz, pint, item["masses"], item["charge"], ppm)
            for source in (item["source"], "**all**"):
                g = groups[(source, kind)]
                g["peaks"].append(stats[0])
                g["by"].append(stats[1])
                g["int"].append(stats[2])
                g["unexp"].append(stats[3])
    counts = defaultdict(int)
    for item in items:
        counts[item["source"]] += 1
    order = sorted(counts, key=lambda s: -counts[s]) + ["**all**"]
    lines = [
        "| source | data | n | peaks | b/y peaks | b/y intensity | unexplained m/z / M: q25 | q50 | q75 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for source in order:
        for kind in ("real", "realistic"):
            g = groups.get((source, kind))
            if not g:
                continue
            unexp = np.concatenate(g["unexp"]) if g["unexp"] else np.zeros(0)
            q = np.quantile(unexp, [0.25, 0.5, 0.75]) if len(unexp) else [np.nan] * 3
            lines.append(
                f"| {source} | {kind} | {len(g['peaks'])} | {np.median(g['peaks']):.0f} | "
                f"{np.median(g['by']):.0%} | {np.median(g['int']):.0%} | "
                f"{q[0]:.2f} | {q[1]:.2f} | {q[2]:.2f} |"
            )
    return "\n".join(lines)


def charge_split(items: list[dict], ppm: float) -> list[tuple[np.ndarray, int, np.ndarray]]:
    """Per 3+/4+ spectrum: (fragment neutral masses, precursor charge, intensity at z=1..(z-1)).

    Rows are the b then the y ions; intensities are shares of the spectrum's b/y total, so every
    spectrum weighs the same in a fit.
    """
    out = []
    for it in items:
        if it["charge"] < 3:
            continue
        masses = it["masses"]
        prefix = np.cumsum(masses[:-1])
        frag_mass = np.concatenate([prefix, masses.sum() - prefix[::-1]])
        levels = np.stack(
            [by_intensities(it["mz"], it["intensity"], masses, ppm, (z,)) for z in fragment_charges(it["charge"])],
            axis=1,
        )
        if levels.sum() > 0:
            out.append((frag_mass, it["charge"], levels / levels.sum()))
    return out


def fit_charge_split(rows: list) -> tuple[float, float]:
    """(charge_mass, charge_sharpness) maximising the likelihood of the observed charge shares (grid)."""
    best = (np.inf, 0.0, 0.0)
    for per_charge in np.arange(400.0, 901.0, 10.0):
        for sharpness in np.arange(0.5, 6.01, 0.25):
            loss = 0.0
            for frag_mass, _, levels in rows:
                w = _charge_weights(frag_mass, levels.shape[1], per_charge, sharpness).T
                loss -= float((levels * np.log(np.clip(w, 1e-12, None))).sum())
            best = min(best, (loss, float(per_charge), float(sharpness)))
    return best[1], best[2]


def charge_split_table(real: list, synthetic: list) -> str:
    """Share of b/y intensity at each fragment charge by fragment neutral mass, real vs realistic."""
    bins = np.arange(0.0, 2001.0, 200.0)
    lines = [
        "| precursor | fragment mass (Da) | real: share at 1+ / 2+ / 3+ | realistic | real b/y intensity |",
        "|---|---|---|---|---|",
    ]
    for charge in (3, 4):
        for lo, hi in zip(bins[:-1], list(bins[1:-1]) + [np.inf], strict=True):
            cells = []
            for rows in (real, synthetic):
                acc = np.zeros(charge - 1)
                for frag_mass, z, levels in rows:
                    if z == charge:
                        acc[: levels.shape[1]] += levels[(frag_mass >= lo) & (frag_mass < hi)].sum(axis=0)
                cells.append(acc)
            if cells[0].sum() == 0:
                continue
            share = [" / ".join(f"{v:.2f}" for v in c / max(c.sum(), 1e-12)) for c in cells]
            label = f"{lo:.0f}-{hi:.0f}" if np.isfinite(hi) else f">= {lo:.0f}"
            lines.append(f"| {charge}+ | {label} | {share[0]} | {share[1]} | {cells[0].sum():.1f} |")
    return "\n".join(lines)


POSITIONS = [f"b{i}" for i in range(1, 7)] + ["b(n-4)", "b(n-3)", "b(n-2)", "b(n-1)"]
POSITIONS += [f"y{i}" for i in range(1, 7)] + ["y(n-4)", "y(n-3)", "y(n-2)", "y(n-1)"]


def seen_rates(items: list[dict], spectra: list[tuple[np.ndarray, np.ndarray]], ppm: float) -> np.ndarray:
    """How often b1..b6, the four largest b, y1..y6 and the four largest y (1+) are seen (10+ residues)."""
    seen = []
    for it, (peak_mz, peak_int) in zip(items, spectra, strict=True):
        if len(it["masses"]) < 10:
            continue
        hit = by_intensities(peak_mz, peak_int, it["masses"], ppm) > 0
        n = len(it["masses"]) - 1
        b, y = hit[:n], hit[n:]
        seen.append(np.concatenate([b[:6], b[-4:], y[:6], y[-4:]]))
    return np.mean(seen, axis=0)


def fit_presence(items: list[dict], ppm: float, seed: int) -> tuple[float, float, np.ndarray, np.ndarray]:
    """(presence_ref, presence_power) whose ``realistic`` draws see each ion position as often as
    ``items`` do (least squares over :data:`POSITIONS`, grid search); also both rate vectors."""
    items = [it for it in items if len(it["masses"]) >= 10 and it["source"] not in (LOWRES, "mzSpecLib")]
    real = seen_rates(items, [(it["mz"], it["intensity"]) for it in items], ppm)
    best = (np.inf, 0.0, 1.0, real)
    for ref in (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5):
        for power in (0.5, 1.0, 1.5, 2.0, 3.0, 4.0) if ref > 0 else (1.0,):
            params = dataclasses.replace(PRESETS["realistic"], presence_ref=ref, presence_power=power)
            drawn = draw_realistic(items, seed, params)
            rates = seen_rates(items, drawn, ppm)
            best = min(best, (float(((rates - real) ** 2).sum()), ref, power, rates), key=lambda t: t[0])
    return best[1], best[2], real, best[3]


def fold_of(key: str, folds: int) -> int:
    return hashlib.sha256(key.encode()).digest()[1] % folds


def examples_of(items: list[dict], ppm: float) -> list[tuple[str, int, np.ndarray]]:
    return [
        (
            it["residues"],
            it["charge"],
            by_intensities(it["mz"], it["intensity"], it["masses"], ppm, fragment_charges(it["charge"])),
        )
        for it in items
    ]


def choose_ridge(items: list[dict], ppm: float, grid: list[float], folds: int = 5) -> tuple[float, str]:
    """Ridge with the best median Pearson in peptide-grouped cross-validation on ``items``."""
    examples = examples_of(items, ppm)
    fold = np.array([fold_of(it["key"], folds) for it in items])
    report, best = [], (-np.inf, grid[0])
    for ridge in grid:
        rs = []
        for f in range(folds):
            train = [e for e, k in zip(examples, fold, strict=True) if k != f]
            model = fit(train, ridge=ridge)
            rs += [pearson(e[2], model.predict(e[0], e[1])) for e, k in zip(examples, fold, strict=True) if k == f]
        median = float(np.nanmedian(rs))
        report.append(f"{ridge:g}: {median:.3f}")
        best = max(best, (median, ridge))
    return best[1], "; ".join(report)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real", type=Path, default=DEFAULT_REAL.resolve(), help="annotated MGF")
    parser.add_argument("--train", type=Path, help="training side of the split (for --fit)")
    parser.add_argument("--test", type=Path, help="test side of the split: evaluate there too")
    parser.add_argument("--model", type=Path, default=DEFAULT_PATH, help="intensity model JSON")
    parser.add_argument("--fit", action="store_true", help="fit on --train and write --model")
    parser.add_argument("--ridge", type=float, help="ridge penalty (default: cross-validated)")
    parser.add_argument(
        "--train-kinds", default="single,best-of-library", help="KINDs of --train to fit on (single,best-of-library)"
    )
    parser.add_argument("--ppm", type=float, default=20.0, help="fragment tolerance (ppm)")
    parser.add_argument("--draws", type=int, default=20, help="realistic draws per peptide")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.time()
    vocab = Vocabulary()

    model = None
    if args.fit:
        if args.train is None:
            parser.error("--fit needs --train")
        train = load_single(args.train, vocab, tuple(args.train_kinds.split(",")))
        if args.ridge is None:
            ridge, cv = choose_ridge(train, args.ppm, [0.1, 0.3, 1.0, 3.0, 10.0])
            print(f"Ridge by 5-fold peptide-grouped CV on {len(train)} training scans ({args.train_kinds}) "
                  f"(median Pearson): {cv}; chosen {ridge:g}\n")
        else:
            ridge = args.ridge
        model = fit(examples_of(train, args.ppm), ridge=ridge)
        model.info.update({"fitted_on": f"{args.train.name}, KIND={args.train_kinds}, {args.ppm:g} ppm",
                           "target": "b/y intensity share, summed over fragment charges 1..z-1"})  # fmt: skip
        model.to_json(args.model)
        print(f"Wrote {args.model} ({len(model.weights)} weights, ridge {ridge:g}, {model.info})\n")
        split = charge_split(train, args.ppm)
        per_charge, sharpness = fit_charge_split(split)
        ref, power, real_rates, drawn_rates = fit_presence(train, args.ppm, args.seed)
        print(f"Ion presence fitted on the training scans of 10+ residues: presence_ref {ref:g}, "
              f"presence_power {power:g} (set by hand in presets.py); how often each ion is seen:\n")  # fmt: skip
        print("| data | " + " | ".join(POSITIONS) + " |\n|---|" + "---|" * len(POSITIONS))
        for name, rates in (("real (training side)", real_rates), ("realistic, fitted presence", drawn_rates)):
            print(f"| {name} | " + " | ".join(f"{r:.2f}" for r in rates) + " |")
        print()
        print(f"Fragment charge split fitted on {len(split)} training scans of charge 3+: "
              f"charge_mass {per_charge:g}, charge_sharpness {sharpness:g} (set by hand in presets.py)\n")  # fmt: skip
    elif args.model.exists():
        model = IntensityModel.from_json(args.model)
    names = ["flat", "realistic until 2026-12-01"] + (["fitted", "realistic"] if model is not None else [])

    real = load_single(args.real, vocab)
    print(f"### {args.real.name}: single scans ({len(real)}), median Pearson per spectrum\n")
    print(corr_table(correlations(real, args.ppm, args.draws, args.seed, model), names))
    if args.test is not None:
        test = load_single(args.test, vocab)
        print(f"\n### {args.test.name} (test side, peptide-disjoint): single scans ({len(test)})\n")
        print(corr_table(correlations(test, args.ppm, args.draws, args.seed, model), names))
    held = test if args.test is not None else real
    drawn = [dict(it, mz=m, intensity=i) for it, (m, i) in zip(held, draw_realistic(held, args.seed), strict=True)]
    name = (args.test or args.real).name
    print(f"\n### {name}: b/y intensity by fragment charge, 3+ and 4+ scans, real and realistic (one draw)\n")
    print(charge_split_table(charge_split(held, args.ppm), charge_split(drawn, args.ppm)))
    print(f"\n### {args.real.name}: what b/y ions (1+..(z-1)+) explain, real and realistic (one draw)\n")
    print(explained_table(real, args.ppm, args.seed))
    print(f"\n<!-- {platform.machine()}, {time.time() - started:.0f} s -->")


if __name__ == "__main__":
    main()
