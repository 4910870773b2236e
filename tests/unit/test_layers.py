"""The package's layers point one way (docs/architecture.md): nothing imports upwards, no import
circles, and the model imports no file formats."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import trmseq

PACKAGE = Path(trmseq.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every trmseq module imported anywhere in a file, inside functions too."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("trmseq"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("trmseq"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        targets = {t for t in imports_of(path) if t in modules and t != name}
        # importing a.b runs a/__init__.py first, but a package importing its own submodules is no circle
        graph[name] = {t for t in targets if not name.startswith(t + ".")}
    return graph


def test_no_import_circles() -> None:
    graph = import_graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                raise AssertionError("import circle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


# docs/architecture.md's table, top to bottom; a module's first name part decides its layer.
LAYERS = (
    ("command line", {"cli", "terminal", "__main__"}),
    ("applications", {"predict", "report", "calibrate", "show", "train"}),
    ("inference", {"inference", "confidence"}),
    ("decoding", {"decode", "search"}),
    ("model", {"model"}),
    ("data", {"data", "reading", "labels", "synthetic", "peptides", "io", "ahead", "background",
              "intensity", "teacher", "variants"}),
    ("batch", {"batch"}),
    ("base", {"", "config", "presets", "vocab", "tokenizer", "masses", "constants", "spectrum", "psm",
              "evaluate", "checkpoint", "device", "paths", "errors"}),
)
# The one documented exception: a checkpoint rebuilds the network and its calibration, and is
# written atomically.
UPWARD_ALLOWED = {("trmseq.checkpoint", t) for t in ("trmseq.model.trm", "trmseq.confidence", "trmseq.io.atomic")}


def layer_of(module: str) -> int:
    """0 for the command line, counting down the table."""
    first = module.removeprefix("trmseq").removeprefix(".").split(".")[0]
    found = [i for i, (_, names) in enumerate(LAYERS) if first in names]
    assert found, f"{module} is in no layer of docs/architecture.md"
    return found[0]


def test_nothing_imports_upwards() -> None:
    upward = sorted((m, t) for m, targets in import_graph().items() for t in targets
                    if layer_of(t) < layer_of(m) and (m, t) not in UPWARD_ALLOWED)  # fmt: skip
    assert not upward


def test_the_model_imports_no_file_format_code() -> None:
    code = ("import sys, trmseq.model, trmseq.inference; "
            "print(sorted(m for m in ('pyteomics', 'lxml', 'pandas', 'trmseq.io', 'trmseq.reading') "
            "if m in sys.modules))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_no_module_over_450_lines() -> None:
    long = {module_name(p): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 450}
    assert not long
