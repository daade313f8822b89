"""Montage of phantom frames next to a real A4C loop (docs/phantom_montage.png).

    python -m echoviewer.synthetic.montage docs/phantom_montage.png
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

from echoviewer.synthetic.phantom import generate_phantom

TILE = 200


def _label(img: np.ndarray, text: str) -> np.ndarray:
    img = img.copy()
    cv2.putText(img, text, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 230, 120), 1, cv2.LINE_AA)
    return img


def _tile(frame: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    f = cv2.resize(frame, (TILE, TILE), interpolation=cv2.INTER_CUBIC)
    if f.ndim == 2:
        f = cv2.cvtColor(f, cv2.COLOR_GRAY2RGB)
    if mask is not None:
        m = cv2.resize(mask.astype(np.uint8), (TILE, TILE), interpolation=cv2.INTER_NEAREST)
        cnts, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(f, cnts, -1, (230, 60, 60), 1)
    return f


def real_a4c_frames() -> list[np.ndarray]:
    """Two frames of pydicom's real apical 4-chamber test loop (RGB), cropped to the sector square."""
    import pydicom
    from pydicom.data import get_testdata_file

    ds = pydicom.dcmread(get_testdata_file("examples_ybr_color.dcm"))
    a = ds.pixel_array
    return [a[i, 14:206, 64:256] for i in (0, len(a) // 2)]


def make_montage(path: str | Path, seeds=(1, 2, 3, 4), realism: bool = True) -> Path:
    rows = []
    for s in seeds:
        ph = generate_phantom(s, size="native" if s == seeds[0] else "112", realism=realism)
        t = ph.truth
        ed, es = int(t.ed_frames[0]), int(t.es_frames[0])
        # a diastolic frame with the mitral valve open: after ES, during rapid filling
        dia = min(es + max(2, int(round(0.12 * t.fps))), ph.n_frames - 1)
        g = ph.frames[..., 0]
        mode = "native->112" if s == seeds[0] else "112"
        row = [
            _label(_tile(g[ed]), f"seed {s} ED ({mode})"),
            _label(_tile(g[es]), f"ES  EF {t.ef[0]:.0f}%"),
            _label(_tile(g[dia]), "early diastole"),
            _label(_tile(g[es], t.masks[es]), "ES + truth mask"),
        ]
        rows.append(np.hstack(row))
    real = real_a4c_frames()
    real_col = [_label(_tile(real[0]), "REAL A4C (pydicom)"), _label(_tile(real[1]), "REAL A4C, later frame")]
    ph = generate_phantom(seeds[0], size="native", frames=40, realism=realism)
    nat = ph.native_frames[int(ph.truth.ed_frames[0])]
    h = TILE * 2
    w = int(round(nat.shape[1] * h / nat.shape[0]))
    nat_tile = _label(cv2.resize(nat, (w, h), interpolation=cv2.INTER_AREA),
                      "native 800x600 frame (burned-in text, ECG)")
    top = np.hstack([np.vstack(real_col), nat_tile])
    grid = np.vstack(rows)
    width = max(top.shape[1], grid.shape[1])
    pad = lambda im: np.pad(im, ((0, 0), (0, width - im.shape[1]), (0, 0)))  # noqa: E731
    out = np.vstack([pad(top), pad(grid)])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(out, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    return path


if __name__ == "__main__":
    print(make_montage(sys.argv[1] if len(sys.argv) > 1 else "docs/phantom_montage.png"))
