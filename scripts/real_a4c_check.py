"""Run the pipeline on the real apical 4-chamber loop that pydicom ships, measure it against our hand
tracings (tests/data/real_a4c_tracings.json) and draw what it found.

    python scripts/real_a4c_check.py [--out docs/real_a4c_overlay.png] [--seg-weights F --ef-weights F] [--json F]

The demo models are trained only on phantoms; this says how their LV mask does on a real echo.
Printed per traced frame: Dice against the tracing (native pixels, and on the 112 grid), how many
separate regions the mask has; then the ED/ES frames found against ours, and EF by the method of
disks (the app's analysis.tracing on the 112 grid) from the model's masks against the tracings'.
The loop is a test: never train or tune on it. The picture: six frames with the mask contour (the
hand tracing in green where there is one), and the LV area curve with ES/ED marks.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TRACINGS = ROOT / "tests" / "data" / "real_a4c_tracings.json"


def dice(a: np.ndarray, b: np.ndarray) -> float:
    s = int(a.sum()) + int(b.sum())
    return 2.0 * int((a & b).sum()) / s if s else 1.0


def n_regions(mask: np.ndarray) -> int:
    return int(cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)[0]) - 1


def ef_of(ed_mask: np.ndarray, es_mask: np.ndarray) -> float | None:
    """EF (%) by the method of disks, as the analyzer computes it from two grid masks."""
    from echoviewer.analysis.tracing import ef_from_volumes, tracing_from_mask

    ed, es = tracing_from_mask(ed_mask), tracing_from_mask(es_mask)
    if ed is None or es is None:
        return None
    return float(ef_from_volumes(ed.volume(), es.volume()))


def measure(loop, a, doc: dict) -> dict:
    """Figures of an analysis against the hand tracings (a JSON-able dict)."""
    from echoviewer.analysis.tracing import polygon_mask

    shape = loop.frame_rgb(0).shape[:2]
    frames, truth_grid = [], {}
    for t in doc["tracings"]:
        k = int(t["frame"])
        poly = np.asarray(t["polygon"], float)
        native = polygon_mask(poly[:, 0], poly[:, 1], shape)
        g = loop.transform.to_grid_points(poly)
        grid = polygon_mask(g[:, 0], g[:, 1], a.masks.shape[1:])
        truth_grid[k] = grid
        pred_native = loop.transform.mask_to_native(a.masks[k], shape)
        frames.append({"frame": k, "phase": t["phase"], "dice_native": round(dice(pred_native, native), 3),
                       "dice_grid": round(dice(a.masks[k], grid), 3), "regions": n_regions(a.masks[k]),
                       "area_pred": int(a.masks[k].sum()), "area_traced": int(grid.sum())})
    ed_ref, es_ref = int(doc["ed_frames"][0]), int(doc["es_frames"][0])
    ef_ref = ef_of(truth_grid[ed_ref], truth_grid[es_ref])
    regions = [n_regions(m) for m in a.masks]
    return {
        "frames": frames,
        "dice_mean": round(float(np.mean([f["dice_native"] for f in frames])), 3),
        "dice_worst": round(float(np.min([f["dice_native"] for f in frames])), 3),
        "frames_not_one_region": int(sum(r != 1 for r in regions)),
        "max_regions": int(max(regions)),
        "ed_ref": ed_ref, "es_ref": es_ref,
        "beats": [{"ed": int(b.ed_frame), "es": int(b.es_frame), "included": bool(b.included),
                   "ef_seg": None if b.ef_seg is None else round(float(b.ef_seg), 1),
                   "ef_model": None if b.ef_model is None else round(float(b.ef_model), 1)} for b in a.beats],
        "ef_traced": None if ef_ref is None else round(ef_ref, 1),
        "ef_masks_at_ref_frames": (lambda v: None if v is None else round(v, 1))(
            ef_of(a.masks[ed_ref], a.masks[es_ref])),
        "ef_model_mean": None if a.ef_mean is None else round(float(a.ef_mean), 1),
        "ef_seg_mean": None if a.ef_seg_mean is None else round(float(a.ef_seg_mean), 1),
    }


def report(m: dict) -> str:
    lines = ["frame phase  Dice(native) Dice(grid) regions area pred/traced (grid px)"]
    for f in m["frames"]:
        lines.append(f"{f['frame']:5d} {f['phase']:5s} {f['dice_native']:12.3f} {f['dice_grid']:10.3f} "
                     f"{f['regions']:7d} {f['area_pred']:5d}/{f['area_traced']}")
    lines.append(f"Dice mean {m['dice_mean']:.3f}, worst {m['dice_worst']:.3f}; frames whose mask is not one "
                 f"region: {m['frames_not_one_region']} of 30 (most regions in a frame: {m['max_regions']})")
    beats = ", ".join(f"ED {b['ed']} ES {b['es']}{'' if b['included'] else ' (not counted)'}" for b in m["beats"])
    lines.append(f"beats found: {beats or 'none'}; traced ED {m['ed_ref']}, ES {m['es_ref']}")
    lines.append(f"EF traced (method of disks) {m['ef_traced']}; from the model's masks at the traced ED/ES "
                 f"{m['ef_masks_at_ref_frames']}; per found beat (seg) {[b['ef_seg'] for b in m['beats']]}; "
                 f"loop: model {m['ef_model_mean']}, seg {m['ef_seg_mean']}")
    return "\n".join(lines)


def draw(loop, a, doc: dict, out: str) -> None:
    traced = {int(t["frame"]): np.asarray(t["polygon"], np.int32) for t in doc["tracings"]}
    picks = [0, 10, 20, 21, 28, 29] if loop.n_frames == 30 else np.linspace(0, loop.n_frames - 1, 6).round()
    tiles = []
    for i in (int(v) for v in picks):
        rgb = loop.frame_rgb(i).copy()
        native = loop.transform.mask_to_native(a.masks[i], rgb.shape[:2]).astype(np.uint8)
        contours, _ = cv2.findContours(native, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(rgb, contours, -1, (255, 200, 0), 1)
        if i in traced:
            cv2.polylines(rgb, [traced[i]], True, (60, 230, 90), 1)
        cv2.putText(rgb, f"frame {i}", (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
        tiles.append(cv2.resize(rgb, None, fx=1.5, fy=1.5, interpolation=cv2.INTER_CUBIC))
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
    for k in doc["ed_frames"] + doc["es_frames"]:
        cv2.line(plot, (int(xs[k]), 25), (int(xs[k]), 150), (60, 230, 90), 1)
    cv2.putText(plot, "LV area (112 grid); blue = ES, red = ED found; green lines = traced ED/ES; "
                "yellow = mask, green = hand tracing", (20, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (200, 200, 200), 1)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(out, cv2.cvtColor(np.vstack([grid, plot]), cv2.COLOR_RGB2BGR))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="docs/real_a4c_overlay.png")
    ap.add_argument("--seg-weights")
    ap.add_argument("--ef-weights")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args()
    from pydicom.data import get_testdata_file

    from echoviewer.io import open_loop
    from echoviewer.pipeline.analyzer import Analyzer
    from echoviewer.pipeline.results import AnalysisSettings

    doc = json.loads(TRACINGS.read_text())
    loop = open_loop(get_testdata_file("examples_ybr_color.dcm"))
    a = Analyzer(AnalysisSettings(seg_weights=args.seg_weights, ef_weights=args.ef_weights, device="cpu"),
                 use_cache=False).analyze(loop)
    print(f"{loop.n_frames} frames @ {loop.fps:.1f} fps, region {loop.region} ({loop.region_source}); "
          f"LV area {a.areas.min()}–{a.areas.max()} px on the 112 grid; flags {a.flags}")
    m = measure(loop, a, doc)
    print(report(m))
    if args.json:
        Path(args.json).write_text(json.dumps(m, indent=1))
    draw(loop, a, doc, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
