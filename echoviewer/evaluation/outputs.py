"""The evaluation's machine-readable files: metrics.json, predictions.csv (a row per loop) and
beats.csv (a row per beat); empty cells for numbers that do not exist."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

from echoviewer.evaluation.records import LoopRecord

PREDICTIONS_HEADER = ["FileName", "Split", "ef_true", "ef_pred", "ef_seg", "beats", "ef_sd", "dice_ed", "dice_es",
                      "ed_frame", "es_frame", "n_frames", "fps", "mean_intensity", "sd_intensity", "seconds", "error"]
BEATS_HEADER = ["FileName", "beat", "ed_frame", "es_frame", "ef_model", "ef_seg", "included", "clip_mode",
                "ef_true", "error_model"]


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        return "" if not math.isfinite(v) else f"{v:.4f}".rstrip("0").rstrip(".")
    return str(v)


def _write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows([[_cell(v) for v in row] for row in rows])
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")
    return path


def write_predictions(records: list[LoopRecord], path: str | Path) -> Path:
    """One row per loop, failed ones included (their ``error`` says why)."""
    return _write_csv(Path(path), PREDICTIONS_HEADER, [
        [r.file_name, r.split, r.ef_true, r.ef_pred, r.ef_seg, len(r.beat_efs), r.ef_sd, r.dice_ed, r.dice_es,
         r.ed_frame, r.es_frame, r.n_frames, r.fps, r.mean_intensity, r.sd_intensity, r.seconds, r.error]
        for r in records])


def write_beats(records: list[LoopRecord], path: str | Path) -> Path:
    """One row per beat the pipeline found; ``error_model`` = model EF - the loop's label."""
    return _write_csv(Path(path), BEATS_HEADER, [
        [r.file_name, b.number, b.ed_frame, b.es_frame, b.ef_model, b.ef_seg, b.included, b.clip_mode, r.ef_true,
         None if b.ef_model is None else b.ef_model - r.ef_true]
        for r in records for b in r.beats])


def _finite(obj):
    """NaN and infinity are not JSON: None instead."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def write_json(metrics: dict, path: str | Path) -> Path:
    text = json.dumps(_finite(metrics), indent=1, allow_nan=False, default=str) + "\n"
    Path(path).write_text(text, encoding="utf-8")
    return Path(path)
