import numpy as np
import pytest

from echoviewer.analysis.beat_summary import BeatFigures, BeatSummary, summarise_beats
from echoviewer.analysis.tracing import mask_contour
from echoviewer.annotations.model import Corrections
from tests.annotations.conftest import ellipse


def test_initial_values_come_from_the_model(analysis):
    c = Corrections(analysis, user="tester")
    vals = c.values()
    assert [(v.ed_frame, v.es_frame) for v in vals] == [(5, 20), (35, 50)]
    assert not any(v.corrected for v in vals)
    assert all(v.ef is not None and 20 < v.ef < 80 for v in vals)
    assert vals[0].model["ef_model"] == 55.0
    assert not c.can_undo()


def test_move_es_recomputes_ef_and_is_audited(analysis):
    c = Corrections(analysis, user="tester")
    before = c.values()[0].ef
    c.set_frame(1, "es", 12)  # a larger LV than the true ES: EF must fall
    v = c.values()[0]
    assert v.es_frame == 12 and v.corrected
    assert v.ef < before - 5
    entry = c.audit[-1]
    assert entry["action"] == "move_es" and entry["before"] == 20 and entry["after"] == 12
    assert entry["user"] == "tester" and entry["time"]


def test_undo_redo_restore_exact_state(analysis):
    c = Corrections(analysis, user="t")
    c.set_frame(1, "ed", 7)
    c.exclude(2, "ectopic beat")
    assert c.summary().n_used == 1
    assert c.undo() and c.summary().n_used == 2
    assert c.undo() and c.beat(1)["ed_frame"] == 5
    assert not c.undo()
    assert c.redo() and c.beat(1)["ed_frame"] == 7
    assert c.redo() and c.beat(2)["excluded"]
    assert not c.redo()
    actions = [a["action"] for a in c.audit]
    assert actions == ["move_ed", "exclude", "undo", "undo", "redo", "redo"]


def test_new_edit_clears_redo(analysis):
    c = Corrections(analysis)
    c.set_frame(1, "es", 18)
    c.undo()
    c.set_frame(1, "es", 22)
    assert not c.can_redo()


def test_add_delete_exclude_need_valid_input(analysis):
    c = Corrections(analysis)
    with pytest.raises(ValueError):
        c.exclude(1, "  ")
    with pytest.raises(ValueError):
        c.set_frame(1, "es", 60)
    new = c.add_beat(35, 50)
    assert c.beat(new)["origin"] == "user"
    assert len(c.values()) == 3
    c.delete_beat(1)
    assert [v.es_frame for v in c.values()] == [50, 50]
    with pytest.raises(KeyError):
        c.beat(1)


def test_edited_tracing_drives_volumes(analysis):
    c = Corrections(analysis)
    small = ellipse(60, 55, 6, 20)
    contour = mask_contour(small)
    apex = np.array([60.0, 35.0])
    base = np.array([60.0, 75.0])
    esv_model = c.values()[0].esv
    c.set_tracing(1, "es", contour, apex, base)
    v = c.values()[0]
    assert v.corrected and v.esv < 0.6 * esv_model
    assert v.es_tracing.chords.shape == (20, 4)
    # moving the ES frame drops the tracing that belonged to the old frame
    c.set_frame(1, "es", 21)
    assert "es" not in c.beat(1)["tracings"]
    with pytest.raises(ValueError):
        c.set_tracing(1, "es", [[0, 0], [1, 1]], apex, base)


def test_listeners_called_after_each_completed_edit(analysis):
    c = Corrections(analysis)
    seen = []
    c.listeners.append(lambda corr, action: seen.append(action))
    c.set_frame(2, "es", 49)
    c.undo()
    c.redo()
    assert seen == ["move_es", "undo", "redo"]


def test_corrections_summary_is_the_same_function_on_the_tracings_ef(analysis):
    c = Corrections(analysis, user="t")
    vals = c.values()
    s = c.summary()
    assert isinstance(s, BeatSummary)
    want = summarise_beats([BeatFigures(v.es_frame, True, v.ef, v.ef, v.edv, v.esv) for v in vals], analysis.fps)
    assert s == want and s.n_used == 2 and s.hr_bpm == pytest.approx(60 * 50 / 30)
    c.set_frame(1, "es", 12)
    c.exclude(2, "ectopic beat")
    s = c.summary()
    assert s.corrected_beats == (1, 2) and s.n_used == 1 and s.ef_mean == pytest.approx(c.values()[0].ef)
    assert s.edv_mean == pytest.approx(c.values()[0].edv) and s.n_beats == 2
