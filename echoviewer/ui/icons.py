"""Transport icons painted in the theme's text colour (the platform's are too dark on a dark theme)."""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPixmap

from echoviewer.ui import theme

SIZE = 32


def _tri(p: QPainterPath, x0: float, x1: float, left: bool) -> None:
    y0, y1, ym = 8.0, 24.0, 16.0
    if left:
        p.moveTo(x1, y0)
        p.lineTo(x0, ym)
        p.lineTo(x1, y1)
    else:
        p.moveTo(x0, y0)
        p.lineTo(x1, ym)
        p.lineTo(x0, y1)
    p.closeSubpath()


def _path(name: str) -> QPainterPath:
    p = QPainterPath()
    if name == "play":
        p.moveTo(10, 7)
        p.lineTo(25, 16)
        p.lineTo(10, 25)
        p.closeSubpath()
    elif name == "pause":
        p.addRect(QRectF(9, 8, 5, 16))
        p.addRect(QRectF(18, 8, 5, 16))
    elif name == "step_back":
        p.addRect(QRectF(8, 8, 3, 16))
        _tri(p, 12, 24, left=True)
    elif name == "step_fwd":
        p.addRect(QRectF(21, 8, 3, 16))
        _tri(p, 8, 20, left=False)
    elif name == "first":
        p.addRect(QRectF(6, 8, 3, 16))
        _tri(p, 9, 17, left=True)
        _tri(p, 17, 25, left=True)
    elif name == "last":
        p.addRect(QRectF(23, 8, 3, 16))
        _tri(p, 7, 15, left=False)
        _tri(p, 15, 23, left=False)
    elif name == "beat_back":
        _tri(p, 5, 15, left=True)
        _tri(p, 15, 25, left=True)
    elif name == "beat_fwd":
        _tri(p, 7, 17, left=False)
        _tri(p, 17, 27, left=False)
    return p


def icon(name: str, color: str = theme.TEXT) -> QIcon:
    ic = QIcon()
    for mode, col in ((QIcon.Mode.Normal, color), (QIcon.Mode.Disabled, theme.BORDER),
                      (QIcon.Mode.Active, "#ffffff")):
        pm = QPixmap(SIZE, SIZE)
        pm.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pm)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(col))
        painter.drawPath(_path(name))
        painter.end()
        ic.addPixmap(pm, mode)
    return ic

