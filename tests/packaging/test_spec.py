"""Static checks of packaging/: the spec parses and names the entry point, the demo weights and
excludes nothing the app imports; the entry point, icons, desktop entry and build script are sane."""

from __future__ import annotations

import ast
import configparser
import importlib.util
import os


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


def test_spec_parses_and_names_entry_and_weights():
    src = SPEC.read_text(encoding="utf-8")
    compile(src, str(SPEC), "exec")
    c = spec_constants()
    assert (ROOT / c["ENTRY"]).resolve() == ENTRY and ENTRY.is_file()
    assert c["APP_NAME"] == "echoviewer"
    assert sorted(c["DEMO_WEIGHTS"]) == sorted(
        [n for t in DEMO_NAMES.values() for n in (t, t.replace(".pt", ".json"))])
    # bundled under weights/ of the build (sys._MEIPASS/weights is a discovery folder)
    assert '(str(weights_dir / n), "weights") for n in DEMO_WEIGHTS' in src
    assert "ECHOVIEWER_BUNDLE_WEIGHTS" in src
    assert 'collect_submodules("echoviewer")' in src  # subcommands are imported by name
    for f in ("ICON_PNG", "ICON_ICO", "ICON_ICNS"):
        assert (ROOT / c[f]).is_file(), c[f]
    for call in ("Analysis(", "PYZ(", "EXE(", "COLLECT(", "excludes=EXCLUDES", "datas=datas"):
        assert call in src


def test_excludes_cover_unused_qt_and_dev_packages():
    ex = set(spec_constants()["EXCLUDES"])
    for must in ("PySide6.QtWebEngineCore", "PySide6.QtWebEngineWidgets", "PySide6.Qt3DCore",
                 "PySide6.QtQuick", "PySide6.QtQml", "PySide6.QtMultimedia", "PySide6.QtPdf",
                 "PySide6.QtCharts", "PySide6.QtDataVisualization", "PySide6.QtBluetooth",
                 "PySide6.QtNetwork", "PySide6.QtSql", "PySide6.QtTest",
                 "pytest", "hypothesis", "PyInstaller", "IPython", "matplotlib", "tkinter", "setuptools"):
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
                   "pyqtgraph", "numpy", "PIL", "unittest"):
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


def test_entry_point_maps_selftest_and_imports_torch_before_the_cli():
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
    assert "torch" in order and "echoviewer.cli" in order
    assert order.index("torch") < order.index("echoviewer.cli")
    assert not any(n and n.startswith("PySide6") for n in order)


def test_cli_knows_selftest():
    from echoviewer.cli import COMMANDS, build_parser

    assert ("selftest", "echoviewer.commands.selftest") in COMMANDS
    args = build_parser("selftest").parse_args(["selftest", "--min-beats", "0"])
    assert args.command == "selftest" and args.min_beats == 0 and args.device == "cpu"


def test_icons_and_desktop_entry():
    from PIL import Image

    assert Image.open(PACKAGING / "icon.png").size == (512, 512)
    ico = Image.open(PACKAGING / "icon.ico")
    assert ico.format == "ICO" and (256, 256) in ico.info["sizes"] and (16, 16) in ico.info["sizes"]
    assert Image.open(PACKAGING / "icon.icns").format == "ICNS"
    cp = configparser.ConfigParser(interpolation=None)
    cp.optionxform = str
    cp.read(PACKAGING / "echoviewer.desktop", encoding="utf-8")
    d = cp["Desktop Entry"]
    assert d["Type"] == "Application" and d["Name"] == "EchoViewer" and d["Icon"] == "echoviewer"
    assert d["Exec"].split()[0] == "echoviewer" and d["Exec"].split()[1] in ("%f", "%F")
    assert d["Terminal"] == "false" and d["Categories"].endswith(";")


def test_build_script():
    sh = PACKAGING / "build.sh"
    text = sh.read_text(encoding="utf-8")
    assert os.access(sh, os.X_OK) or os.name == "nt"
    assert "packaging/echoviewer.spec" in text and "--distpath dist" in text
    assert "pip install" in text and "pyinstaller" in text  # installs PyInstaller when missing
    assert not (PACKAGING / "__init__.py").exists(), "packaging/ must not shadow the `packaging` library"
