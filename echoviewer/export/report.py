"""The CSV report: one row per beat and one summary row per loop (same content in CLI and GUI)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

from echoviewer import DEMO_LABEL
from echoviewer.paths import atomic_write

COLUMNS = [
    "file", "beat", "ed_frame", "es_frame", "ef_model", "ef_seg", "ef_area_length", "edv", "esv",
    "volume_unit", "hr_bpm", "fps", "n_frames", "clip_start", "clip_mode", "included", "flags",
    "ef_sd", "beats_used", "method", "seg_weights", "seg_weights_sha256", "ef_weights",
    "ef_weights_sha256", "weights_note", "mean", "std", "device",
]

METHOD = "single-plane apical 4-chamber; EF model per beat (EchoNet-Dynamic clip at max(ES-32,0)); " \
         "seg EF by method of disks (20 disks)"


def _fmt(v, nd=2):
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return str(v)


def _weights_note(a) -> str:
    return DEMO_LABEL if a.demo else ""


def rows_for(a) -> list[dict]:
    """Report rows of one LoopAnalysis: its beats, then the summary row (beat = "mean")."""
    common = {
        "file": a.path,
        "volume_unit": a.volume_unit,
        "fps": _fmt(a.fps),
        "n_frames": a.n_frames,
        "method": METHOD,
        "seg_weights": a.seg_info.name,
        "seg_weights_sha256": a.seg_info.sha256,
        "ef_weights": a.ef_info.name,
        "ef_weights_sha256": a.ef_info.sha256,
        "weights_note": _weights_note(a),
        "mean": " ".join(f"{m:g}" for m in (a.settings.mean or a.seg_info.mean)),
        "std": " ".join(f"{m:g}" for m in (a.settings.std or a.seg_info.std)),
        "device": a.device,
    }
    rows = []
    for b in a.beats:
        rows.append({
            **common,
            "beat": b.number,
            "ed_frame": b.ed_frame,
            "es_frame": b.es_frame,
            "ef_model": _fmt(b.ef_model),
            "ef_seg": _fmt(b.ef_seg),
            "ef_area_length": _fmt(b.ef_area_length),
            "edv": _fmt(b.edv),
            "esv": _fmt(b.esv),
            "hr_bpm": "",
            "clip_start": "" if b.clip_start is None else b.clip_start,
            "clip_mode": b.clip_mode,
            "included": int(b.included),
            "flags": "; ".join(b.flags),
        })
    rows.append({
        **common,
        "beat": "mean",
        "ef_model": _fmt(a.ef_mean),
        "ef_sd": _fmt(a.ef_sd),
        "ef_seg": _fmt(a.ef_seg_mean),
        "edv": _fmt(a.edv_mean),
        "esv": _fmt(a.esv_mean),
        "hr_bpm": _fmt(a.hr_bpm, 1),
        "beats_used": len([b for b in a.beats if b.included and b.ef_model is not None]),
        "flags": "; ".join(a.flags),
    })
    return rows


def report_text(analyses: Iterable) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for a in analyses:
        for r in rows_for(a):
            w.writerow(r)
    return buf.getvalue()


def write_report(analyses: Iterable, path) -> Path:
    path = Path(path)
    text = report_text(analyses)
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))
    return path


def write_size_csv(analyses: Iterable, path) -> Path:
    """The reference's size.csv: Filename,Frame,Size,HumanLarge,HumanSmall,ComputerSmall."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["Filename", "Frame", "Size", "HumanLarge", "HumanSmall", "ComputerSmall"])
    for a in analyses:
        es = {b.es_frame for b in a.beats}
        name = Path(a.path).name
        for i, s in enumerate(a.areas):
            # Human tracings are not part of an analysis: 0, as the reference writes for untraced frames.
            w.writerow([name, i, int(s), 0, 0, int(i in es)])
    path = Path(path)
    atomic_write(path, lambda f: f.write(buf.getvalue().encode("utf-8")))
    return path
