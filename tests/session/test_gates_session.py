"""StudySession records each loop's decision; study reports leave out what they do not report."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from echoviewer.io.gates import Decision, Verdict
from echoviewer.reports.content import loop_report, study_report
from echoviewer.session import StudySession
from echoviewer.session.entry import IllegalTransition
from tests.annotations.conftest import analysis  # noqa: F401  (fixture)
from tests.ui.fakes import FakeLoop

NOT = Decision(Verdict.NOT_ANALYSABLE, "a single frame: no heart cycle to measure", "metadata")
LOW = Decision(Verdict.LOW_CONFIDENCE, "heart rate 250 bpm outside 30-220", "model")


def test_session_records_the_decision_per_loop(tmp_path, analysis):  # noqa: F811
    loops = [FakeLoop(tmp_path / f"{n}.avi", n_frames=60) for n in ("a", "b", "c")]
    s = StudySession(user="ann")
    s.open(tmp_path, loops)
    assert all(e.decision is None for e in s)  # not analysed: not judged
    with pytest.raises(IllegalTransition):
        s.override(str(loops[0].path), "a4c")
    for lp, gate in zip(loops, (None, NOT, LOW)):
        s.finished(str(lp.path), replace(analysis, path=str(lp.path), gate=gate))
    groups = s.groups()
    assert [[Path(e.key).name for e in groups[g]] for g in ("analysable", "low confidence", "not analysable")] == \
        [["a.avi"], ["c.avi"], ["b.avi"]]
    assert s[str(loops[1].path)].status_text() == NOT.text()
    events = []
    s.subscribe(events.append)
    s.override(str(loops[1].path), "a4c")
    assert s[str(loops[1].path)].decision.reported and events[-1].kind == "changed"
    assert s[str(loops[1].path)].status_text().startswith("EF ")


def test_study_report_leaves_out_loops_it_does_not_report(analysis):  # noqa: F811
    loops = [loop_report("a.avi", analysis), loop_report("b.avi", replace(analysis, gate=NOT)),
             loop_report("c.avi", replace(analysis, gate=LOW))]
    r = study_report("study", loops)
    assert [lr.name for lr in r.loops] == ["a.avi"]
    assert [(m.name, m.reason) for m in r.missing] == [("b.avi", NOT.text()), ("c.avi", LOW.text())]
