"""Segmenting only the frames the beats need (pipeline/sparse.py) against segmenting every frame, on
held-out phantoms: the same ES and ED frames, beats counted, EF per beat, and how many frames it
segments. The rule is used only because this prints "identical" on the test set.

    python benchmarks/sparse_agreement.py [--loops 60] [--seed 2027] [--weights-files SEG EF]

Phantoms as `echoviewer synth phantoms --seed 2027` makes them (the evaluation's test set); each loop
is analysed both ways in this process, the same models, no analysis cache.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def compare(full, part) -> list[str]:
    """What differs between two analyses of one loop ([] when nothing the beats report does)."""
    diffs = []
    for name in ("es_frame", "ed_frame", "included", "clip_start"):
        a, b = [getattr(x, name) for x in full.beats], [getattr(x, name) for x in part.beats]
        if a != b:
            diffs.append(f"{name} {a} vs {b}")
    for name in ("ef_model", "ef_seg"):
        for x, y in zip(full.beats, part.beats):
            u, v = getattr(x, name), getattr(y, name)
            if (u is None) != (v is None) or (u is not None and abs(u - v) > 1e-6):
                diffs.append(f"beat {x.number} {name} {u} vs {v}")
    for x in full.beats:
        for f in (x.ed_frame, x.es_frame):
            if f < len(part.masks) and not np.array_equal(full.masks[f], part.masks[f]):
                diffs.append(f"mask of frame {f}")
    return diffs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--loops", type=int, default=60)
    ap.add_argument("--seed", type=int, default=2027)
    ap.add_argument("--weights-files", nargs=2, metavar=("SEG", "EF"))
    args = ap.parse_args()

    import torch

    from echoviewer.io.loop import Loop
    from echoviewer.pipeline.analyzer import Analyzer
    from echoviewer.pipeline.results import AnalysisSettings
    from echoviewer.synthetic.dataset import phantom_rng
    from echoviewer.synthetic.phantom import generate_phantom

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    seg, ef = args.weights_files or (None, None)
    analyzers = {all_frames: Analyzer(AnalysisSettings(seg_weights=seg, ef_weights=ef, device="cpu",
                                                       all_frames=all_frames), use_cache=False)
                 for all_frames in (True, False)}
    print(f"weights: {analyzers[True].seg_info.name} + {analyzers[True].ef_info.name}; "
          f"precision seg {analyzers[True].seg_engine.precision}")
    same = beats = frames = segmented = 0
    secs = {True: 0.0, False: 0.0}
    for k in range(args.loops):
        ph = generate_phantom(phantom_rng(args.seed, k))
        res = {}
        for all_frames, an in analyzers.items():
            loop = Loop.from_frames(ph.frames.copy(), fps=ph.fps, cm_per_pixel=ph.truth.cm_per_pixel)
            t = time.perf_counter()
            res[all_frames] = an.analyze(loop)
            secs[all_frames] += time.perf_counter() - t
        diffs = compare(res[True], res[False])
        part = res[False]
        n_seg = int(part.segmented.sum()) if part.segmented is not None else part.n_frames
        frames += part.n_frames
        segmented += n_seg
        beats += len(res[True].beats)
        same += not diffs
        print(f"[{k + 1}/{args.loops}] {part.n_frames} frames, {len(part.beats)} beats, segmented {n_seg}: "
              + ("identical" if not diffs else "DIFFERENT: " + "; ".join(diffs)), flush=True)
    print(f"\nSUMMARY sparse frames: {same}/{args.loops} loops identical (ES, ED, counted beats, EF per beat, "
          f"ED/ES masks; {beats} beats); segmented {segmented}/{frames} frames ({segmented / frames:.0%}); "
          f"time {secs[False]:.1f} s vs every frame {secs[True]:.1f} s ({secs[True] / secs[False]:.2f}x)")
    return 0 if same == args.loops else 1


if __name__ == "__main__":
    raise SystemExit(main())
