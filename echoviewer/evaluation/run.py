"""Drive the app's own pipeline (``pipeline.analyzer.Analyzer``) over a labelled EchoNet-format
folder and write what a researcher reads: metrics.json, predictions.csv, beats.csv, report.html.

``run_evaluation`` is the one entry point, for `echoviewer evaluate` and the window alike: it
reports progress as ``progress(done, total, message)``, stops between loops (and between a loop's
batches) when ``cancelled()`` turns true by raising ``pipeline.results.Cancelled``, and returns
the paths of what it wrote.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from echoviewer import __version__
from echoviewer.errors import one_line
from echoviewer.evaluation import outputs
from echoviewer.evaluation.dataset import EvalDataset, drop_pixels, intensity, open_dataset, read_frames
from echoviewer.evaluation.phantoms import beat_truth, load_truth
from echoviewer.evaluation.records import BeatRecord, LoopRecord, MaskCounts
from echoviewer.evaluation.summary import DROPOUT_LEVELS, Bootstrap, paired, robustness, summarise
from echoviewer.pipeline.results import AnalysisSettings, Cancelled

ProgressFn = Callable[[int, int, str], None]
CancelledFn = Callable[[], bool]

__all__ = ["EvaluationResult", "run_evaluation", "evaluate_loops", "Cancelled"]


@dataclass
class EvaluationResult:
    out_dir: Path
    metrics_path: Path
    report_path: Path
    predictions_path: Path
    beats_path: Path
    metrics: dict
    #: with a comparison: the second weights' predictions and beats
    compare_paths: list[Path] = field(default_factory=list)


def evaluate_loops(analyzer, data: EvalDataset, dropout: float = 0.0, seed: int = 0,
                   step: Callable[[str], None] | None = None, cancelled: CancelledFn | None = None) -> list[LoopRecord]:
    """One record per loop of ``data``: ``analyzer`` on its frames (a ``dropout`` fraction of pixels
    blacked out, seeded per loop), against its FileList EF and VolumeTracings. A loop that fails is
    recorded with its reason; ``Cancelled`` stops the whole run."""
    from echoviewer.io.loop import DEFAULT_FPS, Loop

    out = []
    for i, v in enumerate(data.videos):
        if cancelled and cancelled():
            raise Cancelled()
        r = v.row
        rec = LoopRecord(r.file_name, r.split, float(r.ef), v.ed_frame, v.es_frame, fps=float(r.fps))
        try:
            frames = read_frames(v)
            rec.n_frames = len(frames)
            rec.mean_intensity, rec.sd_intensity = intensity(frames)
            frames = drop_pixels(frames, dropout, np.random.default_rng([seed, round(dropout * 1000), i]))
            fps = r.fps if r.fps > 0 else DEFAULT_FPS
            t0 = time.perf_counter()
            a = analyzer.analyze(Loop.from_frames(frames, fps=fps, path=v.path), cancel=cancelled)
            rec.seconds = time.perf_counter() - t0
            _fill(rec, a, v)
            truth = load_truth(data.root, v.file_name)
            if truth is not None:
                rec.truth = beat_truth(truth, a.beats)
        except Cancelled:
            raise
        except Exception as exc:  # one bad loop must not stop an evaluation; its reason is kept
            rec.error = one_line(exc)
        out.append(rec)
        if step:
            step(f"{v.file_name}: {'failed: ' + rec.error if rec.error else _describe(rec)}")
    return out


def _fill(rec: LoopRecord, a, v) -> None:
    rec.ef_pred, rec.ef_sd, rec.ef_seg = a.ef_mean, a.ef_sd, a.ef_seg_mean
    rec.beats = [BeatRecord(b.number, b.ed_frame, b.es_frame, b.ef_model, b.ef_seg, b.included, b.clip_mode)
                 for b in a.beats]
    for phase, frame, tracing in (("ed", v.ed_frame, v.ed), ("es", v.es_frame, v.es)):
        if 0 <= frame < len(a.masks):  # a traced frame past the video's end: no Dice for it
            setattr(rec, phase, MaskCounts.of(a.masks[frame], tracing.rasterize(a.masks.shape[1:])))


def _describe(rec: LoopRecord) -> str:
    ef = "no EF" if rec.ef_pred is None else f"EF {rec.ef_pred:.1f} (label {rec.ef_true:.1f})"
    return f"{ef}, {len(rec.beat_efs)} beats"


def _weights(analyzer) -> dict:
    return {"segmentation": analyzer.seg_info.as_dict(), "ef": analyzer.ef_info.as_dict(),
            "mean_used": {"segmentation": analyzer.seg_mean.tolist(), "ef": analyzer.ef_mean.tolist()},
            "std_used": {"segmentation": analyzer.seg_std.tolist(), "ef": analyzer.ef_std.tolist()},
            "clip": {"frames": analyzer.clip.frames, "period": analyzer.clip.period}, "device": str(analyzer.device)}


def headline(summary: dict, n_loops: int) -> dict:
    """The top-level numbers scripts read: ``name`` and ``name_ci`` for each (per-loop EF)."""
    ef, hf, seg = summary["ef_per_loop"], summary["hfref"], summary["segmentation"]
    out: dict = {"n_loops": n_loops}
    for name, fig in (("dice", seg["dice"]), ("ef_mae", ef["mae"]), ("ef_rmse", ef["rmse"]), ("ef_r2", ef["r2"]),
                      ("ef_bias", ef["bias"]), ("hfref_auc", hf["auc"])):
        out[name], out[f"{name}_ci"] = fig["value"], fig["ci"]
    return out


def run_evaluation(
    dataset: str | os.PathLike | EvalDataset,
    out_dir: str | os.PathLike,
    settings: AnalysisSettings | None = None,
    *,
    split: str = "TEST",
    compare: AnalysisSettings | None = None,
    dropout: bool = False,
    n_boot: int = 1000,
    seed: int = 0,
    progress: ProgressFn | None = None,
    cancelled: CancelledFn | None = None,
    command: str = "",
) -> EvaluationResult:
    """Evaluate ``settings``' weights (default: as the app finds them) on ``split`` of ``dataset``;
    with ``compare``, a second set of weights on the same loops; with ``dropout``, again at each
    level of ``DROPOUT_LEVELS``. ``dataset``: a folder, or one ``open_dataset`` already checked (its
    split is used). Raises ``DatasetError`` for a folder it cannot evaluate,
    ``models.WeightsError`` for weights it cannot load, ``Cancelled`` when cancelled."""
    from echoviewer.pipeline.analyzer import Analyzer

    data = dataset if isinstance(dataset, EvalDataset) else open_dataset(dataset, split)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    levels = [f for f in DROPOUT_LEVELS if f > 0] if dropout else []
    passes = 1 + (compare is not None) + len(levels)
    total, done = passes * len(data.videos), 0

    def step(message: str) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total, message)

    if progress:
        progress(0, total, "loading the models")
    analyzer = Analyzer(settings or AnalysisSettings(), use_cache=False)  # no cache: speed is measured
    other = Analyzer(compare, use_cache=False) if compare is not None else None
    t0 = time.perf_counter()
    records = evaluate_loops(analyzer, data, 0.0, seed, step, cancelled)
    records_b = evaluate_loops(other, data, 0.0, seed, step, cancelled) if other is not None else None
    runs = {0.0: records} if levels else {}
    for f in levels:
        runs[f] = evaluate_loops(analyzer, data, f, seed, step, cancelled)

    if progress:
        progress(done, total, "computing the metrics")
    boot = Bootstrap(n_boot, seed)
    device = str(analyzer.device)
    summary = summarise(records, boot, device)
    ok = [r for r in records if r.ok]
    metrics = headline(summary, len(ok)) | summary | {
        "dataset": {"path": str(data.root.resolve()), "split": data.split, "listed": data.n_listed,
                    "traced": len(data.videos), "analysed": len(ok),
                    "without_tracings": data.untraced,
                    "failed": [{"file": r.file_name, "why": r.error} for r in records if not r.ok],
                    "hfref_labels": summary["hfref"]["n_positive"]},
        "weights": _weights(analyzer),
        "bootstrap": boot.describe(),
        "robustness": robustness(runs, boot) if runs else None,
        "generated": {"by": f"echoviewer {__version__}", "date": datetime.now(UTC).isoformat(timespec="seconds"),
                      "command": command, "seconds": round(time.perf_counter() - t0, 1)},
    }
    result = EvaluationResult(out, out / "metrics.json", out / "report.html", out / "predictions.csv",
                              out / "beats.csv", metrics)
    outputs.write_predictions(records, result.predictions_path)
    outputs.write_beats(records, result.beats_path)
    if other is not None and records_b is not None:
        metrics["compare"] = {"weights": _weights(other), "summary": summarise(records_b, boot, str(other.device)),
                              "paired": paired(records, records_b, boot)}
        result.compare_paths = [outputs.write_predictions(records_b, out / "predictions_b.csv"),
                                outputs.write_beats(records_b, out / "beats_b.csv")]
    outputs.write_json(metrics, result.metrics_path)
    from echoviewer.evaluation.report_html import write_report

    write_report(metrics, records, records_b, result.report_path)
    if progress:
        progress(total, total, f"report: {result.report_path}")
    return result
