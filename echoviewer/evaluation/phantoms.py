"""Phantoms, whose truth is exact for every frame and beat: the held-out check the demo weights'
manifests carry (``evaluate_phantoms``), and the per-beat truth an evaluation of a ``synth``
folder adds beside the EchoNet labels (``load_truth``, ``beat_truth``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from echoviewer.evaluation.metrics import bias, dice, mae, rmse


def phantom_loop(ph, name: str = "phantom"):
    """A Loop over a phantom's 112x112 frames (identity transform, grid calibration)."""
    from echoviewer.io.loop import Loop

    return Loop.from_frames(ph.frames, fps=ph.fps, cm_per_pixel=ph.truth.cm_per_pixel, path=f"<{name}>")


def match_beats(truth_es: np.ndarray, found_es: list[int], tolerance: int) -> dict[int, int]:
    """truth beat index -> found beat index, nearest ES within ``tolerance`` frames, one-to-one."""
    pairs = sorted(
        (abs(int(t) - int(f)), i, j) for i, t in enumerate(truth_es) for j, f in enumerate(found_es)
    )
    out: dict[int, int] = {}
    used: set[int] = set()
    for d, i, j in pairs:
        if d <= tolerance and i not in out and j not in used:
            out[i] = j
            used.add(j)
    return out


def es_tolerance(fps: float, hr: float) -> int:
    """Frames within which a found ES counts as a truth beat's: a fifth of the RR interval, at least 3."""
    return max(3, int(0.2 * 60.0 * fps / max(hr, 1e-6)))


@dataclass
class PhantomTruth:
    """What a ``synth`` folder's ``Truth/<name>.npz`` says about one loop's beats."""

    es_frames: np.ndarray
    ef: np.ndarray  # per complete beat
    ef_video: float  # their mean
    fps: float
    hr: float


def load_truth(root: str | Path, name: str) -> PhantomTruth | None:
    """The truth of loop ``name`` of a phantom folder; None when the folder has none for it."""
    path = Path(root) / "Truth" / f"{name}.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path) as z:
            return PhantomTruth(np.asarray(z["es_frames"], int), np.asarray(z["ef"], float), float(z["ef_video"]),
                                float(z["fps"]), float(z["hr"]))
    except (OSError, KeyError, ValueError):
        return None


@dataclass
class BeatTruth:
    """The analysis' beats against the exact ones: per matched beat, model EF - true EF."""

    total: int
    found: int
    extra: int
    errors: list[float]
    ef_video: float  # the mean of the exact beats


def beat_truth(truth: PhantomTruth, beats) -> BeatTruth:
    """Match the analysis' beats (``pipeline.results.Beat``) to the truth's by ES frame."""
    m = match_beats(truth.es_frames, [b.es_frame for b in beats], es_tolerance(truth.fps, truth.hr))
    errors = [beats[j].ef_model - float(truth.ef[i]) for i, j in m.items() if beats[j].ef_model is not None]
    return BeatTruth(len(truth.es_frames), len(m), len(beats) - len(m), errors, truth.ef_video)


def evaluate_phantoms(analyzer, phantoms, log=None) -> dict:
    """Run ``analyzer`` on each phantom; pooled Dice over the truth ED/ES frames; per-beat EF errors
    of the model (and of the segmentation) over the truth beats that were found."""
    pred_masks, true_masks = [], []
    err_model, err_seg, video_err = [], [], []
    found = total = extra = 0
    seconds = []
    for k, ph in enumerate(phantoms):
        t = ph.truth
        t0 = time.perf_counter()
        a = analyzer.analyze(phantom_loop(ph, f"heldout-{k}"))
        seconds.append(time.perf_counter() - t0)
        frames = np.unique(np.concatenate([t.ed_frames, t.es_frames])).astype(int)
        pred_masks.append(a.masks[frames])
        true_masks.append(t.masks[frames])
        m = match_beats(t.es_frames, [b.es_frame for b in a.beats], tolerance=es_tolerance(ph.fps, t.hr))
        total += len(t.es_frames)
        found += len(m)
        extra += len(a.beats) - len(m)
        for i, j in m.items():
            b = a.beats[j]
            if b.ef_model is not None:
                err_model.append(b.ef_model - float(t.ef[i]))
            if b.ef_seg is not None and np.isfinite(b.ef_seg):
                err_seg.append(b.ef_seg - float(t.ef[i]))
        if a.ef_mean is not None:
            video_err.append(a.ef_mean - t.ef_video)
        if log:
            log(f"held-out {k + 1}: truth EF {t.ef_video:.1f}, model "
                f"{'n/a' if a.ef_mean is None else f'{a.ef_mean:.1f}'}, beats {len(m)}/{len(t.es_frames)}")
    zero_model, zero_seg = np.zeros(len(err_model)), np.zeros(len(err_seg))
    return {
        "heldout_loops": len(seconds),
        "dice": round(dice(np.concatenate(pred_masks), np.concatenate(true_masks)), 4),
        "ef_mae_per_beat": round(mae(err_model, zero_model), 2) if err_model else None,
        "ef_rmse_per_beat": round(rmse(err_model, zero_model), 2) if err_model else None,
        "ef_bias_per_beat": round(bias(err_model, zero_model), 2) if err_model else None,
        "ef_seg_mae_per_beat": round(mae(err_seg, zero_seg), 2) if err_seg else None,
        "ef_mae_per_loop": round(mae(video_err, np.zeros(len(video_err))), 2) if video_err else None,
        "beats_found": found,
        "beats_total": total,
        "extra_beats": extra,
        "seconds_per_loop": round(float(np.mean(seconds)), 3),
    }
