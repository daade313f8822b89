"""`echoviewer export-corrections … --deidentify`: exit codes and one-line messages."""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest

from echoviewer import cli
from echoviewer.export.deidentify import relink_path
from echoviewer.io.echonet_video import write_echonet_video
from echoviewer.pipeline.analyzer import Analyzer
from echoviewer.pipeline.results import AnalysisSettings

NAME = "HARGREAVES_JANETTE_20240101"
NEEDLES = (b"hargreaves", b"janette", b"20240101")


@pytest.fixture
def study(tmp_path, phantom, random_weights, monkeypatch):
    """A loop named after its patient; the command's Analyzer segments it with the phantom's true masks."""
    folder = tmp_path / "study"
    folder.mkdir()
    write_echonet_video(folder / f"{NAME}.avi", phantom.frames, phantom.fps)
    seg, ef = random_weights
    masks = phantom.truth.masks

    def analyzer(settings):
        a = Analyzer(AnalysisSettings(seg_weights=seg, ef_weights=ef), use_cache=False)
        a._segment_batches = lambda grid, order, cancel, **_: iter([(np.arange(len(masks)), masks)])
        return a

    monkeypatch.setattr("echoviewer.pipeline.analyzer.Analyzer", analyzer)
    return folder


def test_deidentify_exports_hashed_names_and_says_where_the_key_is(study, tmp_path, capsys):
    out = tmp_path / "research"
    args = ["export-corrections", str(study), str(out), "--include-uncorrected", "--deidentify"]
    assert cli.main(args) == 0
    err = capsys.readouterr().err.splitlines()
    assert not any("Traceback" in line for line in err)
    assert err[-2] == f"exported 1 loops to {out}"
    assert err[-1].startswith("de-identified: ") and str(relink_path().parent) in err[-1]
    (row,) = csv.DictReader((out / "FileList.csv").open())
    assert re.fullmatch(r"EV_[0-9a-f]{16}", row["FileName"])
    assert [p.name for p in (out / "Videos").iterdir()] == [row["FileName"] + ".avi"]
    for p in out.rglob("*"):
        blob = p.name.lower().encode() + (p.read_bytes().lower() if p.is_file() else b"")
        assert not [n for n in NEEDLES if n in blob], p
    # the same study again into the same folder: refused in one line, nothing changed
    before = sorted(p.name for p in out.rglob("*"))
    assert cli.main(args) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("error: ") and "not empty" in line
    assert sorted(p.name for p in out.rglob("*")) == before
