"""The paper's table from loop records: every figure with its bootstrap interval (patients resampled).

Each figure is ``{"value": v, "ci": [low, high]}`` (None for an undefined number). A patient is a
loop's FileName: the EchoNet-Dynamic dataset holds one video per patient.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from echoviewer.analysis.ef_categories import PAPER_THRESHOLD
from echoviewer.evaluation import metrics as M
from echoviewer.evaluation.records import LoopRecord
from echoviewer.pipeline.results import HIGH_VARIANCE_SD

#: The robustness levels: fraction of pixels replaced with black (Extended Data Fig. 6).
DROPOUT_LEVELS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)


def clean(x: float | None) -> float | None:
    """A number for JSON: None for NaN / inf / None, else a float."""
    return None if x is None or not math.isfinite(float(x)) else float(x)


@dataclass(frozen=True)
class Bootstrap:
    n_boot: int = 1000
    seed: int = 0
    level: float = 0.95

    def figure(self, stat: Callable[[np.ndarray], float], groups: Sequence) -> dict:
        """{"value": stat over all items, "ci": [low, high] over resampled patients}."""
        if not len(groups):
            return {"value": None, "ci": [None, None]}
        value = stat(np.arange(len(groups)))
        lo, hi = M.bootstrap_ci(stat, groups, self.n_boot, self.seed, self.level)
        return {"value": clean(value), "ci": [clean(lo), clean(hi)]}

    def describe(self) -> dict:
        return {"resamples": self.n_boot, "seed": self.seed, "level": self.level, "method": "percentile",
                "unit": "patient: a loop's FileName, one video per patient as in EchoNet-Dynamic"}


def _dice_stat(counts: list) -> Callable[[np.ndarray], float]:
    arr = np.array([(c.intersection, c.pred, c.true) for c in counts], dtype=np.float64).reshape(-1, 3)
    return lambda idx: M.pooled_dice(arr[idx, 0], arr[idx, 1], arr[idx, 2])


def segmentation(records: list[LoopRecord], boot: Bootstrap) -> dict:
    """Dice at the traced ED and ES frames, pooled over pixels, and each phase alone."""
    rs = [r for r in records if r.ed is not None and r.es is not None]
    groups = [r.file_name for r in rs]
    both = [c for r in rs for c in (r.ed, r.es)]
    both_groups = [g for g in groups for _ in range(2)]
    return {
        "dice": boot.figure(_dice_stat(both), both_groups),
        "dice_ed": boot.figure(_dice_stat([r.ed for r in rs]), groups),
        "dice_es": boot.figure(_dice_stat([r.es for r in rs]), groups),
        "n_loops": len(rs),
    }


def agreement(pred, true, groups, boot: Bootstrap) -> dict:
    """MAE, RMSE, R² (squared Pearson r), bias (pred - true), coefficient of determination."""
    p, t = np.asarray(pred, np.float64), np.asarray(true, np.float64)
    out: dict = {"n": len(p)}
    for name, fn in (("mae", M.mae), ("rmse", M.rmse), ("r2", M.r2), ("bias", M.bias),
                     ("coefficient_of_determination", M.coefficient_of_determination)):
        out[name] = boot.figure(_on(fn, p, t), groups)
    return out


def _on(fn: Callable, p: np.ndarray, t: np.ndarray) -> Callable[[np.ndarray], float]:
    """``fn(pred, true)`` as a statistic of item indices."""
    return lambda idx: fn(p[idx], t[idx])


def _mae_figure(pred, true, groups: list[str], boot: Bootstrap) -> dict:
    p, t = np.asarray(pred, np.float64), np.asarray(true, np.float64)
    return boot.figure(_on(M.mae, p, t), groups)


def _with_ef(records: list[LoopRecord]) -> list[LoopRecord]:
    return [r for r in records if r.ok and r.ef_pred is not None]


def ef_per_loop(records: list[LoopRecord], boot: Bootstrap) -> dict:
    rs = _with_ef(records)
    out = agreement([r.ef_pred for r in rs], [r.ef_true for r in rs], [r.file_name for r in rs], boot)
    seg = [r for r in rs if r.ef_seg is not None]
    out["segmentation_ef_mae"] = _mae_figure([r.ef_seg for r in seg], [r.ef_true for r in seg],
                                             [r.file_name for r in seg], boot)
    out["loops_without_ef"] = sum(r.ok and r.ef_pred is None for r in records)
    return out


def ef_per_beat(records: list[LoopRecord], boot: Bootstrap) -> dict:
    """Every used beat's EF against its loop's label (the paper's beat-by-beat scatter)."""
    rows = [(r.file_name, e, r.ef_true) for r in records if r.ok for e in r.beat_efs]
    return agreement([b for _, b, _ in rows], [t for *_, t in rows], [g for g, *_ in rows], boot)


def hfref(records: list[LoopRecord], boot: Bootstrap, threshold: float = PAPER_THRESHOLD) -> dict:
    """EF < threshold by the label, scored by the predicted EF (lower = more likely): AUC, ROC,
    and sensitivity / specificity of calling predicted EF < threshold."""
    rs = _with_ef(records)
    y = np.array([r.ef_true < threshold for r in rs], np.bool_)
    p = np.array([r.ef_pred for r in rs], np.float64)
    groups = [r.file_name for r in rs]
    fpr, tpr, thr = M.roc_curve(y, -p)

    def sens(idx):
        return M.sensitivity_specificity(y[idx], p[idx] < threshold)[0]

    def spec(idx):
        return M.sensitivity_specificity(y[idx], p[idx] < threshold)[1]

    return {
        "threshold": threshold,
        "n_positive": int(y.sum()), "n_negative": int((~y).sum()),
        "auc": boot.figure(lambda idx: M.auc(y[idx], -p[idx]), groups),
        "sensitivity": boot.figure(sens, groups),
        "specificity": boot.figure(spec, groups),
        # thresholds as EF: a loop is called HFrEF when its predicted EF <= the threshold
        "roc": {"fpr": [clean(v) for v in fpr], "tpr": [clean(v) for v in tpr],
                "ef_threshold": [clean(-v) for v in thr]},
    }


def beat_variance(records: list[LoopRecord], boot: Bootstrap, sd_limit: float = HIGH_VARIANCE_SD) -> dict:
    """Loops with 2+ beats: the share whose beats' EF s.d. exceeds ``sd_limit``, and the per-loop
    MAE in the low- and high-variance groups (Extended Data Fig. 2)."""
    rs = [r for r in _with_ef(records) if r.ef_sd is not None]
    high = np.array([(r.ef_sd or 0.0) > sd_limit for r in rs], np.bool_)
    out = {"sd_limit": sd_limit, "n_loops": len(rs), "n_high": int(high.sum()), "n_low": int(len(rs) - high.sum()),
           "share_high": boot.figure(lambda idx: float(high[idx].mean()), [r.file_name for r in rs])}
    for name, want in (("mae_low", False), ("mae_high", True)):
        part = [r for r, h in zip(rs, high) if h == want]
        out[name] = _mae_figure([r.ef_pred for r in part], [r.ef_true for r in part], [r.file_name for r in part], boot)
    return out


def clip_modes(records: list[LoopRecord], boot: Bootstrap) -> list[dict]:
    """Per-loop EF MAE by how its beats' clips fit the video: all "full", or some "shifted" (it would
    run past the end: moved back), or "padded" (the video is shorter than a clip). The reference
    drops the first and cannot run the second: their loops are where its figures say nothing."""
    def mode(r: LoopRecord) -> str:
        used = {b.clip_mode for b in r.beats if b.used}
        return "padded" if "padded" in used else "shifted" if "shifted" in used else "full"

    rs = _with_ef(records)
    out = []
    for name in ("full", "shifted", "padded"):
        part = [r for r in rs if mode(r) == name]
        if part:
            out.append({"clips": name, "n": len(part),
                        "ef_mae": _mae_figure([r.ef_pred for r in part], [r.ef_true for r in part],
                                              [r.file_name for r in part], boot)})
    return out


def largest_errors(records: list[LoopRecord], k: int = 10) -> list[dict]:
    """The ``k`` loops whose EF is furthest from the label: where to look first."""
    rs = sorted(_with_ef(records), key=lambda r: -abs((r.ef_pred or 0.0) - r.ef_true))[:k]
    return [{"file": r.file_name, "ef_true": clean(r.ef_true), "ef_pred": clean(r.ef_pred),
             "error": clean((r.ef_pred or 0.0) - r.ef_true), "beats": len(r.beat_efs), "ef_sd": clean(r.ef_sd),
             "n_frames": r.n_frames, "clips": sorted({b.clip_mode for b in r.beats if b.used})} for r in rs]


def image_quality(records: list[LoopRecord], boot: Bootstrap) -> dict:
    """EF MAE and Dice by quintile of the loops' mean pixel intensity and of its s.d. (Extended Data Fig. 5)."""
    rs = [r for r in records if r.ok and math.isfinite(r.mean_intensity)]
    out: dict = {}
    for axis in ("mean_intensity", "sd_intensity"):
        values = [getattr(r, axis) for r in rs]
        q = M.quintiles(values) if len(rs) >= 5 else np.zeros(0, int)
        rows = []
        for k in range(5 if len(q) else 0):
            part = [r for r, qk in zip(rs, q) if qk == k]
            v = [values[i] for i in np.nonzero(q == k)[0]]
            ef = _with_ef(part)
            seg = [r for r in part if r.ed is not None and r.es is not None]
            rows.append({
                "quintile": k + 1, "range": [clean(min(v)), clean(max(v))], "n": len(part),
                "ef_mae": _mae_figure([r.ef_pred for r in ef], [r.ef_true for r in ef], [r.file_name for r in ef],
                                      boot),
                "dice": boot.figure(_dice_stat([c for r in seg for c in (r.ed, r.es)]),
                                    [r.file_name for r in seg for _ in range(2)]),
            })
        out[axis] = rows
    return out


def speed(records: list[LoopRecord], boot: Bootstrap, device: str) -> dict:
    rs = [r for r in records if r.ok and math.isfinite(r.seconds)]
    s = np.array([r.seconds for r in rs], np.float64)
    frames = float(sum(r.n_frames for r in rs))
    return {"seconds_per_loop": boot.figure(lambda idx: float(s[idx].mean()), [r.file_name for r in rs]),
            "frames_per_second": clean(frames / s.sum()) if s.sum() > 0 else None,
            "total_seconds": clean(float(s.sum())), "device": device, "cpus": os.cpu_count()}


def phantom_truth(records: list[LoopRecord], boot: Bootstrap) -> dict | None:
    """Phantom folders: the beats found against the exact ones, and the model's EF against each
    beat's exact EF (the FileList label is only the traced beat's)."""
    rs = [(r, r.truth) for r in records if r.ok and r.truth is not None]
    if not rs:
        return None
    errs = [(r.file_name, e) for r, t in rs for e in t.errors]
    e = np.array([x for _, x in errs], np.float64)
    loops = [(r, t) for r, t in rs if r.ef_pred is not None]
    return {
        "loops": len(rs),
        "beats_total": sum(t.total for _, t in rs),
        "beats_found": sum(t.found for _, t in rs),
        "extra_beats": sum(t.extra for _, t in rs),
        "ef_mae_per_beat": boot.figure(lambda idx: M.mae(e[idx], np.zeros(len(idx))), [g for g, _ in errs]),
        "ef_mae_per_loop": _mae_figure([r.ef_pred for r, _ in loops], [t.ef_video for _, t in loops],
                                       [r.file_name for r, _ in loops], boot),
    }


def summarise(records: list[LoopRecord], boot: Bootstrap, device: str = "") -> dict:
    """Every figure of one set of weights on one dataset."""
    return {
        "segmentation": segmentation([r for r in records if r.ok], boot),
        "ef_per_loop": ef_per_loop(records, boot),
        "ef_per_beat": ef_per_beat(records, boot),
        "hfref": hfref(records, boot),
        "beat_variance": beat_variance(records, boot),
        "image_quality": image_quality(records, boot),
        "clip_modes": clip_modes(records, boot),
        "largest_errors": largest_errors(records),
        "speed": speed(records, boot, device),
        "phantom_truth": phantom_truth(records, boot),
    }


def robustness(runs: dict[float, list[LoopRecord]], boot: Bootstrap) -> dict:
    """Dice, EF R² and MAE at each dropout level (fraction of pixels replaced with black)."""
    levels = sorted(runs)
    out: dict = {"levels": levels, "dice": [], "ef_r2": [], "ef_mae": []}
    for level in levels:
        rs = runs[level]
        out["dice"].append(segmentation([r for r in rs if r.ok], boot)["dice"])
        ef = ef_per_loop(rs, boot)
        out["ef_r2"].append(ef["r2"])
        out["ef_mae"].append(ef["mae"])
    return out


def paired(a: list[LoopRecord], b: list[LoopRecord], boot: Bootstrap) -> dict:
    """Two sets of weights on the same loops: each figure for A and B over the loops both analysed,
    and B - A with its interval (the same patients resampled for both)."""
    by_b = {r.file_name: r for r in b if r.ok}
    pairs = [(r, by_b[r.file_name]) for r in a if r.ok and r.file_name in by_b]
    seg = [(x, y) for x, y in pairs if x.ed and x.es and y.ed and y.es]
    ef = [(x, y) for x, y in pairs if x.ef_pred is not None and y.ef_pred is not None]
    out: dict = {"n_loops": len(pairs), "n_loops_with_ef": len(ef), "figures": {}}

    def add(name: str, fa: Callable, fb: Callable, groups: list[str]) -> None:
        out["figures"][name] = {
            "a": boot.figure(fa, groups), "b": boot.figure(fb, groups),
            "difference": boot.figure(lambda idx: fb(idx) - fa(idx), groups),
        }

    def seg_stat(side: int, phases: tuple[str, ...]):
        return _dice_stat([getattr(p[side], ph) for p in seg for ph in phases])

    for name, phases in (("dice", ("ed", "es")), ("dice_ed", ("ed",)), ("dice_es", ("es",))):
        groups = [x.file_name for x, _ in seg for _ in phases]
        add(name, seg_stat(0, phases), seg_stat(1, phases), groups)
    t = np.array([x.ef_true for x, _ in ef])
    pa, pb = np.array([x.ef_pred for x, _ in ef]), np.array([y.ef_pred for _, y in ef])
    groups = [x.file_name for x, _ in ef]
    for name, fn in (("ef_mae", M.mae), ("ef_rmse", M.rmse), ("ef_r2", M.r2), ("ef_bias", M.bias)):
        add(name, _on(fn, pa, t), _on(fn, pb, t), groups)
    y = t < PAPER_THRESHOLD
    add("hfref_auc", lambda idx: M.auc(y[idx], -pa[idx]), lambda idx: M.auc(y[idx], -pb[idx]), groups)
    # per beat: sums per loop, so that resampling patients carries their beats along
    sums = np.array([[sum(abs(e - x.ef_true) for e in x.beat_efs), len(x.beat_efs),
                      sum(abs(e - y_.ef_true) for e in y_.beat_efs), len(y_.beat_efs)] for x, y_ in pairs],
                    np.float64).reshape(-1, 4)

    def beat_mae(col: int) -> Callable:
        def stat(idx):
            n = sums[idx, col + 1].sum()
            return float(sums[idx, col].sum() / n) if n else math.nan
        return stat

    add("ef_mae_per_beat", beat_mae(0), beat_mae(2), [x.file_name for x, _ in pairs])
    return out
