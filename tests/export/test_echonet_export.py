import csv
import json

import cv2
import numpy as np
import pytest

from echoviewer.analysis.metrics import dice
from echoviewer.annotations.store import AutoSaver, open_corrections
from echoviewer.dataset.echonet import read_dataset
from echoviewer.export.echonet_export import AUDIT_NAME, export_study
from echoviewer.io import open_loop
from echoviewer.io.echonet_video import read_echonet_video, write_echonet_video
from echoviewer.pipeline.analyzer import Analyzer
from echoviewer.pipeline.results import AnalysisSettings
from echoviewer.synthetic.phantom import generate_phantom


@pytest.fixture
def study(tmp_path, random_weights):
    """Two phantom loops and an analyze() that segments them with their true masks."""
    phantoms = {"p1": generate_phantom(11, hr=70, fps=50, n_beats=3, ef=55, ef_sd=0),
                "p2": generate_phantom(12, hr=90, fps=50, n_beats=3, ef=35, ef_sd=0)}
    folder = tmp_path / "study"
    folder.mkdir()
    for name, ph in phantoms.items():
        write_echonet_video(folder / f"{name}.avi", ph.frames, ph.fps)
    seg, ef = random_weights
    analyzer = Analyzer(AnalysisSettings(seg_weights=seg, ef_weights=ef), use_cache=False)

    def analyze(loop):
        masks = phantoms[loop.path.stem].truth.masks
        analyzer._segment_batches = lambda grid, order, cancel, **_: iter([(np.arange(len(masks)), masks)])
        return analyzer.analyze(loop)

    return folder, phantoms, analyze


def _edit(folder, analyze, name):
    """Script a sonographer's corrections through the same API the window uses."""
    loop = open_loop(folder / f"{name}.avi")
    corr = open_corrections(analyze(loop), loop.path, user="sono")
    AutoSaver(corr, loop.path)
    es_t = corr.tracing(corr.beats[0], "es")
    poly = es_t.polygon()
    centre = poly.mean(axis=0)
    contour = centre + 0.9 * (poly - centre)  # the sonographer draws a slightly smaller LV
    apex, base = es_t.axis[:2], es_t.axis[2:]
    corr.set_tracing(corr.beats[0]["id"], "es", contour, centre + 0.9 * (apex - centre), centre + 0.9 * (base - centre))
    corr.exclude(corr.beats[-1]["id"], "ectopic")
    return corr, contour


def test_export_format_and_round_trip(study, tmp_path):
    folder, phantoms, analyze = study
    corr, contour = _edit(folder, analyze, "p1")
    out = tmp_path / "export"
    res = export_study(folder, out, analyze, split="val", log=lambda m: None)
    assert [p.endswith("p1.avi") for p in res.exported] == [True]  # p2 has no corrections
    assert any(p.endswith("p2.avi") and "no corrections" in why for p, why in res.skipped)

    fl = list(csv.reader((out / "FileList.csv").open()))
    assert fl[0] == ["FileName", "EF", "ESV", "EDV", "FrameHeight", "FrameWidth", "FPS", "NumberOfFrames", "Split"]
    assert fl[1][0] == "p1" and fl[1][8] == "VAL" and fl[1][4:6] == ["112", "112"]
    traced = corr.values()[0]  # the corrected beat: its tracings are the ones exported, its EF the label
    assert [float(v) for v in fl[1][1:4]] == pytest.approx([traced.ef, traced.esv, traced.edv], abs=1e-5)

    vt = list(csv.reader((out / "VolumeTracings.csv").open()))
    assert vt[0] == ["FileName", "X1", "Y1", "X2", "Y2", "Frame"]
    body = vt[1:]
    assert {r[0] for r in body} == {"p1.avi"}
    frames = [int(r[5]) for r in body]
    assert len(body) == 42 and frames[:21] == [frames[0]] * 21 and frames[21:] == [frames[21]] * 21
    beat = corr.values()[0]
    assert frames[0] == beat.es_frame and frames[21] == beat.ed_frame  # ES block first, then ED
    rows = np.array([[float(v) for v in r[1:5]] for r in body])
    for block in (rows[:21], rows[21:]):
        a = block[0]
        u = np.array([a[2] - a[0], a[3] - a[1]])
        cross = u[0] * (block[1:, 1] - a[1]) - u[1] * (block[1:, 0] - a[0])
        side = np.sign(np.where(np.abs(cross) < 1e-2 * np.hypot(*u), 0, cross))  # 0: on the axis (a base chord)
        assert len(set(side.tolist()) - {0.0}) == 1  # every (X1,Y1) on the same wall or the axis

    video = read_echonet_video(out / "Videos" / "p1.avi")
    assert video.shape == (phantoms["p1"].n_frames, 112, 112, 3)

    # the reference loader's rasterisation of the exported ES tracing reproduces the edited contour
    (item,) = read_dataset(out)
    drawn = np.zeros((112, 112), np.uint8)
    cv2.fillPoly(drawn, [np.round(contour).astype(np.int32)], 1)
    assert dice(item.es_tracing.rasterize((112, 112)), drawn.astype(bool)) >= 0.95

    audit = json.loads((out / AUDIT_NAME).read_text())
    (entry,) = audit["loops"]
    assert entry["source"] == "corrected"
    assert [a["action"] for a in entry["audit"]] == ["trace_es", "exclude"]
    assert entry["audit"][0]["user"] == "sono" and entry["model"]["seg_sha256"]


def test_include_uncorrected_exports_model_tracings(study, tmp_path):
    folder, phantoms, analyze = study
    out = tmp_path / "export"
    res = export_study(folder, out, analyze, include_uncorrected=True, log=lambda m: None)
    assert len(res.exported) == 2
    audit = json.loads((out / AUDIT_NAME).read_text())
    assert {e["source"] for e in audit["loops"]} == {"model (uncorrected)"}
    items = read_dataset(out)
    assert {i.name for i in items} == {"p1", "p2"}
    for i in items:  # model tracings of true masks: EF close to the phantom's
        assert abs(i.ef - phantoms[i.name].truth.ef_video) < 6


def test_bad_split_is_refused(study, tmp_path):
    folder, _, analyze = study
    with pytest.raises(ValueError, match="split"):
        export_study(folder, tmp_path / "o", analyze, split="holdout")


def test_a_loop_the_method_does_not_cover_is_not_exported_unless_a_person_says_so(study, tmp_path):
    from echoviewer.io.gates import Decision, Verdict

    folder, _phantoms, analyze = study

    def gated(loop):  # p2 judged a Doppler strip by the gates
        a = analyze(loop)
        if loop.path.stem == "p2":
            a.gate = Decision(Verdict.NOT_ANALYSABLE, "a PW Doppler strip without a 2D image", "metadata")
        return a

    res = export_study(folder, tmp_path / "export", gated, include_uncorrected=True, log=lambda m: None)
    assert [p.split("/")[-1] for p in res.exported] == ["p1.avi"]
    assert any(p.endswith("p2.avi") and "not a loop the method applies to" in why for p, why in res.skipped)
    deid = export_study(folder, tmp_path / "deid", gated, include_uncorrected=True, log=lambda m: None,
                        deidentify=True)
    audit = json.loads((tmp_path / "deid" / AUDIT_NAME).read_text())
    assert len(deid.exported) == 1 and [s["why"] for s in audit["skipped"]] == [
        "not a loop the method applies to (the gates or a person excluded it)"]
    loop = open_loop(folder / "p2.avi")  # a person overrules the gates: "analyse as apical 4-chamber"
    corr = open_corrections(gated(loop), loop.path, user="sono")
    AutoSaver(corr, loop.path)
    corr.override_gate("a4c")  # saved beside the loop at once, as in the window
    again = export_study(folder, tmp_path / "again", gated, log=lambda m: None)
    assert [p.split("/")[-1] for p in again.exported] == ["p2.avi"]
