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
