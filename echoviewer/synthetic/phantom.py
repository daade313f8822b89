"""Echo phantom: an apical 4-chamber-like pseudo-ultrasound loop with exact ground truth.

`generate_phantom(seed_or_rng, **overrides)` draws every parameter from the generator (always in
the same order, so overriding one keeps the others), builds the heart, its volume time course and
the renderer, and returns a `Phantom` with the 112x112 frames and the truth: per-frame LV masks on
the 112 grid, per-beat ED/ES frames, tracings (long axis + 20 chords), EDV, ESV, EF.

The EF stored is EchoNet's: method of disks with 20 chords (tracing_from_contour) on the LV mask
rasterised on the 112 grid, so the truth is self-consistent with what the exported tracings give.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from echoviewer.analysis.tracing import Tracing, mask_contour, polygon_mask, tracing_from_contour
from echoviewer.io.transform import GridTransform
from echoviewer.synthetic.anatomy import Beat, Heart, Timeline
from echoviewer.synthetic.render import Fan, Renderer, Scene

GRID = 112
N_CHORDS = 20
HR_RANGE = (40.0, 150.0)
FPS_RANGE = (20, 100)
EF_RANGE = (10.0, 80.0)
BEATS_RANGE = (1, 8)
DEFAULT_NATIVE = (800, 600)


# --------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------


def _draw_params(rng: np.random.Generator) -> dict[str, Any]:
    """Every random choice of a loop, drawn in a fixed order."""
    u = rng.uniform
    p: dict[str, Any] = {}
    p["hr"] = float(np.clip(rng.normal(76, 16), 48, 125) if rng.random() < 0.7 else u(*HR_RANGE))
    p["fps"] = (int(round(np.clip(rng.normal(50, 6), 30, 70))) if rng.random() < 0.65
                else int(rng.integers(FPS_RANGE[0], FPS_RANGE[1] + 1)))
    p["n_beats"] = int(rng.integers(BEATS_RANGE[0], BEATS_RANGE[1] + 1))
    p["ef"] = float(np.clip(rng.normal(58, 7), 35, 76) if rng.random() < 0.65 else u(12, 50))
    p["ef_sd"] = float(u(3.0, 6.0) if rng.random() < 0.35 else u(0.3, 2.0))
    p["ef_z"] = rng.standard_normal(16).tolist()
    p["edv_z"] = rng.standard_normal(16).tolist()
    p["rr_z"] = rng.standard_normal(16).tolist()
    p["start_frac"] = float(u(0.1, 0.5))
    p["end_frac"] = float(u(0.05, 0.7))
    # geometry
    p["depth_cm"] = float(u(14.5, 18.0))
    p["fan_angle_deg"] = float(u(75.0, 90.0))
    p["tilt_deg"] = float(8.0 + u(-10.0, 10.0))
    p["apex_x_cm"] = float(u(0.2, 1.2))
    p["apex_y_cm"] = float(u(2.6, 3.8))
    p["lv_length_cm"] = float(u(7.6, 9.4))
    p["lv_halfwidth_cm"] = float(u(2.05, 2.6))
    p["lc"] = float(u(0.55, 0.61))
    p["pexp"] = float(u(1.9, 2.5))
    p["beta"] = float(u(0.03, 0.12))
    p["wall_cm"] = float(u(0.8, 1.1))
    p["rv_width_cm"] = float(u(2.5, 3.4))
    p["rv_apex_frac"] = float(u(0.22, 0.36))
    p["tv_offset_cm"] = float(u(0.4, 0.9))
    p["la_len_cm"] = float(u(3.8, 5.0))
    p["la_w_cm"] = float(u(1.8, 2.3))
    p["ra_len_cm"] = float(u(3.5, 4.6))
    p["ra_w_cm"] = float(u(1.6, 2.1))
    p["papillary"] = bool(rng.random() < 0.7)
    p["moderator"] = bool(rng.random() < 0.5)
    p["mv_ant"] = float(u(0.95, 1.2))
    p["mv_post"] = float(u(0.55, 0.75))
    p["motion_amp_cm"] = float(u(0.03, 0.15))
    p["motion_phase"] = float(u(0, 2 * math.pi))
    p["resp_amp_cm"] = float(u(0.0, 0.12))
    p["resp_period_s"] = float(u(3.0, 6.0))
    # echogenicity and display
    p["blood_level"] = float(u(0.002, 0.006))
    p["myo_level"] = float(u(0.09, 0.16))
    p["septum_gain"] = float(u(1.0, 1.5))
    p["bg_level"] = float(u(0.006, 0.022))
    p["chest_depth"] = float(u(1.2, 2.2))
    p["chest_level"] = float(u(0.1, 0.4))
    p["clutter"] = float(u(0.005, 0.05))
    p["peri_level"] = float(u(1.5, 4.0))
    p["peri_thick"] = float(u(0.2, 0.35))
    p["annulus_level"] = float(u(0.4, 1.2))
    p["papillary_level"] = float(u(0.02, 0.06))
    p["leaflet_level"] = float(u(0.5, 1.2))
    p["psf_ax_cm"] = float(u(0.04, 0.065))
    p["psf_lat_rad"] = float(u(0.01, 0.018))
    p["regional_db"] = float(u(1.5, 4.0))
    p["blur_cm"] = float(u(0.05, 0.12))
    p["decorr"] = float(u(0.2, 0.35))
    p["compound"] = float(u(0.3, 1.0))
    p["gain_db"] = float(u(-9.5, -4.5))
    p["atten_db_cm"] = float(u(-0.5, 0.15))
    p["tgc_bumps"] = [(float(u(-3, 3)), float(u(0.1, 0.95)), float(u(0.08, 0.25))) for _ in range(3)]
    p["gain_drift_db"] = float(u(0.2, 1.2))
    p["gain_period"] = float(u(2.0, 8.0))
    p["gain_phase"] = float(u(0, 2 * math.pi))
    p["dyn_range_db"] = float(u(30.0, 38.0))
    p["gamma"] = float(u(1.0, 1.35))
    p["noise_db"] = float(u(-36.0, -30.0))
    p["patient_id"] = f"{int(rng.integers(10**6, 10**7))}"
    p["probe_mhz"] = float(rng.choice([1.7, 2.0, 2.5, 3.0]))
    return p


def _draw_realism(rng: np.random.Generator) -> dict[str, Any]:
    """What makes a phantom look like a real machine's A4C (issue 20), drawn from its own generator
    (derived from the render seed) so that the truth of every seed is the same as before: thick,
    trabeculated apex and near-field haze, wall dropout, a second papillary muscle, softer
    blood/tissue contrast, darker gain, laterally longer speckle, vendor overlays on the grid."""
    u = rng.uniform
    x: dict[str, Any] = {}
    x["apical_myo_cm"] = float(u(0.1, 0.8))
    x["apical_frac"] = float(u(0.2, 0.4))
    x["trabec_level"] = float(u(0.0, 0.5) if rng.random() < 0.75 else 0.0)
    x["trabec_frac"] = float(u(0.15, 0.4))
    x["haze"] = float(u(0.0, 0.025))
    x["haze_depth_cm"] = float(u(1.5, 4.0))
    x["septal_dropout"] = [float(u(0.55, 0.95)), float(u(0.5, 1.5)), float(u(0.1, 0.6))] if rng.random() < 0.4 else None
    x["lateral_dropout"] = [float(u(0.3, 0.9)), float(u(0.8, 2.0)), float(u(0.15, 0.7))] if rng.random() < 0.4 else None
    x["papillary2"] = ([float(u(0.55, 0.75)), float(rng.choice([-1.0, 1.0]) * u(0.35, 0.6))]
                       if rng.random() < 0.4 else None)
    x["blood_lift"] = float(np.exp(u(0.0, np.log(3.0))))
    x["gain_offset_db"] = float(u(-11.0, -3.0))
    x["dr_scale"] = float(u(1.0, 1.2))
    x["psf_lat_scale"] = float(u(1.0, 1.7))
    x["psf_ax_scale"] = float(u(0.7, 1.0))
    x["blur_lat_cm"] = float(u(0.05, 0.35))
    x["blur_ax_cm"] = float(u(0.05, 0.15))
    x["overlay"] = bool(rng.random() < 0.8)
    x["overlay_seed"] = int(rng.integers(2**31))
    return x


def _grid_overlay(frames: np.ndarray, times: np.ndarray, tl: Timeline, seed: int) -> None:
    """Vendor-style burn-ins on 112 frames (in place), outside and over the sector: text, depth
    dots, a grey bar, the ECG with its sweep cursor. The 10x10 top corners stay black."""
    rng = np.random.default_rng(seed)
    n, H, W = frames.shape
    img = np.zeros((H, W), np.uint8)
    font = cv2.FONT_HERSHEY_PLAIN
    level = int(rng.integers(120, 230))
    chars = "0123456789ABCDEFGHKLMPRSTV%. "
    for x_left, n_lines in ((1, int(rng.integers(0, 4))), (W - 30, int(rng.integers(0, 4)))):
        for i in range(n_lines):
            text = "".join(rng.choice(list(chars), int(rng.integers(3, 6))))
            cv2.putText(img, text, (x_left, 22 + 9 * i), font, 0.55, level, 1)
    if rng.random() < 0.6:  # depth scale dots down one side
        x = int(rng.integers(W - 8, W - 2)) if rng.random() < 0.7 else int(rng.integers(2, 8))
        for y in range(int(rng.integers(14, 24)), H - 4, int(rng.integers(6, 12))):
            img[y, x : x + 2] = level
    if rng.random() < 0.3:  # grey bar
        x0, y0 = int(rng.integers(1, 6)), int(rng.integers(30, 60))
        img[y0 : y0 + 30, x0 : x0 + 3] = np.linspace(230, 20, 30).astype(np.uint8)[:, None]
    ecg = rng.random() < 0.7
    y_ecg = int(rng.integers(92, 108))
    if ecg:
        ts = np.linspace(times[0], times[-1], W - 8)
        vals = np.array([_ecg_value(float(t), tl) for t in ts])
        pts = np.stack([np.arange(4, W - 4), y_ecg - vals * float(rng.uniform(5, 10))], 1).astype(np.int32)
        cv2.polylines(img, [pts], False, level, 1)
    for k in range(n):
        f = frames[k]
        np.maximum(f, img, out=f)
        if ecg:
            xc = int(4 + (times[k] - times[0]) / max(times[-1] - times[0], 1e-9) * (W - 9))
            f[max(y_ecg - 10, 12) : y_ecg + 4, xc] = level


OVERRIDABLE = {
    "hr", "fps", "n_beats", "ef", "ef_sd", "depth_cm", "fan_angle_deg", "tilt_deg", "lv_length_cm",
    "lv_halfwidth_cm", "gain_db", "dyn_range_db", "papillary", "moderator", "patient_id",
}


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass
class PhantomTruth:
    masks: np.ndarray  # (T,112,112) bool LV on the grid
    areas: np.ndarray  # (T,) pixels
    volume_fraction: np.ndarray  # (T,) model LV volume / nominal EDV
    apex: np.ndarray  # (T,2) grid x,y of the LV apex
    base: np.ndarray  # (T,2) grid x,y of the mitral-annulus midpoint
    ed_frames: np.ndarray  # (B,)
    es_frames: np.ndarray  # (B,)
    edv: np.ndarray  # (B,) mL
    esv: np.ndarray  # (B,) mL
    ef: np.ndarray  # (B,) %
    tracings: np.ndarray  # (B,2,21,4): [b,0] ED, [b,1] ES (VolumeTracings rows, grid)
    fps: float
    hr: float  # bpm (mean over the loop's beats)
    cm_per_pixel: float  # on the 112 grid
    traced_beat: int = 0

    @property
    def ef_video(self) -> float:
        return float(np.mean(self.ef)) if len(self.ef) else float("nan")

    @property
    def ef_sd(self) -> float:
        return float(np.std(self.ef, ddof=1)) if len(self.ef) > 1 else 0.0

    def tracing(self, beat: int, which: str) -> Tracing:
        return Tracing.from_rows(self.tracings[beat, 0 if which.upper() == "ED" else 1])


@dataclass
class Phantom:
    frames: np.ndarray  # (T,112,112,3) uint8 RGB (identical channels)
    truth: PhantomTruth
    params: dict[str, Any]
    fan: Fan
    region: tuple[int, int, int, int]  # native fan bounding box (x0,y0,x1,y1 exclusive)
    transform: GridTransform  # native <-> grid
    times: np.ndarray  # (T,) s
    native_contours: np.ndarray | None = None  # (T,N,2) x,y native px of the LV endocardium
    native_frames: np.ndarray | None = None  # (T,H,W,3) uint8 when rendered natively and kept
    _ctx: dict = field(default_factory=dict, repr=False)

    @property
    def fps(self) -> float:
        return self.truth.fps

    @property
    def n_frames(self) -> int:
        return int(len(self.frames))

    @property
    def native_cm_per_pixel(self) -> float:
        return self.fan.cpp

    @property
    def native_size(self) -> tuple[int, int]:
        return self.fan.width, self.fan.height

    def native_mask(self, k: int) -> np.ndarray:
        """LV mask (H,W) bool of frame k on the native canvas (rasterised from the contour)."""
        c = self.native_contours[k]
        return polygon_mask(c[:, 0], c[:, 1], (self.fan.height, self.fan.width))

    def native_masks(self) -> np.ndarray:
        return np.stack([self.native_mask(k) for k in range(self.n_frames)])

    def iter_native(self) -> Iterator[np.ndarray]:
        """Native frames (H,W,3) uint8, rendered on the fly (or from memory when kept)."""
        if self.native_frames is not None:
            yield from self.native_frames
            return
        ren = self._ctx["native_renderer_factory"]()
        for k, t in enumerate(self.times):
            yield ren(t, k)


# --------------------------------------------------------------------------------------------
# Timeline
# --------------------------------------------------------------------------------------------


def _durations(rr: float) -> tuple[float, float, float]:
    """(isovolumic contraction, ejection, isovolumic relaxation) for an RR interval (s)."""
    sq = math.sqrt(rr)
    ts = 0.33 * sq
    t_ivc = 0.045 * sq
    return t_ivc, ts - t_ivc, 0.06 * sq


def _beats(p: dict, n_beats: int, rng_z: dict) -> list[Beat]:
    rr0 = 60.0 / p["hr"]
    ef = p["ef"]
    n = n_beats + 3
    z_ef = np.array(rng_z["ef_z"][:n])
    if n_beats >= 2:  # realised s.d. across the loop's complete beats equals ef_sd
        zz = z_ef[1 : 1 + n_beats]
        z_ef[1 : 1 + n_beats] = (zz - zz.mean()) / (zz.std(ddof=1) + 1e-9)
    else:
        z_ef[:] = 0.0
    beats = []
    e = 0.0
    for i in range(n):
        rr = rr0 * (1 + 0.025 * float(np.clip(rng_z["rr_z"][i], -2, 2)))
        rr = float(np.clip(rr, 60.0 / HR_RANGE[1], 60.0 / HR_RANGE[0]))
        ivc, ej, ivr = _durations(rr)
        edv = 1.0 + 0.02 * float(np.clip(rng_z["edv_z"][i], -2, 2))
        # targets kept 2 points inside the range: the measured (rasterised) EF differs by ~1
        ef_b = float(np.clip(ef + p["ef_sd"] * z_ef[i], EF_RANGE[0] + 2.0, EF_RANGE[1] - 2.0))
        beats.append(Beat(e=e, rr=rr, t_ivc=ivc, t_ej=ej, t_ivr=ivr, edv=edv, esv=edv * (1 - ef_b / 100.0)))
        e += rr
    # beat 0 precedes the loop: shift so that beat 1 starts at t = 0
    off = beats[1].e
    for b in beats:
        b.e -= off
    return beats


# --------------------------------------------------------------------------------------------
# Native decorations (burned-in text, depth scale, ECG)
# --------------------------------------------------------------------------------------------


def _ecg_value(t: float, tl: Timeline) -> float:
    i = tl._beat(t)
    val = 0.0
    for j in (i - 1, i, i + 1):
        if 0 <= j < len(tl.beats):
            b = tl.beats[j]
            x = t - (b.e - 0.02)  # R peak at mitral closure
            val += 1.0 * math.exp(-((x / 0.012) ** 2)) - 0.18 * math.exp(-(((x - 0.03) / 0.012) ** 2))
            val -= 0.12 * math.exp(-(((x + 0.025) / 0.01) ** 2))
            val += 0.22 * math.exp(-(((x - 0.28 * math.sqrt(b.rr)) / 0.05) ** 2))  # T
            val += 0.12 * math.exp(-(((x + 0.15) / 0.03) ** 2))  # P
    return val


def _static_overlay(fan: Fan, region, tl: Timeline, times: np.ndarray, p: dict,
                    transform: GridTransform) -> tuple[np.ndarray, dict]:
    W, H = fan.width, fan.height
    img = np.zeros((H, W, 3), np.uint8)
    sc = H / 600.0
    font = cv2.FONT_HERSHEY_SIMPLEX
    fs = 0.42 * sc
    th = 1
    grey = (200, 200, 200)
    left_limit = max(transform.x0 - 4, 40)
    lines = [f"ID {p['patient_id']}", "PHANTOM ECHO", "Adult Echo", f"{p['probe_mhz']:.1f}MHz  A4C"]
    y = int(18 * sc)
    for s in lines:
        cv2.putText(img, s[: max(4, int(left_limit / (8 * sc)))], (int(6 * sc), y), font, fs, grey, th, cv2.LINE_AA)
        y += int(17 * sc)
    right = min(transform.x0 + transform.side + 4, W - 60)
    rlines = [f"HR {p['hr']:.0f}", f"FR {p['fps']:.0f}Hz", f"{fan.depth:.0f}cm", f"G{57 + p['gain_db']:.0f}",
              f"DR{p['dyn_range_db']:.0f}"]
    y = int(18 * sc)
    for s in rlines:
        cv2.putText(img, s, (right + int(4 * sc), y), font, fs, grey, th, cv2.LINE_AA)
        y += int(17 * sc)
    # depth scale to the right of the sector's bounding box
    x_sc = min(region[2] + int(6 * sc), W - int(20 * sc))
    for cm in range(0, int(fan.depth) + 1):
        yy = int(round(fan.ay + cm / fan.cpp))
        if yy < region[1] or yy >= H:
            continue
        ln = int((7 if cm % 5 == 0 else 3) * sc)
        cv2.line(img, (x_sc, yy), (x_sc + ln, yy), grey, 1)
        if cm % 5 == 0 and cm > 0:
            cv2.putText(img, str(cm), (x_sc + ln + 2, yy + int(4 * sc)), font, 0.38 * sc, grey, 1, cv2.LINE_AA)
    # orientation marker near the top of the sector
    mx = min(transform.x0 + transform.side + int(14 * sc), W - int(70 * sc))
    cv2.circle(img, (mx, region[1] + int(100 * sc)), max(2, int(4 * sc)), (60, 200, 120), -1)
    # ECG strip below the sector
    y_ecg = region[3] + int(0.55 * (H - region[3]))
    x_a, x_b = int(0.12 * W), int(0.88 * W)
    ts = np.linspace(times[0], times[-1], x_b - x_a)
    vals = np.array([_ecg_value(t, tl) for t in ts])
    amp = min(0.35 * (H - region[3]), 28 * sc)
    pts = np.stack([np.arange(x_a, x_b), y_ecg - vals * amp], 1).astype(np.int32)
    cv2.polylines(img, [pts], False, (40, 220, 90), 1, cv2.LINE_AA)
    geo = {"x_a": x_a, "x_b": x_b, "y_ecg": y_ecg, "amp": amp}
    return img, geo


# --------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------


def generate_phantom(
    rng_or_seed: int | np.random.Generator | None = None,
    *,
    frames: int | None = None,
    size: str = "112",
    native_size: tuple[int, int] = DEFAULT_NATIVE,
    keep_native: bool | str = "auto",
    dropout: float = 0.0,
    noise: float = 1.0,
    render: bool = True,
    realism: bool = False,
    **overrides: Any,
) -> Phantom:
    """One phantom loop.

    rng_or_seed: an int seed or a numpy Generator (consumed). frames: fixed frame count (else
    n_beats complete beats plus partial ones at both ends). size: "112" renders the grid directly
    (fast); "native" renders native frames (native_size = (width, height)) with burned-in text and
    derives the 112 frames through GridTransform.from_region(fan region).warp_to_grid.
    keep_native: hold native frames in memory (else Phantom.iter_native renders them again on
    demand); "auto" keeps them up to 400 MB.
    dropout: fraction of pixels set to black in each 112 frame (and native frame). noise: scale
    of the electronic noise (0 none, 1 default). render=False skips the images (frames are all
    zero; the truth is the same). realism: the issue-20 rendering closer to a real machine's A4C
    (``_draw_realism``; same truth; off by default so that weights trained on the earlier
    renderings keep meeting their figures). overrides: any of OVERRIDABLE (e.g. hr=60, fps=50,
    ef=35, ef_sd=0, n_beats=3).
    """
    rng = rng_or_seed if isinstance(rng_or_seed, np.random.Generator) else np.random.default_rng(rng_or_seed)
    p = _draw_params(rng)
    for k, val in overrides.items():
        if k not in OVERRIDABLE:
            raise TypeError(f"unknown phantom parameter {k!r}")
        if val is not None:
            p[k] = val
    if size not in ("112", "native", 112):
        raise ValueError(f"size must be '112' or 'native', got {size!r}")
    native = size == "native"
    p["hr"] = float(np.clip(p["hr"], *HR_RANGE))
    p["fps"] = float(p["fps"])
    if not FPS_RANGE[0] <= p["fps"] <= 1000:
        raise ValueError(f"fps must be at least {FPS_RANGE[0]}")
    p["ef"] = float(np.clip(p["ef"], EF_RANGE[0] + 2, EF_RANGE[1] - 2))
    fps = p["fps"]

    # -- timeline -------------------------------------------------------------------------------
    rr = 60.0 / p["hr"]
    if frames is not None:
        frames = int(frames)
        dur = frames / fps
        # at least one complete ED -> ES (plus relaxation) must fit
        need = lambda r: (0.1 * r + sum(_durations(r)) + 0.03)  # noqa: E731
        if need(rr) > dur:
            lo_rr = rr
            while need(lo_rr) > dur and lo_rr > 60.0 / HR_RANGE[1]:
                lo_rr = max(lo_rr * 0.97, 60.0 / HR_RANGE[1])
            if need(lo_rr) > dur:
                raise ValueError(f"{frames} frames at {fps:g} fps are too short for one heart beat")
            p["hr"] = 60.0 / lo_rr
            rr = lo_rr
        n_beats = max(1, int(math.ceil(dur / rr)) + 1)
        p["n_beats"] = n_beats
    else:
        n_beats = int(np.clip(p["n_beats"], 1, 64))
    beats = _beats(p, n_beats, p)
    tl = Timeline(beats)
    t0 = -p["start_frac"] * beats[0].rr
    if frames is not None:
        t0 = -min(p["start_frac"] * beats[0].rr, max(0.0, frames / fps - (sum(_durations(beats[1].rr)) + 0.03)) * 0.9)
        n_frames = frames
    else:
        b_next = beats[n_beats + 1]
        t_end = b_next.e + p["end_frac"] * (b_next.t_ivc + b_next.t_ej) * 0.9
        n_frames = int(math.floor((t_end - t0) * fps)) + 1
    times = t0 + np.arange(n_frames) / fps
    amp, ph = p["motion_amp_cm"], p["motion_phase"]
    ramp, rper = p["resp_amp_cm"], p["resp_period_s"]

    def shift_fn(t: float) -> tuple[float, float]:
        c = 2 * math.pi * t / rr
        return (
            amp * math.sin(c + ph) + 0.5 * ramp * math.sin(2 * math.pi * t / rper),
            0.6 * amp * math.sin(c + ph + 1.1) + ramp * math.sin(2 * math.pi * t / rper + 0.7),
        )

    p["shift_fn"] = shift_fn
    p["noise_level"] = float(noise) * 10 ** (p["noise_db"] / 10)

    # -- geometry ---------------------------------------------------------------------------------
    heart = Heart(
        apex=np.array([p["apex_x_cm"], p["apex_y_cm"]]), tilt_deg=p["tilt_deg"], L0=p["lv_length_cm"],
        W0=p["lv_halfwidth_cm"], lc=p["lc"], pexp=p["pexp"], beta=p["beta"], T0=p["wall_cm"],
        rv_width=p["rv_width_cm"], rv_apex_frac=p["rv_apex_frac"], tv_offset=p["tv_offset_cm"],
        la_len=p["la_len_cm"], la_w=p["la_w_cm"], ra_len=p["ra_len_cm"], ra_w=p["ra_w_cm"],
        papillary=p["papillary"], moderator=p["moderator"],
    )
    W_nat, H_nat = int(native_size[0]), int(native_size[1])
    fan = Fan.make(W_nat, H_nat, p["depth_cm"], p["fan_angle_deg"])
    region = fan.region()
    tr = GridTransform.from_region(region)
    grid_cpp = fan.cpp / tr.scale

    # -- truth ------------------------------------------------------------------------------------
    fr = np.empty(n_frames)
    states = np.empty(n_frames)
    masks = np.zeros((n_frames, GRID, GRID), bool)
    apex_g = np.empty((n_frames, 2))
    base_g = np.empty((n_frames, 2))
    nat_contours = []

    def to_grid(xy_cm: np.ndarray) -> np.ndarray:
        nat = np.stack([xy_cm[..., 0] / fan.cpp + fan.ax, xy_cm[..., 1] / fan.cpp + fan.ay], -1)
        return tr.to_grid_points(nat.reshape(-1, 2)).reshape(nat.shape)

    for k, t in enumerate(times):
        f, _ = tl.state(float(t))
        s = float(heart.state_for_fraction(f))
        fr[k], states[k] = f, s
        sh = shift_fn(float(t))
        c_cm = heart.lv_contour(s, sh)
        nat_contours.append(np.stack([c_cm[:, 0] / fan.cpp + fan.ax, c_cm[:, 1] / fan.cpp + fan.ay], 1))
        cg = tr.to_grid_points(nat_contours[-1])
        masks[k] = polygon_mask(cg[:, 0], cg[:, 1], (GRID, GRID))
        a, sp, lt = heart.landmarks(s, sh)
        apex_g[k] = to_grid(a)
        base_g[k] = to_grid(0.5 * (sp + lt))
    areas = masks.reshape(n_frames, -1).sum(axis=1)

    vol_cache: dict[int, tuple[float, Tracing]] = {}

    def measured(k: int) -> tuple[float, Tracing]:
        if k not in vol_cache:
            c = mask_contour(masks[k])
            trc = tracing_from_contour(c, apex_g[k], base_g[k], N_CHORDS)
            vol_cache[k] = (trc.volume(grid_cpp), trc)
        return vol_cache[k]

    ed_l, es_l, edv_l, esv_l, ef_l, trc_l = [], [], [], [], [], []
    t_first, t_last = times[0], times[-1]
    prev_es = -1
    for i, b in enumerate(beats):
        if b.e < t_first - 1e-9 or b.s + b.t_ivr > t_last:
            continue
        nxt = beats[i + 1].e if i + 1 < len(beats) else math.inf
        win_es = np.nonzero((times >= b.e) & (times < nxt))[0]
        cand = win_es[fr[win_es] <= fr[win_es].min() + 0.01]
        es = int(min(cand, key=lambda k: (measured(k)[0], k)))
        win_ed = np.arange(prev_es + 1, es)
        if len(win_ed) == 0:
            continue
        cand = win_ed[fr[win_ed] >= fr[win_ed].max() - 0.01]
        ed = int(min(cand, key=lambda k: (-measured(k)[0], k)))
        edv, t_ed = measured(ed)
        esv, t_es = measured(es)
        prev_es = es
        ed_l.append(ed)
        es_l.append(es)
        edv_l.append(edv)
        esv_l.append(esv)
        ef_l.append((edv - esv) / edv * 100.0)
        trc_l.append(np.stack([t_ed.rows(), t_es.rows()]))
    if not ed_l:
        raise ValueError("the loop holds no complete heart beat; use more frames")
    beat_rr = [b.rr for b in beats if t_first <= b.e and b.s + b.t_ivr <= t_last] or [rr]
    truth = PhantomTruth(
        masks=masks, areas=areas.astype(np.int32), volume_fraction=fr, apex=apex_g, base=base_g,
        ed_frames=np.array(ed_l, np.int32), es_frames=np.array(es_l, np.int32), edv=np.array(edv_l),
        esv=np.array(esv_l), ef=np.array(ef_l), tracings=np.array(trc_l), fps=fps, hr=float(60.0 / np.mean(beat_rr)),
        cm_per_pixel=float(grid_cpp),
    )

    # -- rendering --------------------------------------------------------------------------------
    r_seed = int(rng.integers(2**63))
    rrng = np.random.default_rng(r_seed)
    if realism:
        p.update(_draw_realism(np.random.default_rng([r_seed, 20])), black_floor=True)
        p["blood_level"] *= p["blood_lift"]
        p["psf_lat_rad"] *= p["psf_lat_scale"]
        p["psf_ax_cm"] *= p["psf_ax_scale"]
        p["dyn_range_db"] *= p["dr_scale"]
    drng = np.random.default_rng(rng.integers(2**63))
    frames_112 = np.zeros((n_frames, GRID, GRID), np.uint8)
    native_frames = None
    ctx: dict = {}
    if not render:
        native = False
    if native:
        x0, y0, x1, y1 = region
        pad = 2
        rx0, ry0 = max(0, x0 - pad), max(0, y0 - pad)
        rx1, ry1 = min(W_nat, x1 + pad), min(H_nat, y1 + pad)

        def make_native():
            r_rng = np.random.default_rng(int(p["_native_seed"]))
            scene = Scene(heart, fan, tl, p, r_rng, fan.cpp)
            ys, xs = np.mgrid[ry0:ry1, rx0:rx1]
            X, Y = fan.phys(xs.astype(np.float32), ys.astype(np.float32))
            ren = Renderer(scene, X, Y, r_rng, step=4)
            overlay, geo = _static_overlay(fan, region, tl, times, p, tr)
            d_rng = np.random.default_rng(int(p["_native_seed"]) + 1)

            def render(t: float, k: int) -> np.ndarray:
                img = overlay.copy()
                g = ren.frame(float(t), k)
                if dropout > 0:
                    g = np.where(d_rng.random(g.shape) < dropout, 0, g).astype(np.uint8)
                roi = img[ry0:ry1, rx0:rx1]
                cv2.max(roi, cv2.cvtColor(g, cv2.COLOR_GRAY2RGB), dst=roi)
                xc = int(geo["x_a"] + (t - times[0]) / max(times[-1] - times[0], 1e-9) * (geo["x_b"] - geo["x_a"]))
                yy = int(geo["y_ecg"])
                cv2.line(img, (xc, int(yy - 1.2 * geo["amp"])), (xc, int(yy + 0.5 * geo["amp"])), (230, 230, 90), 1)
                return img

            return render

        p["_native_seed"] = int(rng.integers(2**62))
        ctx["native_renderer_factory"] = make_native
        render = make_native()
        if keep_native == "auto":
            keep_native = n_frames * W_nat * H_nat * 3 <= 400_000_000
        if keep_native:
            native_frames = np.empty((n_frames, H_nat, W_nat, 3), np.uint8)
        for k, t in enumerate(times):
            img = render(float(t), k)
            frames_112[k] = cv2.cvtColor(tr.warp_to_grid(img), cv2.COLOR_RGB2GRAY)
            if native_frames is not None:
                native_frames[k] = img
    elif render:
        scene = Scene(heart, fan, tl, p, rrng, grid_cpp)
        gy, gx = np.mgrid[0:GRID, 0:GRID]
        nat = tr.to_native_points(np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float64))
        X, Y = fan.phys(nat[:, 0].reshape(GRID, GRID), nat[:, 1].reshape(GRID, GRID))
        ren = Renderer(scene, X, Y, rrng, step=1)
        for k, t in enumerate(times):
            frames_112[k] = ren.frame(float(t), k)
        if p.get("overlay"):
            _grid_overlay(frames_112, times, tl, p["overlay_seed"])
    if dropout > 0:
        drop = drng.random(frames_112.shape) < dropout
        frames_112[drop] = 0
    rgb = np.repeat(frames_112[..., None], 3, axis=3)
    params = {k: v for k, v in p.items() if not callable(v) and not k.startswith("_")}
    params.update(size="native" if native else "112", native_size=[W_nat, H_nat], dropout=float(dropout),
                  noise=float(noise), realism=bool(realism), n_frames=int(n_frames), n_beats_complete=len(ed_l),
                  t0=float(t0))
    return Phantom(
        frames=rgb, truth=truth, params=params, fan=fan, region=region, transform=tr, times=times,
        native_contours=np.stack(nat_contours).astype(np.float32), native_frames=native_frames, _ctx=ctx,
    )
