"""The loop on screen, in the player, the timeline and the summary: the one place that draws it.

One draw per loop switch, one per finished analysis (a moment after it arrives, so a due frame
goes first), one per correction (the correction controller asks for it through the window); while
the loop is analysed its masks appear as chunks arrive and its LV areas grow on the timeline
(redrawn at most four times a second).
"""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

from PySide6.QtCore import QObject, QTimer, Signal

from echoviewer.errors import one_line
from echoviewer.session import EventKind, LoopEntry, LoopState, SessionEvent, StudySession
from echoviewer.ui.correction import CorrectionController
from echoviewer.ui.player import CinePlayer
from echoviewer.ui.status_bar import StatusBar
from echoviewer.ui.summary import SummaryPanel
from echoviewer.ui.timeline import TimelineWidget

#: A finished analysis of the loop on screen is drawn this long after it arrives (see `finished`).
DISPLAY_DELAY_MS = 1
#: How often the growing LV-area curve of a loop being analysed is redrawn.
PARTIAL_INTERVAL_MS = 250


class LoopView(QObject):
    #: A loop's finished analysis is on screen (player beats, timeline, summary): key.
    shown = Signal(str)

    def __init__(self, session: StudySession, player: CinePlayer, timeline: TimelineWidget, summary: SummaryPanel,
                 corrector: CorrectionController, status: StatusBar, parent: QObject | None = None):
        super().__init__(parent)
        self.session, self.player, self.timeline, self.summary = session, player, timeline, summary
        self.corrector, self.status = corrector, status
        self._partial_dirty = False
        self._partial_timer = QTimer(self)
        self._partial_timer.setInterval(PARTIAL_INTERVAL_MS)
        self._partial_timer.timeout.connect(self._flush_partial)
        self._partial_timer.start()
        player.frameChanged.connect(self._on_frame)
        timeline.seekRequested.connect(self.seek)
        timeline.scrubRequested.connect(lambda n: self.seek(player.current + n))
        summary.beatActivated.connect(self.seek)
        session.subscribe(self._on_session)

    def stop(self) -> None:
        self._partial_timer.stop()

    def show(self, e: LoopEntry) -> str | None:
        """Put another loop on screen, drawn once. Returns a one-line error when its frames
        cannot be shown (the view then says so)."""
        try:
            self.player.set_loop(e.loop, e.mask, traced=e.traced)
        except Exception as exc:
            self.player.set_loop(None)
            self.timeline.clear_loop("cannot display this loop")
            self.summary.show_message(e.name, f"Cannot display: {exc}", error=True)
            return f"{e.name}: {one_line(str(exc))}"
        self.timeline.set_loop(e.loop.n_frames, e.loop.fps)
        self.timeline.set_frame(self.player.current)
        self.corrector.loop_changed()  # an edit in progress on the old loop ends before the new one is drawn
        self.show_results(e)
        return None

    def show_results(self, e: LoopEntry) -> None:
        """Draw the loop's results (or where its analysis stands) and say so when they are on screen."""
        self.redraw()
        if e.analysis is not None:
            self.status.show_weights(e.analysis)
            self.shown.emit(e.key)

    def redraw(self) -> None:
        """Draw the loop on screen: its results (corrected when it has corrections, the model's
        values beside), else where its analysis stands."""
        e = self.session.current
        if e is None:
            return
        a, c = e.analysis, e.corrections
        if a is None:
            self.player.set_beats([])
            if e.state == LoopState.FAILED:
                self.timeline.clear_loop("analysis failed")
                self.summary.show_message(e.name, f"Analysis failed: {e.message}", error=True)
            else:
                self.timeline.clear_loop()
                analysing = e.state == LoopState.ANALYSING
                self.timeline.set_message("analysing…" if analysing else "waiting for analysis…")
                self._partial_dirty = True
                self.summary.show_message(e.name, e.status_text().capitalize())
                self.summary.set_loop_info(e.loop.fps)
            self.corrector.draw(None)
            return
        values = c.values() if c is not None else None
        summary = c.summary_of(values) if c is not None else None
        if c is not None:
            self.player.masks_updated(None)  # frames a person traced show the tracing
        self.player.set_beats(values if values is not None else a.beats, demo=a.demo)
        decision = e.decision
        self.timeline.set_analysis(a, values, summary, show_ef=decision is None or decision.analysable)
        self.timeline.set_frame(self.player.current)
        self.summary.show_analysis(a, e.name, values, summary, decision=decision)
        self.corrector.draw(values)

    def seek(self, frame: int) -> None:
        """Pause and show ``frame`` (clamped to the loop)."""
        self.player.pause()
        if self.player.n_frames:
            self.player.seek(min(max(int(frame), 0), self.player.n_frames - 1))

    def _on_frame(self, frame: int) -> None:
        self.timeline.set_frame(frame)
        self.corrector.on_frame(frame)

    # -- while the loop on screen is analysed -------------------------------------------------------
    def analysing(self, e: LoopEntry) -> None:
        if e.analysis is None:
            self.timeline.set_message("analysing…")
            self.summary.show_message(e.name, "Analysing…")
            self.summary.set_loop_info(e.loop.fps if e.loop else None)

    def _on_session(self, ev: SessionEvent) -> None:
        if ev.kind == EventKind.MASKS and ev.key == self.session.current_key:
            self.player.masks_updated(ev.frames)
            self._partial_dirty = True

    def _flush_partial(self) -> None:
        if not self._partial_dirty:
            return
        self._partial_dirty = False
        e = self.session.current
        if e is None or e.analysis is not None:
            return
        areas = e.partial_areas()
        if areas is not None:
            cm = None
            if e.loop is not None and getattr(e.loop, "cm_per_pixel", None):
                cm = e.loop.transform.grid_cm_per_pixel(e.loop.cm_per_pixel)
            self.timeline.set_message("")
            self.timeline.set_partial(areas, cm)

    def finished(self, e: LoopEntry, analysis) -> None:
        """The loop on screen got its result: its overlay now, the rest a moment later."""
        if int(analysis.n_frames) != self.player.n_frames:
            # the file held fewer frames than its header said: follow the analysis
            self.player.set_loop(e.loop, e.mask, frame=min(self.player.current, int(analysis.n_frames) - 1),
                                 traced=e.traced)
            self.timeline.set_loop(int(analysis.n_frames), analysis.fps)
        self.player.masks_updated(None)
        # Drawn a moment later, not now: the frame tick and repaint that are due go first, so
        # the window never does all of it in one stretch (40-60 ms on 2 busy cores).
        QTimer.singleShot(DISPLAY_DELAY_MS, lambda k=e.key, a=analysis: self._show_finished(k, a))

    def _show_finished(self, key: str, analysis) -> None:
        e = self.session.get(key)
        if e is None or key != self.session.current_key or e.analysis is not analysis:
            return  # another loop is on screen, or this one was re-analysed meanwhile
        self.corrector.loop_changed()
        self.show_results(e)

    def reanalysed(self, e: LoopEntry) -> None:
        """The loop on screen lost its results (re-analysis): show it waiting."""
        self.corrector.loop_changed()
        self.player.masks_updated(None)
        self.show_results(e)
