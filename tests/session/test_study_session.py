"""The study session without Qt: every transition of a loop, the illegal ones refused, the events
observers hear, corrections opened (restored, set aside) and saved as analyses arrive."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from echoviewer.annotations import store
from echoviewer.pipeline.results import AnalysisSettings, Progress
from echoviewer.session import EventKind, IllegalTransition, LoopState, StudySession, stage_percent
from tests.ui.fakes import FakeLoop, FakeLoopError, fake_analysis, grid_mask

SETTINGS = AnalysisSettings()


class RegionLoop(FakeLoop):
    """A loop that takes the region its analysis found (as echoviewer.io.Loop does)."""

    adopted: tuple | None = None

    def adopt_region(self, region, source):
        self.adopted = (tuple(region), source)


def analysis_of(loop, settings=SETTINGS):
    return fake_analysis(loop, np.stack([grid_mask(i, loop.fps) for i in range(loop.n_frames)]), settings)


@pytest.fixture
def loops(tmp_path):
    d = tmp_path / "study"
    d.mkdir()
    return [FakeLoop(d / "b.avi", n_frames=120), RegionLoop(d / "A.avi", n_frames=120)]


@pytest.fixture
def session(loops, tmp_path):
    s = StudySession(SETTINGS, user="tester")
    s.events = []
    s.subscribe(s.events.append)
    s.open(tmp_path / "study", loops, [FakeLoopError(tmp_path / "study" / "c.dcm", "not a DICOM file")])
    return s


def kinds(session, key=None):
    return [e.kind for e in session.events if key is None or e.key == key]


def keys(loops):
    return [str(lp.path) for lp in loops]


# -- opening, selecting, queueing ---------------------------------------------------------------------
def test_open_lists_readable_loops_by_name_then_unreadable_files(session, loops, tmp_path):
    b, a = keys(loops)
    bad = str(tmp_path / "study" / "c.dcm")
    assert session.order == [a, b, bad]
    assert [e.state for e in session] == [LoopState.QUEUED, LoopState.QUEUED, LoopState.UNREADABLE]
    assert session[bad].message == "c.dcm: not a DICOM file" and not session[bad].readable
    assert session.current is None and session.folder == tmp_path / "study"
    assert kinds(session) == [EventKind.OPENED]
    assert session.first_key() == a and session.first_key(b) == b
    assert session.first_key(bad) == a  # an unreadable file is never shown first
    empty = StudySession()
    empty.open(tmp_path, [], [FakeLoopError(tmp_path / "x.avi", "broken")])
    assert empty.first_key() is None and empty.queue() == []


def test_select_tells_observers_once_and_refuses_what_cannot_be_shown(session, loops, tmp_path):
    b, a = keys(loops)
    assert session.select(b) is session[b] and session.current_key == b
    session.select(b)  # already on screen: nothing happens
    assert kinds(session) == [EventKind.OPENED, EventKind.SELECTED]
    with pytest.raises(IllegalTransition):
        session.select(str(tmp_path / "study" / "c.dcm"))
    with pytest.raises(KeyError):
        session.select("no-such-loop")
    assert session.current_key == b


def test_queue_is_every_readable_loop_without_a_result(session, loops):
    b, a = keys(loops)
    assert session.queue() == [loops[1], loops[0]]  # study order
    session.started(a)
    session.failed(a, "model exploded")
    assert session.queue() == [loops[0]]  # a failed loop waits for a re-analysis
    session.started(b)
    assert session.queue() == [loops[0]] and session[b].state == LoopState.ANALYSING  # still running


# -- the analysis transitions -------------------------------------------------------------------------
def test_queued_analysing_done(session, loops):
    b, a = keys(loops)
    e = session.started(a)
    assert e.state == LoopState.ANALYSING and e.pending and kinds(session, a) == [EventKind.CHANGED]
    chunk = Progress("segment", 10, 120, frames=np.arange(10, 20), masks=np.ones((10, 112, 112), bool))
    session.progressed(a, chunk)
    masks_ev = [ev for ev in session.events if ev.kind == EventKind.MASKS]
    assert len(masks_ev) == 1 and masks_ev[0].key == a and list(masks_ev[0].frames) == list(range(10, 20))
    assert e.percent == stage_percent("segment", 10, 120) == 7
    assert e.mask(12).all() and e.mask(5) is None
    areas = e.partial_areas()
    assert np.isnan(areas[:10]).all() and (areas[10:20] == 112 * 112).all()
    session.progressed(a, Progress("segment", 10, 120))  # same percent, nothing new: no event
    assert kinds(session, a) == [EventKind.CHANGED, EventKind.MASKS, EventKind.CHANGED]
    analysis = analysis_of(loops[1])
    done = session.finished(a, analysis)
    assert done.entry is e and e.state == LoopState.DONE and not e.pending
    assert e.analysis is analysis and e.percent == 100 and e.masks is None and e.have is None
    assert np.array_equal(e.mask(12), analysis.masks[12]) and not e.mask(12).all()  # the result's masks now
    assert loops[1].adopted == (tuple(analysis.region), analysis.region_source)
    assert e.corrections is not None and e.corrections.analysis is analysis and e.corrections.user == "tester"
    assert done.note == "" and done.problems == []
    assert kinds(session, a)[-1] == EventKind.CHANGED
    assert e.status_text() == f"EF {analysis.ef_mean:.1f} ± {analysis.ef_sd:.1f} %"
    assert session.progressed(a, Progress("ef", 1, 1)) is None  # a late report changes nothing
    assert e.state == LoopState.DONE


def test_analysing_failed_and_cancelled(session, loops):
    b, a = keys(loops)
    session.started(a)
    assert session.cancelled(a).state == LoopState.QUEUED  # re-prioritised: back in the queue
    assert session[a].pending  # selecting it puts it first again
    assert session.cancelled(a) is None  # not running: nothing to do
    session.started(a)
    e = session.failed(a, "RuntimeError: model exploded")
    assert e.state == LoopState.FAILED and e.status_text() == "analysis failed: RuntimeError: model exploded"
    assert not e.pending  # selecting it analyses nothing
    assert session.cancelled(a) is None and e.state == LoopState.FAILED


@pytest.mark.parametrize("state", [LoopState.DONE, LoopState.FAILED])
def test_a_finished_loop_leaves_only_through_a_reset(session, loops, state):
    b, a = keys(loops)
    session.started(a)
    if state == LoopState.DONE:
        session.finished(a, analysis_of(loops[1]))
    else:
        session.failed(a, "boom")
    with pytest.raises(IllegalTransition):
        session.started(a)
    with pytest.raises(IllegalTransition):
        session.failed(a, "again")
    with pytest.raises(IllegalTransition):
        session.finished(a, analysis_of(loops[1]))
    assert session[a].state == state  # refused changes change nothing


def test_an_unreadable_file_never_changes(session, tmp_path):
    bad = str(tmp_path / "study" / "c.dcm")
    for report in (lambda: session.started(bad), lambda: session.failed(bad, "x"),
                   lambda: session.progressed(bad, Progress("segment", 1, 2))):
        with pytest.raises(IllegalTransition):
            report()
    assert session[bad].state == LoopState.UNREADABLE
    session.reset()
    assert session[bad].state == LoopState.UNREADABLE and session[bad].message


def test_reports_about_another_study_are_ignored(session):
    assert session.started("gone.avi") is None and session.progressed("gone.avi", Progress("ef", 0, 1)) is None
    assert session.finished("gone.avi", None) is None and session.failed("gone.avi", "x") is None
    assert session.cancelled("gone.avi") is None
    assert kinds(session) == [EventKind.OPENED]


def test_reset_forgets_results_keeps_corrections_and_ignores_stale_ones(session, loops):
    b, a = keys(loops)
    session.started(a)
    session.finished(a, analysis_of(loops[1]))
    c = session[a].corrections
    c.set_frame(1, "es", 22)
    session.started(b)
    session.failed(b, "boom")
    new = AnalysisSettings(device="cpu", mean=(30.0, 30.0, 30.0), std=(50.0, 50.0, 50.0))
    session.reset(new)
    for key in (a, b):
        e = session[key]
        assert e.state == LoopState.QUEUED and e.analysis is None and e.percent == 0 and not e.message
    assert session[a].corrections is c and session.settings == new
    assert session.finished(a, analysis_of(loops[1], SETTINGS)) is None  # made with the old settings
    assert session[a].state == LoopState.QUEUED
    # a job that was running when the loop was queued again still reports: QUEUED -> DONE
    fresh = analysis_of(loops[1], new)
    assert session.finished(a, fresh).opened is None  # the edits stay, on the new analysis
    assert session[a].corrections is c and c.analysis is fresh and c.has_edits


# -- corrections --------------------------------------------------------------------------------------
def test_edits_are_saved_before_observers_hear_of_them(session, loops):
    b, a = keys(loops)
    session.started(a)
    session.finished(a, analysis_of(loops[1]))
    e = session[a]
    seen = []
    session.subscribe(lambda ev: seen.append((ev.kind, ev.key, ev.action, e.saved)) if ev.kind == EventKind.EDITED
                      else None)
    e.corrections.set_frame(1, "es", 22)
    sidecar = store.beside_path(loops[1].path)
    assert seen == [(EventKind.EDITED, a, "move_es", e.saved)]
    assert e.saved.ok and e.saved.path == sidecar and not e.saved.fallback
    assert json.loads(sidecar.read_text())["beats"][0]["es_frame"] == 22
    assert e.status_text().startswith("✎ EF ") and session.unsaved() == []


def test_a_failed_save_keeps_the_edit_and_says_so(session, loops, monkeypatch):
    b, a = keys(loops)
    session.started(a)
    session.finished(a, analysis_of(loops[1]))

    def refuse(state, loop_path):
        raise store.SaveError("could not save corrections: disk full")

    monkeypatch.setattr(store, "save_state", refuse)
    session[a].corrections.set_frame(1, "es", 22)
    assert not session[a].saved.ok and "disk full" in session[a].saved.error
    assert session[a].corrections.beat(1)["es_frame"] == 22 and session.unsaved() == ["A.avi"]


def _saved_edit(loop, tmp_path):
    """A sidecar with one edit of ``loop``, as a previous session left it."""
    s = StudySession(SETTINGS)
    s.open(tmp_path, [loop])
    s.started(str(loop.path))
    s.finished(str(loop.path), analysis_of(loop))
    s[str(loop.path)].corrections.set_frame(1, "es", 22)
    return store.beside_path(loop.path)


def test_reopened_corrections_are_restored(loops, tmp_path):
    loop = loops[0]
    sidecar = _saved_edit(loop, tmp_path)
    s = StudySession(SETTINGS)
    s.open(tmp_path, [loop])
    s.started(str(loop.path))
    done = s.finished(str(loop.path), analysis_of(loop))
    e = s[str(loop.path)]
    assert e.corrections.beat(1)["es_frame"] == 22
    assert done.note == "restored 1 correction from the last session" and done.problems == []
    assert e.restored == f"{done.note}: {sidecar}"
    e.corrections.set_frame(1, "es", 23)
    assert e.restored == "" and e.saved.ok  # saved since


def test_corrections_of_another_file_of_the_same_name_are_set_aside(loops, tmp_path):
    loop = loops[0]
    sidecar = _saved_edit(loop, tmp_path)
    other = FakeLoop(loop.path, n_frames=120)
    other.content_hash = lambda: "another file"
    s = StudySession(SETTINGS)
    s.open(tmp_path, [other])
    s.started(str(other.path))
    done = s.finished(str(other.path), analysis_of(other))
    assert not s[str(other.path)].corrections.has_edits and done.note == ""
    assert len(done.problems) == 1 and "belong to a different file of this name" in done.problems[0]
    assert Path(str(sidecar) + ".other-file").exists()


def test_an_unreadable_sidecar_costs_nothing_but_a_message(loops, tmp_path, monkeypatch):
    loop = loops[0]

    def broken(*a, **kw):
        raise ValueError("not JSON")

    monkeypatch.setattr("echoviewer.session.corrections.open_corrections", broken)
    s = StudySession(SETTINGS)
    s.open(tmp_path, [loop])
    s.started(str(loop.path))
    done = s.finished(str(loop.path), analysis_of(loop))
    assert s[str(loop.path)].state == LoopState.DONE and s[str(loop.path)].corrections is not None
    assert done.problems == ["b.avi: could not read its corrections: not JSON"]


def test_user_reaches_open_corrections(session, loops):
    b, a = keys(loops)
    session.started(a)
    session.finished(a, analysis_of(loops[1]))
    session.set_user("Dr B")
    assert session[a].corrections.user == "Dr B" and session.user == "Dr B"


def test_unsubscribe(session, loops):
    b, a = keys(loops)
    heard = []
    stop = session.subscribe(heard.append)
    session.select(a)
    stop()
    session.select(b)
    assert [ev.key for ev in heard] == [a]


def test_the_session_imports_no_qt():
    code = ("import sys, echoviewer.session; "
            "bad = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'echoviewer.ui'))]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])
