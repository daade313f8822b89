"""The CSV report: one row per beat and one summary row per loop (same content in CLI and GUI).

The first columns (up to ``device``) are the `analyze` report contract: the model's values. The
columns after them carry a sonographer's corrections (``echoviewer.annotations``) side by side:
``corrected`` (0/1), the corrected EF / EDV / ESV (method of disks on the corrected tracings) and
ED / ES frames, why a beat is left out of the corrected mean and whether it is in it
(``included_corrected``; ``included`` stays the model's). A loop nobody corrected (and the CLI's
loops) has ``corrected`` 0 and empty correction columns. ``ed_frame``/``es_frame`` are 0-based
frame indices (as the reference's size.csv); the window and the PDF count frames from 1.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

from echoviewer import DEMO_LABEL
from echoviewer.annotations.reconcile import loop_corrected, loop_decision, reconcile
from echoviewer.io.identity import UNKNOWN, Identity
from echoviewer.paths import atomic_write
from echoviewer.pipeline.preprocess import ClipSpec

COLUMNS = [
    "file", "beat", "ed_frame", "es_frame", "ef_model", "ef_seg", "ef_area_length", "edv", "esv",
    "volume_unit", "hr_bpm", "fps", "n_frames", "clip_start", "clip_mode", "included", "flags",
    "ef_sd", "beats_used", "method", "seg_weights", "seg_weights_sha256", "ef_weights",
    "ef_weights_sha256", "weights_note", "mean", "std", "device",
    # corrections (appended: the columns above are the CLI report contract)
    "corrected", "ef_corrected", "edv_corrected", "esv_corrected", "ed_frame_corrected", "es_frame_corrected",
    "exclude_reason", "ef_sd_corrected", "beats_used_corrected", "included_corrected",
    # who the loop belongs to (from the DICOM header; empty for video files)
    "patient_id", "patient_name", "study_date", "accession",
]

def _method(a) -> str:
    clip = ClipSpec.of(a.ef_info)
    return (f"single-plane apical 4-chamber; EF model per beat (EchoNet-Dynamic clip at max(ES-{clip.frames},0), "
            f"{clip.frames} frames every {clip.period}); seg EF by method of disks (20 disks)")


def _fmt(v, nd=2):
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return str(v)


def _weights_note(a) -> str:
    return DEMO_LABEL if a.demo else ""


def _model_beat_row(b) -> dict:
    return {
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
    }


def _corrected_cols(v) -> dict:
    """The correction columns of one beat as reported after corrections (a BeatValues)."""
    return {
        "corrected": int(bool(v.corrected)),
        "ef_corrected": _fmt(v.ef),
        "edv_corrected": _fmt(v.edv),
        "esv_corrected": _fmt(v.esv),
        "ed_frame_corrected": v.ed_frame,
        "es_frame_corrected": v.es_frame,
        "exclude_reason": (v.exclude_reason or "excluded") if v.excluded else "",
        "included_corrected": int(not v.excluded),
    }


def rows_for(a, corrections=None, identity: Identity | None = None) -> list[dict]:
    """Report rows of one LoopAnalysis: its beats, then the summary row (beat = "mean").

    With ``corrections`` (an ``echoviewer.annotations.Corrections`` of this loop) every beat row also
    carries its corrected values; a beat the sonographer deleted keeps its model values with
    ``exclude_reason`` "deleted", one they added has empty model columns. Rows follow the ED frame.
    """
    common = {
        "file": a.path,
        "volume_unit": a.volume_unit,
        "fps": _fmt(a.fps),
        "n_frames": a.n_frames,
        "method": _method(a),
        "seg_weights": a.seg_info.name,
        "seg_weights_sha256": a.seg_info.sha256,
        "ef_weights": a.ef_info.name,
        "ef_weights_sha256": a.ef_info.sha256,
        "weights_note": _weights_note(a),
        "mean": " ".join(f"{m:g}" for m in (a.settings.mean or a.seg_info.mean)),
        "std": " ".join(f"{m:g}" for m in (a.settings.std or a.seg_info.std)),
        "device": a.device,
        **(identity or UNKNOWN).patient_fields(),
    }
    decision = loop_decision(a, corrections)
    if not decision.analysable:  # the method does not apply: one summary row, no EF, the reason in flags
        return [{**common, "beat": "mean", "beats_used": 0, "corrected": 0,
                 "flags": "; ".join([decision.text()] + [f for f in a.flags if f != decision.text()])}]
    if corrections is not None and not loop_corrected(corrections.values(), a):
        corrections = None  # nobody changed anything: the correction columns stay empty
    summary = None if corrections is None else corrections.summary()
    rows = []
    for pair in reconcile(a, corrections):
        if pair.values is not None and pair.added:  # added by the sonographer (or no model beat)
            rows.append({**common, "beat": pair.values.id, "hr_bpm": "", **_corrected_cols(pair.values)})
        elif pair.deleted:
            rows.append({**common, **_model_beat_row(pair.model), "corrected": 1, "exclude_reason": "deleted",
                         "included_corrected": 0})
        elif pair.values is None:
            rows.append({**common, **_model_beat_row(pair.model), "corrected": 0})
        else:
            rows.append({**common, **_model_beat_row(pair.model), **_corrected_cols(pair.values)})
    mean_row = {
        **common,
        "beat": "mean",
        "ef_model": _fmt(a.ef_mean),
        "ef_sd": _fmt(a.ef_sd),
        "ef_seg": _fmt(a.ef_seg_mean),
        "edv": _fmt(a.edv_mean),
        "esv": _fmt(a.esv_mean),
        "hr_bpm": _fmt(a.hr_bpm, 1),
        "beats_used": a.summary.n_used,
        "flags": "; ".join(_with(list(a.flags), decision)),
        "corrected": 0,
    }
    if summary is not None:
        mean_row.update({
            "corrected": int(any(r.get("corrected") == 1 for r in rows)),
            "ef_corrected": _fmt(summary.ef_mean),
            "ef_sd_corrected": _fmt(summary.ef_sd),
            "edv_corrected": _fmt(summary.edv_mean),
            "esv_corrected": _fmt(summary.esv_mean),
            "beats_used_corrected": summary.n_used,
        })
    rows.append(mean_row)
    return rows


def _with(flags: list[str], decision) -> list[str]:
    """The loop's flags and the gates' decision when it says something ("low confidence: …")."""
    text = decision.text() if decision.reason or not decision.reported else ""
    return flags + [text] if text and text not in flags else flags


def _of(a, by_path: dict | None):
    """The entry of ``by_path`` for a LoopAnalysis (keyed by its path, as given or as a Path's str)."""
    if not by_path:
        return None
    c = by_path.get(a.path)
    if c is None:
        c = by_path.get(str(Path(a.path)))
    return c


def row_writer(stream) -> csv.DictWriter:
    """The report's CSV writer on a text stream (columns, quoting, line ends): `analyze`'s report
    and `batch`'s results.csv write their rows through it."""
    return csv.DictWriter(stream, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")


def report_text(analyses: Iterable, corrections_by_path: dict | None = None,
                identities_by_path: dict | None = None) -> str:
    """The report as CSV text; ``corrections_by_path`` maps a loop's path (LoopAnalysis.path) to its
    Corrections (loops without an entry are reported uncorrected), ``identities_by_path`` to its
    io.identity.Identity (patient columns empty without one)."""
    buf = io.StringIO()
    w = row_writer(buf)
    w.writeheader()
    for a in analyses:
        for r in rows_for(a, _of(a, corrections_by_path), _of(a, identities_by_path)):
            w.writerow(r)
    return buf.getvalue()


def write_report(analyses: Iterable, path, corrections_by_path: dict | None = None,
                 identities_by_path: dict | None = None) -> Path:
    path = Path(path)
    text = report_text(analyses, corrections_by_path, identities_by_path)
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
