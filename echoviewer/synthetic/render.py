"""Pseudo-ultrasound rendering of the phantom heart.

A reference echogenicity map (chambers, walls, pericardium, chest wall) is drawn once in
reference tissue coordinates, and a Rayleigh speckle texture is generated once in polar tissue
coordinates (range x angle, so the grain is elongated laterally and grows with depth). Each frame
maps every output pixel back to its reference tissue position (Heart.inverse_map), samples both,
adds the valve leaflets, a little fresh speckle (frame-to-frame decorrelation) and electronic
noise, applies depth/lateral gain, time-gain variation and log compression, and masks the fan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from echoviewer.synthetic.anatomy import Heart, Timeline, smoothstep


@dataclass
class Fan:
    """Sector geometry on the native canvas. Pixel centres at integer coordinates."""

    width: int
    height: int
    ax: float  # apex (virtual transducer) pixel coordinates
    ay: float
    cpp: float  # cm per native pixel
    depth: float  # cm
    half_angle: float  # rad
    r_min: float = 0.5  # cm: the top arc of the sector

    @classmethod
    def make(cls, width: int, height: int, depth: float, angle_deg: float) -> Fan:
        top = round(0.065 * height)
        bottom = round(0.11 * height)
        r_px = height - top - bottom
        half = math.radians(angle_deg) / 2
        # keep the sector inside the canvas width
        r_px = min(r_px, int((width / 2 - 0.03 * width) / math.sin(half)))
        ax = (width - 1) / 2.0
        ay = top - 0.5 / depth * r_px  # virtual apex slightly above the top arc
        return cls(width, height, ax, ay, depth / r_px, depth, half)

    def phys(self, px, py) -> tuple[np.ndarray, np.ndarray]:
        return (np.asarray(px) - self.ax) * self.cpp, (np.asarray(py) - self.ay) * self.cpp

    def coverage(self, x: np.ndarray, y: np.ndarray, pix_cm: float) -> np.ndarray:
        """Soft fan mask (0..1) at physical points, anti-aliased over one output pixel."""
        r = np.hypot(x, y)
        th = np.arctan2(x, y)
        dist = np.minimum.reduce([(self.half_angle - np.abs(th)) * r, self.depth - r, r - self.r_min])
        return np.clip(dist / pix_cm + 0.5, 0.0, 1.0).astype(np.float32)

    def region(self) -> tuple[int, int, int, int]:
        """Bounding box (x0, y0, x1, y1 exclusive) of the native pixels at least half inside.

        Evaluated on strips around the sector's extreme points (top arc corners, bottom of the
        arc, the two far corners) instead of the whole canvas."""
        H, W = self.height, self.width
        R = self.depth / self.cpp
        r0 = self.r_min / self.cpp
        sh, ch = math.sin(self.half_angle), math.cos(self.half_angle)

        def cov(r0_, r1_, c0_, c1_):
            r0_, r1_ = max(0, int(r0_)), min(H, int(math.ceil(r1_)))
            c0_, c1_ = max(0, int(c0_)), min(W, int(math.ceil(c1_)))
            if r1_ <= r0_ or c1_ <= c0_:
                return None, r0_, c0_
            ys, xs = np.mgrid[r0_:r1_, c0_:c1_]
            x, y = self.phys(xs, ys)
            return self.coverage(x, y, self.cpp) >= 0.5, r0_, c0_

        m, ro, _ = cov(self.ay + r0 * ch - 3, self.ay + r0 + 3, self.ax - r0 - 3, self.ax + r0 + 4)
        y0 = ro + int(np.nonzero(m.any(axis=1))[0][0])
        m, ro, _ = cov(self.ay + R - 4, self.ay + R + 4, self.ax - 3, self.ax + 4)
        y1 = ro + int(np.nonzero(m.any(axis=1))[0][-1]) + 1
        yc = self.ay + R * ch
        m, _, co = cov(yc - 6, yc + 6, self.ax - R * sh - 4, self.ax - R * sh + 4)
        x0 = co + int(np.nonzero(m.any(axis=0))[0][0])
        m, _, co = cov(yc - 6, yc + 6, self.ax + R * sh - 4, self.ax + R * sh + 5)
        x1 = co + int(np.nonzero(m.any(axis=0))[0][-1]) + 1
        return x0, y0, x1, y1

    def region_full(self) -> tuple[int, int, int, int]:
        """region() by brute force over the whole canvas (for tests)."""
        ys, xs = np.mgrid[0 : self.height, 0 : self.width]
        x, y = self.phys(xs, ys)
        cov = self.coverage(x, y, self.cpp) >= 0.5
        rr = np.nonzero(cov.any(axis=1))[0]
        cc = np.nonzero(cov.any(axis=0))[0]
        return int(cc[0]), int(rr[0]), int(cc[-1]) + 1, int(rr[-1]) + 1


def _lowfreq(rng: np.random.Generator, shape, sigma: float) -> np.ndarray:
    n = rng.standard_normal(shape).astype(np.float32)
    n = cv2.GaussianBlur(n, (0, 0), sigma)
    return n / (n.std() + 1e-6)


class Scene:
    """Everything static about one phantom loop at one output resolution (pix_cm per pixel)."""

    def __init__(self, heart: Heart, fan: Fan, timeline: Timeline, p: dict, rng: np.random.Generator, pix_cm: float):
        self.heart, self.fan, self.tl, self.p = heart, fan, timeline, p
        self.pix_cm = pix_cm
        self._build_anatomy(rng)
        self._build_speckle(rng)

    # -- reference echogenicity map ------------------------------------------------------------
    def _build_anatomy(self, rng: np.random.Generator) -> None:
        h, fan, p = self.heart, self.fan, self.p
        res = self.pix_cm * 0.5 if self.pix_cm > 0.05 else self.pix_cm
        self.e_res = res
        D = fan.depth
        half = fan.half_angle
        xw = D * math.sin(half) + 1.0
        self.e_x0, self.e_y0 = -xw, -0.5
        W = int(math.ceil(2 * xw / res)) + 1
        H = int(math.ceil((D + 1.5) / res)) + 1
        ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
        X = self.e_x0 + xs * res
        Y = self.e_y0 + ys * res
        R = np.hypot(X, Y)
        TH = np.arctan2(X, Y)

        def poly(local: np.ndarray) -> np.ndarray:
            xy = h.to_xy(local[:, 0], local[:, 1])
            pix = np.stack([(xy[:, 0] - self.e_x0) / res, (xy[:, 1] - self.e_y0) / res], 1)
            return np.round(pix * 16).astype(np.int32)

        def fill(local) -> np.ndarray:
            m = np.zeros((H, W), np.uint8)
            for part in local if isinstance(local, list) else [local]:
                cv2.fillPoly(m, [poly(part)], 1, lineType=cv2.LINE_8, shift=4)
            return m.astype(bool)

        lv = fill(h.lv_contour_local(1.0, 90))
        rv = fill(h.rv_cavity_local())
        la = fill(h.la_local())
        ra = fill(h.ra_local())
        cav = lv | rv | la | ra

        def dist_to(m: np.ndarray) -> np.ndarray:
            return cv2.distanceTransform((~m).astype(np.uint8), cv2.DIST_L2, 5) * res

        d_lv, d_rv, d_la, d_ra = dist_to(lv), dist_to(rv), dist_to(la), dist_to(ra)
        d, w = h.to_dw(X, Y)
        # the apical myocardium is thicker (and often foreshortened into view) than the side walls
        ext = p.get("apical_frac", 0.3) * h.L0
        T_lv = h.T0 + p.get("apical_myo_cm", 0.0) * smoothstep((ext - d) / ext)
        tissue = (d_lv <= T_lv) | (d_rv <= h.rv_wall) | (d_la <= h.atrial_wall) | (d_ra <= h.atrial_wall)
        tissue &= ~cav
        d_heart = dist_to(tissue | cav)

        # background: mediastinum / lung, chest wall layers, near-field clutter
        E = (p["bg_level"] * (1 + 0.45 * _lowfreq(rng, (H, W), 0.6 / res))).clip(0.005, None)
        E *= 1 + 0.8 * np.clip(_lowfreq(rng, (H, W), 0.25 / res), 0, None)
        chest = p["chest_depth"]
        bands = (0.6 + 0.25 * np.sin(R * (2 * math.pi / 0.55) + rng.uniform(0, 6.3))
                 + 0.5 * _lowfreq(rng, (H, W), 0.15 / res))
        wall_w = np.clip(1 - (R - chest) / 0.5, 0, 1) * (R > 0.2)
        E = E * (1 - wall_w) + wall_w * p["chest_level"] * np.clip(bands, 0.1, None)
        E += (p["clutter"] * np.exp(-np.maximum(R - chest, 0) / 1.3)
              * np.clip(1 + 0.8 * _lowfreq(rng, (H, W), 0.3 / res), 0, None))
        # pericardium: bright rim, brightest behind the heart (deep) and on the lateral side
        peri_band = (d_heart > 0) & (d_heart <= p["peri_thick"])
        deep = np.clip((d - (h.L0 + 0.4 * h.la_len)) / (0.6 * h.la_len), 0, 1)
        peri = (p["peri_level"] * (0.03 + 0.9 * deep + 0.08 * (w > 0.5 * h.W0))
                * (1 + 0.3 * _lowfreq(rng, (H, W), 0.4 / res)))
        E = np.where(peri_band, np.clip(peri, 0.05, None), E)
        # structures behind the atria (descending aorta, spine shadow) kept simple: bright fat
        E += ((d_heart > p["peri_thick"]) * smoothstep((d - h.L0 - 0.5) / 1.5) * 0.25 * p["peri_level"]
              * np.exp(-np.maximum(d_heart - 0.3, 0) / 0.8))
        # myocardium
        fib = 1 + 0.35 * _lowfreq(rng, (H, W), 0.35 / res) + 0.2 * _lowfreq(rng, (H, W), 0.12 / res)
        myo = p["myo_level"] * np.clip(fib, 0.3, None)
        septal = (d_lv <= T_lv) & (w < 0)
        myo = np.where(septal, myo * p["septum_gain"], myo)
        # endocardial border slightly brighter (specular)
        myo = myo * (1 + 0.25 * np.exp(-(d_lv / 0.15) ** 2))
        # echo dropout where the beam runs along a wall (basal septum, lateral wall): (depth as a
        # fraction of the LV length, half-width cm, remaining echogenicity)
        for side, key in ((-1.0, "septal_dropout"), (1.0, "lateral_dropout")):
            if p.get(key):
                frac, wid, keep = p[key]
                band = np.exp(-(((d - frac * h.L0) / wid) ** 2)) * (w * side > 0) * (d_lv <= T_lv + 0.3)
                myo = myo * (1.0 - (1.0 - keep) * band)
        E = np.where(tissue, myo, E)
        # fibrous skeleton at the crux and annuli
        for lm in (h.to_xy(h.L0, -h.a0), h.to_xy(h.L0, h.a0)):
            E += p["annulus_level"] * np.exp(-(((X - lm[0]) ** 2 + (Y - lm[1]) ** 2) / 0.3**2))
        ts, tl = h.tricuspid_points_local()
        for lm in (h.to_xy(*ts), h.to_xy(*tl)):
            E += 0.6 * p["annulus_level"] * np.exp(-(((X - lm[0]) ** 2 + (Y - lm[1]) ** 2) / 0.25**2))
        # blood
        blood = p["blood_level"] * (1 + 0.5 * np.clip(_lowfreq(rng, (H, W), 0.5 / res), -1, None))
        E = np.where(cav, blood, E)
        # apical trabeculae: grey strands inside the cavity (inside the traced LV, as a reader traces)
        if p.get("trabec_level", 0.0) > 0:
            ext_t = p["trabec_frac"] * h.L0
            strands = np.clip(_lowfreq(rng, (H, W), 0.09 / res), 0, None) ** 1.5
            E += lv * p["trabec_level"] * p["myo_level"] * strands * smoothstep((ext_t - d) / (0.6 * ext_t))
        # near-field haze / reverberation clutter reaching into the apical cavity
        if p.get("haze", 0.0) > 0:
            E += (p["haze"] * np.exp(-np.maximum(R - chest, 0) / p["haze_depth_cm"])
                  * np.clip(1 + 0.7 * _lowfreq(rng, (H, W), 0.2 / res), 0, None))
        # apical near-field clutter / haze (also inside the cavities)
        E += (p["clutter"] * 0.5 * np.exp(-np.maximum(R - chest, 0) / 1.6)
              * np.clip(1 + _lowfreq(rng, (H, W), 0.25 / res), 0, None))
        # interatrial septum thin region (fossa ovalis) fades
        ias = (~cav) & (d_la <= h.ias + 0.05) & (d_ra <= h.ias + 0.05)
        fossa = np.exp(-(((d - (h.L0 + 1.9)) / 0.7) ** 2))
        E = np.where(ias, E * (1 - 0.8 * fossa), E)
        # papillary muscle on the lateral wall, moderator band in the RV
        # papillary muscles inside the cavity (inside the truth mask): (position along the axis,
        # across it as a fraction of the half-width towards the lateral (+) or septal (-) wall)
        pap = [(0.66, 0.62)] if h.papillary else []
        pap += [tuple(p["papillary2"])] if p.get("papillary2") else []
        for frac, across in pap:
            hs, hl = h.half_widths(np.array([frac]), 1.0)
            c = h.to_xy(frac * h.L0, across * (hl[0] if across > 0 else hs[0]))
            ex = ((X - c[0]) * h.u[0] + (Y - c[1]) * h.u[1]) / 0.85
            ey = ((X - c[0]) * h.v[0] + (Y - c[1]) * h.v[1]) / 0.32
            E += lv * p["papillary_level"] * np.exp(-(ex**2 + ey**2) ** 1.5)
        if h.moderator:
            dm = 0.55 * h.L0
            w0 = float(h.rv_inner(np.array([dm]))[0])
            a = h.to_xy(dm - 0.2, w0)
            b = h.to_xy(dm + 0.5, w0 - float(h.rv_width_at(np.array([dm]))[0]))
            seg = b - a
            tt = np.clip(((X - a[0]) * seg[0] + (Y - a[1]) * seg[1]) / (seg @ seg), 0, 1)
            dd = np.hypot(X - a[0] - tt * seg[0], Y - a[1] - tt * seg[1])
            E += rv * 0.6 * p["myo_level"] * np.exp(-((dd / 0.18) ** 2))
        # regional echogenicity variation (e.g. a poorly seen lateral wall)
        E = E * np.exp(p["regional_db"] / 8.7 * _lowfreq(rng, (H, W), 1.2 / res))
        E = cv2.GaussianBlur(E.astype(np.float32), (0, 0), max(p["blur_cm"] / res, 0.5))
        self.E = E.astype(np.float32)
        self.E_bg = float(p["bg_level"])
        del TH

    # -- speckle texture in polar tissue coordinates --------------------------------------------
    def _build_speckle(self, rng: np.random.Generator) -> None:
        fan = self.fan
        pix = self.pix_cm
        # physical point-spread function: axial sigma (cm), lateral sigma (rad)
        self.s_dr = min(pix * 0.5, self.p["psf_ax_cm"] / 1.5)
        self.s_dth = min(pix * 0.5 / 5.0, self.p["psf_lat_rad"] / 1.5)
        self.s_th0 = -fan.half_angle - 0.25
        nr = int(math.ceil((fan.depth + 1.5) / self.s_dr)) + 2
        nth = int(math.ceil((2 * fan.half_angle + 0.5) / self.s_dth)) + 2
        z = rng.standard_normal((nr, nth, 4)).astype(np.float32)
        z = cv2.GaussianBlur(z, (0, 0), sigmaX=max(self.p["psf_lat_rad"] / self.s_dth, 0.8),
                             sigmaY=max(self.p["psf_ax_cm"] / self.s_dr, 0.8))
        # two independent speckle patterns, compounded (weight c of the second): less contrast
        c = self.p["compound"]
        z[..., 2:] *= math.sqrt(c)
        inten = (z**2).sum(axis=2)
        self.tex = (inten / inten.mean()).astype(np.float32)

    # -- per-frame pieces ----------------------------------------------------------------------
    def leaflets(self, s: float, o: float, c_rv: float, shift) -> list[np.ndarray]:
        """Polylines (x,y cm) of the mitral and tricuspid leaflets at the current state."""
        h = self.heart
        L, _, a = h.dims(s)
        u, v = h.u, h.v
        out = []
        sept = h.to_xy(L, -a, shift)
        lat = h.to_xy(L, a, shift)
        mid = 0.5 * (sept + lat)
        coapt = mid - 0.45 * u + 0.15 * a * v
        for base, length, side in ((sept, 1.05 * self.p["mv_ant"] * h.a0, -1), (lat, self.p["mv_post"] * h.a0, 1)):
            closed = coapt - base
            lc = float(np.hypot(*closed))
            d_closed = closed / max(lc, 1e-6)
            d_open = -u * 0.96 - side * 0.28 * v
            d_open /= np.hypot(*d_open)
            dd = (1 - o) * d_closed + o * d_open
            dd /= max(np.hypot(*dd), 1e-6)
            ln = (1 - o) * lc + o * length
            bend = np.array([-dd[1], dd[0]]) * 0.12 * ln * (1 - o) * (-side)
            pts = np.array([base, base + 0.5 * ln * dd + bend, base + ln * dd])
            out.append(pts)
        # tricuspid (follows the septal epicardium and the contracting RV)
        ts, tl = h.tricuspid_points_local()
        L_t = L
        hs_t, _ = h.half_widths(np.array([ts[0] / h.L0]), s)
        hs_0, _ = h.half_widths(np.array([ts[0] / h.L0]), 1.0)
        T_t = math.sqrt(hs_t[0] ** 2 + 2 * hs_0[0] * h.T0 + h.T0**2) - hs_t[0]
        k = 1 - h.rv_kappa * c_rv
        d_t = ts[0] * L_t / h.L0
        w_in = -(hs_t[0] + T_t)
        w_out = w_in - (ts[1] - tl[1]) * k
        p_in = h.to_xy(d_t, w_in, shift)
        p_out = h.to_xy(d_t, w_out, shift)
        tmid = 0.5 * (p_in + p_out)
        tco = tmid - 0.35 * u
        width = float(np.hypot(*(p_out - p_in)))
        for base, length, side in ((p_in, 0.45 * width, 1), (p_out, 0.55 * width, -1)):
            closed = tco - base
            lc = float(np.hypot(*closed))
            d_closed = closed / max(lc, 1e-6)
            d_open = -u * 0.95 + side * 0.3 * v
            d_open /= np.hypot(*d_open)
            dd = (1 - o) * d_closed + o * d_open
            dd /= max(np.hypot(*dd), 1e-6)
            ln = (1 - o) * lc + o * length
            out.append(np.array([base, base + 0.5 * ln * dd, base + ln * dd]))
        return out


def _seg_dist2(X: np.ndarray, Y: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    seg = b - a
    ll = float(seg @ seg) or 1e-9
    t = np.clip(((X - a[0]) * seg[0] + (Y - a[1]) * seg[1]) / ll, 0, 1)
    return (X - a[0] - t * seg[0]) ** 2 + (Y - a[1] - t * seg[1]) ** 2


class Renderer:
    """Renders frames of a Scene onto a set of output pixels given by their physical coordinates
    (X, Y) (h, w). Maps are computed on every `step`-th pixel and interpolated."""

    def __init__(self, scene: Scene, X: np.ndarray, Y: np.ndarray, rng: np.random.Generator, step: int = 1,
                 n_bank: int = 6):
        self.sc = scene
        self.X, self.Y = X.astype(np.float32), Y.astype(np.float32)
        self.shape = X.shape
        self.step = step
        if step > 1:
            self.cX = np.ascontiguousarray(X[::step, ::step])
            self.cY = np.ascontiguousarray(Y[::step, ::step])
        else:
            self.cX, self.cY = X, Y
        p = scene.p
        fan = scene.fan
        R = np.hypot(X, Y)
        TH = np.arctan2(X, Y)
        self.cov = fan.coverage(X, Y, scene.pix_cm)
        # static gain (dB): residual attenuation after TGC, TGC wiggles, lateral beam fall-off
        g = p["gain_db"] + p.get("gain_offset_db", 0.0) + p["atten_db_cm"] * R
        for amp, pos, wid in p["tgc_bumps"]:
            g = g + amp * np.exp(-(((R / fan.depth) - pos) / wid) ** 2)
        g = g - 7.0 * (np.abs(TH) / fan.half_angle) ** 4
        self.gain_db = g.astype(np.float32)
        self.cov8 = np.clip(self.cov * 255.0 + 0.5, 0, 255).astype(np.uint8)
        self.lut = np.clip((np.arange(256) / 255.0) ** scene.p["gamma"] * 255.0 + 0.5, 0, 255).astype(np.uint8)
        # bank of fresh speckle / noise fields (frame-to-frame decorrelation, electronic noise)
        h, w = self.shape
        bank = rng.standard_normal((n_bank, h, w, 2)).astype(np.float32)
        for i in range(n_bank):
            bank[i] = cv2.GaussianBlur(bank[i], (0, 0), 0.7)
        inten = (bank**2).sum(axis=3)
        self.bank = (inten / inten.mean()).astype(np.float32)  # fresh speckle intensity fields
        self.rng = rng

    def _maps(self, s: float, c_rv: float, shift) -> tuple[np.ndarray, ...]:
        sc = self.sc
        rx, ry = sc.heart.inverse_map(self.cX, self.cY, s, c_rv, shift)
        ex = ((rx - sc.e_x0) / sc.e_res).astype(np.float32)
        ey = ((ry - sc.e_y0) / sc.e_res).astype(np.float32)
        r = np.hypot(rx, ry)
        th = np.arctan2(rx, ry)
        sx = ((th - sc.s_th0) / sc.s_dth).astype(np.float32)
        sy = (r / sc.s_dr).astype(np.float32)
        if self.step > 1:
            h, w = self.shape
            ex, ey, sx, sy = (cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR) for m in (ex, ey, sx, sy))
        # fixed-point maps: remap runs about twice as fast
        e1, e2 = cv2.convertMaps(ex, ey, cv2.CV_16SC2)
        s1, s2 = cv2.convertMaps(sx, sy, cv2.CV_16SC2)
        return e1, e2, s1, s2

    def frame(self, t: float, k: int) -> np.ndarray:
        sc = self.sc
        p = sc.p
        f, o = sc.tl.state(t)
        c_rv = sc.tl.contraction(t)
        s = float(sc.heart.state_for_fraction(f))
        shift = p["shift_fn"](t)
        e1, e2, s1, s2 = self._maps(s, c_rv, shift)
        E = cv2.remap(sc.E, e1, e2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=sc.E_bg)
        Z = cv2.remap(sc.tex, s1, s2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        # valve leaflets
        sig = max(0.075, 0.45 * sc.pix_cm)
        for pts in sc.leaflets(s, o, c_rv, shift):
            lo = pts.min(axis=0) - 4 * sig
            hi = pts.max(axis=0) + 4 * sig
            # pixel ROI of the polyline (X increases along columns, Y along rows)
            cols = np.nonzero((self.X[0] >= lo[0]) & (self.X[0] <= hi[0]))[0] if self.X.ndim == 2 else None
            rows = np.nonzero((self.Y[:, 0] >= lo[1]) & (self.Y[:, 0] <= hi[1]))[0]
            if cols is None or len(cols) == 0 or len(rows) == 0:
                continue
            r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
            Xs, Ys = self.X[r0:r1, c0:c1], self.Y[r0:r1, c0:c1]
            d2 = np.minimum.reduce([_seg_dist2(Xs, Ys, pts[i], pts[i + 1]) for i in range(len(pts) - 1)])
            lv = p["leaflet_level"] * np.exp(-d2 / sig**2)
            E[r0:r1, c0:c1] = np.maximum(E[r0:r1, c0:c1], lv.astype(np.float32))
        # fixed speckle + a little fresh speckle, electronic noise
        nb = len(self.bank)
        j1 = int(self.rng.integers(nb))
        j2 = int(self.rng.integers(nb))
        fresh = self.bank[j1]
        a = p["decorr"]
        S = cv2.addWeighted(Z, 1.0 - a, fresh, a, 0.0)
        nz = self.bank[j2]
        if self.rng.random() < 0.5:
            nz = nz[::-1]
        intensity = cv2.scaleAdd(nz, float(p["noise_level"]), cv2.multiply(E, S))
        # system blur: real machines' grain is longer across the beam than along it
        intensity = cv2.GaussianBlur(intensity, (0, 0), sigmaX=max(0.6, p.get("blur_lat_cm", 0.0) / sc.pix_cm),
                                     sigmaY=max(0.6, p.get("blur_ax_cm", 0.0) / sc.pix_cm))
        g_t = p["gain_drift_db"] * math.sin(2 * math.pi * t / p["gain_period"] + p["gain_phase"])
        dr = p["dyn_range_db"]
        db = cv2.log(intensity + np.float32(1e-7))  # natural log; 10 log10(x) = 4.3429 ln(x)
        x = (db * np.float32(4.342945 / dr)) + (self.gain_db + np.float32(g_t + dr)) / np.float32(dr)
        # below the display's black level is black: convertScaleAbs alone folds negative values back
        # up as |x| (dark rings where the log image crosses zero); kept without realism, as the
        # committed demo weights were trained on it
        if p.get("black_floor"):
            x = cv2.max(x, 0.0)
        x8 = cv2.convertScaleAbs(x, alpha=255.0)  # saturates to 0..255
        x8 = cv2.LUT(x8, self.lut)
        return cv2.multiply(x8, self.cov8, scale=1.0 / 255.0)
