"""Calipers in the window: distances, areas and LV trace volumes measured by hand on a frame.

  M ............ measure a distance: click two points
  Shift+M ...... measure an area: click points round it; Enter or double-click closes it
  T ............ trace an LV volume: click from one mitral-annulus hinge round the apex to the other;
                 Enter or double-click closes it (method of disks, `analysis.calipers`)
  right-click .. while placing: removes the last point;  Esc cancels
  Delete measurement (Measure menu, image menu, the list's button): the one selected in the list,
                 else the last one made on the frame on screen

Measurements belong to a frame and are drawn on it only (a line or outline with its value); the
summary panel lists them all (a double-click goes to the frame). They are saved with the loop's
corrections (`Corrections.add_measurement`: native pixels and the loop's native pixel spacing), so
Ctrl+Z undoes them, the sidecar keeps them and the reports list them. A loop without a pixel
spacing measures in px / px² / px³.

`CaliperLayer` is one graphics item in the player's ViewBox, in the image item's coordinates
(pixel i spans [i, i+1): a native pixel-centre coordinate is the view's minus 0.5). It takes the
mouse only while points are being placed, so panning and the tracing editor work as before.
`CaliperController` talks to the window through `CaliperHost` only.
"""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

from typing import TYPE_CHECKING, Protocol

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import (
    QGraphicsObject,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from echoviewer.analysis.calipers import MIN_POINTS, NAMES, lv_axis, measure
from echoviewer.annotations.model import Corrections
from echoviewer.session import EventKind, LoopEntry, SessionEvent, StudySession
from echoviewer.ui.status_bar import save_note

if TYPE_CHECKING:
    from echoviewer.ui.player import CinePlayer
    from echoviewer.ui.summary import SummaryPanel

CALIPER_COLOR = "#7df9ff"  # apart from the LV overlay (yellow), ED (red), ES (blue), the axis (green)
#: What each gesture asks for, in the status bar.
HINTS = {
    "distance": "Measure distance: click two points on the image · Esc cancels",
    "area": "Measure area: click points round it · Enter or double-click closes · right-click removes the last "
            "· Esc cancels",
    "volume": "Trace LV volume: click from one mitral hinge round the apex to the other · Enter or double-click "
              "closes · right-click removes the last · Esc cancels",
}


def label_text(kind: str, value_text: str) -> str:
    """What is written beside a measurement on the image."""
    return {"distance": value_text, "area": f"A {value_text}", "volume": f"V {value_text}"}[kind]


class CaliperLayer(QGraphicsObject):
    """The measurements of the frame on screen, and the one being placed."""

    #: the measurement being placed is complete: kind, points (view coordinates)
    closed = Signal(str, object)
    #: a point was placed or removed (what can be done may have changed)
    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setZValue(25)  # above the tracing editor: while placing, clicks are points
        self.setAcceptedMouseButtons(Qt.MouseButton.LeftButton | Qt.MouseButton.RightButton)
        self._bounds = QRectF(0, 0, 1, 1)
        self.shown: list[tuple[int, str, np.ndarray, str]] = []  # (id, kind, view points, label)
        self.kind: str | None = None  # the kind being placed
        self.draft: list[np.ndarray] = []
        self.cm_per_pixel: float | None = None  # for the live value of the draft
        self._mouse: np.ndarray | None = None
        self.font = QFont()
        self.font.setPointSizeF(9.5)
        self.font.setBold(True)

    # -- state ----------------------------------------------------------------------------------
    def set_bounds(self, width: float, height: float) -> None:
        self.prepareGeometryChange()
        self._bounds = QRectF(0, 0, float(width), float(height))
        self.update()

    def boundingRect(self) -> QRectF:
        pad = 0.25 * max(self._bounds.width(), self._bounds.height())
        return self._bounds.adjusted(-pad, -pad, pad, pad)

    def show_measurements(self, items) -> None:
        self.shown = [(i, k, np.asarray(p, float).reshape(-1, 2), lab) for i, k, p, lab in items]
        self.update()

    def labels(self) -> list[str]:
        """The values written on the image, in drawing order (tests, accessibility)."""
        return [lab for _, _, _, lab in self.shown]

    @property
    def placing(self) -> bool:
        return self.kind is not None

    @property
    def closable(self) -> bool:
        """Enter would close the outline being placed (an area or LV trace with enough points)."""
        return self.kind in ("area", "volume") and len(self.draft) >= MIN_POINTS[self.kind]

    def start(self, kind: str, cm_per_pixel: float | None) -> None:
        self.kind, self.draft, self.cm_per_pixel = kind, [], cm_per_pixel
        self.setAcceptHoverEvents(True)  # only while placing: the tracing editor below needs its hovers
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.update()

    def stop(self) -> bool:
        """Drop the measurement being placed; False when none was."""
        if self.kind is None:
            return False
        self.kind, self.draft, self._mouse = None, [], None
        self.setAcceptHoverEvents(False)
        self.unsetCursor()
        self.update()
        return True

    def add_point(self, p) -> None:
        if self.kind is None:
            return
        b = self._bounds
        p = np.array([min(max(float(p[0]), b.left()), b.right()), min(max(float(p[1]), b.top()), b.bottom())])
        if self.draft and np.hypot(*(self.draft[-1] - p)) < 1e-6:
            return  # the second press of a double-click on the same spot
        self.draft.append(p)
        self.update()
        if self.kind == "distance" and len(self.draft) == 2:
            self.close()
        else:
            self.changed.emit()

    def remove_last(self) -> None:
        if self.draft:
            self.draft.pop()
            self.update()
            self.changed.emit()

    def close(self) -> bool:
        """Complete the measurement being placed (``closed``); False when it has too few points."""
        if self.kind is None or len(self.draft) < MIN_POINTS[self.kind]:
            return False
        kind, pts = self.kind, np.array(self.draft)
        self.stop()
        self.closed.emit(kind, pts)
        return True

    def double_click(self, scene_pos) -> bool:
        """A double-click in the view: closes an outline being placed; swallowed while placing (it
        would fit the image)."""
        if self.kind is None:
            return False
        if self.kind != "distance":
            self.close()
        return True

    # -- mouse ------------------------------------------------------------------------------------
    def mousePressEvent(self, ev) -> None:
        if self.kind is None or not self.isVisible():
            ev.ignore()  # not measuring: the view pans, the tracing editor edits
            return
        if ev.button() == Qt.MouseButton.LeftButton:
            self.add_point((ev.pos().x(), ev.pos().y()))
        elif ev.button() == Qt.MouseButton.RightButton:
            self.remove_last()
        ev.accept()

    def mouseReleaseEvent(self, ev) -> None:
        sc = self.scene()
        if sc is not None and sc.mouseGrabberItem() is self:
            self.ungrabMouse()
        ev.accept()

    def hoverMoveEvent(self, ev) -> None:
        self._mouse = np.array([ev.pos().x(), ev.pos().y()])
        self.update()

    def hoverLeaveEvent(self, ev) -> None:
        self._mouse = None
        self.update()

    # -- painting ---------------------------------------------------------------------------------
    @staticmethod
    def _pen(color: QColor, width: float = 1.6, style=Qt.PenStyle.SolidLine) -> QPen:
        pen = QPen(color)
        pen.setWidthF(width)
        pen.setCosmetic(True)
        pen.setStyle(style)
        return pen

    def _draft_label(self) -> str:
        pts = list(self.draft)
        if self.kind == "distance" and len(pts) == 1 and self._mouse is not None:
            pts.append(self._mouse)
        if self.kind is None or len(pts) < MIN_POINTS[self.kind]:
            return ""
        try:
            m = measure(self.kind, np.array(pts) - 0.5, self.cm_per_pixel)
        except ValueError:
            return ""
        return label_text(self.kind, m.text())

    def paint(self, p: QPainter, option, widget=None) -> None:
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        t = p.transform()
        col = QColor(CALIPER_COLOR)
        labels: list[tuple[np.ndarray, str]] = []
        for _id, kind, pts, lab in self.shown:
            self._paint_shape(p, kind, pts, col, closed=kind != "distance")
            labels.append((pts, lab))
        if self.kind is not None:
            pts = list(self.draft)
            live = pts + ([self._mouse] if self._mouse is not None and pts else [])
            if live:
                self._paint_shape(p, self.kind if len(live) > 1 else "distance", np.array(live), col,
                                  closed=self.kind != "distance" and len(live) > 2, draft=True)
            lab = self._draft_label()
            if lab:
                labels.append((np.array(live), lab))
        # markers and labels: a constant size on screen
        p.resetTransform()
        p.setFont(self.font)
        fm = QFontMetricsF(self.font)
        for pts, lab in labels:
            right = pts[int(np.argmax(pts[:, 0]))]  # beside the rightmost point: never over the line
            d = t.map(QPointF(float(right[0]), float(right[1])))
            w, h = fm.horizontalAdvance(lab) + 8, fm.height() + 2
            box = QRectF(d.x() + 8, d.y() - h / 2, w, h)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(13, 15, 18, 200))
            p.drawRoundedRect(box, 3, 3)
            p.setPen(col)
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, lab)
        p.restore()

    def _paint_shape(self, p: QPainter, kind: str, pts: np.ndarray, col: QColor, closed: bool,
                     draft: bool = False) -> None:
        t = p.transform()
        poly = QPolygonF([QPointF(float(x), float(y)) for x, y in pts])
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(self._pen(col, 1.4 if draft else 1.6, Qt.PenStyle.DashLine if draft else Qt.PenStyle.SolidLine))
        if closed:
            p.drawPolygon(poly)
        else:
            p.drawPolyline(poly)
        if kind == "volume" and len(pts) >= 3:
            apex, base = lv_axis(pts)
            p.setPen(self._pen(QColor(CALIPER_COLOR), 1.0, Qt.PenStyle.DotLine))
            p.drawLine(QPointF(*apex), QPointF(*base))
        # end marks: small crosses, a constant size on screen
        p.save()
        p.resetTransform()
        p.setPen(self._pen(col, 1.4))
        ends = pts if kind == "distance" or draft else pts[:0]
        for x, y in ends:
            d = t.map(QPointF(float(x), float(y)))
            p.drawLine(QPointF(d.x() - 5, d.y()), QPointF(d.x() + 5, d.y()))
            p.drawLine(QPointF(d.x(), d.y() - 5), QPointF(d.x(), d.y() + 5))
        p.restore()


class MeasurementList(QWidget):
    """The loop's measurements, for the summary panel: kind, frame, value; a button deletes."""

    #: delete the measurement with this id
    deleteRequested = Signal(int)
    #: go to this frame (0-based)
    frameRequested = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        heading = QLabel("MEASUREMENTS")
        heading.setObjectName("heading")
        self.list = QListWidget()
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list.setMaximumHeight(110)
        self.list.itemDoubleClicked.connect(
            lambda it: self.frameRequested.emit(int(it.data(Qt.ItemDataRole.UserRole + 1))))
        self.list.itemSelectionChanged.connect(self._selection_changed)
        self.delete_btn = QPushButton("Delete")
        self.delete_btn.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.delete_btn.setToolTip("Delete the selected measurement (Ctrl+Z brings it back)")
        self.delete_btn.setEnabled(False)
        self.delete_btn.clicked.connect(self._delete)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(heading)
        top.addStretch(1)
        top.addWidget(self.delete_btn)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 6, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(top)
        lay.addWidget(self.list)
        self.hide()

    def set_measurements(self, rows: list[tuple[int, int, str]]) -> None:
        """(id, frame, text) rows; the section hides when there are none."""
        keep = self.selected_id()
        self.list.clear()
        for mid, frame, text in rows:
            it = QListWidgetItem(text)
            it.setData(Qt.ItemDataRole.UserRole, mid)
            it.setData(Qt.ItemDataRole.UserRole + 1, frame)
            self.list.addItem(it)
            if mid == keep:
                it.setSelected(True)
        self.setVisible(bool(rows))
        self._selection_changed()

    def texts(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def selected_id(self) -> int | None:
        items = self.list.selectedItems()
        return int(items[0].data(Qt.ItemDataRole.UserRole)) if items else None

    def _selection_changed(self) -> None:
        self.delete_btn.setEnabled(self.selected_id() is not None)

    def _delete(self) -> None:
        mid = self.selected_id()
        if mid is not None:
            self.deleteRequested.emit(mid)


class CaliperHost(Protocol):
    """What the controller needs from the window, and nothing else."""

    session: StudySession
    player: CinePlayer  # its view box (the layer), playhead and double-click
    summary: SummaryPanel  # the measurements' list

    def current_entry(self) -> LoopEntry | None: ...

    def seek(self, frame: int) -> None: ...

    def set_status(self, text: str, error: bool = False) -> None: ...

    def show_error(self, text: str) -> None: ...

    def actions_changed(self) -> None: ...


def describe(m: dict) -> str:
    """A measurement in the list and in messages: "Distance · frame 21 · 4.25 cm"."""
    return f"{NAMES[m['kind']]} · frame {int(m['frame']) + 1} · {Corrections.value_of(m).text()}"


class CaliperController(QObject):
    def __init__(self, host: CaliperHost, parent: QObject | None = None):
        super().__init__(parent)
        self.host = host
        self.frame: int | None = None  # the frame the measurement being placed belongs to
        self._seen: tuple | None = None  # what refresh() last drew
        self.layer = CaliperLayer()
        host.player.vb.addItem(self.layer, ignoreBounds=True)
        self.layer.closed.connect(self._commit)
        self.layer.changed.connect(host.actions_changed)
        self.list = MeasurementList()
        host.summary.add_section(self.list)
        self.list.deleteRequested.connect(self.delete)
        self.list.frameRequested.connect(host.seek)
        view = host.player.view
        before = view.double_click_hook  # (the tracing editor's)
        view.double_click_hook = lambda pos: self.layer.double_click(pos) or bool(before and before(pos))
        host.player.frameChanged.connect(self._on_frame)
        host.session.subscribe(self._on_session)

    # -- what can be done -----------------------------------------------------------------------------
    def corrections(self) -> Corrections | None:
        e = self.host.current_entry()
        return None if e is None or e.loop is None else e.corrections

    def available(self) -> bool:
        """Measurements are saved with the loop's corrections: there are some once it is analysed."""
        return self.corrections() is not None and self.host.player.loop is not None

    @property
    def busy(self) -> bool:
        return self.layer.placing

    @property
    def closable(self) -> bool:
        return self.layer.closable

    def can_delete(self) -> bool:
        """The loop has measurements (which one goes is decided when asked: see `delete`)."""
        c = self.corrections()
        return c is not None and bool(c.measurements)

    # -- gestures ---------------------------------------------------------------------------------------
    def start(self, kind: str) -> bool:
        if not self.available():
            self.host.show_error("Measurements are kept with the loop's corrections: wait for its analysis")
            return False
        player = self.host.player
        player.pause()
        if player.editor.busy:
            player.editor.cancel()
        e = self.host.current_entry()
        self.frame = player.current
        self.layer.start(kind, e.loop.cm_per_pixel)
        self.host.set_status(HINTS[kind] + ("" if e.loop.cm_per_pixel else " · not calibrated: in pixels"))
        self.host.actions_changed()
        return True

    def finish(self) -> bool:
        """Enter: close the area or LV trace being placed. False when there is none to close."""
        return self.layer.close()

    def cancel(self) -> bool:
        """Esc: drop the measurement being placed. False when none was."""
        if not self.layer.stop():
            return False
        self.frame = None
        self.host.set_status("Measurement cancelled")
        self.host.actions_changed()
        return True

    def _to_delete(self) -> int | None:
        c = self.corrections()
        if c is None or not c.measurements:
            return None
        mid = self.list.selected_id()
        if mid is not None and any(m["id"] == mid for m in c.measurements):
            return mid
        here = [m["id"] for m in c.measurements if m["frame"] == self.host.player.current]
        return here[-1] if here else None

    def delete(self, measurement_id: int | None = None) -> bool:
        """Delete a measurement: the one given, else the one selected in the list, else the last
        one on the frame on screen."""
        c = self.corrections()
        mid = measurement_id if measurement_id is not None else self._to_delete()
        if c is None or mid is None:
            self.host.set_status("No measurement to delete here: select one in the list")
            return False
        try:
            what = describe(c.measurement(mid))
            c.delete_measurement(mid)
        except KeyError:
            return False
        self._say(f"Deleted: {what} (Ctrl+Z brings it back)")
        return True

    def _commit(self, kind: str, view_points) -> None:
        c, e = self.corrections(), self.host.current_entry()
        frame, self.frame = self.frame, None
        if c is None or frame is None:
            return
        pts = np.asarray(view_points, float) - 0.5  # view -> native pixel centres
        try:
            mid = c.add_measurement(kind, frame, pts, cm_per_pixel=e.loop.cm_per_pixel)
        except ValueError as exc:
            self.host.show_error(f"Not measured: {exc}")
            self.host.actions_changed()
            return
        self._say(describe(c.measurement(mid)))

    def _say(self, text: str) -> None:
        e = self.host.current_entry()
        note, failed = save_note(e.saved if e is not None else None)
        self.host.set_status(text + note, error=failed)

    # -- showing ----------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Draw the measurements of the frame on screen and list the loop's (when any of that changed:
        the session reports every progress step of an analysis too)."""
        c = self.corrections()
        loop = self.host.player.loop
        seen = (id(c), None if c is None else len(c.audit), id(loop), self.host.player.current)
        if seen == self._seen:
            return
        self._seen = seen
        if loop is not None:
            self.layer.set_bounds(int(loop.width), int(loop.height))
        ms = list(c.measurements) if c is not None else []
        f = self.host.player.current
        self.layer.show_measurements(
            (m["id"], m["kind"], np.asarray(m["points"], float) + 0.5,
             label_text(m["kind"], Corrections.value_of(m).text()))
            for m in ms if m["frame"] == f)
        self.list.set_measurements([(m["id"], int(m["frame"]), describe(m)) for m in ms])

    def _on_frame(self, frame: int) -> None:
        if self.layer.placing and self.frame is not None and frame != self.frame:
            self.cancel()  # a measurement belongs to the frame it was started on
        self.refresh()

    def _on_session(self, ev: SessionEvent) -> None:
        if ev.kind == EventKind.MASKS:
            return
        if ev.kind in (EventKind.SELECTED, EventKind.OPENED):
            self.cancel()
        if ev.key is None or ev.key == self.host.session.current_key:
            self.refresh()
