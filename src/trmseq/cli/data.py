"""Commands about files: ``generate``, ``configure``, ``inspect``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from trmseq import config as config_mod
from trmseq.cli.app import app
from trmseq.cli.options import (
    LabelsOption,
    MaxExpectOption,
    MaxQOption,
)
from trmseq.terminal import ConfigOption, err, handle_errors, progress


@app.command()
@handle_errors
def generate(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="MGF file to write (gzip-compressed if its name ends in .gz).")
    ] = Path("synthetic.mgf"),
    n: Annotated[int, typer.Option("--n", "-n", min=1, help="Number of spectra.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same file.")] = 0,
    preset: Annotated[
        str, typer.Option(help="Forward model: clean, moderate, hard or realistic.")
    ] = "realistic",
    min_length: Annotated[int, typer.Option(min=2, help="Shortest peptide (residues).")] = 6,
    max_length: Annotated[int, typer.Option(min=2, help="Longest peptide (residues).")] = 30,
    min_charge: Annotated[int, typer.Option(min=1, help="Lowest precursor charge.")] = 1,
    max_charge: Annotated[int, typer.Option(min=1, help="Highest precursor charge.")] = 4,
    fasta: Annotated[
        Path | None, typer.Option(help="Draw tryptic peptides from this protein FASTA.")
    ] = None,
    missed_cleavages: Annotated[int, typer.Option(min=0, help="With --fasta.")] = 1,
    mod_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Chance a residue carries its variable mod.")
    ] = 0.15,
    nterm_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Chance of an N-terminal modification.")
    ] = 0.05,
    notation: Annotated[
        str, typer.Option(help="SEQ= notation: mass-offset (PEPTM+15.995) or proforma.")
    ] = "mass-offset",
    config: ConfigOption = None,
) -> None:
    """Write synthetic annotated spectra (MGF with SEQ=)."""
    from trmseq.synthetic import write_synthetic_mgf

    cfg = config_mod.load(config)
    start = time.perf_counter()
    with progress() as bar:
        task = bar.add_task("generating", total=n)
        count = write_synthetic_mgf(
            output, n=n, vocab=cfg.vocab.build(), seed=seed, preset=preset,
            lengths=(min_length, max_length), charges=(min_charge, max_charge), fasta=fasta,
            missed_cleavages=missed_cleavages, mod_rate=mod_rate, nterm_rate=nterm_rate,
            notation=notation, on_spectrum=lambda: bar.advance(task),
        )  # fmt: skip
    err.print(f"wrote {count:,} spectra to {output} in {time.perf_counter() - start:.1f} s")


@app.command()
@handle_errors
def configure(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Write the default configuration as commented YAML."""
    from trmseq.io.atomic import atomic_write

    text = config_mod.dump()
    if output is None:
        typer.echo(text, nl=False)
        return
    with atomic_write(output) as handle:
        handle.write(text)
    err.print(f"wrote {output}")


@app.command()
@handle_errors
def inspect(
    spectra: Annotated[list[Path], typer.Argument(help="MGF, mzML or mzXML files or folders.")],
    annotated: Annotated[
        bool, typer.Option(help="Also check each SEQ= annotation against the vocabulary.")
    ] = False,
    labels: LabelsOption = None,
    max_q: MaxQOption = 0.01,
    max_expect: MaxExpectOption = 0.01,
    config: ConfigOption = None,
) -> None:
    """Report what trmseq can use in spectrum files (with --labels: which spectra they label)."""
    from trmseq.io import expand_paths
    from trmseq.labels import read_labels
    from trmseq.reading import usable_spectra
    from trmseq.spectrum import SkipCounter

    cfg = config_mod.load(config)
    files = expand_paths(spectra)
    table = read_labels(labels, max_q, max_expect) if labels else None
    vocab = cfg.vocab.build() if annotated or table else None
    out = Console(soft_wrap=True, markup=False, emoji=False)  # long paths stay on one line, whatever the width
    for path in files:
        counter = SkipCounter()
        charges: dict[int, int] = {}
        for spectrum, _ in usable_spectra([path], cfg.data, counter, vocab, table):
            charges[spectrum.charge or 0] = charges.get(spectrum.charge or 0, 0) + 1
        by_charge = ", ".join(f"{z}+: {n:,}" for z, n in sorted(charges.items()))
        out.print(f"{path}", markup=False, highlight=False)
        out.print(f"  spectra read  {counter.read:>8,}", highlight=False)
        out.print(f"  usable        {counter.n_used:>8,}   ({by_charge or 'none'})", highlight=False)
        out.print(f"  skipped       {counter.n_skipped:>8,}", highlight=False)
        for reason, count in counter.counts.most_common():
            out.print(f"    {count:>8,}  {reason}", markup=False, highlight=False)
    for line in table.summary_lines() if table is not None else []:
        out.print(line, markup=False, highlight=False)
