"""Write phantom loops as an EchoNet-Dynamic dataset folder with full ground truth.

OUT_DIR/FileList.csv, OUT_DIR/VolumeTracings.csv (ES block then ED block of the first complete
beat of each video), OUT_DIR/Videos/<name>.avi (112x112 MJPG), OUT_DIR/Truth/<name>.npz (per-frame
truth) and OUT_DIR/summary.json; with size="native" also OUT_DIR/Native/<name>.avi (the native
canvas with burned-in text); with dicom=True also OUT_DIR/DICOM/<name>.dcm (native ultrasound
multi-frame, JPEG baseline YBR_FULL_422, Sequence of Ultrasound Regions with the fan region and
its cm/pixel, FrameTime).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from echoviewer import __version__
from echoviewer.dataset.echonet import FileListRow, TracedVideo, write_filelist, write_volume_tracings
from echoviewer.io.echonet_video import write_echonet_video
from echoviewer.synthetic.phantom import GRID, Phantom, generate_phantom

SPLIT_FRACTIONS = (0.8, 0.1, 0.1)


def video_name(seed: int, i: int) -> str:
    return f"Phantom{int(seed)}_{i:04d}"


def splits_for(n: int, seed: int) -> list[str]:
    """Deterministic 80/10/10 TRAIN/VAL/TEST assignment of n videos for a seed."""
    order = np.random.default_rng([int(seed), 7_919]).permutation(n)
    n_train = int(round(SPLIT_FRACTIONS[0] * n))
    n_val = int(round(SPLIT_FRACTIONS[1] * n))
    out = [""] * n
    for rank, i in enumerate(order):
        out[i] = "TRAIN" if rank < n_train else ("VAL" if rank < n_train + n_val else "TEST")
    return out


def phantom_rng(seed: int, i: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(i)])


def truth_arrays(ph: Phantom, native_masks: bool = False) -> dict[str, Any]:
    """Arrays stored in Truth/<name>.npz."""
    t = ph.truth
    d: dict[str, Any] = dict(
        masks=t.masks, areas=t.areas, volume_fraction=t.volume_fraction, apex=t.apex, base=t.base,
        ed_frames=t.ed_frames, es_frames=t.es_frames, edv=t.edv, esv=t.esv, ef=t.ef,
        tracings=t.tracings, tracing_order=np.array(["ED", "ES"]), traced_beat=np.int32(t.traced_beat),
        fps=np.float64(t.fps), hr=np.float64(t.hr), ef_video=np.float64(t.ef_video), ef_sd=np.float64(t.ef_sd),
        cm_per_pixel=np.float64(t.cm_per_pixel), n_frames=np.int32(ph.n_frames), times=ph.times,
        region=np.array(ph.region, np.int32), native_size=np.array(ph.native_size, np.int32),
        native_cm_per_pixel=np.float64(ph.native_cm_per_pixel),
        grid_transform=np.array([ph.transform.x0, ph.transform.y0, ph.transform.side, ph.transform.size], np.int32),
        native_contours=ph.native_contours,
    )
    if native_masks:
        d["native_masks"] = ph.native_masks()
    return d


def summary_entry(name: str, ph: Phantom, split: str | None = None) -> dict[str, Any]:
    t = ph.truth
    b = t.traced_beat
    e = {
        "name": name, "split": split, "n_frames": ph.n_frames, "fps": t.fps, "hr": round(t.hr, 2),
        "n_beats": int(len(t.ef)), "ef": round(float(t.ef[b]), 3), "edv": round(float(t.edv[b]), 3),
        "esv": round(float(t.esv[b]), 3),
        "ef_video": round(t.ef_video, 3), "ef_sd": round(t.ef_sd, 3), "high_variance": bool(t.ef_sd > 2.5),
        "ef_beats": [round(float(x), 3) for x in t.ef], "ed_frames": t.ed_frames.tolist(),
        "es_frames": t.es_frames.tolist(),
        "cm_per_pixel_grid": t.cm_per_pixel, "native_size": list(ph.native_size), "region": list(ph.region),
        "native_cm_per_pixel": ph.native_cm_per_pixel,
    }
    e["params"] = {k: v for k, v in ph.params.items() if isinstance(v, (int, float, str, bool))}
    return e


def write_dicom(path: Path, ph: Phantom, **extra: Any) -> Path:
    from echoviewer.io.dicom_write import write_ultrasound_dicom  # written by the io package

    kw = dict(PatientName="PHANTOM^ECHO", PatientID=str(ph.params.get("patient_id", "0")),
              StudyDescription="Echo phantom", SeriesDescription="A4C phantom")
    kw.update(extra)
    return write_ultrasound_dicom(
        path, ph.iter_native(), ph.fps, region=ph.region, cm_per_pixel=ph.native_cm_per_pixel,
        transfer_syntax="jpeg_baseline", photometric="YBR_FULL_422", **kw,
    )


def write_native_avi(path: Path, ph: Phantom) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    w, h = ph.native_size
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), float(ph.fps), (w, h), True)
    if not vw.isOpened():
        raise OSError(f"{path}: OpenCV cannot write an MJPG AVI here")
    try:
        for f in ph.iter_native():
            vw.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    finally:
        vw.release()
    return path


def write_dataset(
    out_dir: str | os.PathLike,
    n: int,
    seed: int = 0,
    *,
    fps: float | None = None,
    frames: int | None = None,
    size: str = "112",
    dicom: bool = False,
    dropout: float = 0.0,
    noise: float = 1.0,
    native_size: tuple[int, int] = (800, 600),
    progress: Callable[[int, int, str, dict], None] | None = None,
) -> dict[str, Any]:
    """Generate n phantom loops into out_dir (EchoNet-Dynamic layout + truth); returns the summary.
    Video i uses the generator seeded with [seed, i]: same seed, same bytes."""
    out = Path(out_dir)
    (out / "Videos").mkdir(parents=True, exist_ok=True)
    (out / "Truth").mkdir(parents=True, exist_ok=True)
    native = size == "native"
    splits = splits_for(n, seed)
    rows: list[FileListRow] = []
    traced: list[TracedVideo] = []
    entries = []
    for i in range(n):
        name = video_name(seed, i)
        ph = generate_phantom(
            phantom_rng(seed, i), frames=frames, fps=fps, size="native" if (native or dicom) else "112",
            native_size=native_size, dropout=dropout, noise=noise,
        )
        t = ph.truth
        b = t.traced_beat
        write_echonet_video(out / "Videos" / f"{name}.avi", ph.frames, t.fps)
        rows.append(FileListRow(name, t.ef[b], t.esv[b], t.edv[b], GRID, GRID, t.fps, ph.n_frames, splits[i]))
        traced.append(TracedVideo(name, int(t.es_frames[b]), t.tracing(b, "ES"),
                                  int(t.ed_frames[b]), t.tracing(b, "ED")))
        if native:
            write_native_avi(out / "Native" / f"{name}.avi", ph)
        if dicom:
            (out / "DICOM").mkdir(parents=True, exist_ok=True)
            write_dicom(out / "DICOM" / f"{name}.dcm", ph)
        np.savez_compressed(out / "Truth" / f"{name}.npz", **truth_arrays(ph, native_masks=native))
        e = summary_entry(name, ph, splits[i])
        entries.append(e)
        if progress is not None:
            progress(i, n, name, e)
        del ph
    write_filelist(out / "FileList.csv", rows)
    write_volume_tracings(out / "VolumeTracings.csv", traced)
    summary = {
        "generator": f"echoviewer {__version__} synthetic phantom",
        "seed": int(seed), "videos": n, "size": size, "dicom": bool(dicom), "fps": fps, "frames": frames,
        "dropout": dropout, "noise": noise,
        "splits": {s: splits.count(s) for s in ("TRAIN", "VAL", "TEST")},
        "ef_definition": "method of disks, 20 chords (tracing_from_contour) on the LV mask rasterised on the 112 grid; "
        "FileList EF/EDV/ESV = the traced (first complete) beat; ef_video = mean over complete beats",
        "entries": entries,
    }
    with open(out / "summary.json", "w") as fh:
        json.dump(summary, fh, indent=1, sort_keys=False)
        fh.write("\n")
    return summary


__all__ = [
    "write_dataset", "splits_for", "video_name", "phantom_rng", "truth_arrays", "write_dicom", "write_native_avi",
]
