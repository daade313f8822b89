"""A person's choice over the gates: saved with the corrections, audited, undoable, and what the
CSV report reads."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import pytest

from echoviewer.annotations.model import Corrections
from echoviewer.annotations.reconcile import loop_decision
from echoviewer.annotations.store import open_corrections, save_state
from echoviewer.export.report import report_text
from echoviewer.io.gates import ANALYSABLE, Decision, Verdict
from tests.annotations.conftest import analysis  # noqa: F401  (fixture)

NOT = Decision(Verdict.NOT_ANALYSABLE, "colour-flow Doppler loop", "pixels")


def test_override_is_an_audited_undoable_edit(analysis, tmp_path):  # noqa: F811
    c = Corrections(analysis, user="ann")
    assert c.gate_override is None and loop_decision(analysis, c) == ANALYSABLE  # not judged: analysable
    c.override_gate("exclude")
    assert c.gate_override["choice"] == "exclude" and c.gate_override["user"] == "ann"
    assert c.audit[-1]["action"] == "override_gate" and c.audit[-1]["choice"] == "exclude"
    d = loop_decision(analysis, c)
    assert d.verdict == Verdict.NOT_ANALYSABLE and "excluded by ann" in d.reason
    c.undo()
    assert c.gate_override is None and c.audit[-1]["action"] == "undo"
    c.override_gate("a4c")
    c.override_gate("a4c")  # no change, no edit
    assert [a["action"] for a in c.audit].count("override_gate") == 2
    loop = tmp_path / "loop.avi"
    loop.write_bytes(b"x")
    save_state(c.state, loop)
    back = open_corrections(analysis, loop, user="bob")
    assert back.gate_override["choice"] == "a4c"
    assert loop_decision(replace(analysis, gate=NOT), back).reported
    with pytest.raises(ValueError):
        c.override_gate("maybe")


def test_csv_report_follows_the_decision(analysis):  # noqa: F811
    rejected = replace(analysis, gate=NOT)
    rows = list(csv.DictReader(io.StringIO(report_text([rejected]))))
    assert [r["beat"] for r in rows] == ["mean"] and rows[0]["ef_model"] == ""
    assert rows[0]["flags"] == "not analysable: colour-flow Doppler loop"
    c = Corrections(rejected, user="ann")
    c.override_gate("a4c")
    rows = list(csv.DictReader(io.StringIO(report_text([rejected], {rejected.path: c}))))
    assert rows[-1]["ef_model"] == "56.00" and "analysed as apical 4-chamber by ann" in rows[-1]["flags"]
    low = replace(analysis, gate=Decision(Verdict.LOW_CONFIDENCE, "LV lies across the image", "model"))
    rows = list(csv.DictReader(io.StringIO(report_text([low]))))
    assert rows[-1]["ef_model"] == "56.00" and rows[-1]["flags"] == "low confidence: LV lies across the image"
