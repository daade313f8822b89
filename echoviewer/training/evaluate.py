"""Held-out evaluation on phantoms through the real pipeline: Dice, per-beat EF error, beats found."""

from __future__ import annotations

import time

import numpy as np

from echoviewer.analysis.metrics import dice


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
        rr = 60.0 * ph.fps / max(t.hr, 1e-6)
        m = match_beats(t.es_frames, [b.es_frame for b in a.beats], tolerance=max(3, int(0.2 * rr)))
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
    em, es_ = np.abs(err_model), np.abs(err_seg)
    return {
        "heldout_loops": len(seconds),
        "dice": round(dice(np.concatenate(pred_masks), np.concatenate(true_masks)), 4),
        "ef_mae_per_beat": round(float(em.mean()), 2) if len(em) else None,
        "ef_rmse_per_beat": round(float(np.sqrt(np.mean(np.square(err_model)))), 2) if len(em) else None,
        "ef_bias_per_beat": round(float(np.mean(err_model)), 2) if len(em) else None,
        "ef_seg_mae_per_beat": round(float(es_.mean()), 2) if len(es_) else None,
        "ef_mae_per_loop": round(float(np.mean(np.abs(video_err))), 2) if video_err else None,
        "beats_found": found,
        "beats_total": total,
        "extra_beats": extra,
        "seconds_per_loop": round(float(np.mean(seconds)), 3),
    }
