"""`echoviewer info` through a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from echoviewer.io.dicom_write import write_ultrasound_dicom
from tests.io.conftest import fan_frames, write_video

ROOT = Path(__file__).resolve().parents[2]


def run_info(*args) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "echoviewer", "info", *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("info")
    write_ultrasound_dicom(root / "cal.dcm", fan_frames(6), fps=40, region=(10, 10, 120, 90), cm_per_pixel=0.05)
    write_video(root / "clip.avi", fan_frames(5), fps=25)
    (root / "bad.dcm").write_bytes(b"\x00" * 50)
    return root


def test_info_json(folder):
    r = run_info(folder, "--json")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    doc = json.loads(r.stdout)  # exactly one JSON object
    assert set(doc) == {"loops", "errors"}
    loops = {Path(lp["path"]).name: lp for lp in doc["loops"]}
    assert set(loops) == {"cal.dcm", "clip.avi"}
    cal, clip = loops["cal.dcm"], loops["clip.avi"]
    assert (cal["frames"], cal["width"], cal["height"]) == (6, 128, 96)
    assert cal["fps"] == pytest.approx(40) and cal["cm_per_pixel"] == pytest.approx(0.05)
    assert cal["fps_source"] == "FrameTime" and cal["kind"] == "dicom"
    assert clip["frames"] == 5 and clip["fps"] == pytest.approx(25) and clip["cm_per_pixel"] is None
    assert [Path(e["path"]).name for e in doc["errors"]] == ["bad.dcm"]
    assert "bad.dcm" in doc["errors"][0]["message"]


def test_info_text(folder):
    r = run_info(folder)
    assert r.returncode == 0 and "Traceback" not in r.stderr
    lines = r.stdout.splitlines()
    cal = next(line for line in lines if "cal.dcm" in line)
    assert "6" in cal.split() and "128x96" in cal and "40.00 (FrameTime)" in cal and "0.0500" in cal
    assert any(line.startswith("error:") and "bad.dcm" in line for line in lines)


def test_info_nothing_opens(tmp_path):
    (tmp_path / "x.avi").write_bytes(b"RIFF0000AVI garbage")
    r = run_info(tmp_path, "--json")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    doc = json.loads(r.stdout)
    assert doc["loops"] == [] and len(doc["errors"]) == 1


def test_info_missing_path(tmp_path):
    r = run_info(tmp_path / "nope")
    assert r.returncode == 2 and "no such file" in r.stderr and "Traceback" not in r.stderr
