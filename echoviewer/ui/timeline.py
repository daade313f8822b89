"""Beat-EF timeline: LV area over time with ED/ES markers, per-beat EF on a second axis."""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont

from echoviewer.ui import theme

ED_SYMBOL = "t"  # triangle pointing down: the LV is largest
ES_SYMBOL = "t1"  # triangle pointing up: the LV is smallest
EF_SYMBOL = "s"


def _brush(color: str, alpha: int = 255):
    c = QColor(color)
    c.setAlpha(alpha)
    return pg.mkBrush(c)


class TimelineWidget(pg.PlotWidget):
    """Click (or drag the cursor) to seek; the mouse wheel scrubs frame by frame."""

    seekRequested = Signal(int)
    scrubRequested = Signal(int)  # +n / -n frames

    def __init__(self, parent=None):
        super().__init__(parent, background=theme.BASE)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.fps = 30.0
        self.n_frames = 0
        self.analysis = None
        self._acc = 0
        pi = self.getPlotItem()
        pi.setMenuEnabled(False)
        pi.setMouseEnabled(x=False, y=False)
        pi.hideButtons()
        pi.showGrid(x=True, y=False, alpha=0.08)
        pi.setLabel("bottom", "time (s)")
        pi.setLabel("left", "LV area")
        pi.showAxis("right")
        pi.setLabel("right", "beat EF (%)", color=theme.EF_COLOR)
        pi.getAxis("right").setPen(pg.mkPen(theme.EF_COLOR))
        pi.getAxis("right").setTextPen(pg.mkPen(theme.EF_COLOR))
        pi.layout.setContentsMargins(4, 6, 4, 2)

        # EF view box on the right axis, sharing x with the area plot
        self.ef_vb = pg.ViewBox(enableMenu=False)
        self.ef_vb.setMouseEnabled(x=False, y=False)
        pi.scene().addItem(self.ef_vb)
        pi.getAxis("right").linkToView(self.ef_vb)
        self.ef_vb.setXLink(pi)
        self.ef_vb.setYRange(0, 100, padding=0)
        pi.vb.sigResized.connect(self._sync_views)

        self.area_curve = pi.plot([], [], pen=pg.mkPen(theme.AREA_COLOR, width=1.6))
        self.partial_curve = pi.plot([], [], pen=pg.mkPen(theme.MUTED, width=1.2, style=Qt.PenStyle.DotLine),
                                     connect="finite")
        self.ed_scatter = pg.ScatterPlotItem(symbol=ED_SYMBOL, size=11, pen=pg.mkPen("#1a1a1a"),
                                             brush=_brush(theme.ED_COLOR))
        self.es_scatter = pg.ScatterPlotItem(symbol=ES_SYMBOL, size=11, pen=pg.mkPen("#1a1a1a"),
                                             brush=_brush(theme.ES_COLOR))
        pi.addItem(self.ed_scatter)
        pi.addItem(self.es_scatter)

        self.band = pg.LinearRegionItem(values=(0, 0), orientation="horizontal", movable=False,
                                        brush=_brush(theme.EF_COLOR, 28), pen=pg.mkPen(None))
        for line in self.band.lines:
            line.setPen(pg.mkPen(None))
        self.mean_line = pg.InfiniteLine(angle=0, movable=False,
                                         pen=pg.mkPen(theme.EF_COLOR, width=1, style=Qt.PenStyle.DashLine))
        self.ef_scatter = pg.ScatterPlotItem(symbol=EF_SYMBOL, size=10)
        self.ef_vb.addItem(self.band)
        self.ef_vb.addItem(self.mean_line)
        self.ef_vb.addItem(self.ef_scatter)
        self.band.hide()
        self.mean_line.hide()
        self._ef_labels: list[pg.TextItem] = []

        self.cursor = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen(theme.CURSOR_COLOR, width=1.2),
                                      hoverPen=pg.mkPen(theme.ACCENT, width=2))
        self.cursor.setZValue(20)
        pi.addItem(self.cursor, ignoreBounds=True)
        self.cursor.sigDragged.connect(self._cursor_dragged)
        self.scene().sigMouseClicked.connect(self._clicked)

        self.placeholder = pg.TextItem("", color=theme.MUTED, anchor=(0.5, 0.5))
        self.placeholder.setFont(QFont(self.font().family(), 11))
        pi.addItem(self.placeholder, ignoreBounds=True)
        self.clear_loop()

    # -- data -----------------------------------------------------------------------------------
    def clear_loop(self, message: str = "") -> None:
        self.analysis = None
        self.area_curve.setData([], [])
        self.partial_curve.setData([], [])
        for s in (self.ed_scatter, self.es_scatter, self.ef_scatter):
            s.setData([], [])
        self.band.hide()
        self.mean_line.hide()
        self._clear_ef_labels()
        self.set_message(message)

    def set_message(self, text: str) -> None:
        self.placeholder.setText(text)
        self.placeholder.setVisible(bool(text))
        if text:
            vr = self.getPlotItem().vb.viewRange()
            self.placeholder.setPos((vr[0][0] + vr[0][1]) / 2, (vr[1][0] + vr[1][1]) / 2)

    def set_loop(self, n_frames: int, fps: float) -> None:
        self.n_frames = int(n_frames)
        self.fps = float(fps) if fps and fps > 0 else 30.0
        self.clear_loop()
        self.getPlotItem().setXRange(0, max(self.n_frames - 1, 1) / self.fps, padding=0.01)

    def _area_scale(self, cm_per_pixel_grid: float | None) -> tuple[float, str]:
        if cm_per_pixel_grid:
            return cm_per_pixel_grid**2, "LV area (cm²)"
        return 1.0, "LV area (px, 112 grid)"

    def set_partial(self, areas: np.ndarray, cm_per_pixel_grid: float | None = None) -> None:
        """Areas known so far (NaN where not yet segmented), drawn dotted while the analysis runs."""
        if self.analysis is not None:
            return
        scale, label = self._area_scale(cm_per_pixel_grid)
        t = np.arange(len(areas)) / self.fps
        y = np.asarray(areas, dtype=float) * scale
        self.getPlotItem().setLabel("left", label)
        self.partial_curve.setData(t, y, connect="finite")
        if np.isfinite(y).any():
            lo, hi = np.nanmin(y), np.nanmax(y)
            self.getPlotItem().setYRange(lo - 0.06 * (hi - lo + 1), hi + 0.75 * (hi - lo + 1), padding=0)

    def set_analysis(self, a) -> None:
        self.clear_loop()
        self.analysis = a
        self.n_frames = int(a.n_frames)
        self.fps = float(a.fps) if a.fps and a.fps > 0 else self.fps
        pi = self.getPlotItem()
        scale, label = self._area_scale(a.cm_per_pixel_grid)
        pi.setLabel("left", label)
        areas = np.asarray(a.areas, dtype=float) * scale
        t = np.arange(len(areas)) / self.fps
        self.area_curve.setData(t, areas)
        beats = list(a.beats)
        ed = np.array([b.ed_frame for b in beats], dtype=int)
        es = np.array([b.es_frame for b in beats], dtype=int)
        self.ed_scatter.setData(ed / self.fps, areas[ed] if len(ed) else [])
        self.es_scatter.setData(es / self.fps, areas[es] if len(es) else [])
        pi.setXRange(0, max(self.n_frames - 1, 1) / self.fps, padding=0.01)
        if len(areas):
            # the area curve takes the lower ~60 % of the plot, the EF points the band above it
            lo, hi = float(areas.min()), float(areas.max())
            span = max(hi - lo, 1e-6)
            pi.setYRange(lo - 0.06 * span, hi + 0.75 * span, padding=0)

        # per-beat EF at the ES frame's time
        spots = []
        for b in beats:
            if b.ef_model is None:
                continue
            if not b.included:
                pen, brush = pg.mkPen(theme.EXCLUDED_COLOR, width=1.5), pg.mkBrush(None)
            elif b.flags:
                pen, brush = pg.mkPen(theme.FLAGGED_COLOR, width=1.5), pg.mkBrush(None)
            else:
                pen, brush = pg.mkPen("#1a1a1a"), _brush(theme.EF_COLOR)
            spots.append({"pos": (b.es_frame / self.fps, float(b.ef_model)), "pen": pen, "brush": brush,
                          "data": b.number})
            near_end = b.es_frame > 0.92 * max(self.n_frames - 1, 1)
            lab = pg.TextItem(f"{b.ef_model:.0f}", color=theme.EXCLUDED_COLOR if not b.included else theme.EF_COLOR,
                              anchor=(1.25, 0.5) if near_end else (-0.25, 0.5))
            lab.setPos(b.es_frame / self.fps, float(b.ef_model))
            self.ef_vb.addItem(lab)
            self._ef_labels.append(lab)
        self.ef_scatter.setData(spots)
        efs = [float(b.ef_model) for b in beats if b.ef_model is not None]
        if a.ef_mean is not None:
            sd = a.ef_sd or 0.0
            self.band.setRegion((a.ef_mean - sd, a.ef_mean + sd))
            self.band.setVisible(sd > 0)
            self.mean_line.setPos(a.ef_mean)
            self.mean_line.show()
            efs += [a.ef_mean - sd, a.ef_mean + sd]
        if efs:
            lo, hi = min(efs), max(efs)
            w = max(hi - lo, 8.0)
            # EF values occupy the top ~35 % (above the area curve), labels fit under the top edge
            self.ef_vb.setYRange(lo - 1.75 * w, hi + 0.35 * w, padding=0)
        else:
            self.ef_vb.setYRange(0, 100, padding=0)
        if not beats:
            self.set_message("no beats found")
        self._sync_views()

    def _clear_ef_labels(self) -> None:
        for lab in self._ef_labels:
            self.ef_vb.removeItem(lab)
        self._ef_labels = []

    def set_frame(self, frame: int) -> None:
        self.cursor.setPos(frame / self.fps)

    # -- positions for tests / exports ------------------------------------------------------------
    def marker_positions(self) -> dict[str, np.ndarray]:
        out = {}
        for name, item in (("ed", self.ed_scatter), ("es", self.es_scatter), ("ef", self.ef_scatter)):
            x, y = item.getData()
            out[name] = np.column_stack([np.asarray(x, float), np.asarray(y, float)]) if x is not None and len(x) \
                else np.zeros((0, 2))
        return out

    # -- interaction ----------------------------------------------------------------------------
    def _sync_views(self) -> None:
        pi = self.getPlotItem()
        self.ef_vb.setGeometry(pi.vb.sceneBoundingRect())
        self.ef_vb.linkedViewChanged(pi.vb, self.ef_vb.XAxis)

    def frame_at_scene(self, scene_pos) -> int | None:
        if self.n_frames <= 0:
            return None
        p = self.getPlotItem().vb.mapSceneToView(scene_pos)
        return int(min(max(round(p.x() * self.fps), 0), self.n_frames - 1))

    def _clicked(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        if not self.getPlotItem().vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        f = self.frame_at_scene(ev.scenePos())
        if f is not None:
            self.seekRequested.emit(f)

    def _cursor_dragged(self) -> None:
        if self.n_frames > 0:
            f = int(min(max(round(self.cursor.value() * self.fps), 0), self.n_frames - 1))
            self.seekRequested.emit(f)

    def wheelEvent(self, ev) -> None:  # noqa: N802 - the wheel scrubs instead of zooming
        self._acc += ev.angleDelta().y() or ev.angleDelta().x()
        steps = int(self._acc / 120)
        if steps:
            self._acc -= steps * 120
            self.scrubRequested.emit(steps)
        ev.accept()


def legend_html() -> str:
    """The timeline's key, shown above the plot (never over the data)."""
    def sw(sym: str, color: str, text: str) -> str:
        return f"<span style='color:{color}'>{sym}</span>&nbsp;{text}"

    parts = [
        sw("━", theme.AREA_COLOR, "LV area"),
        sw("▼", theme.ED_COLOR, "ED"),
        sw("▲", theme.ES_COLOR, "ES"),
        sw("■", theme.EF_COLOR, "beat EF"),
        sw("▒", theme.EF_COLOR, "mean ± s.d."),
        sw("□", theme.FLAGGED_COLOR, "flagged"),
        sw("□", theme.EXCLUDED_COLOR, "excluded"),
    ]
    return "&nbsp;&nbsp;&nbsp;".join(parts)
