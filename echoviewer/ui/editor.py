"""Tracing editor: an ED/ES frame's LV contour and long axis as draggable handles over the image.

`TracingEditor` is one graphics item in the player's ViewBox, in the image item's coordinates
(native pixels, pixel i spanning [i, i+1)). It knows nothing of the 112 grid or of Corrections:
the window hands it a contour + apex + annulus midpoint in these coordinates and reads them back.

Mouse (all hit tests in screen pixels, so handles stay easy to grab at any zoom):
  drag a point / an axis end ........ moves it (``previewChanged`` while dragging, ``committed`` on release)
  Shift+click or double-click an edge inserts a point there (``committed``)
  right-click a point ............... deletes it (also ``delete_hovered()`` for the Delete key)
  redraw mode (``start_redraw()``) .. each click adds a point, right-click removes the last one,
                                      double-click or ``finish_redraw()`` (Enter) closes the contour
  ``cancel()`` (Esc) ................ puts back the contour as it was before the drag / drops the redraw
Anything else (presses away from the tracing) is left to the view: panning still works.
"""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsObject

from echoviewer.analysis.contour import nearest_edge
from echoviewer.analysis.tracing import tracing_from_contour
from echoviewer.ui import theme

AXIS_COLOR = "#63e6be"
HANDLE_R = 3.6  # screen px
ACTIVE_R = 5.5
HIT_PX = 9.0  # how close (screen px) a press must be to a handle or an edge
MIN_POINTS = 4


class TracingEditor(QGraphicsObject):
    #: the geometry changed during a drag (live values)
    previewChanged = Signal()
    #: a completed edit: "move_point", "move_apex", "move_base", "insert_point", "delete_point", "redraw"
    committed = Signal(str)
    #: an edit in progress was cancelled (geometry is back to the last committed one)
    cancelled = Signal()
    redrawChanged = Signal(bool)
    #: a one-line hint for the status bar
    message = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAcceptHoverEvents(True)
        self.setAcceptedMouseButtons(Qt.MouseButton.LeftButton | Qt.MouseButton.RightButton)
        self.setZValue(20)
        self.points = np.zeros((0, 2))
        self.apex: np.ndarray | None = None
        self.base: np.ndarray | None = None
        self.color = QColor(theme.ES_COLOR)
        self._bounds = QRectF(0, 0, 1, 1)
        self._chords = np.zeros((0, 4))
        self._drag: tuple | None = None  # ("point", i) | ("apex",) | ("base",)
        self._offset = np.zeros(2)
        self._before = None
        self._moved = False
        self._swallow = False  # a cancelled drag: eat the release that is still to come
        self._hover: tuple | None = None  # a handle, or ("edge", i, point)
        self._redraw: list[np.ndarray] | None = None
        self._mouse: np.ndarray | None = None

    # -- state ----------------------------------------------------------------------------------
    def set_bounds(self, width: float, height: float) -> None:
        self.prepareGeometryChange()
        self._bounds = QRectF(0, 0, float(width), float(height))
        self.update()

    def boundingRect(self) -> QRectF:
        pad = 0.25 * max(self._bounds.width(), self._bounds.height())
        return self._bounds.adjusted(-pad, -pad, pad, pad)

    @property
    def busy(self) -> bool:
        """A drag or a redraw is in progress."""
        return self._drag is not None or self._redraw is not None

    @property
    def dragging(self) -> bool:
        return self._drag is not None

    @property
    def redrawing(self) -> bool:
        return self._redraw is not None

    def set_tracing(self, points, apex, base, color: str | None = None) -> None:
        """Show a tracing (image coordinates); drops any edit in progress."""
        self.points = np.asarray(points, dtype=np.float64).reshape(-1, 2).copy() if points is not None \
            else np.zeros((0, 2))
        self.apex = None if apex is None else np.asarray(apex, dtype=np.float64).reshape(2).copy()
        self.base = None if base is None else np.asarray(base, dtype=np.float64).reshape(2).copy()
        if color is not None:
            self.color = QColor(color)
        was_redraw = self._redraw is not None
        self._drag, self._redraw, self._hover, self._before = None, None, None, None
        if was_redraw:
            self.redrawChanged.emit(False)
        self._update_chords()
        self.update()

    def geometry(self) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        return (self.points.copy(), None if self.apex is None else self.apex.copy(),
                None if self.base is None else self.base.copy())

    def _restore(self, geom) -> None:
        self.points, self.apex, self.base = geom[0].copy(), geom[1], geom[2]
        self._update_chords()
        self.update()

    def _update_chords(self) -> None:
        if len(self.points) >= 3 and self.apex is not None and self.base is not None:
            self._chords = tracing_from_contour(self.points, self.apex, self.base).chords
        else:
            self._chords = np.zeros((0, 4))

    # -- geometry helpers -------------------------------------------------------------------------
    def _clamp(self, p: np.ndarray) -> np.ndarray:
        b = self._bounds
        return np.array([min(max(p[0], b.left()), b.right()), min(max(p[1], b.top()), b.bottom())])

    def _to_scene(self, pts: np.ndarray) -> np.ndarray:
        t = self.sceneTransform()
        p = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
        x = t.m11() * p[:, 0] + t.m21() * p[:, 1] + t.dx()
        y = t.m12() * p[:, 0] + t.m22() * p[:, 1] + t.dy()
        return np.stack([x, y], axis=1)

    def scene_pos_of(self, target: tuple) -> QPointF:
        """Scene position of a handle: ("point", i), ("apex",) or ("base",) (tests, hit testing)."""
        p = self._handle_pos(target)
        s = self._to_scene(p)[0]
        return QPointF(float(s[0]), float(s[1]))

    def _handle_pos(self, target: tuple) -> np.ndarray:
        if target[0] == "point":
            return self.points[target[1]]
        return self.apex if target[0] == "apex" else self.base

    def _set_handle(self, target: tuple, p: np.ndarray) -> None:
        if target[0] == "point":
            self.points[target[1]] = p
        elif target[0] == "apex":
            self.apex = p
        else:
            self.base = p

    def hit(self, scene_pos: QPointF) -> tuple | None:
        """The handle under a scene position (axis ends first), or None."""
        sp = np.array([scene_pos.x(), scene_pos.y()])
        for name, p in (("apex", self.apex), ("base", self.base)):
            if p is not None and np.hypot(*(self._to_scene(p)[0] - sp)) <= HIT_PX:
                return (name,)
        if len(self.points):
            d = np.hypot(*(self._to_scene(self.points) - sp).T)
            i = int(np.argmin(d))
            if d[i] <= HIT_PX:
                return ("point", i)
        return None

    def edge_hit(self, scene_pos: QPointF) -> tuple[int, np.ndarray] | None:
        """(edge index, point on the edge in image coordinates) near a scene position, or None."""
        if len(self.points) < 3:
            return None
        sp = np.array([scene_pos.x(), scene_pos.y()])
        i, dist, proj = nearest_edge(self._to_scene(self.points), sp)
        if dist > HIT_PX:
            return None
        item = self.mapFromScene(QPointF(float(proj[0]), float(proj[1])))
        return i, np.array([item.x(), item.y()])

    # -- edits ------------------------------------------------------------------------------------
    def insert_point(self, edge: int, p: np.ndarray) -> None:
        self.points = np.insert(self.points, edge + 1, self._clamp(np.asarray(p, float)), axis=0)
        self._update_chords()
        self.update()
        self.committed.emit("insert_point")

    def delete_point(self, i: int) -> bool:
        if len(self.points) <= MIN_POINTS:
            self.message.emit(f"A tracing keeps at least {MIN_POINTS} points")
            return False
        self.points = np.delete(self.points, i, axis=0)
        self._hover = None
        self._update_chords()
        self.update()
        self.committed.emit("delete_point")
        return True

    def delete_hovered(self) -> bool:
        """Delete key: remove the point under the mouse. False when the mouse is on no point."""
        if self._drag is None and self._redraw is None and self._hover and self._hover[0] == "point":
            self.delete_point(self._hover[1])
            return True
        return False

    def start_redraw(self) -> None:
        if self._drag is not None:
            return
        self._redraw = []
        self._hover = None
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.update()
        self.redrawChanged.emit(True)

    def add_redraw_point(self, p) -> None:
        if self._redraw is not None:
            p = self._clamp(np.asarray(p, float))
            if not self._redraw or np.hypot(*(self._redraw[-1] - p)) > 1e-6:
                self._redraw.append(p)
            self.update()

    def finish_redraw(self) -> bool:
        if self._redraw is None:
            return False
        if len(self._redraw) < 3:
            self.message.emit("Click at least 3 points around the LV, then Enter or double-click to close")
            return False
        self.points = np.array(self._redraw)
        self._redraw = None
        self.unsetCursor()
        self._update_chords()
        self.update()
        self.redrawChanged.emit(False)
        self.committed.emit("redraw")
        return True

    def cancel(self) -> bool:
        """Esc: undo the drag in progress or drop the redraw. False when nothing was in progress."""
        if self._drag is not None:
            self._restore(self._before)
            self._drag, self._before = None, None
            self._swallow = True
            self.cancelled.emit()
            return True
        if self._redraw is not None:
            self._redraw = None
            self.unsetCursor()
            self.update()
            self.redrawChanged.emit(False)
            self.cancelled.emit()
            return True
        return False

    def double_click(self, scene_pos: QPointF) -> bool:
        """A double-click in the view: closes a redraw, or inserts a point on the edge under it."""
        if not self.isVisible():
            return False
        if self._redraw is not None:
            return self.finish_redraw() or True
        if self.hit(scene_pos) is not None:
            return True  # on a handle: nothing to do, but do not re-fit the view
        edge = self.edge_hit(scene_pos)
        if edge is not None:
            self.insert_point(*edge)
            return True
        return False

    # -- mouse ------------------------------------------------------------------------------------
    @staticmethod
    def _xy(ev) -> np.ndarray:
        return np.array([ev.pos().x(), ev.pos().y()])

    def mousePressEvent(self, ev) -> None:
        self._swallow = False
        if not self.isVisible():
            ev.ignore()
            return
        if self._redraw is not None:
            if ev.button() == Qt.MouseButton.LeftButton:
                self.add_redraw_point(self._xy(ev))
            elif ev.button() == Qt.MouseButton.RightButton and self._redraw:
                self._redraw.pop()
                self.update()
            ev.accept()
            return
        target = self.hit(ev.scenePos())
        if ev.button() == Qt.MouseButton.RightButton:
            if target is not None and target[0] == "point":
                self.delete_point(target[1])
                ev.accept()
            else:
                ev.ignore()
            return
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        if ev.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            edge = self.edge_hit(ev.scenePos())
            if edge is not None:
                self.insert_point(*edge)
                ev.accept()
                return
        if target is None:
            ev.ignore()
            return
        self._before = self.geometry()
        self._drag = target
        self._offset = self._xy(ev) - self._handle_pos(target)
        self._moved = False
        self.setCursor(Qt.CursorShape.ClosedHandCursor)
        self.update()
        ev.accept()

    def _drag_to(self, ev) -> None:
        p = self._clamp(self._xy(ev) - self._offset)
        if np.hypot(*(p - self._handle_pos(self._drag))) > 1e-9:
            self._set_handle(self._drag, p)
            self._moved = True
            self._update_chords()
            self.update()
            self.previewChanged.emit()

    def mouseMoveEvent(self, ev) -> None:
        if self._drag is None:
            ev.ignore()
            return
        self._drag_to(ev)
        ev.accept()

    def mouseReleaseEvent(self, ev) -> None:
        if self._swallow:
            self._swallow = False
            self.unsetCursor()
            self._release_grab()
            ev.accept()
            return
        if self._drag is None or ev.button() != Qt.MouseButton.LeftButton:
            if self._drag is None:
                self._release_grab()  # a click that did its work on press (delete, insert, redraw point)
            ev.accept()
            return
        self._drag_to(ev)  # the last move may have been rate-limited away: the release position counts
        self._finish_drag()
        self._release_grab()
        ev.accept()

    def _release_grab(self) -> None:
        sc = self.scene()
        if sc is not None and sc.mouseGrabberItem() is self:
            self.ungrabMouse()

    def _finish_drag(self) -> None:
        target, moved = self._drag, self._moved
        self._drag, self._before = None, None
        self.unsetCursor()
        self.update()
        if moved:
            self.committed.emit({"point": "move_point", "apex": "move_apex", "base": "move_base"}[target[0]])

    def ungrabMouseEvent(self, ev) -> None:
        # the grab went away mid-drag (window lost focus): keep what was dragged, as a release would
        if self._drag is not None:
            self._finish_drag()
        super().ungrabMouseEvent(ev)

    def hoverMoveEvent(self, ev) -> None:
        self._mouse = self._xy(ev)
        if self._redraw is not None:
            self.update()
            return
        target = self.hit(ev.scenePos())
        if target is None:
            edge = self.edge_hit(ev.scenePos())
            target = ("edge", edge[0], edge[1]) if edge is not None else None
        if (target is None) != (self._hover is None) or (target and self._hover and target[:2] != self._hover[:2]):
            if target is None:
                self.unsetCursor()
            elif target[0] == "edge":
                self.setCursor(Qt.CursorShape.CrossCursor)
            else:
                self.setCursor(Qt.CursorShape.OpenHandCursor)
        self._hover = target
        self.update()

    def hoverLeaveEvent(self, ev) -> None:
        self._hover = None
        self._mouse = None
        if self._redraw is None:
            self.unsetCursor()
        self.update()

    @property
    def hovered(self) -> tuple | None:
        return self._hover

    # -- painting ---------------------------------------------------------------------------------
    def _pen(self, color: QColor, width: float = 1.5, style=Qt.PenStyle.SolidLine) -> QPen:
        pen = QPen(color)
        pen.setWidthF(width)
        pen.setCosmetic(True)
        pen.setStyle(style)
        return pen

    def paint(self, p: QPainter, option, widget=None) -> None:
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        t = p.transform()
        col = QColor(self.color)
        if self._redraw is not None:
            self._paint_redraw(p, t, col)
            p.restore()
            return
        if len(self.points) >= 3:
            fill = QColor(col)
            fill.setAlpha(38)
            p.setBrush(QBrush(fill))
            p.setPen(self._pen(col, 1.6))
            p.drawPolygon(QPolygonF([QPointF(x, y) for x, y in self.points]))
            chord = QColor(col)
            chord.setAlpha(70)
            p.setPen(self._pen(chord, 1.0))
            for x1, y1, x2, y2 in self._chords:
                p.drawLine(QPointF(x1, y1), QPointF(x2, y2))
        if self.apex is not None and self.base is not None:
            p.setPen(self._pen(QColor(AXIS_COLOR), 1.5, Qt.PenStyle.DashLine))
            p.drawLine(QPointF(*self.apex), QPointF(*self.base))
        # handles: a constant size on screen
        p.resetTransform()
        active = self._drag or (self._hover if self._hover and self._hover[0] != "edge" else None)
        outline = self._pen(QColor(13, 15, 18, 230), 1.0)
        for i, (x, y) in enumerate(self.points):
            d = t.map(QPointF(x, y))
            on = active is not None and active[0] == "point" and active[1] == i
            r = ACTIVE_R if on else HANDLE_R
            p.setPen(outline)
            p.setBrush(QColor(theme.ACCENT) if on else QColor(255, 255, 255, 225))
            p.drawEllipse(d, r, r)
        for name, q in (("apex", self.apex), ("base", self.base)):
            if q is None:
                continue
            d = t.map(QPointF(*q))
            on = active is not None and active[0] == name
            r = (ACTIVE_R if on else HANDLE_R) + 1.0
            path = QPainterPath()
            path.moveTo(d.x(), d.y() - r * 1.3)
            path.lineTo(d.x() + r * 1.3, d.y())
            path.lineTo(d.x(), d.y() + r * 1.3)
            path.lineTo(d.x() - r * 1.3, d.y())
            path.closeSubpath()
            p.setPen(outline)
            p.setBrush(QColor(theme.ACCENT) if on else QColor(AXIS_COLOR))
            p.drawPath(path)
        if self._drag is None and self._hover and self._hover[0] == "edge":
            d = t.map(QPointF(*self._hover[2]))
            p.setPen(self._pen(QColor(255, 255, 255, 200), 1.2))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawEllipse(d, HANDLE_R, HANDLE_R)
            p.drawLine(QPointF(d.x() - 2, d.y()), QPointF(d.x() + 2, d.y()))
            p.drawLine(QPointF(d.x(), d.y() - 2), QPointF(d.x(), d.y() + 2))
        p.restore()

    def _paint_redraw(self, p: QPainter, t, col: QColor) -> None:
        if len(self.points) >= 3:  # the old tracing, faint, for reference
            old = QColor(col)
            old.setAlpha(90)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(self._pen(old, 1.0, Qt.PenStyle.DotLine))
            p.drawPolygon(QPolygonF([QPointF(x, y) for x, y in self.points]))
        pts = list(self._redraw)
        p.setPen(self._pen(col, 1.6))
        for a, b in zip(pts, pts[1:]):
            p.drawLine(QPointF(*a), QPointF(*b))
        if pts and self._mouse is not None:
            p.setPen(self._pen(col, 1.0, Qt.PenStyle.DashLine))
            p.drawLine(QPointF(*pts[-1]), QPointF(*self._mouse))
            if len(pts) >= 2:
                p.drawLine(QPointF(*self._mouse), QPointF(*pts[0]))
        p.resetTransform()
        p.setPen(self._pen(QColor(13, 15, 18, 230), 1.0))
        p.setBrush(QColor(255, 255, 255, 225))
        for x, y in pts:
            p.drawEllipse(t.map(QPointF(x, y)), HANDLE_R, HANDLE_R)
