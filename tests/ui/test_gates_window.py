"""The gates in the window, as a user meets them: the study list groups loops as analysable / low
confidence / not analysable with the reason on each row, a not-analysable loop still plays and
shows no EF, and the row's menu overrules the decision (saved with the corrections, audited)."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from echoviewer.annotations import store
from echoviewer.io.gates import Decision, Verdict
from echoviewer.session.reporting import session_report
from tests.ui.conftest import wait_all_analysed
from tests.ui.fakes import FakeAnalyzer, FakeLoop

DOPPLER = Decision(Verdict.NOT_ANALYSABLE, "a PW Doppler strip without a 2D image", "metadata")
PLAX = Decision(Verdict.LOW_CONFIDENCE, "LV lies across the image (84° from vertical: not an apical view?)", "model")


class GatedAnalyzer(FakeAnalyzer):
    """The fake analysis, judged by the file's name as the gates would judge the real file."""

    def analyze(self, loop, **kw):
        a = super().analyze(loop, **kw)
        name = loop.path.name
        a.gate = DOPPLER if "doppler" in name else PLAX if "plax" in name else Decision()
        return a


def _open(make_window, study_dir, qtbot):
    loops = [FakeLoop(study_dir / n, n_frames=120, height=240, width=320)
             for n in ("a_doppler.avi", "b_a4c.avi", "c_plax.avi")]
    win = make_window(loops, factory=lambda s: GatedAnalyzer(s))
    assert win.open_study(study_dir)
    wait_all_analysed(qtbot, win)
    return win, {lp.path.name: str(lp.path) for lp in loops}


def _rows(win):
    lst = win.study_list
    return [lst.item(i).text() for i in range(lst.count())]


def test_study_list_groups_loops_with_their_reasons(make_window, study_dir, qtbot):
    win, keys = _open(make_window, study_dir, qtbot)
    lst = win.study_list
    qtbot.waitUntil(lambda: len(lst.headers()) == 3, timeout=5000)
    rows = _rows(win)
    assert rows[0].startswith("ANALYSABLE (1)") and rows[1].startswith("b_a4c.avi")
    assert rows[2].startswith("LOW CONFIDENCE") and rows[3].startswith("c_plax.avi")
    assert rows[4].startswith("NOT ANALYSABLE") and rows[5].startswith("a_doppler.avi")
    assert "not analysable: a PW Doppler strip without a 2D image" in rows[5] and "EF" not in rows[5]
    assert "low confidence: LV lies across" in rows[3] and "not reported" in rows[3]
    assert not lst.item(0).flags() & Qt.ItemFlag.ItemIsSelectable  # a header is never picked
    assert {k: lst.group_of(v) for k, v in keys.items()} == {
        "a_doppler.avi": "not analysable", "b_a4c.avi": "analysable", "c_plax.avi": "low confidence"}


def test_a_not_analysable_loop_plays_and_shows_no_ef(make_window, study_dir, qtbot):
    win, keys = _open(make_window, study_dir, qtbot)
    win.study_list.setCurrentItem(win.study_list.item_for(keys["a_doppler.avi"]))  # the user clicks its row
    assert win.current_key == keys["a_doppler.avi"]
    assert win.view.summary.ef_value.text() == "–"
    assert "not analysable" in win.view.summary.category.text()
    summary = win.view.summary
    assert summary._values["Heart rate"].text() == "–"  # no figure of the model's on it
    assert "PW Doppler" in summary.flags.text() and summary.flags.text().count("<li>") == 1
    start = win.player.current
    win.player.play()
    qtbot.waitUntil(lambda: win.player.current != start, timeout=5000)
    win.player.pause()


def test_the_user_overrules_the_gates_from_the_row_menu(make_window, study_dir, qtbot):
    win, keys = _open(make_window, study_dir, qtbot)
    key = keys["a_doppler.avi"]
    win.study_list.setCurrentItem(win.study_list.item_for(key))
    menu = win.study_list.override_menu(key)
    acts = {a.text(): a for a in menu.actions()}
    assert set(acts) == {"Analyse as apical 4-chamber", "Exclude this loop", "Use the automatic decision"}
    assert not acts["Use the automatic decision"].isEnabled()  # nothing to go back to yet
    acts["Analyse as apical 4-chamber"].trigger()
    e = win.entries[key]
    assert e.decision.reported and "analysed as apical 4-chamber" in e.decision.reason
    assert win.study_list.group_of(key) == "analysable"
    assert win.view.summary.ef_value.text() != "–"  # its EF is shown now
    c = e.corrections
    assert c.audit[-1]["action"] == "override_gate" and c.audit[-1]["choice"] == "a4c"
    saved = json.loads(store.beside_path(e.loop.path).read_text())
    assert saved["gate_override"]["choice"] == "a4c"
    # reports follow: the overruled loop is in, the low-confidence one is left out with its reason
    report = session_report(win.session)
    assert sorted(lr.name for lr in report.loops) == ["a_doppler.avi", "b_a4c.avi"]
    assert [(m.name, m.reason) for m in report.missing] == [("c_plax.avi", PLAX.text())]
    # exclude the plain A4C loop: out of the report, into the not-analysable group
    win.session.override(keys["b_a4c.avi"], "exclude")
    assert win.study_list.group_of(keys["b_a4c.avi"]) == "not analysable"
    report = session_report(win.session)
    assert [lr.name for lr in report.loops] == ["a_doppler.avi"]
    assert any(m.name == "b_a4c.avi" and "excluded by" in m.reason for m in report.missing)
    win.session.override(key, None)  # back to the gates
    assert not win.entries[key].decision.analysable
