"""Closing the loop: corrections on loops the demo model handles poorly -> export -> fine-tune -> better.

    python scripts/closing_the_loop.py [--train 8] [--heldout 12] [--steps 300] [--work DIR]

1. Make "hard" phantoms unlike the demo training data (heavy dropout, deep imaging so the heart is
   small, low gain).
2. Analyse the training loops with the demo weights; a scripted sonographer corrects each one
   through the same Corrections API the window uses: the ED and ES tracings of the first beat are
   replaced by the true contours, and the ED/ES frames moved to the true ones.
3. `export_study` writes the EchoNet-format folder; `recipes.finetune` fine-tunes the demo
   segmentation model on it (the same code as `echoviewer train --data DIR --init WEIGHTS`).
4. Dice on held-out hard loops (truth ED/ES frames), before and after.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HARD = dict(dropout=0.45, depth_cm=23.0, gain_db=-8.0)


def hard_phantom(seed: int):
    from echoviewer.synthetic.phantom import generate_phantom

    return generate_phantom(seed, **HARD)


def dice_on(seg_weights: str, ef_weights: str, phantoms) -> float:
    from echoviewer.analysis.metrics import dice
    from echoviewer.evaluation.phantoms import phantom_loop
    from echoviewer.pipeline.analyzer import Analyzer
    from echoviewer.pipeline.results import AnalysisSettings

    a = Analyzer(AnalysisSettings(seg_weights=seg_weights, ef_weights=ef_weights, device="cpu"), use_cache=False)
    pred, true = [], []
    for k, ph in enumerate(phantoms):
        res = a.analyze(phantom_loop(ph, f"hard{k}"))
        frames = np.unique(np.concatenate([ph.truth.ed_frames, ph.truth.es_frames])).astype(int)
        pred.append(res.masks[frames])
        true.append(ph.truth.masks[frames])
    return dice(np.concatenate(pred), np.concatenate(true))


def correct_like_a_sonographer(corr, ph) -> None:
    """Set beat 1's ED/ES frames and tracings to the truth (what an expert tracing would give)."""
    from echoviewer.analysis.tracing import mask_contour

    t = ph.truth
    if not corr.beats:
        corr.add_beat(int(t.ed_frames[0]), int(t.es_frames[0]))
    beat = corr.beats[0]["id"]
    for phase, frame in (("es", int(t.es_frames[0])), ("ed", int(t.ed_frames[0]))):
        corr.set_frame(beat, phase, frame)
        corr.set_tracing(beat, phase, mask_contour(t.masks[frame]), t.apex[frame], t.base[frame])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", type=int, default=8)
    ap.add_argument("--heldout", type=int, default=12)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--work")
    args = ap.parse_args()
    from echoviewer.annotations.store import AutoSaver, open_corrections
    from echoviewer.export.echonet_export import export_study
    from echoviewer.io.echonet_video import write_echonet_video
    from echoviewer.models import find_weights
    from echoviewer.pipeline.analyzer import Analyzer
    from echoviewer.pipeline.results import AnalysisSettings
    from echoviewer.training.recipes import finetune

    seg0, ef0 = str(find_weights("segmentation")), str(find_weights("ef"))
    work = Path(args.work or tempfile.mkdtemp(prefix="closing-the-loop-"))
    study = work / "study"
    study.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    train = {f"hard{i:02d}": hard_phantom(5000 + i) for i in range(args.train)}
    heldout = [hard_phantom(9000 + i) for i in range(args.heldout)]
    for name, ph in train.items():
        write_echonet_video(study / f"{name}.avi", ph.frames, ph.fps)
    before = dice_on(seg0, ef0, heldout)
    print(f"demo weights {Path(seg0).name}: held-out hard-loop Dice {before:.3f}")

    analyzer = Analyzer(AnalysisSettings(seg_weights=seg0, ef_weights=ef0, device="cpu"))
    from echoviewer.io import open_loop

    for name, ph in train.items():
        loop = open_loop(study / f"{name}.avi")
        corr = open_corrections(analyzer.analyze(loop), loop.path, user="scripted-sonographer")
        AutoSaver(corr, loop.path)
        correct_like_a_sonographer(corr, ph)
    export = work / "export"
    res = export_study(study, export, analyzer.analyze, log=lambda m: None)
    print(f"exported {len(res.exported)} corrected loops to {export}")
    (new_seg,) = finetune(export, [seg0], work / "weights", steps=args.steps, lr=1e-3, log=lambda m: None)
    after = dice_on(str(new_seg), ef0, heldout)
    print(f"fine-tuned {new_seg.name}: held-out hard-loop Dice {after:.3f}")
    print(f"SUMMARY closing the loop: Dice {before:.3f} -> {after:.3f} on {args.heldout} held-out hard loops "
          f"after correcting {args.train} loops ({args.steps} fine-tuning steps, {time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
