"""An exported video's FileList EF / ESV / EDV are those of the tracings it ships with.

The reference loader reads one traced beat per video (VolumeTracings.csv), so a label that is the
mean over every beat (what the export used to write: FileList EF 55.8 beside tracings giving
53.4 on a phantom DICOM study) teaches a model numbers its own tracings contradict.
"""

import json

import numpy as np
import pytest

from echoviewer.annotations.store import AutoSaver, open_corrections
from echoviewer.dataset.echonet import read_filelist, read_volume_tracings
from echoviewer.export.echonet_export import AUDIT_NAME, export_study
from echoviewer.io import open_loop
from echoviewer.io.dicom_write import write_ultrasound_dicom
from echoviewer.io.echonet_video import write_echonet_video
from echoviewer.pipeline.analyzer import Analyzer
from echoviewer.pipeline.results import AnalysisSettings
from echoviewer.synthetic.phantom import generate_phantom

#: VolumeTracings.csv holds coordinates to 4 decimals: volumes recomputed from them agree to ~2e-7
#: relative, EF to ~1e-5 points; a mean over beats, which this test guards against, is points off.
EF_TOL, VOL_REL = 1e-4, 2e-6


@pytest.fixture
def study(tmp_path, random_weights):
    """A calibrated DICOM loop and an AVI, beat-to-beat EF varying, analysed on their true masks."""
    phantoms = {"dcm": generate_phantom(21, hr=80, fps=50, n_beats=4, ef=55, ef_sd=4),
                "avi": generate_phantom(22, hr=70, fps=50, n_beats=3, ef=40, ef_sd=4)}
    folder = tmp_path / "study"
    folder.mkdir()
    ph = phantoms["dcm"]
    write_ultrasound_dicom(folder / "dcm.dcm", ph.frames, ph.fps, region=(0, 0, 112, 112),
                           cm_per_pixel=ph.truth.cm_per_pixel)
    write_echonet_video(folder / "avi.avi", phantoms["avi"].frames, phantoms["avi"].fps)
    seg, ef = random_weights
    analyzer = Analyzer(AnalysisSettings(seg_weights=seg, ef_weights=ef), use_cache=False)
    analyses = {}

    def analyze(loop):
        masks = phantoms[loop.path.stem].truth.masks
        analyzer._segment_batches = lambda grid, order, cancel, **_: iter([(np.arange(len(masks)), masks)])
        analyses[loop.path.stem] = a = analyzer.analyze(loop)
        return a

    return folder, analyze, analyses


def _correct(folder, analyze):
    """A sonographer moves the second beat's ES and excludes the first beat of the DICOM loop."""
    loop = open_loop(folder / "dcm.dcm")
    corr = open_corrections(analyze(loop), loop.path, user="sono")
    AutoSaver(corr, loop.path)
    second = corr.beats[1]
    corr.set_frame(second["id"], "es", second["es_frame"] - 2)
    corr.exclude(corr.beats[0]["id"], "ectopic")
    return corr


def test_filelist_labels_are_the_ef_and_volumes_of_the_exported_tracings(study, tmp_path):
    folder, analyze, analyses = study
    corr = _correct(folder, analyze)
    out = tmp_path / "export"
    res = export_study(folder, out, analyze, include_uncorrected=True, log=lambda m: None)
    assert len(res.exported) == 2
    audit = {e["file_name"]: e for e in json.loads((out / AUDIT_NAME).read_text())["loops"]}
    assert {e["source"] for e in audit.values()} == {"corrected", "model (uncorrected)"}
    rows = read_filelist(out / "FileList.csv")
    tracings = read_volume_tracings(out / "VolumeTracings.csv")
    assert sorted(r.file_name for r in rows) == sorted(tracings) == ["avi", "dcm"]
    for row in rows:
        a = analyses[row.file_name]
        frames = tracings[row.file_name]
        (es_frame, es), (ed_frame, ed) = list(frames.items())  # the loader: first ES, last ED
        esv, edv = es.volume(a.cm_per_pixel_grid), ed.volume(a.cm_per_pixel_grid)
        assert row.ef == pytest.approx(100 * (edv - esv) / edv, abs=EF_TOL), row.file_name
        assert row.esv == pytest.approx(esv, rel=VOL_REL) and row.edv == pytest.approx(edv, rel=VOL_REL)
        # and the beat is the one the audit names, out of several with different EFs
        beat = audit[row.file_name]["traced_beat"]
        assert (beat["es_frame"], beat["ed_frame"]) == (es_frame, ed_frame)
        assert audit[row.file_name]["beats_in_ef"] == [beat["number"]]
        assert len(a.beats) >= 3
    assert analyses["dcm"].volume_unit == "mL"
    # the corrected loop ships its corrected beat (the moved ES), not the excluded first one
    moved = corr.values()[1]
    assert audit["dcm"]["traced_beat"] == {"number": moved.number, "es_frame": moved.es_frame,
                                          "ed_frame": moved.ed_frame, "corrected": True}

