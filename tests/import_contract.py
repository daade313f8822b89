"""The import contract: the layer table of echoviewer/ and the checker that enforces it.

Every ``import`` under echoviewer/ counts, at module level or inside a function (a lazy import
still runs, and still ties the two modules together), under ``if TYPE_CHECKING:`` too. Three rules:

1. Nothing outside ``echoviewer/ui/`` imports Qt (``QT_MODULES``).
2. A module imports only packages of its own layer or of lower layers (``LAYERS``, lowest first).
3. No import cycles between modules.

``tests/test_architecture.py`` runs the checker over the real tree and over small synthetic trees,
so a broken rule cannot pass unnoticed. ``scripts/lint.sh`` runs that test.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

#: The architecture, lowest layer first. A module may import its own layer's packages and lower
#: ones, never a higher layer's. Each name covers the module or package and everything under it;
#: the longest matching name wins (``echoviewer`` itself is only the top-level package's
#: ``__init__``: every module of it is named below).
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("foundation", ("echoviewer", "echoviewer.paths", "echoviewer.errors", "echoviewer.formatting",
                    "echoviewer.applog")),  # nothing of ours
    ("io", ("echoviewer.io",)),                    # readers, study scanning, the native <-> 112 grid, EchoNet AVIs
    ("geometry and models", ("echoviewer.analysis", "echoviewer.models")),  # tracings, beats, EF; weights
    ("datasets and phantoms", ("echoviewer.dataset", "echoviewer.synthetic")),  # EchoNet folders; exact truth
    ("pipeline", ("echoviewer.pipeline",)),        # loop -> masks -> beats -> per-beat EF
    ("lab workflow", ("echoviewer.annotations", "echoviewer.export", "echoviewer.reports", "echoviewer.evaluation",
                      "echoviewer.pacs", "echoviewer.training", "echoviewer.batch")),
    ("session", ("echoviewer.session",)),          # a study's loops and their state, no Qt
    ("commands", ("echoviewer.commands",)),        # `echoviewer ...` subcommands: parsing, progress, exit codes
    ("ui", ("echoviewer.ui",)),                    # Qt: window, views, dialogs, the `gui` subcommand
    ("entry", ("echoviewer.cli", "echoviewer.__main__")),  # the dispatcher: wires commands and the window
)

#: Top-level modules only the UI may import.
QT_MODULES = ("PySide6", "pyqtgraph", "shiboken6")
#: The only package allowed to import them.
QT_PACKAGE = "echoviewer.ui"


@dataclass(frozen=True)
class Import:
    importer: str      # dotted module name
    imported: str      # dotted name as resolved: an internal module, or the external name as written
    line: int


def module_name(path: Path, root: Path) -> str:
    """Dotted name of ``path`` (a .py file) below ``root`` (the folder holding the top package)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(name: str, known: set[str]) -> str:
    """``name`` or its longest known ancestor (``pkg.mod.func`` -> ``pkg.mod``); external names as written."""
    probe = name
    while probe and probe not in known:
        probe = probe.rpartition(".")[0]
    return probe or name


def _imports_of(module: str, is_package: bool, tree: ast.AST, known: set[str]) -> list[Import]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [Import(module, _resolve(a.name, known), node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the importer's package upwards
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # `from pkg import mod` imports the module pkg.mod; `from pkg import name` only pkg
            for a in node.names:
                sub = f"{source}.{a.name}"
                out.append(Import(module, sub if sub in known else _resolve(source, known), node.lineno))
    return list(dict.fromkeys(out))  # `from a import b, c` of one module: one entry


def collect_imports(root: Path, package: str = "echoviewer") -> dict[str, list[Import]]:
    """Every module of ``package`` (found under ``root``) -> the imports in it, lazy ones included."""
    files = {module_name(p, root): p for p in sorted((root / package).rglob("*.py"))}
    known = set(files)
    return {
        mod: _imports_of(mod, path.name == "__init__.py", ast.parse(path.read_text(encoding="utf-8"), str(path)),
                         known)
        for mod, path in files.items()
    }


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def layer_of(module: str, layers=LAYERS) -> int | None:
    """Index of ``module``'s layer in ``layers`` (longest matching name), None when none matches."""
    best: tuple[int, int] | None = None  # (prefix length, layer index)
    for index, (_, names) in enumerate(layers):
        for prefix in names:
            # the top package's own name covers only its __init__, not every module below it
            hit = module == prefix if "." not in prefix else _under(module, prefix)
            if hit and (best is None or len(prefix) > best[0]):
                best = (len(prefix), index)
    return None if best is None else best[1]


def qt_violations(graph: dict[str, list[Import]], qt_modules=QT_MODULES, qt_package=QT_PACKAGE) -> list[str]:
    return [
        f"{imp.importer}:{imp.line} imports {imp.imported} (only {qt_package} may import Qt)"
        for imports in graph.values()
        for imp in imports
        if not _under(imp.importer, qt_package) and imp.imported.split(".")[0] in qt_modules
    ]


def layer_violations(graph: dict[str, list[Import]], layers=LAYERS, package: str = "echoviewer") -> list[str]:
    """Upward imports, and modules (or imported names) that no layer names."""
    found = []
    for module, imports in graph.items():
        own = layer_of(module, layers)
        if own is None:
            found.append(f"{module} is in no layer: add it to the layer table")
            continue
        for imp in imports:
            if not _under(imp.imported, package):
                continue
            theirs = layer_of(imp.imported, layers)
            if theirs is None:
                found.append(f"{imp.importer}:{imp.line} imports {imp.imported}, which is in no layer")
            elif theirs > own:
                found.append(f"{imp.importer}:{imp.line} ({layers[own][0]}) imports {imp.imported} "
                             f"(higher layer: {layers[theirs][0]})")
    return found


def find_cycles(graph: dict[str, list[Import]]) -> list[list[str]]:
    """Groups of modules that import each other, directly or round a longer loop (strongly connected
    components of more than one module, or a module importing itself); each sorted, biggest first."""
    edges = {m: sorted({i.imported for i in imps if i.imported in graph}) for m, imps in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    # Tarjan's algorithm, iterative (a deep package must not hit the recursion limit)
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            if child < len(edges[node]):
                work.append((node, child + 1))
                nxt = edges[node][child]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work:  # report back to the parent
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    group.append(top)
                    if top == node:
                        break
                if len(group) > 1 or node in edges[node]:
                    groups.append(sorted(group))
    return sorted(groups, key=lambda g: (-len(g), g))


def describe_cycle(group: list[str], graph: dict[str, list[Import]]) -> str:
    """One line per import inside the group, so a failure says where to cut."""
    members = set(group)
    lines = [f"{i.importer}:{i.line} -> {i.imported}" for m in group for i in graph[m] if i.imported in members]
    return "cycle between " + ", ".join(group) + ":\n    " + "\n    ".join(lines)
