"""The label table: identifications kept by the threshold, joined to spectra as they are read.

Every identification read ends up counted exactly once: kept (it labels a usable spectrum) or
skipped under a reason: a decoy, a contaminant, over the threshold, a second identification of
a spectrum, a peptide the vocabulary cannot express, a mass that does not fit the precursor,
a spectrum that is unusable anyway, or no spectrum to join to (no such run, no such spectrum).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from trmseq.labels.identification import Identification, LabelFile, run_name, spectrum_keys
from trmseq.spectrum import Spectrum

SAME_SPECTRUM = "another identification of the same spectrum came first"
NO_SPECTRUM = "matches no spectrum in the input files"


class Labels:
    """Identifications from labels files, looked up by spectrum; counts what becomes of each.

    Parameters
    ----------
    files
        What the readers returned, one per labels file.
    max_q
        Identifications with a q-value above this are not labels; the default is 0.01.
    max_expect
        For files without q-values: identifications with an expectation value above this are
        not labels; the default is 0.01.
    """

    def __init__(self, files: Sequence[LabelFile], max_q: float = 0.01, max_expect: float = 0.01) -> None:
        self.files = tuple(files)
        self.max_q, self.max_expect = max_q, max_expect
        self.read = self.joined = self.kept = 0
        self.skipped: Counter[str] = Counter()
        self._ids: list[Identification] = []
        self._owner: list[tuple[str, str] | None] = []  # (file, ref) of the spectrum it labels
        self._settled: list[bool] = []
        self._index: dict[tuple[str, str, str], int] = {}
        self._runs_seen: set[str] = set()
        self._unlabelled: set[tuple[str, str]] = set()
        self._pending: int | None = None  # the label taken last, until its outcome is known
        self._last_kept = False
        for f in self.files:
            for ident in f.identifications:
                self._add(ident, f.score)

    @property
    def paths(self) -> list[str]:
        """The labels files, in the order given."""
        return [f.path for f in self.files]

    def _add(self, ident: Identification, score: str | None) -> None:
        self.read += 1
        run = (ident.run or "").lower()
        reason = self._filter(ident, score)
        if reason is None and any((run, *key) in self._index for key in ident.keys):
            reason = SAME_SPECTRUM
        if reason is not None:
            self.skipped[reason] += 1
            return
        for key in ident.keys:
            self._index[(run, *key)] = len(self._ids)
        self._ids.append(ident)
        self._owner.append(None)
        self._settled.append(False)

    def _filter(self, ident: Identification, score: str | None) -> str | None:
        """Why an identification is not a label at all, or None."""
        if ident.decoy:
            return "decoy"
        if ident.contaminant:
            return "contaminant"
        if score == "q-value":
            if ident.q_value is None:
                return "no q-value"
            if ident.q_value > self.max_q:
                return f"q-value above {self.max_q:g}"
        elif score == "expect":
            if ident.expect is None:
                return "no expect value"
            if ident.expect > self.max_expect:
                return f"expect above {self.max_expect:g}"
        return None

    # -- joining -----------------------------------------------------------------------------

    def take(self, spectrum: Spectrum) -> Identification | None:
        """The label of a spectrum, or None if it has none.

        Identifications that name a run only match spectra of that run; the others match a
        spectrum of any file. Each labels one spectrum only (the same one again when a file is
        read twice, e.g. for training and validation). A spectrum matched by several
        identifications (through different keys) gets the first; the others are skipped.
        """
        run = run_name(spectrum.file).lower()
        self._runs_seen.add(run)
        me = (spectrum.file, spectrum.ref)
        found: list[int] = []
        for kind, value in spectrum_keys(spectrum):
            for r in (run, ""):
                i = self._index.get((r, kind, value))
                if i is not None and i not in found and self._owner[i] in (None, me):
                    found.append(i)
        self._pending = None
        if not found:
            self._unlabelled.add(me)
            return None
        for i in found:
            if self._owner[i] is None:
                self._owner[i] = me
                if i != found[0]:
                    self._settled[i] = True
                    self.skipped[SAME_SPECTRUM] += 1
        first = found[0]
        if not self._settled[first]:
            self._pending = first
            self.joined += 1
        return self._ids[first]

    def settle(self, reason: str | None) -> None:
        """Record what became of the label taken last: kept (None), or skipped for ``reason``.

        A label met again (its file read a second time) was counted the first time.
        """
        self._last_kept = False
        if self._pending is None:
            return
        self._settled[self._pending] = True
        self._pending = None
        if reason is None:
            self.kept += 1
            self._last_kept = True
        else:
            self.skipped[reason] += 1

    def unkeep(self, reason: str) -> None:
        """Undo the last :meth:`settle` that kept a label, e.g. when training drops its spectrum."""
        if self._last_kept:
            self._last_kept = False
            self.kept -= 1
            self.skipped[reason] += 1

    @property
    def n_unlabelled(self) -> int:
        """Spectra read that no identification labels."""
        return len(self._unlabelled)

    # -- reporting ---------------------------------------------------------------------------

    def skip_counts(self) -> Counter[str]:
        """Skipped identifications by reason, those that met no spectrum (so far) included."""
        counts = Counter(self.skipped)
        for ident, owner in zip(self._ids, self._owner, strict=True):
            if owner is None:
                if ident.run and ident.run.lower() not in self._runs_seen:
                    counts[f"names run {ident.run!r}, which matches no input file"] += 1
                else:
                    counts[NO_SPECTRUM] += 1
        return +counts

    def summary(self) -> dict:
        """The counts as plain data: read = kept + sum(skipped)."""
        return {"files": {f.path: _threshold(f, self.max_q, self.max_expect) for f in self.files},
                "read": self.read, "joined": self.joined, "kept": self.kept,
                "skipped": dict(self.skip_counts().most_common()),
                "spectra_without_label": self.n_unlabelled}  # fmt: skip

    def brief(self) -> str:
        """One line: the counts and the three most common skip reasons."""
        top = "; ".join(f"{n:,} {reason}" for reason, n in self.skip_counts().most_common(3))
        return (f"labels: {self.read:,} read, {self.joined:,} joined to spectra, {self.kept:,} kept"
                + (f"; skipped {top}" if top else ""))  # fmt: skip

    def summary_lines(self) -> list[str]:
        """The summary as lines of text for the terminal."""
        n_files = len(self.files)
        lines = [f"labels: {self.read:,} identifications read from {n_files} file"
                 f"{'s' if n_files != 1 else ''}; {self.joined:,} joined to spectra, "
                 f"{self.kept:,} kept"]  # fmt: skip
        for f in self.files:
            lines.append(f"  {f.path}: {len(f.identifications):,} identifications, "
                         f"{_threshold(f, self.max_q, self.max_expect)}")  # fmt: skip
        lines.extend(f"  skipped {n:,}: {reason}" for reason, n in self.skip_counts().most_common())
        lines.append(f"  spectra without a label: {self.n_unlabelled:,}")
        return lines


def _threshold(f: LabelFile, max_q: float, max_expect: float) -> str:
    if f.score == "q-value":
        return f"kept if q-value <= {max_q:g}" + (f" ({f.note})" if f.note else "")
    if f.score == "expect":
        return f"kept if expect <= {max_expect:g} (no q-values in the file)"
    return "no q-values or expect values: every target identification kept"
