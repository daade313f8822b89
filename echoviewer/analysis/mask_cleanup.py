"""The LV mask as one region: the model's stray blobs dropped and its holes filled.

A segmentation network trained on phantoms marks, on real echo, small separate blobs outside the LV
and at some frames a second region (the atrium beside the ventricle). The LV is one connected region
without holes, so the app keeps one component per frame and fills it. Which component: the one lying
where the loop's LV usually lies (the frames' largest components averaged), so a frame whose atrium
blob happens to be the larger still keeps the ventricle. ``--echonet-exact`` keeps the raw masks
(the reference counts every pixel with logit > 0).
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["LvCleaner", "fill_component", "keep_lv", "one_region"]


def fill_component(labels: np.ndarray, k: int) -> np.ndarray:
    """Component ``k`` of a label image, its holes filled (its outer contour drawn filled)."""
    comp = (labels == k).astype(np.uint8)
    contours, _ = cv2.findContours(comp, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    out = np.zeros_like(comp)
    cv2.drawContours(out, contours, -1, 1, thickness=-1)
    return out.astype(bool)


def _components(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    return n, labels, stats[:, cv2.CC_STAT_AREA]


def one_region(mask: np.ndarray) -> np.ndarray:
    """One frame on its own: its largest component, filled (what a viewer shows while a loop is
    still being segmented)."""
    n, labels, areas = _components(mask)
    if n <= 1:
        return np.zeros(mask.shape, bool)
    return fill_component(labels, 1 + int(np.argmax(areas[1:])))


def keep_lv(masks: np.ndarray) -> np.ndarray:
    """(T,H,W) bool -> (T,H,W) bool: per frame the component that overlaps most with the loop's
    usual LV position, holes filled; empty frames stay empty."""
    masks = np.asarray(masks, bool)
    return LvCleaner().clean(masks, np.ones(len(masks), bool))


class LvCleaner:
    """``keep_lv`` over a growing set of a loop's frames (pipeline/sparse.py segments some frames,
    then more): each frame's components are labelled, and each kept component filled, once."""

    def __init__(self):
        self._comps: dict[int, tuple[int, np.ndarray, np.ndarray]] = {}
        self._largest: dict[int, np.ndarray] = {}
        self._filled: dict[tuple[int, int], np.ndarray] = {}

    def clean(self, masks: np.ndarray, frames: np.ndarray) -> np.ndarray:
        """``keep_lv`` of ``masks[frames]`` (``frames``: (T,) bool), placed in a (T,H,W) array whose
        other frames are empty. A frame's mask must not change once it has been cleaned."""
        ts = [int(t) for t in np.flatnonzero(frames)]
        for t in ts:
            if t not in self._comps:
                n, labels, areas = self._comps[t] = _components(masks[t])
                if n > 1:
                    self._largest[t] = labels == 1 + int(np.argmax(areas[1:]))
        usual = np.zeros(masks.shape[1:], np.float32)
        for t in ts:
            if t in self._largest:
                usual += self._largest[t]
        out = np.zeros(masks.shape, bool)
        for t in ts:
            n, labels, _areas = self._comps[t]
            if n <= 1:
                continue
            k = 1 if n == 2 else 1 + int(np.argmax(np.bincount(labels.ravel(), weights=usual.ravel(), minlength=n)[1:]))
            key = (t, k)
            if key not in self._filled:
                self._filled[key] = fill_component(labels, k)
            out[t] = self._filled[key]
        return out
