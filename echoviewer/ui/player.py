"""Cine player: the loop at native resolution with the LV overlay, timed from elapsed time."""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

import time
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QSignalBlocker, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from echoviewer import DEMO_LABEL
from echoviewer.analysis.beat_lookup import beat_frames, heart_phase, next_marker
from echoviewer.analysis.contour import contour_path
from echoviewer.analysis.drawing import OVERLAY_COLOR, OVERLAY_OPACITY
from echoviewer.errors import one_line
from echoviewer.io.prefetch import FramePrefetcher
from echoviewer.ui import icons, theme
from echoviewer.ui.editor import TracingEditor
from echoviewer.ui.overlay import NativeMaskCache, overlay_rgba
from echoviewer.ui.playback import PlaybackClock
from echoviewer.ui.window_level import DEFAULT as DEFAULT_WL
from echoviewer.ui.window_level import WindowLevel

SPEEDS = (0.25, 0.5, 1.0, 1.5, 2.0)
#: Frames decoded ahead of the playhead while playing (a few: the loop's cache is bounded).
PREFETCH_AHEAD = 4

MaskSource = Callable[[int], "np.ndarray | None"]  # frame -> (112,112) bool mask, or None if not yet known


class ScrubSlider(QSlider):
    """A frame slider whose wheel moves one frame per notch (and never takes keyboard focus)."""

    def __init__(self, parent=None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._acc = 0

    def wheelEvent(self, ev) -> None:
        self._acc += ev.angleDelta().y() or ev.angleDelta().x()
        steps = int(self._acc / 120)
        if steps:
            self._acc -= steps * 120
            self.setValue(self.value() + steps)
        ev.accept()


class _CineViewBox(pg.ViewBox):
    """The image's view box: left-drag pans, the wheel zooms (pyqtgraph's), right-drag sets the
    window/level and a right-click without a drag asks for the context menu. A right-click on a
    tracing point in correction mode never gets here: the tracing editor takes it."""

    #: right-drag moved by (dx, dy) screen pixels since the last report
    windowLevelDragged = Signal(float, float)
    #: right-click without a drag, at this global screen position
    contextRequested = Signal(QPoint)

    def mouseDragEvent(self, ev, axis=None) -> None:
        if ev.button() == Qt.MouseButton.RightButton:
            ev.accept()
            d = ev.screenPos() - ev.lastScreenPos()
            if d.x() or d.y():
                self.windowLevelDragged.emit(float(d.x()), float(d.y()))
            return
        super().mouseDragEvent(ev, axis)

    def mouseClickEvent(self, ev) -> None:
        if ev.button() == Qt.MouseButton.RightButton:
            ev.accept()
            self.contextRequested.emit(ev.screenPos().toPoint())
            return
        super().mouseClickEvent(ev)


class _CineView(pg.GraphicsView):
    """GraphicsView with a ViewBox; double-click fits the image again (unless the tracing editor
    takes it: closing a redraw, inserting a point on an edge)."""

    doubleClicked = Signal()

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.double_click_hook: Callable | None = None  # (scene_pos) -> bool (handled)

    def mouseDoubleClickEvent(self, ev) -> None:
        hook = self.double_click_hook
        if hook is not None and hook(self.mapToScene(ev.position().toPoint())):
            ev.accept()
            return
        self.doubleClicked.emit()
        ev.accept()


class CinePlayer(QWidget):
    frameChanged = Signal(int)
    playingChanged = Signal(bool)
    #: A frame could not be decoded: one-line message (playback pauses; the app carries on).
    frameError = Signal(str)
    #: The display's window/level changed (a WindowLevel).
    windowLevelChanged = Signal(object)
    #: Right-click on the image (not on a tracing point): global position for a context menu.
    contextMenuRequested = Signal(QPoint)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.loop = None
        self.n_frames = 0
        self.fps = 30.0
        self.current = 0
        self.speed = 1.0
        self.beats: list = []
        self._ed: list[int] = []
        self._es: list[int] = []
        self._mask_source: MaskSource | None = None
        self._traced: Callable[[int], bool] | None = None
        self._cache: NativeMaskCache | None = None
        self.overlay_visible = True
        self.overlay_color = OVERLAY_COLOR
        self.overlay_opacity = OVERLAY_OPACITY
        self.window_level: WindowLevel = DEFAULT_WL  # display only: see window_level.py
        self.clock = PlaybackClock(1, 30.0)
        self.frames_shown = 0
        self.prefetch = FramePrefetcher()  # decodes the next frames while playing
        self._playing = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)

        # view
        self.view = _CineView(background=theme.BASE)
        self.view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.vb = _CineViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.vb.windowLevelDragged.connect(lambda dx, dy: self.set_window_level(self.window_level.dragged(dx, dy)))
        self.vb.contextRequested.connect(self.contextMenuRequested)
        self.vb.setDefaultPadding(0.01)
        self.view.setCentralItem(self.vb)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.overlay = pg.ImageItem(axisOrder="row-major")
        self.overlay.setZValue(5)
        self.contour = pg.PlotCurveItem(connect="finite", antialias=True)
        self.contour.setZValue(6)
        self.vb.addItem(self.image)
        self.vb.addItem(self.overlay)
        self.vb.addItem(self.contour)
        self.view.doubleClicked.connect(self.fit)
        #: the tracing editor (correction mode, on ED / ES frames); the window drives it
        self.editor = TracingEditor()
        self.editor.hide()
        self.vb.addItem(self.editor, ignoreBounds=True)
        self.view.double_click_hook = self.editor.double_click
        self.overlay_suppressed = False  # the editor's contour replaces the model's overlay
        self.markers_both = False  # [ and ] visit ED and ES frames (correction mode), not only ED

        # header above the image: heart phase, beat, demo warning (never covers burned-in text)
        self.phase_label = QLabel("")
        self.phase_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.phase_label.setMinimumWidth(92)
        self.phase_label.setToolTip("Heart phase of this frame (ED / ES frames from the analysis)")
        self.phase_label.hide()
        self._shown_phase = ""
        self.info_label = QLabel("")
        self.info_label.setStyleSheet(f"color: {theme.MUTED};")
        # its text changes with the frame: it must never widen the window (and move the image)
        self.info_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.demo_label = QLabel(f"⚠ {DEMO_LABEL}")
        self.demo_label.setStyleSheet(
            "QLabel { background: #5c3d0a; color: #ffd58a; border: 1px solid #e0a030;"
            " border-radius: 4px; padding: 2px 8px; font-weight: 700; }"
        )
        self.demo_label.hide()
        self.mode_label = QLabel("✎ CORRECTION MODE")
        self.mode_label.setToolTip("Correction mode (E): drag ED/ES markers and tracing points; Esc cancels")
        self.mode_label.setStyleSheet(
            f"QLabel {{ background: #24384d; color: #ffffff; border: 1px solid {theme.ACCENT};"
            " border-radius: 4px; padding: 2px 8px; font-weight: 700; }"
        )
        self.mode_label.hide()
        header = QHBoxLayout()
        header.setContentsMargins(4, 0, 4, 0)
        header.setSpacing(10)
        header.addWidget(self.phase_label)
        # the label takes the free width (a stretch beside it would take all of it: an Ignored
        # label then gets none and the info line disappears)
        header.addWidget(self.info_label, 1)
        header.addWidget(self.mode_label)
        header.addWidget(self.demo_label)
        self.header = QWidget()
        self.header.setLayout(header)
        self.header.setFixedHeight(34)

        # controls
        def tool(name, tip, slot):
            b = QToolButton()
            b.setIcon(icons.icon(name))
            b.setIconSize(QSize(20, 20))
            b.setToolTip(tip)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.setAutoRaise(True)
            b.clicked.connect(slot)
            return b

        self.first_btn = tool("first", "First frame (Home)", self.first)
        self.prev_beat_btn = tool("beat_back", "Previous beat ([)", self.prev_beat)
        self.back_btn = tool("step_back", "Previous frame (Left)", lambda: self.step(-1))
        self.play_btn = tool("play", "Play / pause (Space)", self.toggle_play)
        self.fwd_btn = tool("step_fwd", "Next frame (Right)", lambda: self.step(1))
        self.next_beat_btn = tool("beat_fwd", "Next beat (])", self.next_beat)
        self.last_btn = tool("last", "Last frame (End)", self.last)
        self.slider = ScrubSlider()
        self.slider.setRange(0, 0)
        self.slider.setToolTip("Scrub (mouse wheel: one frame per notch)")
        self.slider.valueChanged.connect(self.seek)
        self.speed_box = QComboBox()
        self.speed_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for s in SPEEDS:
            self.speed_box.addItem(f"{s:g}×", s)
        self.speed_box.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_box.setToolTip("Playback speed")
        self.speed_box.currentIndexChanged.connect(lambda i: self.set_speed(SPEEDS[i]))
        self.pos_label = QLabel("–")
        self.pos_label.setFont(theme.mono_font(9.5))
        self.pos_label.setMinimumWidth(250)
        self.pos_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        controls = QHBoxLayout()
        controls.setContentsMargins(4, 2, 4, 2)
        controls.setSpacing(2)
        for b in (self.first_btn, self.prev_beat_btn, self.back_btn, self.play_btn, self.fwd_btn,
                  self.next_beat_btn, self.last_btn):
            controls.addWidget(b)
        controls.addSpacing(8)
        controls.addWidget(self.slider, 1)
        controls.addSpacing(8)
        controls.addWidget(self.speed_box)
        controls.addWidget(self.pos_label)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.header)
        lay.addWidget(self.view, 1)
        lay.addLayout(controls)
        self._set_enabled(False)

    # -- loop -----------------------------------------------------------------------------------
    def set_loop(self, loop, mask_source: MaskSource | None = None, frame: int = 0,
                 traced: Callable[[int], bool] | None = None) -> None:
        """Show ``loop``; ``mask_source(frame)`` gives its 112-grid LV masks, ``traced(frame)`` says
        whether that mask is a person's tracing (the frame then says "corrected tracing")."""
        self.pause()
        self._traced = traced
        # The loop left behind frees its decoded frames (up to 256 MB a loop) and lets go of its
        # file, which the user may want to move; it reopens when shown again.
        self.prefetch.cancel(leaving=self.loop if self.loop is not loop else None)
        self.loop = loop
        self.beats, self._ed, self._es = [], [], []
        self._mask_source = mask_source
        self.editor.set_tracing(None, None, None)
        self.editor.hide()
        self.overlay_suppressed = False
        if loop is None:
            self.n_frames = 0
            self.image.clear()
            self.overlay.clear()
            self.contour.setData([], [])
            self.phase_label.hide()
            self._shown_phase = ""
            self.info_label.setText("")
            self.demo_label.hide()
            self.pos_label.setText("–")
            self._set_enabled(False)
            return
        self.n_frames = int(loop.n_frames)
        self.fps = float(loop.fps) if loop.fps and loop.fps > 0 else 30.0
        shape = (int(loop.height), int(loop.width))
        self.editor.set_bounds(int(loop.width), int(loop.height))
        # The transform is first needed by the first mask, which comes from the analysis; until
        # then the prefetch thread works it out (region detection: 0.1 s of decoding for an AVI).
        self.prefetch.prepare(loop)
        self._cache = NativeMaskCache(lambda m: loop.transform.mask_to_native(m, shape), size=32)
        self.clock = PlaybackClock(self.n_frames, self.fps, self.speed)
        with QSignalBlocker(self.slider):
            self.slider.setRange(0, max(0, self.n_frames - 1))
        self._set_enabled(True)
        self.current = -1
        self.seek(min(max(frame, 0), self.n_frames - 1))
        self.fit()

    def set_mask_source(self, mask_source: MaskSource | None) -> None:
        self._mask_source = mask_source
        if self._cache is not None:
            self._cache.invalidate()
        self._render()

    def masks_updated(self, frames=None) -> None:
        """New masks arrived for ``frames`` (None: all): redraw if the current frame is among them."""
        if self._cache is None:
            return
        self._cache.invalidate(frames)
        if frames is None or self.current in set(np.atleast_1d(frames).tolist()):
            self._render()

    def set_beats(self, beats, demo: bool = False) -> None:
        self.beats = list(beats or [])
        self._ed = sorted(int(b.ed_frame) for b in self.beats)
        self._es = sorted(int(b.es_frame) for b in self.beats)
        self.demo_label.setVisible(bool(demo) and self.loop is not None)
        self._render()

    def set_overlay_visible(self, on: bool) -> None:
        self.overlay_visible = bool(on)
        self._render()

    def set_overlay_suppressed(self, on: bool) -> None:
        """Hide the model's mask overlay while the tracing editor shows this frame's tracing."""
        if bool(on) != self.overlay_suppressed:
            self.overlay_suppressed = bool(on)
            self._render()

    def set_correction_mode(self, on: bool) -> None:
        self.mode_label.setVisible(bool(on))
        self.markers_both = bool(on)
        if not on:
            self.editor.hide()
            self.set_overlay_suppressed(False)

    def set_overlay_style(self, color: tuple[int, int, int], opacity: float) -> None:
        self.overlay_color = tuple(int(c) for c in color)
        self.overlay_opacity = float(opacity)
        self._render()

    def set_window_level(self, wl: WindowLevel) -> None:
        """How grey values map to the screen (display only: the frames are never changed)."""
        if wl == self.window_level:
            return
        self.window_level = wl
        if self.image.image is not None:
            self.image.setLevels(self._levels(self.image.image))
        self._update_labels()
        self.windowLevelChanged.emit(wl)

    def reset_window_level(self) -> None:
        self.set_window_level(DEFAULT_WL)

    def _levels(self, img: np.ndarray):
        # None for 8-bit frames at the default: with (0, 255) pyqtgraph rescales every RGB frame to
        # the same values (0.8 ms a frame)
        if self.window_level.is_default:
            return None if img.dtype == np.uint8 else (0, 255)
        return self.window_level.levels()

    def fit(self) -> None:
        if self.loop is not None:
            self.vb.setRange(xRange=(0, self.loop.width), yRange=(0, self.loop.height), padding=0.01)

    # -- navigation -----------------------------------------------------------------------------
    def seek(self, frame: int) -> None:
        if self.n_frames <= 0:
            return
        frame = int(frame) % self.n_frames if self._playing else min(max(int(frame), 0), self.n_frames - 1)
        if frame == self.current:
            return
        self.current = frame
        if self._playing and not self._timer_driving:
            self.clock.reset(time.perf_counter(), frame)  # user scrubbed while playing
        with QSignalBlocker(self.slider):
            self.slider.setValue(frame)
        self._render()
        self.frameChanged.emit(frame)

    _timer_driving = False

    def step(self, delta: int) -> None:
        self.pause()
        if self.n_frames:
            self.seek((self.current + delta) % self.n_frames)

    def first(self) -> None:
        self.pause()
        self.seek(0)

    def last(self) -> None:
        self.pause()
        self.seek(self.n_frames - 1)

    def beat_starts(self) -> list[int]:
        """Frames [ and ] jump to: each beat's ED frame (beat start); in correction mode ED and ES frames."""
        return beat_frames(self.beats) if self.markers_both else self._ed

    def next_beat(self) -> None:
        self.pause()
        f = next_marker(self.current, self.beat_starts(), +1)
        if f is not None:
            self.seek(f)

    def prev_beat(self) -> None:
        self.pause()
        f = next_marker(self.current, self.beat_starts(), -1)
        if f is not None:
            self.seek(f)

    # -- playback -------------------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        return self._playing

    def toggle_play(self) -> None:
        self.pause() if self._playing else self.play()

    def play(self) -> None:
        if self._playing or self.n_frames <= 1:
            return
        self._playing = True
        self.clock = PlaybackClock(self.n_frames, self.fps, self.speed)
        now = time.perf_counter()
        self.clock.reset(now, self.current)
        self._timer.start(int(round(self.clock.first_delay(now) * 1000)))
        self.play_btn.setIcon(icons.icon("pause"))
        self.playingChanged.emit(True)

    def pause(self) -> None:
        if not self._playing:
            return
        self._playing = False
        self._timer.stop()
        self.play_btn.setIcon(icons.icon("play"))
        self.playingChanged.emit(False)

    def set_speed(self, speed: float) -> None:
        self.speed = float(speed)
        i = SPEEDS.index(self.speed) if self.speed in SPEEDS else -1
        if i >= 0 and self.speed_box.currentIndex() != i:
            with QSignalBlocker(self.speed_box):
                self.speed_box.setCurrentIndex(i)
        if self._playing:
            self.clock = PlaybackClock(self.n_frames, self.fps, self.speed)
            now = time.perf_counter()
            self.clock.reset(now, self.current)
            self._timer.start(int(round(self.clock.first_delay(now) * 1000)))
        self._update_labels()  # the info line says the speed now, not on the next frame

    def _tick(self) -> None:
        if not self._playing:
            return
        frame, _ = self.clock.advance(time.perf_counter())
        self._timer_driving = True
        try:
            self.seek(frame)
        finally:
            self._timer_driving = False
        self.frames_shown += 1
        n = self.n_frames
        self.prefetch.want(self.loop, [(frame + k) % n for k in range(1, min(PREFETCH_AHEAD, n - 1) + 1)])
        delay = self.clock.t0 + (self.clock.k + 1) / self.clock.rate - time.perf_counter()
        self._timer.start(max(0, int(round(delay * 1000))))

    # -- drawing --------------------------------------------------------------------------------
    def grid_mask(self, frame: int | None = None):
        frame = self.current if frame is None else frame
        if self._mask_source is None or frame < 0:
            return None
        return self._mask_source(frame)

    def native_mask(self, frame: int | None = None) -> np.ndarray | None:
        """The LV mask of ``frame`` at native resolution (None while it is not segmented)."""
        frame = self.current if frame is None else frame
        g = self.grid_mask(frame)
        if g is None or self._cache is None:
            return None
        return self._cache.get(frame, g)

    def phase(self, frame: int | None = None) -> str:
        frame = self.current if frame is None else frame
        return heart_phase(frame, self._ed, self._es)

    def _render(self) -> None:
        if self.loop is None or self.current < 0:
            return
        i = self.current
        try:
            img = self.loop.frame(i)
        except Exception as exc:
            self.pause()
            img = np.zeros((int(self.loop.height), int(self.loop.width)), np.uint8)
            self.frameError.emit(f"frame {i + 1}: {one_line(str(exc))}")
        self.image.setImage(img, autoLevels=False, levels=self._levels(img))
        mask = self.native_mask(i) if self.overlay_visible and not self.overlay_suppressed else None
        if mask is not None:
            self.overlay.setImage(overlay_rgba(mask, self.overlay_color, self.overlay_opacity), autoLevels=False)
            self.overlay.setVisible(True)
            xs, ys = contour_path(mask)
            pen = QPen(QColor(*self.overlay_color))
            pen.setWidthF(1.6)
            pen.setCosmetic(True)
            self.contour.setPen(pen)
            self.contour.setData(xs, ys, connect="finite")
            self.contour.setVisible(True)
        else:
            self.overlay.setVisible(False)
            self.contour.setVisible(False)
            if self.overlay.image is not None:
                self.overlay.clear()
            self.contour.setData([], [])
        self._update_labels()

    def _update_labels(self) -> None:
        if self.loop is None or self.current < 0:
            return
        i = self.current
        t = i / self.fps
        phase = self.phase(i)
        beat = ""
        for b in self.beats:
            if b.ed_frame <= i <= b.es_frame:
                beat = f"beat {b.number} of {len(self.beats)}"
                break
        self.pos_label.setText(f"frame {i + 1:>4}/{self.n_frames:<4}  {t:6.2f} s")
        if phase != self._shown_phase:
            self._shown_phase = phase
            self.phase_label.setText(phase)
            if phase in ("ED", "ES"):
                color = theme.ED_COLOR if phase == "ED" else theme.ES_COLOR
                self.phase_label.setStyleSheet(
                    f"QLabel {{ background: {color}; border-radius: 4px; padding: 1px 10px; color: #0d0f12;"
                    " font-size: 13pt; font-weight: 800; }"
                )
            else:
                self.phase_label.setStyleSheet(
                    f"QLabel {{ background: #232830; border-radius: 4px; padding: 1px 10px; color: {theme.TEXT};"
                    " font-size: 11pt; font-weight: 500; }"
                )
            self.phase_label.setVisible(bool(phase))
        parts = [beat] if beat else []
        if self._traced is not None and self._traced(i) and self.overlay_visible:
            parts.append("✎ corrected tracing")
        parts.append(f"{self.fps:.0f} fps · {self.speed:g}×")
        if not self.overlay_visible:
            parts.append("overlay off (O)")
        if not self.window_level.is_default:
            parts.append(f"{self.window_level.label()} (W resets)")
        self.info_label.setText("   ·   ".join(parts))

    def _set_enabled(self, on: bool) -> None:
        for w in (self.first_btn, self.prev_beat_btn, self.back_btn, self.play_btn, self.fwd_btn,
                  self.next_beat_btn, self.last_btn, self.slider, self.speed_box):
            w.setEnabled(on)
