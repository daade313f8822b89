"""The issue's acceptance check: on a mixed phantom study of every kind only the A4C loops carry an
EF and every other loop says why; the real A4C loop pydicom ships passes every gate."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from echoviewer.export.report import report_text
from echoviewer.io import open_loop
from echoviewer.pipeline.analyzer import Analyzer
from echoviewer.pipeline.results import AnalysisSettings
from echoviewer.synthetic.kinds import EXPECTED, KINDS, write_mixed_study

A4C_KINDS = {"a4c", "a4c_strip"}


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mixed")
    kinds = write_mixed_study(folder, seeds=(4,))
    kinds[get_testdata_file("examples_ybr_color.dcm")] = "real_a4c"
    analyzer = Analyzer(AnalysisSettings(device="cpu"), use_cache=False)  # the demo weights
    out = {}
    for name, kind in kinds.items():
        with open_loop(folder / name) as loop:
            out[kind] = analyzer.analyze(loop, skip_not_analysable=True)
    return out


def test_only_a4c_loops_carry_an_ef_and_every_other_loop_says_why(analysed):
    assert set(analysed) == set(KINDS) | {"real_a4c"}
    for kind, a in analysed.items():
        if kind in A4C_KINDS:
            assert a.gate.reported and a.ef_mean is not None, (kind, a.gate)
        elif kind == "real_a4c":  # every gate passed; its 30 frames hold no whole beat (one cut by the start)
            assert a.gate.reported and a.beats, (kind, a.gate)
            assert a.ef_mean is None and all(not b.included and any(f.startswith("incomplete beat") for f in b.flags)
                                             for b in a.beats)
        else:
            assert not a.gate.reported and a.gate.reason, (kind, a.gate)
            assert a.gate.verdict.value == EXPECTED[kind]


def test_the_csv_report_puts_an_ef_only_on_a4c_loops(analysed):
    rows = list(csv.DictReader(io.StringIO(report_text(analysed.values()))))
    kind_of = {a.path: k for k, a in analysed.items()}
    means = {kind_of[r["file"]]: r for r in rows if r["beat"] == "mean"}
    reported = {k for k, r in means.items()
                if r["ef_model"] and "not analysable" not in r["flags"] and "low confidence" not in r["flags"]}
    assert reported == A4C_KINDS
    for kind, r in means.items():
        if kind == "real_a4c":
            assert r["ef_model"] == "" and "not analysable" not in r["flags"] and "low confidence" not in r["flags"]
        elif kind not in reported:
            assert f"{EXPECTED[kind]}: " in r["flags"], (kind, r["flags"])
            assert r["ef_model"] == "" or EXPECTED[kind] == "low confidence"
    assert all(Path(r["file"]).name for r in rows)
