"""resources/: what the app ships besides code, checked with the desktop's own validators, read by
the window, and installed with the package."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
import tomllib
import zipfile

import pytest
from PIL import Image

from .conftest import ROOT

RES = ROOT / "resources"
APP_ID = "org.echoviewer.EchoViewer"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:  # .ci/run installs it (Debian: desktop-file-utils, appstream)
        pytest.fail(f"{name} is not installed: apt-get install desktop-file-utils appstream")
    return path


def test_icons_in_the_sizes_desktops_use():
    for n in SIZES:
        png = RES / "icons" / "hicolor" / f"{n}x{n}" / "apps" / f"{APP_ID}.png"
        assert Image.open(png).size == (n, n), png
    svg = (RES / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and 'viewBox="0 0 1024 1024"' in svg
    ico = Image.open(RES / "icons" / "echoviewer.ico")
    assert ico.format == "ICO" and {(16, 16), (32, 32), (256, 256)} <= set(ico.info["sizes"])
    assert Image.open(RES / "icons" / "echoviewer.icns").format == "ICNS"


def test_svg_renders_like_the_png(qapp):
    """The scalable icon is the same picture as the PNGs (same geometry, two renderings)."""
    import numpy as np
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(RES / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"))
    assert renderer.isValid()
    img = QImage(64, 64, QImage.Format.Format_RGBA8888)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    renderer.render(p)
    p.end()
    svg = np.frombuffer(img.constBits(), np.uint8).reshape(64, 64, 4)[..., :3].astype(float)
    png = np.asarray(Image.open(RES / "icons" / "hicolor" / "64x64" / "apps" / f"{APP_ID}.png")
                     .convert("RGB")).astype(float)
    assert np.abs(svg - png).mean() < 12  # antialiasing and blur differ; a different picture is > 40


def test_desktop_entry_validates():
    desktop = RES / "linux" / f"{APP_ID}.desktop"
    r = subprocess.run([_tool("desktop-file-validate"), str(desktop)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and not r.stdout.strip(), r.stdout + r.stderr
    cp = configparser.ConfigParser(interpolation=None)
    cp.optionxform = str
    cp.read(desktop, encoding="utf-8")
    d = cp["Desktop Entry"]
    assert d["Icon"] == APP_ID and d["Exec"].split()[0] == "echoviewer" and d["Terminal"] == "false"


def test_appstream_metadata_validates():
    meta = RES / "linux" / f"{APP_ID}.metainfo.xml"
    r = subprocess.run([_tool("appstreamcli"), "validate", "--no-net", str(meta)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    text = meta.read_text(encoding="utf-8")
    assert f"<id>{APP_ID}</id>" in text and f"{APP_ID}.desktop</launchable>" in text
    assert "not for clinical use" in text


def test_style_sheet_names_only_theme_colours(qapp):
    from echoviewer.ui import theme

    qss = theme.style_sheet()
    assert "$" not in qss and theme.BG in qss and theme.ACCENT in qss


def test_window_gets_the_app_icon(qapp):
    from echoviewer.ui import theme

    theme.apply_theme(qapp)
    sizes = {(s.width(), s.height()) for s in qapp.windowIcon().availableSizes()}
    assert {(n, n) for n in SIZES} <= sizes
    assert qapp.desktopFileName() == APP_ID


def test_every_package_is_listed_for_install():
    """pyproject lists the packages by hand (resources/ maps to echoviewer.resources): a package
    added under echoviewer/ and not listed would be missing from wheels."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "echoviewer").rglob("__init__.py")}
    assert on_disk | {"echoviewer.resources"} == listed


@pytest.mark.slow
def test_wheel_carries_the_resources(tmp_path):
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                        "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    (whl,) = tmp_path.glob("echoviewer-*.whl")
    names = set(zipfile.ZipFile(whl).namelist())
    shipped = {f"echoviewer/resources/{p.relative_to(RES).as_posix()}" for p in RES.rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    assert shipped and shipped <= names, sorted(shipped - names)
    assert "echoviewer/py.typed" in names
