"""Checks of packaging/: the spec, executed with PyInstaller's build steps recorded, bundles the entry
point, the demo weights and resources/ and excludes nothing the app imports; entry point and build script."""

from __future__ import annotations

import ast
import importlib.util
import os
import sys
from pathlib import Path

import pytest

from echoviewer.models.discovery import DEMO_NAMES

from .conftest import ENTRY, ROOT, SPEC, spec_constants

PACKAGING = ROOT / "packaging"


def _app_imports() -> set[str]:
    """Every module name imported anywhere under echoviewer/ (absolute imports)."""
    names: set[str] = set()
    for path in (ROOT / "echoviewer").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
                names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def _excluded(name: str, excludes: list[str]) -> bool:
    return any(name == e or name.startswith(e + ".") for e in excludes)


class _Recorder:
    """Stands in for PyInstaller's build steps: records what the spec passes to each."""

    def __init__(self):
        self.calls: dict[str, tuple] = {}

    def step(self, name: str):
        recorder = self

        class Step:
            def __init__(self, *args, **kwargs):
                recorder.calls[name] = (args, kwargs)
                self.args, self.kwargs = args, kwargs
                # what Analysis collects: the spec drops Qt translations and torch's C++ headers
                self.datas = list(kwargs.get("datas", [])) + [("PySide6/Qt/translations/qt_de.qm", "x", "DATA"),
                                                              ("torch/include/ATen.h", "x", "DATA")]
                self.binaries = [("torch/lib/libtorch.so", "x", "BINARY")]
                self.pure, self.scripts = [], []

        return Step


def _run_spec(tmp_path, monkeypatch, weights_dir=None) -> _Recorder:
    """Execute packaging/echoviewer.spec as PyInstaller would, with its build steps recorded."""
    import types

    rec = _Recorder()
    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.collect_submodules = lambda pkg: [f"{pkg}.fake_submodule"]
    hooks.copy_metadata = lambda dist: [(f"/site/{dist}.dist-info", f"{dist}.dist-info")]
    for name in ("PyInstaller", "PyInstaller.utils"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "PyInstaller.utils.hooks", hooks)
    if weights_dir is not None:
        monkeypatch.setenv("ECHOVIEWER_BUNDLE_WEIGHTS", str(weights_dir))
    else:
        monkeypatch.delenv("ECHOVIEWER_BUNDLE_WEIGHTS", raising=False)
    env = {"SPECPATH": str(SPEC.parent), "DISTPATH": str(tmp_path / "dist"), "__file__": str(SPEC)}
    env.update({n: rec.step(n) for n in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE")})
    exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), env)
    rec.env = env
    return rec


def test_spec_builds_the_app_from_the_entry_weights_and_resources(tmp_path, monkeypatch):
    weights = tmp_path / "w"
    weights.mkdir()
    for n in [n for t in DEMO_NAMES.values() for n in (t, t.replace(".pt", ".json"))]:
        (weights / n).write_bytes(b"x")
    rec = _run_spec(tmp_path, monkeypatch, weights)
    c = spec_constants()
    (scripts,), analysis = rec.calls["Analysis"]
    assert [Path(s).resolve() for s in scripts] == [ENTRY] and ENTRY.is_file()
    datas = analysis["datas"]
    assert sorted(d for s, d in datas if Path(s).parent == weights) == ["weights"] * 4  # sys._MEIPASS/weights
    assert sorted(Path(s).name for s, d in datas if d == "weights") == sorted(c["DEMO_WEIGHTS"])
    assert (str(ROOT / "resources"), "echoviewer/resources") in datas  # importlib.resources in the build
    assert ("/site/pydicom.dist-info", "pydicom.dist-info") in datas
    assert analysis["excludes"] == c["EXCLUDES"]
    assert "echoviewer.fake_submodule" in analysis["hiddenimports"]  # subcommands are imported by name
    assert set(c["HIDDEN_IMPORTS"]) <= set(analysis["hiddenimports"])
    _, exe = rec.calls["EXE"]
    assert exe["name"] == "echoviewer" and Path(exe["icon"]).is_file()
    assert Path(exe["icon"]).is_relative_to(ROOT / "resources" / "icons")
    coll_args, coll = rec.calls["COLLECT"]
    kept = [e[0] for e in coll_args[2]]
    assert not any(k.startswith(("PySide6/Qt/translations/", "torch/include/")) for k in kept)
    assert coll["name"] == "echoviewer"
    assert (tmp_path / "dist" / "echoviewer" / "weights" / "README.txt").is_file()  # user weights folder
    for f in ("ICON_PNG", "ICON_ICO", "ICON_ICNS"):
        assert (ROOT / c[f]).is_file(), c[f]


def test_spec_refuses_to_build_without_demo_weights(tmp_path, monkeypatch):
    empty = tmp_path / "none"
    empty.mkdir()
    with pytest.raises(SystemExit) as exc:
        _run_spec(tmp_path, monkeypatch, empty)
    assert "demo weights missing" in str(exc.value) and "demo_segmentation.pt" in str(exc.value)


def test_excludes_cover_unused_qt_and_dev_packages():
    ex = set(spec_constants()["EXCLUDES"])
    for must in ("PySide6.QtWebEngineCore", "PySide6.QtWebEngineWidgets", "PySide6.Qt3DCore",
                 "PySide6.QtQuick", "PySide6.QtQml", "PySide6.QtMultimedia", "PySide6.QtPdf",
                 "PySide6.QtCharts", "PySide6.QtDataVisualization", "PySide6.QtBluetooth",
                 "PySide6.QtNetwork", "PySide6.QtSql", "PySide6.QtTest",
                 "pytest", "hypothesis", "PyInstaller", "IPython", "tkinter", "setuptools"):
        assert must in ex, must


def test_excludes_nothing_the_app_or_its_libraries_need():
    excludes = spec_constants()["EXCLUDES"]
    used = {n for n in _app_imports() if _excluded(n, excludes)}
    assert not used, f"echoviewer imports excluded modules: {sorted(used)}"
    # Qt modules the app and pyqtgraph load; torch and its CUDA libraries (libtorch_cuda.so needs
    # cudart, cublas, cudnn, ... at load time: without them `import torch` fails)
    for needed in ("PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets", "PySide6.QtOpenGL",
                   "PySide6.QtOpenGLWidgets", "PySide6.QtSvg", "torch", "torchvision", "nvidia",
                   "nvidia.cudnn", "sympy", "scipy", "cv2", "pydicom", "pylibjpeg", "openjpeg", "rle", "gdcm",
                   "pyqtgraph", "numpy", "PIL", "unittest", "matplotlib", "reportlab"):
        assert not _excluded(needed, excludes), needed


def test_pylibjpeg_plugins_travel_with_the_build():
    c = spec_constants()
    assert {"openjpeg", "rle"} <= set(c["HIDDEN_IMPORTS"])
    assert {"pydicom", "pylibjpeg", "pylibjpeg-openjpeg", "pylibjpeg-rle"} <= set(c["METADATA"])


def _load_entry():
    spec = importlib.util.spec_from_file_location("echoviewer_frozen_entry", ENTRY)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_entry_point_maps_selftest_and_imports_neither_torch_nor_qt_itself():
    entry = _load_entry()
    assert entry._argv([]) == []                                   # double-click -> gui (cli.main)
    assert entry._argv(["/data/study"]) == ["/data/study"]          # folder -> gui (cli.main)
    assert entry._argv(["--selftest"]) == ["selftest"]
    assert entry._argv(["--selftest", "--loop", "x.avi"]) == ["selftest", "--loop", "x.avi"]
    assert entry._argv(["-psn_0_12345"]) == []                      # macOS Finder
    tree = ast.parse(ENTRY.read_text(encoding="utf-8"))
    main = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main")
    order = []
    for node in ast.walk(main):
        if isinstance(node, ast.Import):
            order += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            order.append(node.module)
    assert "echoviewer.cli" in order
    # the window's process must not load torch (see tests/ui/test_real_pipeline.py), nor Qt here
    assert not any(n and n.split(".")[0] in ("torch", "PySide6") for n in order)


def test_cli_knows_selftest():
    from echoviewer.cli import COMMANDS, build_parser

    assert ("selftest", "echoviewer.commands.selftest") in COMMANDS
    args = build_parser("selftest").parse_args(["selftest", "--min-beats", "0"])
    assert args.command == "selftest" and args.min_beats == 0 and args.device == "cpu"


def test_build_script():
    sh = PACKAGING / "build.sh"
    text = sh.read_text(encoding="utf-8")
    assert os.access(sh, os.X_OK) or os.name == "nt"
    assert "packaging/echoviewer.spec" in text and "--distpath dist" in text
    assert "pip install" in text and "pyinstaller" in text  # installs PyInstaller when missing
    assert not (PACKAGING / "__init__.py").exists(), "packaging/ must not shadow the `packaging` library"
