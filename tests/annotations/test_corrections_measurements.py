"""Calipers in the corrections (issue 21, item 5): one undoable, audited edit each, saved in the
sidecar and read back; sidecars written before calipers existed still load."""

import json

import pytest

from echoviewer.annotations.model import FORMAT, Corrections
from echoviewer.annotations.store import AutoSaver, beside_path, open_corrections


def test_add_and_delete_measurements_with_undo_redo_and_audit(analysis):
    c = Corrections(analysis, user="sono")
    d = c.add_measurement("distance", 7, [(10, 20), (40, 60)], cm_per_pixel=0.05)
    a = c.add_measurement("area", 7, [(0, 0), (20, 0), (20, 20), (0, 20)])
    assert [m["id"] for m in c.measurements] == [d, a] == [1, 2]
    assert Corrections.value_of(c.measurement(d)).text() == "2.50 cm"
    assert Corrections.value_of(c.measurement(a)).text() == "400 px²"
    assert c.measurement(d)["user"] == "sono" and c.measurement(d)["frame"] == 7
    assert c.audit[0]["action"] == "add_measurement" and c.audit[0]["measurement"] == 1
    assert c.audit[0]["value"] == pytest.approx(2.5) and c.audit[0]["unit"] == "cm"
    c.delete_measurement(d)
    assert [m["id"] for m in c.measurements] == [a]
    assert c.undo() and [m["id"] for m in c.measurements] == [d, a]
    assert c.undo() and [m["id"] for m in c.measurements] == [d]
    assert c.redo() and [m["id"] for m in c.measurements] == [d, a]
    # ids are never reused: the audit remembers the ones undone
    c.undo()
    assert c.add_measurement("distance", 3, [(0, 0), (3, 4)]) == 3
    assert [e["action"] for e in c.audit] == ["add_measurement", "add_measurement", "delete_measurement", "undo",
                                              "undo", "redo", "undo", "add_measurement"]
    # measurements do not correct the EF
    assert not any(v.corrected for v in c.values())


def test_refused_measurements_change_nothing(analysis):
    c = Corrections(analysis)
    for args in (("distance", 3, [(1, 1), (1, 1)]), ("area", 3, [(0, 0), (1, 1)]), ("distance", 99, [(0, 0), (1, 1)]),
                 ("ruler", 3, [(0, 0), (1, 1)])):
        with pytest.raises(ValueError):
            c.add_measurement(*args)
    with pytest.raises(KeyError):
        c.delete_measurement(1)
    assert not c.measurements and not c.audit and not c.can_undo()


def test_measurements_are_saved_and_read_back(analysis, tmp_path):
    loop = tmp_path / "loop.avi"
    loop.write_bytes(b"x")
    c = open_corrections(analysis, loop, user="sono")
    AutoSaver(c, loop)
    c.add_measurement("volume", 5, [(0, 40), (10, 10), (20, 0), (30, 10), (40, 40)], cm_per_pixel=0.1)
    saved = json.loads(beside_path(loop).read_text())
    assert saved["measurements"][0]["kind"] == "volume" and saved["measurements"][0]["cm_per_pixel"] == 0.1
    again = open_corrections(analysis, loop)
    assert again.measurements == c.measurements
    assert Corrections.value_of(again.measurements[0]).unit == "mL"


def test_a_sidecar_from_before_calipers_loads_and_takes_measurements(analysis, tmp_path):
    loop = tmp_path / "loop.avi"
    loop.write_bytes(b"x")
    old = Corrections(analysis, user="sono")
    old.set_frame(1, "es", 21)
    state = json.loads(json.dumps(old.state))
    del state["measurements"]
    assert state["format"] == FORMAT
    beside_path(loop).write_text(json.dumps(state))
    c = open_corrections(analysis, loop)
    assert c.beat(1)["es_frame"] == 21 and c.measurements == []
    c.add_measurement("distance", 0, [(0, 0), (3, 4)])
    assert c.undo() and c.measurements == [] and c.beat(1)["es_frame"] == 21
