"""Phantoms of the other kinds of instance a real study holds, for the gates (io/gates.py).

A study exported from an echo machine holds apical 4-chamber cines but also Doppler and M-mode
strips, colour-flow loops, other views, single frames and screenshots. `write_kind(folder, kind,
seed)` writes one of each `KINDS` as an ultrasound DICOM file (with its Sequence of Ultrasound
Regions where a real machine writes one) and `EXPECTED` says what the gates should decide:

- ``a4c``: the A4C phantom (2D tissue region).
- ``a4c_strip``: the A4C phantom above a spectral Doppler strip (2D tissue + PW Doppler regions).
- ``colour_flow``: the A4C phantom with a colour-flow map in the blood pools of a colour box; the
  header lists a tissue region only (as some exports do), so the pixels have to tell.
- ``doppler``: a spectral (PW) Doppler strip alone, with its spectral region.
- ``mmode``: an M-mode strip alone, with its M-mode region.
- ``parasternal``: the phantom's image turned a quarter (the LV lies across the sector, as in a
  parasternal long axis), labelled "PLAX" in the series description.
- ``single_frame``: one A4C frame (US Image Storage).
- ``screenshot``: a measurement / report page (white, text and a table), ten identical frames.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from echoviewer.synthetic.phantom import Phantom, generate_phantom

KINDS = ("a4c", "a4c_strip", "colour_flow", "doppler", "mmode", "parasternal", "single_frame", "screenshot")
#: The decision (io.gates.Verdict value) each kind should get from the gates before any model runs;
#: "model" marks a kind left to the model's evidence (pipeline/confidence.py).
EXPECTED = {
    "a4c": "analysable", "a4c_strip": "analysable", "colour_flow": "not analysable", "doppler": "not analysable",
    "mmode": "not analysable", "parasternal": "low confidence", "single_frame": "not analysable",
    "screenshot": "not analysable",
}
SIZE = (320, 240)  # native width, height
FPS = 50.0
FRAMES = 96  # two beats at 75 bpm


def a4c_phantom(seed: int, frames: int = FRAMES, fps: float = FPS) -> Phantom:
    return generate_phantom(seed, size="native", native_size=SIZE, frames=frames, fps=fps, hr=75, ef_sd=0)


def _region_item(spatial: int, dtype: int, box, cm: float | None = None):
    from pydicom.dataset import Dataset

    x0, y0, x1, y1 = box
    it = Dataset()
    it.RegionSpatialFormat, it.RegionDataType, it.RegionFlags = spatial, dtype, 0
    it.RegionLocationMinX0, it.RegionLocationMinY0 = int(x0), int(y0)
    it.RegionLocationMaxX1, it.RegionLocationMaxY1 = int(x1) - 1, int(y1) - 1
    it.PhysicalUnitsXDirection = it.PhysicalUnitsYDirection = 3 if cm else 0
    it.PhysicalDeltaX = it.PhysicalDeltaY = float(cm or 0.0)
    return it


def _regions(*items) -> Any:
    from pydicom.sequence import Sequence

    return Sequence(list(items))


# -- strips --------------------------------------------------------------------------------------
def spectral_strip(n: int, width: int, height: int, fps: float, seed: int, hr: float = 75.0) -> np.ndarray:
    """(n,height,width) grey: a PW Doppler spectrum scrolling left, baseline at a third, velocity
    envelopes once per beat, speckled fill, a sweep-line gap."""
    rng = np.random.default_rng(seed)
    sweep = 2.0 * width / 4.0  # px per second
    total = width + int(n * sweep / fps) + 1
    t = np.arange(total) / sweep
    phase = (t * hr / 60.0) % 1.0
    env = np.where(phase < 0.35, np.sin(np.pi * phase / 0.35), 0.0) ** 0.8
    base = height // 3
    vmax = int(0.55 * height)
    canvas = np.zeros((height, total), np.float32)
    yy = np.arange(height)[:, None]
    fill = (yy > base) & (yy < base + env[None, :] * vmax)
    speck = rng.uniform(60, 230, (height, total)).astype(np.float32)
    canvas[fill] = speck[fill]
    canvas[base, :] = 200
    out = []
    for k in range(n):
        x = int(k * sweep / fps)
        f = canvas[:, x : x + width].copy()
        f[:, width - 4 : width] = 0  # the sweep gap
        out.append(f.clip(0, 255).astype(np.uint8))
    return np.stack(out)


def mmode_strip(n: int, width: int, height: int, fps: float, seed: int, hr: float = 75.0) -> np.ndarray:
    """(n,height,width) grey: M-mode through the LV: two walls moving in and out once per beat."""
    rng = np.random.default_rng(seed)
    sweep = width / 3.0
    total = width + int(n * sweep / fps) + 1
    t = np.arange(total) / sweep
    c = 0.5 - 0.5 * np.cos(2 * np.pi * t * hr / 60.0)  # 0 at ED, 1 at ES
    yy = np.arange(height)[:, None].astype(np.float32)
    top = 0.30 * height + 0.06 * height * c
    bot = 0.75 * height - 0.08 * height * c
    tex = rng.uniform(40, 140, (height, total)).astype(np.float32)
    img = tex * 0.6
    cavity = (yy > top[None, :]) & (yy < bot[None, :])
    img[cavity] = 8
    for edge in (top, bot):
        img[np.abs(yy - edge[None, :]) < 3] = 210
    out = []
    for k in range(n):
        x = int(k * sweep / fps)
        out.append(img[:, x : x + width].clip(0, 255).astype(np.uint8))
    return np.stack(out)


# -- pictures over the A4C phantom ----------------------------------------------------------------
def colour_flow(frames: np.ndarray, region, seed: int) -> np.ndarray:
    """Paint a colour-flow map into the blood pools (dark pixels) of a colour box in the sector."""
    rng = np.random.default_rng(seed)
    n, h, w = frames.shape[:3]
    x0, y0, x1, y1 = region
    bx0, bx1 = x0 + int(0.30 * (x1 - x0)), x0 + int(0.70 * (x1 - x0))
    by0, by1 = y0 + int(0.30 * (y1 - y0)), y0 + int(0.85 * (y1 - y0))
    field = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 6)
    field /= np.abs(field).max() + 1e-6
    out = frames.copy()
    for k in range(n):
        f = out[k]
        grey = f.max(axis=2)
        vel = np.roll(field, k * 2, axis=0) * np.sin(2 * np.pi * k / 40.0 + 0.5)
        box = np.zeros((h, w), bool)
        box[by0:by1, bx0:bx1] = True
        pool = box & (grey < 60)
        red = pool & (vel > 0.05)
        blue = pool & (vel < -0.05)
        mag = (120 + 135 * np.abs(vel)).clip(0, 255).astype(np.uint8)
        f[red] = np.stack([mag[red], (mag[red] * 0.3).astype(np.uint8), np.zeros(int(red.sum()), np.uint8)], 1)
        f[blue] = np.stack([np.zeros(int(blue.sum()), np.uint8), (mag[blue] * 0.4).astype(np.uint8), mag[blue]], 1)
    return out


def turned(frames: np.ndarray, ph: Phantom) -> np.ndarray:
    """The image inside the fan turned a quarter about the sector's centre, the fan kept: the LV
    lies across the image (parasternal-like geometry)."""
    n, h, w = frames.shape[:3]
    x0, y0, x1, y1 = ph.region
    centre = ((x0 + x1) / 2.0, (y0 + y1) / 2.0)
    rot = cv2.getRotationMatrix2D(centre, 90, 1.0)
    ys, xs = np.mgrid[0:h, 0:w]
    fx, fy = ph.fan.phys(xs, ys)
    fan = ph.fan.coverage(fx, fy, ph.fan.cpp) >= 0.5
    out = np.empty_like(frames)
    for k in range(n):
        r = cv2.warpAffine(frames[k], rot, (w, h), flags=cv2.INTER_LINEAR)
        out[k] = np.where(fan[..., None], r, frames[k] * (~fan[..., None]))
    return out


def screenshot_page(width: int, height: int, seed: int) -> np.ndarray:
    """(height,width,3) a measurement page: white, a title bar, text lines, a table, a small grey
    thumbnail of an echo."""
    rng = np.random.default_rng(seed)
    img = np.full((height, width, 3), 246, np.uint8)
    img[: height // 10] = (40, 70, 120)
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(img, "Adult Echo Report", (8, height // 14), font, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
    y = height // 10 + 18
    for _ in range(7):
        cv2.putText(img, f"LVIDd {rng.uniform(3.5, 6):.1f} cm   IVSd {rng.uniform(0.7, 1.3):.1f} cm",
                    (8, y), font, 0.33, (20, 20, 20), 1, cv2.LINE_AA)
        y += 16
    for k in range(5):
        yy = int(0.62 * height) + 14 * k
        cv2.line(img, (8, yy), (width // 2, yy), (120, 120, 120), 1)
    th = (width // 3, height // 3)
    thumb = rng.uniform(0, 120, (th[1], th[0])).astype(np.uint8)
    img[height // 2 : height // 2 + th[1], width - th[0] - 8 : width - 8] = thumb[..., None]
    return img


# -- files ---------------------------------------------------------------------------------------
def write_kind(folder: str | Path, kind: str, seed: int = 0, name: str | None = None) -> Path:
    """Write one instance of ``kind`` (one of KINDS) into ``folder``; returns its path."""
    from echoviewer.io.dicom_write import write_ultrasound_dicom

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{kind}_{seed}.dcm")
    w, h = SIZE
    common = dict(PatientName="PHANTOM^ECHO", PatientID="PHANTOM", StudyDescription="Echo phantom")
    if kind in ("doppler", "mmode"):
        make = spectral_strip if kind == "doppler" else mmode_strip
        frames = make(60, w, h, FPS, seed)
        box = (0, 0, w, h)
        item = _region_item(3, 3, box) if kind == "doppler" else _region_item(2, 1, box)
        return write_ultrasound_dicom(path, frames, FPS, photometric="MONOCHROME2", transfer_syntax="explicit_le",
                                      SequenceOfUltrasoundRegions=_regions(item),
                                      SeriesDescription="PW Doppler" if kind == "doppler" else "M-mode", **common)
    if kind == "screenshot":
        page = screenshot_page(w, h, seed)
        return write_ultrasound_dicom(path, np.stack([page] * 10), 30.0, photometric="RGB",
                                      transfer_syntax="explicit_le", SeriesDescription="Report", **common)
    ph = a4c_phantom(seed)
    frames = np.stack(list(ph.iter_native()))
    cm = ph.native_cm_per_pixel
    if kind == "single_frame":
        return write_ultrasound_dicom(path, frames[len(frames) // 3], None, region=ph.region, cm_per_pixel=cm,
                                      SeriesDescription="A4C", **common)
    if kind == "a4c_strip":
        strip_h = 120
        strip = spectral_strip(len(frames), w, strip_h, FPS, seed + 1)
        tall = np.concatenate([frames, np.repeat(strip[..., None], 3, axis=3)], axis=1)
        regions = _regions(_region_item(1, 1, ph.region, cm), _region_item(3, 3, (0, h, w, h + strip_h)))
        return write_ultrasound_dicom(path, tall, FPS, SequenceOfUltrasoundRegions=regions,
                                      SeriesDescription="A4C + PW", **common)
    if kind == "colour_flow":
        frames = colour_flow(frames, ph.region, seed)
        return write_ultrasound_dicom(path, frames, FPS, region=ph.region, cm_per_pixel=cm,
                                      SeriesDescription="A4C colour", **common)
    if kind == "parasternal":
        return write_ultrasound_dicom(path, turned(frames, ph), FPS, region=ph.region, cm_per_pixel=cm,
                                      SeriesDescription="PLAX", **common)
    return write_ultrasound_dicom(path, frames, FPS, region=ph.region, cm_per_pixel=cm, SeriesDescription="A4C",
                                  **common)


def write_mixed_study(folder: str | Path, seeds: tuple[int, ...] = (0,)) -> dict[str, str]:
    """One file of every kind per seed; returns file name -> kind."""
    out = {}
    for seed in seeds:
        for kind in KINDS:
            out[write_kind(folder, kind, seed).name] = kind
    return out
