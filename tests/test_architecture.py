"""The import contract (tests/import_contract.py) holds for echoviewer/, and its checker catches each
kind of break on small synthetic packages, so a pass on the real tree means something."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.import_contract import (
    LAYERS,
    collect_imports,
    describe_cycle,
    find_cycles,
    layer_of,
    layer_violations,
    qt_violations,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def graph():
    return collect_imports(ROOT)


# -- the real tree ------------------------------------------------------------------------------

def test_only_the_ui_imports_qt(graph):
    assert qt_violations(graph) == []


def test_no_module_imports_a_higher_layer(graph):
    assert layer_violations(graph) == []


def test_no_import_cycles(graph):
    cycles = find_cycles(graph)
    assert not cycles, "\n".join(describe_cycle(c, graph) for c in cycles)


def test_the_graph_sees_lazy_and_relative_imports(graph):
    """Guards the checker's view of the tree: a function-level import and a relative one are edges."""
    analyze = {i.imported for i in graph["echoviewer.commands.analyze"]}
    assert "echoviewer.pipeline.analyzer" in analyze  # imported inside run()
    assert "echoviewer.models.manifest" in {i.imported for i in graph["echoviewer.models.discovery"]}  # from .manifest


def test_every_subcommand_module_is_a_command_or_the_window():
    from echoviewer.cli import COMMANDS

    allowed = {layer_of("echoviewer.commands"), layer_of("echoviewer.ui")}
    for name, module in COMMANDS:
        assert layer_of(module) in allowed, (name, module)
        assert (ROOT / (module.replace(".", "/") + ".py")).is_file(), module


def test_the_layer_table_names_packages_once():
    names = [n for _, names in LAYERS for n in names]
    assert len(names) == len(set(names))
    assert layer_of("echoviewer.io.loop") < layer_of("echoviewer.analysis.tracing") < layer_of("echoviewer.pipeline")
    assert layer_of("echoviewer.commands.analyze") < layer_of("echoviewer.ui.cli") < layer_of("echoviewer.cli")
    assert layer_of("echoviewer") == 0 and layer_of("echoviewer.foo") is None  # the top package is its __init__ only


# -- the checker on synthetic trees --------------------------------------------------------------

#: A tiny architecture for the synthetic trees: core below ui below the entry point.
TOY_LAYERS = (
    ("foundation", ("echoviewer", "echoviewer.errors")),
    ("core", ("echoviewer.core", "echoviewer.extra")),
    ("ui", ("echoviewer.ui",)),
    ("entry", ("echoviewer.cli",)),
)


def tree(tmp_path: Path, files: dict[str, str]) -> dict:
    """Write ``files`` (path under echoviewer/ -> source) plus the packages' __init__ files, and
    return their import graph."""
    base = tmp_path / "echoviewer"
    for rel, src in {"__init__.py": "", "core/__init__.py": "", "extra/__init__.py": "", "ui/__init__.py": "",
                     **files}.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(src), encoding="utf-8")
    return collect_imports(tmp_path)


CLEAN = {
    "errors.py": "import os\n",
    "core/a.py": "import numpy\nfrom echoviewer.errors import x\n",
    "core/b.py": "from . import a\nfrom .a import thing\n",
    "ui/view.py": "from PySide6.QtWidgets import QWidget\nimport pyqtgraph as pg\nfrom echoviewer.core import b\n",
    "cli.py": "def main():\n    from echoviewer.ui import view\n",
}


def test_a_clean_tree_passes(tmp_path):
    g = tree(tmp_path, CLEAN)
    assert qt_violations(g) == [] and layer_violations(g, TOY_LAYERS) == [] and find_cycles(g) == []
    assert {i.imported for i in g["echoviewer.core.b"]} == {"echoviewer.core.a"}  # relative, resolved
    assert {i.imported for i in g["echoviewer.cli"]} == {"echoviewer.ui.view"}   # lazy counts


@pytest.mark.parametrize("source", [
    "from PySide6.QtCore import QObject\n",
    "import pyqtgraph\n",
    "def f():\n    import shiboken6\n",           # lazy
    "if False:\n    from PySide6 import QtGui\n",
])
def test_qt_outside_the_ui_is_caught(tmp_path, source):
    g = tree(tmp_path, {**CLEAN, "core/plot.py": source})
    found = qt_violations(g)
    assert len(found) == 1 and found[0].startswith("echoviewer.core.plot:")


@pytest.mark.parametrize("source, target", [
    ("from echoviewer.ui import view\n", "echoviewer.ui.view"),
    ("import echoviewer.ui.view\n", "echoviewer.ui.view"),
    ("def f():\n    from echoviewer.cli import main\n", "echoviewer.cli"),   # lazy, a name of a module
    ("from ..ui.view import Thing\n", "echoviewer.ui.view"),                # relative
])
def test_an_upward_import_is_caught(tmp_path, source, target):
    g = tree(tmp_path, {**CLEAN, "core/c.py": source})
    found = layer_violations(g, TOY_LAYERS)
    assert len(found) == 1 and found[0].startswith("echoviewer.core.c:") and target in found[0], found
    assert "(core)" in found[0] and "higher layer" in found[0]


def test_the_foundation_may_not_import_the_core(tmp_path):
    g = tree(tmp_path, {**CLEAN, "errors.py": "from echoviewer.core.a import thing\n"})
    assert layer_violations(g, TOY_LAYERS) == [
        "echoviewer.errors:1 (foundation) imports echoviewer.core.a (higher layer: core)"]


def test_a_module_outside_every_layer_is_reported(tmp_path):
    g = tree(tmp_path, {**CLEAN, "stray.py": ""})
    assert layer_violations(g, TOY_LAYERS) == ["echoviewer.stray is in no layer: add it to the layer table"]


def test_imports_within_a_layer_are_allowed(tmp_path):
    g = tree(tmp_path, {**CLEAN, "extra/x.py": "from echoviewer.core import a\n"})
    assert layer_violations(g, TOY_LAYERS) == []


def test_a_two_module_cycle_is_caught_even_through_a_lazy_import(tmp_path):
    g = tree(tmp_path, {**CLEAN, "core/a.py": "def f():\n    from echoviewer.core.b import y\n"})
    assert find_cycles(g) == [["echoviewer.core.a", "echoviewer.core.b"]]
    text = describe_cycle(find_cycles(g)[0], g)
    assert "echoviewer.core.a:2 -> echoviewer.core.b" in text and "echoviewer.core.b:1 -> echoviewer.core.a" in text


def test_a_longer_cycle_and_a_self_import_are_caught(tmp_path):
    g = tree(tmp_path, {**CLEAN,
                        "core/p.py": "from echoviewer.core import q\n",
                        "core/q.py": "import echoviewer.core.r\n",
                        "core/r.py": "from .p import z\n",
                        "extra/me.py": "def f():\n    from echoviewer.extra import me\n"})
    assert find_cycles(g) == [["echoviewer.core.p", "echoviewer.core.q", "echoviewer.core.r"], ["echoviewer.extra.me"]]


def test_a_package_init_and_its_module_form_a_cycle(tmp_path):
    """`from echoviewer.core import thing` (a name, not a module) imports the package's __init__."""
    g = tree(tmp_path, {**CLEAN, "core/__init__.py": "from echoviewer.core.a import thing\n",
                        "core/a.py": "from echoviewer.core import other\n"})
    assert find_cycles(g) == [["echoviewer.core", "echoviewer.core.a"]]
