"""`echoviewer report` end to end, as a user runs it: a `synth --dicom` study with one damaged file
gives a PDF and DICOM objects with the CSV report's numbers; the damaged file is named, not fatal."""

import csv
import shutil
import subprocess
import sys

import pydicom
import pytest

pytestmark = pytest.mark.slow


def _run(*args):
    return subprocess.run([sys.executable, "-m", "echoviewer", *args], capture_output=True, text=True, timeout=900)


def test_report_of_a_synth_dicom_study(tmp_path):
    data = tmp_path / "synth"
    r = _run("synth", str(data), "--videos", "2", "--frames", "96", "--fps", "50", "--size", "native", "--dicom",
             "--seed", "3")
    assert r.returncode == 0, r.stderr
    first, second = sorted((data / "DICOM").glob("*.dcm"))  # synth makes one patient per loop
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    shutil.copy(first, mixed / first.name)
    shutil.copy(second, mixed / second.name)
    r = _run("report", str(mixed), "--pdf", str(tmp_path / "mixed.pdf"), "--quiet")
    assert r.returncode == 2 and "different patients" in r.stderr and not (tmp_path / "mixed.pdf").exists()

    study = tmp_path / "study"
    study.mkdir()
    shutil.copy(first, study / first.name)
    (study / "damaged.dcm").write_bytes(first.read_bytes()[:3000])  # cut off in the pixel data

    out_csv = tmp_path / "r.csv"
    assert _run("analyze", str(study), "--out", str(out_csv), "--quiet").returncode == 0
    r = _run("report", str(study), "--pdf", str(tmp_path / "r.pdf"), "--dicom", str(tmp_path / "dcm"), "--quiet")
    assert r.returncode == 0, r.stderr
    assert "not reported damaged.dcm" in r.stderr and "Traceback" not in r.stderr

    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "r.pdf"), "-"], capture_output=True, text=True,
                          timeout=60).stdout
    means = [row for row in csv.DictReader(out_csv.open()) if row["beat"] == "mean"]
    assert len(means) == 1
    for row in means:  # the PDF prints the CSV's EF rounded to 0.1
        assert f"{round(float(row['ef_model']) + 1e-9, 1):.1f}" in text
    assert "damaged.dcm" in text and "demo" in text.lower()

    files = sorted((tmp_path / "dcm").glob("*.dcm"))
    kinds = {f.name.split("_")[0] for f in files}
    assert kinds == {"SR", "PDF", "KEY"}
    source = pydicom.dcmread(next(study.glob("*.dcm")), stop_before_pixels=True)
    for f in files:
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        assert ds.StudyInstanceUID == source.StudyInstanceUID and ds.PatientID == source.PatientID
        assert ds.SeriesInstanceUID != source.SeriesInstanceUID
        assert str(source.PatientName).split("^")[0].lower() not in f.name.lower()
