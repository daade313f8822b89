"""The model's own evidence that a loop is an apical 4-chamber cine it measured well.

After an analysis: is there one plausible LV (one connected region of plausible size, in the
sector's upper-middle part, longer than wide and standing up as in an apical view) on the frames
the beats were measured on; is the heart rate between 30 and 220 bpm; do the segmentation's EF and
the video model's EF agree. A loop failing any of these is *low confidence*: it is analysed and
shown, but its EF stays out of the study summary and the reports unless the user includes it.
The gates before the analysis (metadata, view label, pixels) are `echoviewer.io.gates`; `decide`
combines both.
"""

from __future__ import annotations

import cv2
import numpy as np

from echoviewer.io.gates import MAX_HR_BPM, MIN_HR_BPM, Decision, Verdict, worst

#: The LV's share of the 112 grid: A4C phantoms and the real loop 4-20 % (demo and official weights).
LV_AREA = (0.01, 0.35)
#: A second region counts when it is at least this share of the largest (specks are ignored).
SECOND_REGION = 0.25
#: The LV's centroid lies in this part of the grid (x, y as shares): apical views put it in the
#: upper-middle of the sector.
LV_CENTRE_X, LV_CENTRE_Y = (0.2, 0.8), (0.15, 0.75)
#: The LV's long axis within this many degrees of vertical (apical views; a parasternal long axis
#: lies across the image).
MAX_TILT_DEG = 50.0
#: Share of the measured frames that must show a plausible LV.
MIN_PLAUSIBLE = 0.5
#: Mean model EF and mean segmentation EF further apart than this (EF points): low confidence.
#: Measured: A4C phantoms with the demo weights differ by at most ~6; per-beat differences above 10
#: are already flagged (pipeline/results.DISAGREEMENT_POINTS), a loop mean 15 apart is doubtful.
MAX_EF_GAP = 15.0
#: Frames examined for the LV test: the beats' ED and ES frames, at most this many.
MAX_FRAMES = 16


def lv_problem(mask: np.ndarray) -> str:
    """Why a (112,112) mask is not one plausible apical LV ("" when it is)."""
    m = np.asarray(mask, dtype=np.uint8)
    n, labels, stats, cents = cv2.connectedComponentsWithStats(m, connectivity=8)
    if n <= 1:
        return "no LV found"
    areas = stats[1:, cv2.CC_STAT_AREA]
    i = int(np.argmax(areas))
    big = float(areas[i])
    if int((areas >= SECOND_REGION * big).sum()) > 1:
        return "more than one LV-like region"
    share = big / m.size
    if not LV_AREA[0] <= share <= LV_AREA[1]:
        return f"LV region of implausible size ({100 * share:.0f} % of the image)"
    cx, cy = cents[i + 1] / np.array(m.shape[::-1], float)
    if not (LV_CENTRE_X[0] <= cx <= LV_CENTRE_X[1] and LV_CENTRE_Y[0] <= cy <= LV_CENTRE_Y[1]):
        return "LV region in an implausible place"
    ys, xs = np.nonzero(labels == i + 1)
    cov = np.cov(np.stack([xs, ys]).astype(float)) if len(xs) > 2 else None
    if cov is not None:
        vals, vecs = np.linalg.eigh(cov)
        vx, vy = vecs[:, int(np.argmax(vals))]
        tilt = float(np.degrees(np.arctan2(abs(vx), abs(vy))))
        if vals.max() > 1.3 * max(vals.min(), 1e-6) and tilt > MAX_TILT_DEG:
            return f"LV lies across the image ({tilt:.0f}° from vertical: not an apical view?)"
    return ""


def evidence_gate(analysis) -> Decision:
    """Low confidence when the model's evidence is weak; analysable otherwise."""
    masks = getattr(analysis, "masks", None)
    beats = list(getattr(analysis, "beats", None) or [])
    if masks is None or not len(masks):
        return Decision(Verdict.LOW_CONFIDENCE, "no LV found", "model")
    frames = sorted({int(f) for b in beats for f in (b.ed_frame, b.es_frame)})
    if not frames:  # no beat: the frames of largest and smallest LV
        areas = np.asarray(analysis.areas)
        frames = sorted({int(np.argmax(areas)), int(np.argmin(areas))})
    frames = frames[:: max(1, len(frames) // MAX_FRAMES)][:MAX_FRAMES]
    problems = [lv_problem(masks[f]) for f in frames if 0 <= f < len(masks)]
    bad = [p for p in problems if p]
    if problems and len(bad) > (1 - MIN_PLAUSIBLE) * len(problems):
        return Decision(Verdict.LOW_CONFIDENCE, max(set(bad), key=bad.count), "model")
    hr = getattr(analysis, "hr_bpm", None)
    if hr is not None and not MIN_HR_BPM <= hr <= MAX_HR_BPM:
        return Decision(Verdict.LOW_CONFIDENCE, f"heart rate {hr:.0f} bpm outside {MIN_HR_BPM:.0f}-{MAX_HR_BPM:.0f}",
                        "model")
    ef, ef_seg = getattr(analysis, "ef_mean", None), getattr(analysis, "ef_seg_mean", None)
    if ef is not None and ef_seg is not None and abs(ef - ef_seg) > MAX_EF_GAP:
        return Decision(Verdict.LOW_CONFIDENCE,
                        f"model EF {ef:.0f} % and segmentation EF {ef_seg:.0f} % disagree", "model")
    return Decision()


def decide(before: Decision, analysis) -> Decision:
    """The loop's decision: the gates before the analysis, then the model's evidence (a loop the
    earlier gates rejected stays rejected)."""
    if not before.analysable:
        return before
    return worst(before, evidence_gate(analysis))
