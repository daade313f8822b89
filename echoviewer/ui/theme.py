"""Dark theme for a dim echo lab: low-glare greys, one warm accent, high-contrast text."""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

from importlib.resources import files
from importlib.resources.abc import Traversable
from string import Template

import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont, QIcon, QPalette, QPixmap
from PySide6.QtWidgets import QApplication

BG = "#15181c"  # window
PANEL = "#1c2026"  # panels, lists
BASE = "#111418"  # inputs, plots
BORDER = "#2c323a"
TEXT = "#d8dde3"
MUTED = "#8b949e"
ACCENT = "#3d8bd4"  # selection, progress
WARN = "#e0a030"
ERROR = "#e5534b"
OK = "#57ab5a"

ED_COLOR = "#ff6b6b"  # end-diastole markers
ES_COLOR = "#4dabf7"  # end-systole markers
EF_COLOR = "#ffd43b"  # per-beat EF points
AREA_COLOR = "#c9d1d9"
CURSOR_COLOR = "#f0f0f0"
EXCLUDED_COLOR = "#6e7681"
FLAGGED_COLOR = "#ff922b"
CORRECTED_COLOR = "#b197fc"  # corrected values (✎): the sonographer's, not the model's

#: The colours the style sheet (resources/theme/dark.qss) names as $NAME.
COLORS = {k: v for k, v in dict(globals()).items() if k.isupper() and isinstance(v, str) and v.startswith("#")}
APP_ID = "org.echoviewer.EchoViewer"


def resource(relative: str) -> Traversable:
    """A file the app ships in resources/ (a source checkout, an installed wheel or the frozen app)."""
    node = files("echoviewer.resources")
    for part in relative.split("/"):
        node = node.joinpath(part)
    return node


def style_sheet() -> str:
    """The Qt style sheet with the theme's colours filled in (a missing colour raises KeyError)."""
    return Template(resource("theme/dark.qss").read_text(encoding="utf-8")).substitute(COLORS)


def app_icon() -> QIcon:
    """The app icon in every size shipped (desktops pick the nearest), for windows and the taskbar."""
    icon = QIcon()
    sizes = resource("icons/hicolor")
    for entry in sorted(sizes.iterdir(), key=lambda e: e.name):
        png = entry.joinpath("apps", f"{APP_ID}.png")
        if png.is_file():
            pm = QPixmap()
            pm.loadFromData(png.read_bytes(), "PNG")
            icon.addPixmap(pm)
    return icon



def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: BG,
        QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: BASE,
        QPalette.ColorRole.AlternateBase: PANEL,
        QPalette.ColorRole.ToolTipBase: PANEL,
        QPalette.ColorRole.ToolTipText: TEXT,
        QPalette.ColorRole.Text: TEXT,
        QPalette.ColorRole.Button: "#262b33",
        QPalette.ColorRole.ButtonText: TEXT,
        QPalette.ColorRole.Highlight: ACCENT,
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.PlaceholderText: MUTED,
        QPalette.ColorRole.Link: ACCENT,
    }
    for role, color in roles.items():
        pal.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(MUTED))
    app.setPalette(pal)
    font = app.font()
    if font.pointSizeF() < 9.5:
        font.setPointSizeF(10)
    app.setFont(font)
    app.setStyleSheet(style_sheet())
    app.setWindowIcon(app_icon())
    app.setDesktopFileName(APP_ID)  # Wayland and taskbars match windows to the desktop entry by it
    configure_pyqtgraph()


def configure_pyqtgraph() -> None:
    pg.setConfigOptions(background=BASE, foreground=MUTED, antialias=True)


def mono_font(size: float = 10) -> QFont:
    f = QFont("DejaVu Sans Mono")
    f.setStyleHint(QFont.StyleHint.Monospace)
    f.setPointSizeF(size)
    return f
