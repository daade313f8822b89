"""The gates through the CLI: `info --json` says per loop whether the method applies, `analyze`
gives a loop it does not apply to one summary row with no EF and the reason in ``flags``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from echoviewer.synthetic.kinds import write_kind
from tests.commands.test_analyze import _run
from tests.commands.test_info import run_info


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("mixed")
    for kind in ("a4c", "doppler", "screenshot", "single_frame", "colour_flow"):
        write_kind(root, kind, seed=1, name=f"{kind}.dcm")
    return root


def test_info_json_says_whether_each_loop_is_analysable(study):
    r = run_info(study, "--json")
    assert r.returncode == 0, r.stderr
    loops = {Path(lp["path"]).stem: lp for lp in json.loads(r.stdout)["loops"]}
    assert loops["a4c"]["analysable"] is True and loops["a4c"]["reason"] == ""
    for kind, words in (("doppler", "Doppler strip"), ("screenshot", "no ultrasound sector"),
                        ("single_frame", "single frame"), ("colour_flow", "colour-flow")):
        assert loops[kind]["analysable"] is False and words in loops[kind]["reason"], loops[kind]
    text = run_info(study)
    assert text.returncode == 0
    assert any("doppler.dcm" in line and "Doppler strip" in line for line in text.stdout.splitlines())


def test_analyze_csv_gives_not_analysable_loops_a_reason_and_no_ef(study, tmp_path):
    out = tmp_path / "r.csv"
    r = _run("analyze", str(study), "--out", str(out), "--device", "cpu", "--no-cache")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(out.open()))
    by_file: dict[str, list[dict]] = {}
    for row in rows:
        by_file.setdefault(Path(row["file"]).stem, []).append(row)
    assert set(by_file) == {"a4c", "doppler", "screenshot", "single_frame", "colour_flow"}
    a4c = by_file.pop("a4c")
    assert a4c[-1]["beat"] == "mean" and a4c[-1]["ef_model"] != "" and len(a4c) > 1
    for name, mine in by_file.items():
        assert [row["beat"] for row in mine] == ["mean"], name
        assert mine[0]["ef_model"] == "" and mine[0]["ef_seg"] == "" and mine[0]["beats_used"] == "0"
        assert mine[0]["flags"].startswith("not analysable: "), mine[0]["flags"]
    assert "doppler.dcm: EF none: not analysable" in r.stderr
