"""The window's status bar: one message (errors in red), the analysis progress, an export's progress,
how the corrections of the loop on screen were saved, and the weights its results came from."""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from echoviewer import DEMO_LABEL
from echoviewer.errors import one_line
from echoviewer.session import LoopEntry, LoopState, SaveResult
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
        # The loop being analysed, drawn from its LoopEntry (the percent the study list shows), and
        # apart from the bar of an export or report, which sets its own range and text.
        self.analysis_bar = QProgressBar()
        self.analysis_bar.setFixedWidth(220)
        self.analysis_bar.setRange(0, 100)
        self.analysis_bar.hide()
        self.analysis_key: str | None = None
        self.progress = QProgressBar()  # exports and reports (ExportHost.progress)
        self.progress.setFixedWidth(180)
        self.progress.setRange(0, 100)
        self.progress.hide()
        self.weights_label = QLabel("")
        self.save_label = QLabel("")  # corrections: saved / saved to the per-user folder / not saved
        bar.addWidget(self.status_label, 1)
        bar.addPermanentWidget(self.analysis_bar)
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

    def follow_analysis(self, e: LoopEntry) -> None:
        """An entry changed: the bar shows the loop being analysed with its ``percent``, the very
        number its row in the study list shows; it stays on a finished loop until the next starts."""
        if e.state == LoopState.ANALYSING:
            self.analysis_key = e.key
        elif e.key != self.analysis_key:
            return
        elif e.state != LoopState.DONE:  # cancelled (queued again), failed or reset
            self.hide_analysis()
            return
        self.analysis_bar.setValue(e.percent)
        self.analysis_bar.setFormat(f"{e.name}  {e.percent} %")
        self.analysis_bar.setToolTip(f"Analysing {e.name}: {e.percent} %")
        self.analysis_bar.show()

    def hide_analysis(self) -> None:
        self.analysis_key = None
        self.analysis_bar.hide()
