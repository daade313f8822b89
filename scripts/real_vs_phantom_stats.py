"""Compare the grey-level statistics and speckle size of the real A4C loop pydicom ships with phantoms.

    python scripts/real_vs_phantom_stats.py [--phantoms N] [--seed S]

Both on the 112 grid the models see (the real loop through its GridTransform). Printed: inside-sector
intensity percentiles, share of near-black pixels, and the speckle grain (autocorrelation width at half
maximum of the high-passed image, lateral x axial, in grid pixels) in the tissue-bright pixels.
Used to match the phantom renderer's gain / dynamic range / speckle to real machines; the loop is
a test, not training data (its hand tracings are never used here).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def sector_pixels(frames: np.ndarray) -> np.ndarray:
    """Pixels inside the imaged sector: those not black in (almost) every frame."""
    lit = (frames > 6).mean(axis=0) > 0.5
    lit = cv2.erode(lit.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    return frames[:, lit]


def grain(frames: np.ndarray) -> tuple[float, float]:
    """Autocorrelation full width at half maximum (x, y) of the high-passed frames, grid pixels."""
    acc = np.zeros((15, 15))
    for f in frames[:, 15:90, 20:92].astype(np.float32):  # the heart, away from burned-in overlays
        hp = f - cv2.GaussianBlur(f, (0, 0), 4.0)
        mask = cv2.GaussianBlur(f, (0, 0), 4.0) > 8
        hp = np.where(mask, hp, 0)
        F = np.fft.fft2(hp)
        ac = np.fft.fftshift(np.real(np.fft.ifft2(F * np.conj(F))))
        cy, cx = np.array(ac.shape) // 2
        acc += ac[cy - 7 : cy + 8, cx - 7 : cx + 8] / max(ac[cy, cx], 1e-9)
    acc /= len(frames)

    def fwhm(profile: np.ndarray) -> float:
        c = len(profile) // 2
        for i in range(1, c + 1):
            if profile[c + i] < 0.5:
                a, b = profile[c + i - 1], profile[c + i]
                return 2 * (i - 1 + (a - 0.5) / max(a - b, 1e-9))
        return float(2 * c)

    return fwhm(acc[7]), fwhm(acc[:, 7])


def describe(name: str, frames: np.ndarray | list[np.ndarray]) -> str:
    """One line of figures; a list of loops is pooled (each loop's own sector)."""
    if isinstance(frames, list):
        px = np.concatenate([sector_pixels(f).ravel() for f in frames])
        frames = np.concatenate(frames)
    else:
        px = sector_pixels(frames)
    q = np.percentile(px, [5, 25, 50, 75, 95, 99])
    gx, gy = grain(frames)
    return (f"{name:28s} mean {px.mean():5.1f} sd {px.std():5.1f}  p5/25/50/75/95/99 "
            + "/".join(f"{v:.0f}" for v in q) + f"  <10: {np.mean(px < 10):.2f}  grain {gx:.2f} x {gy:.2f} px")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--phantoms", type=int, default=8)
    ap.add_argument("--seed", type=int, default=123)
    ap.add_argument("--plain", action="store_true", help="the phantoms without realism=True")
    args = ap.parse_args()
    from pydicom.data import get_testdata_file

    from echoviewer.io import open_loop
    from echoviewer.synthetic.phantom import generate_phantom

    loop = open_loop(get_testdata_file("examples_ybr_color.dcm"))
    real = loop.grid_frames()[..., 0]
    print(describe("real A4C (pydicom)", real))
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(args.seed).spawn(args.phantoms)]
    all_ph = []
    for i, r in enumerate(rngs):
        g = generate_phantom(r, frames=30, realism=not args.plain)
        f = g.frames[..., 0]
        all_ph.append(f)
        print(describe(f"phantom {i}", f))
    print(describe("phantoms pooled", all_ph))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
