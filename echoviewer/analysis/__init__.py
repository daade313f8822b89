"""LV geometry and beats: tracings (long axis + chords), method of disks, ES/ED detection, metrics."""

from echoviewer.analysis.beats import echonet_es_frames, ed_frames, es_frames
from echoviewer.analysis.metrics import dice, mae, rmse
from echoviewer.analysis.tracing import (
    Tracing,
    area_length_volume,
    ef_from_volumes,
    mask_contour,
    tracing_from_contour,
    tracing_from_mask,
)

__all__ = [
    "Tracing", "area_length_volume", "dice", "echonet_es_frames", "ed_frames", "ef_from_volumes",
    "es_frames", "mae", "mask_contour", "rmse", "tracing_from_contour", "tracing_from_mask",
]
