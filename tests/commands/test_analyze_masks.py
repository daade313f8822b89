"""`analyze --masks DIR --mask-videos DIR`: per loop the native-resolution masks the window overlays
with the beats' ED/ES frames (a contract researchers load with numpy), and an overlay AVI."""

from __future__ import annotations

import csv
import subprocess
import sys

import cv2
import numpy as np

from echoviewer.io.echonet_video import write_echonet_video
from echoviewer.synthetic.phantom import generate_phantom


def test_masks_and_overlay_videos_per_loop(tmp_path):
    ph = generate_phantom(21, size="native", native_size=(200, 160), hr=80, fps=30, frames=70)
    study = tmp_path / "study"
    frames = np.stack(list(ph.iter_native()))
    write_echonet_video(study / "a.avi", frames, ph.fps)
    write_echonet_video(study / "sub" / "a.avi", frames[:50], ph.fps)  # same name, another folder
    masks_dir, videos_dir, report = tmp_path / "masks", tmp_path / "videos", tmp_path / "r.csv"
    r = subprocess.run([sys.executable, "-m", "echoviewer", "analyze", str(study), "--out", str(report),
                        "--masks", str(masks_dir), "--mask-videos", str(videos_dir), "--device", "cpu", "--quiet"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in masks_dir.iterdir()) == ["a.avi-2.masks.npz", "a.avi.masks.npz"]
    rows = [row for row in csv.DictReader(report.open()) if row["beat"] != "mean"]
    first = [row for row in rows if row["file"].endswith("study/a.avi")]
    with np.load(masks_dir / "a.avi.masks.npz") as z:
        masks = z["masks"]
        assert masks.dtype == bool and masks.shape == (70, 160, 200)  # native (T,H,W)
        assert z["ed_frames"].tolist() == [int(row["ed_frame"]) for row in first]
        assert z["es_frames"].tolist() == [int(row["es_frame"]) for row in first]
        assert len(z["beat_included"]) == len(first)
    assert first, "the demo weights find beats in a 70-frame phantom"
    assert masks.any(axis=(1, 2)).all()  # a mask on every frame
    es = int(first[0]["es_frame"])
    ed = int(first[0]["ed_frame"])
    assert masks[ed].sum() > masks[es].sum()  # the ventricle is larger at ED than at ES
    with np.load(masks_dir / "a.avi-2.masks.npz") as z:
        assert z["masks"].shape == (50, 160, 200)
    cap = cv2.VideoCapture(str(videos_dir / "a.avi.overlay.avi"))
    try:
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        ok, frame = cap.read()
    finally:
        cap.release()
    assert ok and n == 70 and frame.shape == (160 + 72, 200, 3)
    assert sorted(p.name for p in videos_dir.iterdir()) == ["a.avi-2.overlay.avi", "a.avi.overlay.avi"]


def test_an_unwritable_mask_folder_is_one_line(tmp_path):
    ph = generate_phantom(22, hr=80, fps=30, frames=40)
    write_echonet_video(tmp_path / "study" / "a.avi", ph.frames, ph.fps)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    r = subprocess.run([sys.executable, "-m", "echoviewer", "analyze", str(tmp_path / "study"),
                        "--masks", str(blocker / "masks"), "--device", "cpu", "--quiet"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1].startswith("error: cannot write") and "Traceback" not in r.stderr
