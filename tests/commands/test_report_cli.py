"""`echoviewer report`: its refusals (exit 2, one line, before any analysis)."""

import subprocess
import sys

from echoviewer.io.echonet_video import write_echonet_video


def _run(*args):
    return subprocess.run([sys.executable, "-m", "echoviewer", *args], capture_output=True, text=True, timeout=600)


def _one_error_line(r):
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in r.stderr, r.stderr
    return lines[0]


def test_refuses_a_missing_study_and_no_output(tmp_path):
    assert "no such file" in _one_error_line(_run("report", str(tmp_path / "nope"), "--pdf", str(tmp_path / "r.pdf")))
    assert "--pdf" in _one_error_line(_run("report", str(tmp_path)))


def test_refuses_dicom_output_for_an_avi_study_without_a_patient_id(tmp_path, phantom):
    study = tmp_path / "study"
    study.mkdir()
    write_echonet_video(study / "a.avi", phantom.frames[:60], phantom.fps)
    line = _one_error_line(_run("report", str(study), "--dicom", str(tmp_path / "out")))
    assert "--patient-id" in line
    assert not (tmp_path / "out").exists()


def test_a_study_without_any_ef_is_refused_in_one_line(tmp_path, random_weights, monkeypatch):
    """Nothing to measure (no beat found): one line, exit 2, no traceback."""
    import numpy as np

    from echoviewer.io.dicom_write import write_ultrasound_dicom

    study = tmp_path / "study"
    study.mkdir()
    write_ultrasound_dicom(study / "still.dcm", np.full((40, 64, 64), 60, np.uint8), fps=50)  # no heart beats here
    seg, ef = random_weights
    r = _run("report", str(study), "--dicom", str(tmp_path / "out"), "--seg-weights", seg, "--ef-weights", ef,
             "--quiet")
    # a flat grey picture has no ultrasound sector: the gates leave it out, saying why (io/gates.py)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert lines[0].startswith("not reported still.dcm: not analysable: no ultrasound sector"), r.stderr
    r.stderr = "\n".join(lines[1:])
    line = _one_error_line(r)
    assert "EF" in line or "beat" in line or "analysis failed" in line or "could be reported" in line
