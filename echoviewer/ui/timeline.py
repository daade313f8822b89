"""Beat-EF timeline: LV area over time with ED/ES markers, per-beat EF on a second axis.

With corrections the markers sit at the corrected ED/ES frames and the corrected per-beat EF
(method of disks) is drawn as diamonds beside the model's squares. In correction mode the ED/ES
markers can be dragged along the curve (``markerDragged`` while dragging, ``markerMoved`` on
release; ``cancel_drag()`` for Esc) and the beat being edited is shaded.
"""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QGraphicsItem

from echoviewer.session import loop_corrected
from echoviewer.ui import theme

ED_SYMBOL = "t"  # triangle pointing down: the LV is largest
ES_SYMBOL = "t1"  # triangle pointing up: the LV is smallest
EF_SYMBOL = "s"
CORR_SYMBOL = "d"
MARKER_HIT_PX = 9.0


def _cached(*items):
    """Paint ``items`` from a pixmap cached per view. Moving the cursor (every frame of playback)
    then blits the strip it exposes instead of stroking the curves, axes and grid again: the
    plot's paint per frame goes from about 1.1 ms to 0.5 ms. An item's cache is redrawn when its
    data or the view range change."""
    todo = list(items)
    while todo:  # with their children: a PlotDataItem paints nothing itself, its curve does
        item = todo.pop()
        item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        todo.extend(item.childItems())
    return items[0]


class EfAxis(pg.AxisItem):
    """The beat-EF axis: ticks only where an EF can be (0-100 %). Its view reaches below 0 so the
    EF points sit above the area curve; the axis must not read -10 % there."""

    def tickValues(self, minVal, maxVal, size):
        return [(spacing, [v for v in values if 0 <= v <= 100])
                for spacing, values in super().tickValues(minVal, maxVal, size)]


def _brush(color: str, alpha: int = 255):
    c = QColor(color)
    c.setAlpha(alpha)
    return pg.mkBrush(c)


class TimelineWidget(pg.PlotWidget):
    """Click (or drag the cursor) to seek; the mouse wheel scrubs frame by frame."""

    seekRequested = Signal(int)
    scrubRequested = Signal(int)  # +n / -n frames
    markerDragged = Signal(int, str, int)  # beat id, "ed" | "es", frame under the mouse (correction mode)
    markerMoved = Signal(int, str, int)  # drag released on another frame

    def __init__(self, parent=None):
        super().__init__(parent, background=theme.BASE, axisItems={"right": EfAxis("right")})
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.fps = 30.0
        self.n_frames = 0
        self.analysis = None
        self.editable = False
        self._markers: list[tuple[int, str, int]] = []  # (beat id, phase, frame)
        self._areas_plot = np.zeros(0)  # area curve as drawn (scaled)
        self._mdrag: list | None = None  # [beat id, phase, from frame, current frame]
        self._swallow_release = False
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
        self.ghost = pg.ScatterPlotItem(size=16, pen=pg.mkPen("#ffffff", width=1.5))
        self.ghost.setZValue(30)
        self.ghost.hide()
        pi.addItem(self.ghost)
        self.active_region = pg.LinearRegionItem(values=(0, 0), orientation="vertical", movable=False,
                                                 brush=_brush(theme.ACCENT, 34), pen=pg.mkPen(None))
        for line in self.active_region.lines:
            line.setPen(pg.mkPen(None))
        self.active_region.setZValue(-10)
        self.active_region.hide()
        pi.addItem(self.active_region, ignoreBounds=True)

        self.band = pg.LinearRegionItem(values=(0, 0), orientation="horizontal", movable=False,
                                        brush=_brush(theme.EF_COLOR, 28), pen=pg.mkPen(None))
        for line in self.band.lines:
            line.setPen(pg.mkPen(None))
        self.mean_line = pg.InfiniteLine(angle=0, movable=False,
                                         pen=pg.mkPen(theme.EF_COLOR, width=1, style=Qt.PenStyle.DashLine))
        self.ef_scatter = pg.ScatterPlotItem(symbol=EF_SYMBOL, size=10)
        self.corr_scatter = pg.ScatterPlotItem(symbol=CORR_SYMBOL, size=12)
        self.ef_vb.addItem(self.band)
        self.ef_vb.addItem(self.mean_line)
        self.ef_vb.addItem(self.ef_scatter)
        self.ef_vb.addItem(self.corr_scatter)
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
        # everything but the cursor and the drag ghost, which move
        _cached(*(pi.getAxis(n) for n in ("left", "bottom", "right")), self.area_curve, self.partial_curve,
                self.ed_scatter, self.es_scatter, self.active_region, self.band, self.mean_line,
                self.ef_scatter, self.corr_scatter, self.placeholder)
        self.clear_loop()

    # -- data -----------------------------------------------------------------------------------
    def clear_loop(self, message: str = "") -> None:
        self.analysis = None
        self.area_curve.setData([], [])
        self.partial_curve.setData([], [])
        for s in (self.ed_scatter, self.es_scatter, self.ef_scatter, self.corr_scatter, self.ghost):
            s.setData([], [])
        self._markers = []
        self._mdrag = None
        self.ghost.hide()
        self.active_region.hide()
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
        """Another loop: empty axes of its duration (none of the previous loop's ranges or units
        stay while it is analysed)."""
        self.n_frames = int(n_frames)
        self.fps = float(fps) if fps and fps > 0 else 30.0
        self.clear_loop()
        pi = self.getPlotItem()
        pi.setXRange(0, max(self.n_frames - 1, 1) / self.fps, padding=0.01)
        pi.setYRange(0, 1, padding=0)
        if pi.getAxis("left").labelText != "LV area":
            pi.setLabel("left", "LV area")
        self.ef_vb.setYRange(0, 100, padding=0)

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
        pi = self.getPlotItem()
        if pi.getAxis("left").labelText != label:  # (setting it again re-lays the axis out)
            pi.setLabel("left", label)
        self.partial_curve.setData(t, y, connect="finite")
        if np.isfinite(y).any():
            lo, hi = np.nanmin(y), np.nanmax(y)
            want = (lo - 0.06 * (hi - lo + 1), hi + 0.75 * (hi - lo + 1))
            have = pi.getViewBox().viewRange()[1]
            # A new range redraws every cached item (axes, grid: 8-10 ms), 4 times a second while
            # the loop is analysed: keep the current one while the data fits it and fills most of it.
            fits = have[0] <= lo and hi <= have[1] and (want[1] - want[0]) >= 0.7 * (have[1] - have[0])
            if not fits:
                pi.setYRange(*want, padding=0)

    def set_analysis(self, a, values=None, summary=None, show_ef: bool = True) -> None:
        """Draw an analysis; with ``values`` (Corrections.values()) and ``summary`` the markers and
        the mean follow the corrections and corrected beats get an EF diamond. ``show_ef`` False
        (a loop the method does not apply to, io/gates.py): the area curve and beats, no EF."""
        self.clear_loop()
        self.analysis = a
        self.n_frames = int(a.n_frames)
        self.fps = float(a.fps) if a.fps and a.fps > 0 else self.fps
        pi = self.getPlotItem()
        scale, label = self._area_scale(a.cm_per_pixel_grid)
        pi.setLabel("left", label)
        areas = np.asarray(a.areas, dtype=float) * scale
        self._areas_plot = areas
        t = np.arange(len(areas)) / self.fps
        self.area_curve.setData(t, areas)
        beats = list(a.beats)
        if values is None:
            self._markers = [(int(b.number), "ed", int(b.ed_frame)) for b in beats] + \
                            [(int(b.number), "es", int(b.es_frame)) for b in beats]
            excluded = {int(b.number) for b in beats if not b.included}
        else:
            self._markers = [(int(v.id), "ed", int(v.ed_frame)) for v in values] + \
                            [(int(v.id), "es", int(v.es_frame)) for v in values]
            excluded = {int(v.id) for v in values if v.excluded}
        self._draw_markers(excluded)
        pi.setXRange(0, max(self.n_frames - 1, 1) / self.fps, padding=0.01)
        if len(areas):
            # the area curve takes the lower ~60 % of the plot, the EF points the band above it
            lo, hi = float(areas.min()), float(areas.max())
            span = max(hi - lo, 1e-6)
            pi.setYRange(lo - 0.06 * span, hi + 0.75 * span, padding=0)

        if not show_ef:
            return
        corrected = summary is not None and loop_corrected(values, a)
        # per-beat model EF at the ES frame's time (dimmed, unlabelled beside corrected values)
        spots = []
        for b in beats:
            if b.ef_model is None:
                continue
            alpha = 110 if corrected else 255
            if not b.included:
                pen, brush = pg.mkPen(theme.EXCLUDED_COLOR, width=1.5), pg.mkBrush(None)
            elif b.flags:
                pen, brush = pg.mkPen(theme.FLAGGED_COLOR, width=1.5), pg.mkBrush(None)
            else:
                pen, brush = pg.mkPen("#1a1a1a"), _brush(theme.EF_COLOR, alpha)
            spots.append({"pos": (b.es_frame / self.fps, float(b.ef_model)), "pen": pen, "brush": brush,
                          "data": b.number})
            if not corrected:
                self._ef_label(f"{b.ef_model:.0f}", b.es_frame, float(b.ef_model),
                               theme.EXCLUDED_COLOR if not b.included else theme.EF_COLOR)
        self.ef_scatter.setData(spots)
        efs = [float(b.ef_model) for b in beats if b.ef_model is not None]
        mean, sd = a.ef_mean, a.ef_sd
        if corrected:
            cspots = []
            for v in values:
                if v.ef is None or not np.isfinite(v.ef):
                    continue
                if v.excluded:
                    pen, brush = pg.mkPen(theme.EXCLUDED_COLOR, width=1.5), pg.mkBrush(None)
                else:
                    pen, brush = pg.mkPen("#1a1a1a"), _brush(theme.CORRECTED_COLOR)
                cspots.append({"pos": (v.es_frame / self.fps, float(v.ef)), "pen": pen, "brush": brush,
                               "data": v.id})
                mark = "✎" if v.corrected else ""
                self._ef_label(f"{mark}{v.ef:.0f}", v.es_frame, float(v.ef),
                               theme.EXCLUDED_COLOR if v.excluded else theme.CORRECTED_COLOR)
                efs.append(float(v.ef))
            self.corr_scatter.setData(cspots)
            mean, sd = summary.ef_mean, summary.ef_sd
        if mean is not None:
            sd = sd or 0.0
            self.band.setRegion((mean - sd, mean + sd))
            self.band.setBrush(_brush(theme.CORRECTED_COLOR if corrected else theme.EF_COLOR, 28))
            self.band.setVisible(sd > 0)
            self.mean_line.setPos(mean)
            self.mean_line.setPen(pg.mkPen(theme.CORRECTED_COLOR if corrected else theme.EF_COLOR, width=1,
                                           style=Qt.PenStyle.DashLine))
            self.mean_line.show()
            efs += [mean - sd, mean + sd]
        if efs:
            lo, hi = min(efs), max(efs)
            w = max(hi - lo, 8.0)
            # EF values occupy the top ~35 % (above the area curve), labels fit under the top edge
            self.ef_vb.setYRange(lo - 1.75 * w, hi + 0.35 * w, padding=0)
        else:
            self.ef_vb.setYRange(0, 100, padding=0)
        if not self._markers:
            self.set_message("no beats found")
        self._sync_views()

    def _ef_label(self, text: str, frame: int, ef: float, color: str) -> None:
        near_end = frame > 0.92 * max(self.n_frames - 1, 1)
        lab = _cached(pg.TextItem(text, color=color, anchor=(1.25, 0.5) if near_end else (-0.25, 0.5)))
        lab.setPos(frame / self.fps, ef)
        self.ef_vb.addItem(lab)
        self._ef_labels.append(lab)

    def _marker_y(self, frame: int) -> float:
        a = self._areas_plot
        return float(a[frame]) if 0 <= frame < len(a) else 0.0

    def _draw_markers(self, excluded: set[int] = frozenset()) -> None:
        for phase, item, color in (("ed", self.ed_scatter, theme.ED_COLOR), ("es", self.es_scatter, theme.ES_COLOR)):
            spots = []
            for bid, ph, f in self._markers:
                if ph != phase:
                    continue
                brush = _brush(theme.EXCLUDED_COLOR) if bid in excluded else _brush(color)
                spots.append({"pos": (f / self.fps, self._marker_y(f)), "brush": brush, "data": bid})
            item.setData(spots)

    def _clear_ef_labels(self) -> None:
        for lab in self._ef_labels:
            self.ef_vb.removeItem(lab)
        self._ef_labels = []

    def set_frame(self, frame: int) -> None:
        self.cursor.setPos(frame / self.fps)

    # -- positions for tests / exports ------------------------------------------------------------
    def marker_positions(self) -> dict[str, np.ndarray]:
        out = {}
        for name, item in (("ed", self.ed_scatter), ("es", self.es_scatter), ("ef", self.ef_scatter),
                           ("ef_corrected", self.corr_scatter)):
            x, y = item.getData()
            out[name] = np.column_stack([np.asarray(x, float), np.asarray(y, float)]) if x is not None and len(x) \
                else np.zeros((0, 2))
        return out

    def marker_widget_pos(self, beat_id: int, phase: str) -> QPoint | None:
        """Where a beat's ED or ES marker is drawn, in viewport pixels (hit tests, tests)."""
        for bid, ph, f in self._markers:
            if bid == beat_id and ph == phase:
                return self._widget_pos(f)
        return None

    def _widget_pos(self, frame: int) -> QPoint:
        scene = self.getPlotItem().vb.mapViewToScene(QPointF(frame / self.fps, self._marker_y(frame)))
        return self.mapFromScene(scene)

    # -- correction mode ------------------------------------------------------------------------
    def set_editable(self, on: bool) -> None:
        self.editable = bool(on)
        if not on:
            self.cancel_drag()
            self.active_region.hide()
            self.viewport().unsetCursor()

    def set_active_beat(self, ed: int | None, es: int | None) -> None:
        """Shade the beat being edited (correction mode); None hides the shading."""
        if ed is None or es is None or not self.editable:
            self.active_region.hide()
            return
        lo, hi = sorted((int(ed), int(es)))
        self.active_region.setRegion((lo / self.fps, hi / self.fps))
        self.active_region.show()

    def marker_at(self, pos: QPointF) -> tuple[int, str, int] | None:
        """The ED/ES marker under a viewport position (within a few pixels), or None."""
        best, best_d = None, MARKER_HIT_PX
        for bid, ph, f in self._markers:
            w = self._widget_pos(f)
            d = float(np.hypot(w.x() - pos.x(), w.y() - pos.y()))
            if d <= best_d:
                best, best_d = (bid, ph, f), d
        return best

    def frame_at_widget(self, pos: QPointF) -> int | None:
        return self.frame_at_scene(self.mapToScene(pos.toPoint()))

    @property
    def dragging_marker(self) -> bool:
        return self._mdrag is not None

    def cancel_drag(self) -> bool:
        """Esc while dragging a marker: it goes back; the release still to come is ignored."""
        if self._mdrag is None:
            return False
        self._mdrag = None
        self._swallow_release = True
        self.ghost.hide()
        return True

    def _show_ghost(self, phase: str, frame: int) -> None:
        color = theme.ED_COLOR if phase == "ed" else theme.ES_COLOR
        self.ghost.setData([{"pos": (frame / self.fps, self._marker_y(frame)), "brush": _brush(color),
                             "symbol": ED_SYMBOL if phase == "ed" else ES_SYMBOL}])
        self.ghost.show()

    def mousePressEvent(self, ev) -> None:
        self._swallow_release = False
        if self.editable and ev.button() == Qt.MouseButton.LeftButton:
            m = self.marker_at(ev.position())
            if m is not None:
                self._mdrag = [m[0], m[1], m[2], m[2]]
                self._show_ghost(m[1], m[2])
                self.viewport().setCursor(Qt.CursorShape.SizeHorCursor)
                ev.accept()
                return
        super().mousePressEvent(ev)

    def mouseMoveEvent(self, ev) -> None:
        if self._mdrag is not None:
            f = self.frame_at_widget(ev.position())
            if f is not None and f != self._mdrag[3]:
                self._mdrag[3] = f
                self._show_ghost(self._mdrag[1], f)
                self.markerDragged.emit(self._mdrag[0], self._mdrag[1], f)
            ev.accept()
            return
        if self._swallow_release:
            ev.accept()
            return
        if self.editable and not ev.buttons():
            hit = self.marker_at(ev.position()) is not None
            if hit:
                self.viewport().setCursor(Qt.CursorShape.SizeHorCursor)
            else:
                self.viewport().unsetCursor()
        super().mouseMoveEvent(ev)

    def mouseReleaseEvent(self, ev) -> None:
        if self._swallow_release:
            self._swallow_release = False
            self.viewport().unsetCursor()
            ev.accept()
            return
        if self._mdrag is not None and ev.button() == Qt.MouseButton.LeftButton:
            bid, phase, start, _ = self._mdrag
            f = self.frame_at_widget(ev.position())
            self._mdrag = None
            self.ghost.hide()
            self.viewport().unsetCursor()
            if f is not None and f != start:
                self.markerMoved.emit(bid, phase, f)
            else:
                self.seekRequested.emit(start)  # a click on a marker shows its frame
            ev.accept()
            return
        super().mouseReleaseEvent(ev)

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

    def wheelEvent(self, ev) -> None:
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
        sw("◆", theme.CORRECTED_COLOR, "corrected EF"),
    ]
    return "&nbsp;&nbsp;&nbsp;".join(parts)
