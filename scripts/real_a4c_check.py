"""Run the pipeline on the real apical 4-chamber loop that pydicom ships and draw what it found.

    python scripts/real_a4c_check.py [--out docs/real_a4c_overlay.png] [--seg-weights F --ef-weights F]

The demo models are trained only on phantoms; this shows whether their LV mask is plausible on a
real echo. The picture: six frames with the mask contour, and the LV area curve with ES/ED marks.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="docs/real_a4c_overlay.png")
    ap.add_argument("--seg-weights")
    ap.add_argument("--ef-weights")
    args = ap.parse_args()
    from pydicom.data import get_testdata_file

    from echoviewer.io import open_loop
    from echoviewer.pipeline.analyzer import Analyzer
    from echoviewer.pipeline.results import AnalysisSettings

    loop = open_loop(get_testdata_file("examples_ybr_color.dcm"))
    a = Analyzer(AnalysisSettings(seg_weights=args.seg_weights, ef_weights=args.ef_weights, device="cpu"),
                 use_cache=False).analyze(loop)
    print(f"{loop.n_frames} frames @ {loop.fps:.1f} fps, region {loop.region} ({loop.region_source}); "
          f"LV area {a.areas.min()}–{a.areas.max()} px on the 112 grid; beats {len(a.beats)}; "
          f"EF model {a.ef_mean}, seg {a.ef_seg_mean}; flags {a.flags}")
    tiles = []
    picks = np.linspace(0, loop.n_frames - 1, 6).round().astype(int)
    for i in picks:
        rgb = loop.frame_rgb(int(i)).copy()
        native = loop.transform.mask_to_native(a.masks[i], rgb.shape[:2]).astype(np.uint8)
        contours, _ = cv2.findContours(native, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(rgb, contours, -1, (255, 200, 0), 2)
        cv2.putText(rgb, f"frame {i}", (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
        tiles.append(rgb)
    h, w = tiles[0].shape[:2]
    grid = np.vstack([np.hstack(tiles[:3]), np.hstack(tiles[3:])])
    plot = np.full((160, grid.shape[1], 3), 20, np.uint8)
    ar = a.areas.astype(float)
    xs = np.linspace(20, grid.shape[1] - 20, len(ar))
    span = max(ar.max() - ar.min(), 1)
    ys = 140 - (ar - ar.min()) / span * 110
    pts = np.stack([xs, ys], 1).astype(np.int32)
    cv2.polylines(plot, [pts], False, (230, 230, 230), 2)
    for b in a.beats:
        cv2.circle(plot, tuple(pts[b.es_frame]), 6, (80, 160, 255), -1)
        cv2.circle(plot, tuple(pts[b.ed_frame]), 6, (255, 90, 90), -1)
    cv2.putText(plot, "LV area (112 grid); blue = ES, red = ED", (20, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                (200, 200, 200), 1)
    out = np.vstack([grid, plot])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(args.out, cv2.cvtColor(out, cv2.COLOR_RGB2BGR))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
