"""Dark theme for a dim echo lab: low-glare greys, one warm accent, high-contrast text."""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont, QPalette
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

STYLE = f"""
QMainWindow, QDialog {{ background: {BG}; }}
QWidget {{ color: {TEXT}; font-size: 10pt; }}
QWidget:disabled {{ color: #5c636b; }}
QToolTip {{ background: {PANEL}; color: {TEXT}; border: 1px solid {BORDER}; padding: 4px; }}
QMenuBar {{ background: {BG}; border-bottom: 1px solid {BORDER}; }}
QMenuBar::item:selected, QMenu::item:selected {{ background: {ACCENT}; color: white; }}
QMenu {{ background: {PANEL}; border: 1px solid {BORDER}; }}
QMenu::item {{ padding: 5px 24px 5px 20px; }}
QMenu::item:disabled {{ color: {MUTED}; }}
QToolBar {{ background: {BG}; border: none; border-bottom: 1px solid {BORDER}; spacing: 4px; padding: 3px 6px; }}
QToolBar QToolButton {{ padding: 4px 9px; border-radius: 4px; }}
QToolButton:hover {{ background: #262b33; }}
QToolButton:checked {{ background: #24384d; color: white; }}
QToolButton:checked:disabled {{ background: transparent; color: #5c636b; }}
QStatusBar {{ background: {BG}; border-top: 1px solid {BORDER}; color: {MUTED}; }}
QStatusBar QLabel {{ color: {MUTED}; padding: 0 6px; }}
QListWidget {{ background: {PANEL}; border: 1px solid {BORDER}; border-radius: 4px; outline: none; }}
QListWidget::item {{ padding: 6px 4px; border-bottom: 1px solid {BORDER}; }}
QListWidget::item:selected {{ background: #24384d; color: white; }}
QListWidget::item:hover:!selected {{ background: #20252c; }}
QPushButton {{ background: #262b33; border: 1px solid {BORDER}; border-radius: 4px; padding: 5px 12px; }}
QPushButton:hover {{ background: #2d333c; }}
QPushButton:pressed {{ background: #1f2329; }}
QPushButton:checked {{ background: #24384d; border-color: {ACCENT}; }}
QPushButton:disabled {{ color: {MUTED}; }}
QPushButton#primary {{ background: {ACCENT}; border-color: {ACCENT}; color: white; font-weight: 600; }}
QPushButton#primary:hover {{ background: #4a98e0; }}
QLineEdit, QComboBox, QSpinBox, QDoubleSpinBox, QTableWidget {{
    background: {BASE}; border: 1px solid {BORDER}; border-radius: 4px; padding: 3px 6px;
    selection-background-color: {ACCENT};
}}
QComboBox QAbstractItemView {{ background: {PANEL}; border: 1px solid {BORDER}; }}
QHeaderView::section {{ background: {PANEL}; border: none; border-bottom: 1px solid {BORDER}; padding: 4px; }}
QGroupBox {{ border: 1px solid {BORDER}; border-radius: 6px; margin-top: 14px; padding: 10px 8px 8px 8px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 10px; padding: 0 4px; color: {MUTED}; }}
QSlider::groove:horizontal {{ height: 4px; background: {BORDER}; border-radius: 2px; }}
QSlider::sub-page:horizontal {{ background: {ACCENT}; border-radius: 2px; }}
QSlider::handle:horizontal {{ background: {TEXT}; width: 12px; height: 12px; margin: -5px 0; border-radius: 6px; }}
QProgressBar {{ background: {BASE}; border: 1px solid {BORDER}; border-radius: 3px; text-align: center;
    color: {TEXT}; max-height: 14px; }}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 2px; }}
QSplitter::handle {{ background: {BG}; }}
QScrollBar:vertical {{ background: {PANEL}; width: 10px; }}
QScrollBar::handle:vertical {{ background: {BORDER}; border-radius: 4px; min-height: 24px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ height: 0; width: 0; }}
QFrame#panel {{ background: {PANEL}; border: 1px solid {BORDER}; border-radius: 6px; }}
QLabel#heading {{ color: {MUTED}; font-size: 9pt; font-weight: 600; letter-spacing: 1px; }}
QLabel#demoBanner {{ background: #5c3d0a; color: #ffd58a; border: 1px solid {WARN}; border-radius: 4px;
    padding: 5px 8px; font-weight: 700; }}
QLabel#emptyTitle {{ font-size: 20pt; font-weight: 300; color: {TEXT}; }}
QLabel#emptyText {{ color: {MUTED}; font-size: 11pt; }}
QFrame#liveBox {{ background: #1f2533; border: 1px solid {CORRECTED_COLOR}; border-radius: 6px; }}
"""


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
    app.setStyleSheet(STYLE)
    configure_pyqtgraph()


def configure_pyqtgraph() -> None:
    pg.setConfigOptions(background=BASE, foreground=MUTED, antialias=True)


def mono_font(size: float = 10) -> QFont:
    f = QFont("DejaVu Sans Mono")
    f.setStyleHint(QFont.StyleHint.Monospace)
    f.setPointSizeF(size)
    return f
