"""The window's status bar: one message (errors in red), the analysis or export progress, how the
corrections of the loop on screen were saved, and the weights its results came from."""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from echoviewer import DEMO_LABEL
from echoviewer.errors import one_line
from echoviewer.session import LoopEntry, SaveResult
from echoviewer.ui import theme


def save_note(saved: SaveResult | None) -> tuple[str, bool]:
    """How the save of the edit that just landed went, to follow its status message: (note, failed)."""
    if saved is None:
        return "", False
    if not saved.ok:
        return f" · {one_line(saved.error)}", True
    if saved.fallback:
        return f" · saved to {saved.path} (study folder is read-only)", False
    return " · saved", False


class StatusBar:
    """Fills the window's own status bar (``QMainWindow.statusBar()``: unlike one set with
    ``setStatusBar``, a long message never makes the window wider)."""

    def __init__(self, bar: QStatusBar):
        self.bar = bar
        self.status_label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setFixedWidth(220)
        self.progress.setRange(0, 100)
        self.progress.hide()
        self.weights_label = QLabel("")
        self.save_label = QLabel("")  # corrections: saved / saved to the per-user folder / not saved
        bar.addWidget(self.status_label, 1)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.save_label)
        bar.addPermanentWidget(self.weights_label)

    def set_status(self, text: str, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet(f"color: {theme.ERROR if error else theme.MUTED};")
        self.status_label.setToolTip(text)

    def show_save_state(self, e: LoopEntry | None) -> None:
        """How the corrections of the loop on screen were saved (or restored)."""
        text, tip, color = "", "", theme.MUTED
        if e is not None and e.restored:
            text, tip, color = "✎ restored", e.restored, theme.CORRECTED_COLOR
        elif e is not None and e.saved is not None:
            s = e.saved
            if not s.ok:
                text, tip, color = "⚠ not saved", s.error, theme.ERROR
            elif s.fallback:
                text, tip, color = ("✓ saved (per-user folder)",
                                    f"Corrections saved to {s.path}: the study folder is read-only", theme.OK)
            else:
                text, tip, color = "✓ saved", f"Corrections saved to {s.path}", theme.OK
        self.save_label.setText(text)
        self.save_label.setToolTip(tip)
        self.save_label.setStyleSheet(f"color: {color};" + (" font-weight: 600;" if color == theme.ERROR else ""))

    def show_weights(self, analysis) -> None:
        """Device and segmentation weights of the results on screen."""
        self.weights_label.setText(f"{analysis.device} · {getattr(analysis.seg_info, 'name', '?')}"
                                   + (f" · {DEMO_LABEL}" if analysis.demo else ""))

    def start_progress(self, label: str) -> None:
        """A loop's analysis starts: the bar shows its name and percent."""
        self.progress.setValue(0)
        self.progress.setFormat(f"{label}  %p%")
        self.progress.show()
