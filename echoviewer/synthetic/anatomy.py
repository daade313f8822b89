"""Heart geometry of the phantom in physical centimetres and its motion.

Frame of reference: the transducer (fan apex) at the origin, x to the viewer's right, y = depth
downwards. The heart is described in the LV frame: apex A, unit long axis u (apex -> base,
pointing down), v = (u_y, -u_x) towards the LV lateral wall (viewer's right in A4C). A point is
A + d u + w v (d along the axis in cm, w across it; w < 0 is the septum / right heart).

The LV endocardium at a volume state is an exact parametric contour (truncated superellipse with a
flattened septum and a bulging lateral wall) through the apex and the two mitral-annulus points,
so the long axis is known exactly. The tissue motion is an explicit inverse map (current ->
reference/ED position) built in the same frame, so the rendered blood pool follows the contour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

L_EXP = 0.18  # length ~ s^0.18
W_EXP = 0.41  # width ~ s^0.41   (volume ~ L W^2 ~ s)
A_EXP = 0.12  # annulus ~ s^0.12 (the annulus contracts less than the cavity)


def smoothstep(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


@dataclass
class Heart:
    apex: np.ndarray  # (2,) cm
    tilt_deg: float  # long axis angle from vertical, positive: base to the right
    L0: float  # ED (reference) long-axis length, cm
    W0: float  # ED maximal half-width, cm
    lc: float = 0.58  # ellipse centre as a fraction of L (apex at 0)
    pexp: float = 2.2  # superellipse exponent (>2 blunter apex)
    beta: float = 0.08  # septum flattening / lateral bulge
    T0: float = 0.95  # LV wall thickness at ED, cm
    rv_width: float = 3.0
    rv_apex_frac: float = 0.28
    tv_offset: float = 0.6  # tricuspid annulus this much more apical than the mitral, cm
    rv_wall: float = 0.45
    la_len: float = 4.4
    la_w: float = 2.1
    ra_len: float = 4.0
    ra_w: float = 1.9
    ias: float = 0.35  # interatrial septum thickness
    atrial_wall: float = 0.3
    rv_kappa: float = 0.22  # RV width shortening at full contraction
    papillary: bool = True
    moderator: bool = True
    _table: tuple = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.apex = np.asarray(self.apex, dtype=np.float64)
        t = math.radians(self.tilt_deg)
        self.u = np.array([math.sin(t), math.cos(t)])
        self.v = np.array([self.u[1], -self.u[0]])
        self.a0 = self.W0 * self._shape(np.array([1.0]))[0]
        s = np.linspace(0.05, 1.3, 300)
        vols = np.array([self.volume_of_state(x) for x in s])
        self._table = (s, vols / self.volume_of_state(1.0))

    # -- LV profile ---------------------------------------------------------------------------
    def _shape(self, ell: np.ndarray) -> np.ndarray:
        z = np.abs((np.clip(ell, 0.0, 1.0) - self.lc) / self.lc)
        return np.clip(1.0 - np.minimum(z, 1.0) ** self.pexp, 0.0, 1.0) ** (1.0 / self.pexp)

    def dims(self, s: float) -> tuple[float, float, float]:
        """(L, Wmax, annulus half-width) at state s (s = 1: reference ED)."""
        return self.L0 * s**L_EXP, self.W0 * s**W_EXP, self.a0 * s**A_EXP

    def half_widths(self, ell: np.ndarray, s: float) -> tuple[np.ndarray, np.ndarray]:
        """Endocardial half-widths (septal, lateral) at fractions ell of the long axis."""
        L, W, a = self.dims(s)
        e = self._shape(ell)
        lc = np.clip(ell, 0.0, 1.0)
        h = W * e + (a - W * self._shape(np.array([1.0]))[0]) * lc**4
        b = self.beta * np.sin(np.pi * lc)
        return h * (1.0 - b), h * (1.0 + b)

    def volume_of_state(self, s: float) -> float:
        ell = (np.arange(400) + 0.5) / 400
        hs, hl = self.half_widths(ell, s)
        L = self.dims(s)[0]
        return float(np.sum(np.pi / 4 * (hs + hl) ** 2) * L / 400)

    def state_for_fraction(self, f):
        """State s whose LV volume is the fraction f of the reference ED volume."""
        s, fr = self._table
        return np.interp(f, fr, s)

    def lv_contour_local(self, s: float, n_side: int = 60) -> np.ndarray:
        """(N,2) (d, w): septal wall apex->base, base line, lateral wall base->apex."""
        L, _, a = self.dims(s)
        ell = 1.0 - (1.0 - np.linspace(0.0, 1.0, n_side)) ** 1.6  # denser near the apex
        hs, hl = self.half_widths(ell, s)
        sept = np.stack([ell * L, -hs], axis=1)
        lat = np.stack([ell * L, hl], axis=1)[::-1]
        base = np.stack([np.full(5, L), np.linspace(-a, a, 7)[1:-1]], axis=1)
        return np.vstack([sept, base, lat[:-1]])

    def to_xy(self, d, w, shift=(0.0, 0.0)) -> np.ndarray:
        d = np.asarray(d, dtype=np.float64)
        w = np.asarray(w, dtype=np.float64)
        x = self.apex[0] + d * self.u[0] + w * self.v[0] + shift[0]
        y = self.apex[1] + d * self.u[1] + w * self.v[1] + shift[1]
        return np.stack([x, y], axis=-1)

    def to_dw(self, x, y, shift=(0.0, 0.0)) -> tuple[np.ndarray, np.ndarray]:
        px = x - self.apex[0] - shift[0]
        py = y - self.apex[1] - shift[1]
        return px * self.u[0] + py * self.u[1], px * self.v[0] + py * self.v[1]

    def lv_contour(self, s: float, shift=(0.0, 0.0)) -> np.ndarray:
        c = self.lv_contour_local(s)
        return self.to_xy(c[:, 0], c[:, 1], shift)

    def landmarks(self, s: float, shift=(0.0, 0.0)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Apex, septal annulus point, lateral annulus point (x,y cm) at state s."""
        L, _, a = self.dims(s)
        apex = self.to_xy(0.0, 0.0, shift)
        sept = self.to_xy(L, -a, shift)
        lat = self.to_xy(L, a, shift)
        return apex, sept, lat

    # -- right heart and atria (reference state, LV frame) ------------------------------------
    def rv_width_at(self, d: np.ndarray) -> np.ndarray:
        d_rva = self.rv_apex_frac * self.L0
        d_tv = self.L0 - self.tv_offset
        q = np.clip((d - d_rva) / max(d_tv - d_rva, 1e-6), 0.0, 1.0)
        wdt = self.rv_width * np.sin(0.5 * np.pi * q) ** 0.75
        return np.where(d <= d_tv, wdt, 0.0)

    def rv_inner(self, d: np.ndarray) -> np.ndarray:
        """w of the RV side of the septum (septal epicardium) at the reference state."""
        hs, _ = self.half_widths(d / self.L0, 1.0)
        return -(hs + self.T0)

    def rv_cavity_local(self) -> np.ndarray:
        d_rva = self.rv_apex_frac * self.L0
        d_tv = self.L0 - self.tv_offset
        d = d_rva + (d_tv - d_rva) * (1 - (1 - np.linspace(0, 1, 50)) ** 1.5)
        win = self.rv_inner(d)
        wout = win - self.rv_width_at(d)
        return np.vstack([np.stack([d, win], 1), np.stack([d, wout], 1)[::-1]])

    def tricuspid_points_local(self) -> tuple[np.ndarray, np.ndarray]:
        d_tv = self.L0 - self.tv_offset
        win = float(self.rv_inner(np.array([d_tv]))[0])
        wout = win - float(self.rv_width_at(np.array([d_tv - 1e-9]))[0])
        return np.array([d_tv, win]), np.array([d_tv, wout])

    def _ellipse(self, dc: float, wc: float, ad: float, aw: float, n: int = 60) -> np.ndarray:
        t = np.linspace(0, 2 * np.pi, n, endpoint=False)
        return np.stack([dc + ad * np.sin(t), wc + aw * np.cos(t)], 1)

    def la_local(self) -> list[np.ndarray]:
        """LA polygons (union): an oval below the mitral annulus plus its funnel to the annulus."""
        a = self.a0
        w_ias = -(a + 0.5 * self.T0)
        w_left = w_ias + 0.5 * self.ias
        w_right = max(a + 0.4, w_left + 2 * self.la_w)
        cw, hw = 0.5 * (w_left + w_right), 0.5 * (w_right - w_left)
        dc = self.L0 + 0.3 + 0.5 * self.la_len
        ell = self._ellipse(dc, cw, 0.5 * self.la_len, hw)
        funnel = np.array([[self.L0, -a], [dc - 0.35 * self.la_len, cw - 0.85 * hw],
                           [dc - 0.35 * self.la_len, cw + 0.85 * hw], [self.L0, a]])
        return [ell, funnel]

    def ra_local(self) -> list[np.ndarray]:
        ts, tl = self.tricuspid_points_local()
        a = self.a0
        w_ias = -(a + 0.5 * self.T0)
        w_right = w_ias - 0.5 * self.ias
        w_left = min(tl[1] - 0.1, w_right - 2 * self.ra_w)
        cw, hw = 0.5 * (w_left + w_right), 0.5 * (w_right - w_left)
        dc = ts[0] + 0.4 + 0.5 * self.ra_len
        ell = self._ellipse(dc, cw, 0.5 * self.ra_len, hw)
        funnel = np.array([ts, [dc - 0.35 * self.ra_len, cw + 0.85 * hw], [dc - 0.35 * self.ra_len, cw - 0.85 * hw],
                           tl])
        return [ell, funnel]

    # -- motion ------------------------------------------------------------------------------
    def inverse_map(self, x: np.ndarray, y: np.ndarray, s: float, c_rv: float, shift=(0.0, 0.0)):
        """Reference (ED) position (x,y cm) of the tissue now at (x, y), for LV state s and RV
        contraction c_rv in [0,1]; the LV endocardium at state s maps onto the reference one."""
        d, w = self.to_dw(x, y, shift)
        L_t, _, _ = self.dims(s)
        L0 = self.L0
        # longitudinal: inside the LV the axis scales, below the base the shift decays (atria)
        lam_long = 5.0
        below = d - L_t
        d_ref = np.where(
            d <= 0, d, np.where(below <= 0, d * (L0 / L_t), d + (L0 - L_t) * np.clip(1 - below / lam_long, 0, 1))
        )
        ell = np.clip(d / L_t, 0.0, 1.0)
        hs_t, hl_t = self.half_widths(ell, s)
        hs_0, hl_0 = self.half_widths(ell, 1.0)
        sept = w < 0
        h_t = np.where(sept, hs_t, hl_t)
        h_0 = np.where(sept, hs_0, hl_0)
        T0 = self.T0
        T_t = np.sqrt(h_t**2 + 2 * h_0 * T0 + T0**2) - h_t
        aw = np.abs(w)
        safe_h = np.maximum(h_t, 1e-6)
        in_cav = aw <= h_t
        in_wall = (~in_cav) & (aw <= h_t + T_t)
        e = aw - (h_t + T_t)  # distance beyond the epicardium (current)
        d_lv = (h_0 + T0) - (h_t + T_t)
        # septal side beyond the septum: RV cavity width scales, the far field relaxes
        k_rv = 1.0 - self.rv_kappa * float(np.clip(c_rv, 0.0, 1.2))
        W_rv0 = self.rv_width_at(d_ref)
        W_rv_t = W_rv0 * k_rv
        lam = 2.5
        e_pos = np.maximum(e, 0.0)
        # inside the RV cavity e scales by 1/k; the free wall moves rigidly; beyond it relaxes
        rv_disp = np.where(
            e_pos <= W_rv_t,
            e_pos * (1.0 / k_rv - 1.0),
            (W_rv0 - W_rv_t) * np.clip(1 - (e_pos - W_rv_t - self.rv_wall) / lam, 0, 1),
        )
        rv_disp = np.where(W_rv0 > 0, rv_disp, 0.0)
        far_lv = d_lv * np.clip(1 - e_pos / np.where(sept, lam, 2.0), 0, 1)
        out_ref = aw + np.where(sept, far_lv + rv_disp, far_lv)
        aw_ref = np.where(in_cav, aw * h_0 / safe_h, np.where(in_wall, h_0 + (aw - h_t) * T0 / T_t, out_ref))
        # lateral displacement fades below the base (atria keep their width)
        omega = np.where(below <= 0, 1.0, np.clip(1 - below / 2.5, 0, 1))
        w_ref = w + omega * (np.sign(w) * aw_ref - w)
        p = self.to_xy(d_ref, w_ref)
        return p[..., 0], p[..., 1]


# --------------------------------------------------------------------------------------------
# Timeline
# --------------------------------------------------------------------------------------------


@dataclass
class Beat:
    e: float  # ED time (mitral closure / start of contraction), s
    rr: float
    t_ivc: float
    t_ej: float
    t_ivr: float
    edv: float  # volume fractions of the nominal ED volume
    esv: float

    @property
    def s(self) -> float:  # ES time
        return self.e + self.t_ivc + self.t_ej


class Timeline:
    """Volume fraction f(t), mitral/tricuspid opening o(t), RV contraction c(t)."""

    def __init__(self, beats: list[Beat]):
        self.beats = beats
        self.starts = np.array([b.e for b in beats])

    def _beat(self, t: float) -> int:
        return int(np.clip(np.searchsorted(self.starts, t, side="right") - 1, 0, len(self.beats) - 1))

    def state(self, t: float) -> tuple[float, float]:
        """(volume fraction, valve opening 0..1)."""
        i = self._beat(t)
        b = self.beats[i]
        nxt_edv = self.beats[i + 1].edv if i + 1 < len(self.beats) else b.edv
        tau = t - b.e
        if tau < 0:  # before the first listed beat: hold
            return b.edv, 0.0
        if tau < b.t_ivc:
            return b.edv, 0.0
        if tau < b.t_ivc + b.t_ej:
            x = (tau - b.t_ivc) / b.t_ej
            g = 0.5 * (1 - math.cos(math.pi * x))
            return b.edv - (b.edv - b.esv) * g, 0.0
        ts = b.t_ivc + b.t_ej + b.t_ivr
        if tau < ts:
            return b.esv, 0.0
        td = max(b.rr - ts, 1e-3)
        x = min((tau - ts) / td, 1.0)
        fill = 0.75 * smoothstep(x / 0.4) + 0.25 * smoothstep((x - 0.72) / 0.26)
        f = b.esv + (nxt_edv - b.esv) * fill
        dip = smoothstep((x - 0.3) / 0.12) * (1 - smoothstep((x - 0.62) / 0.1))
        o = smoothstep(x / 0.08) * (1 - 0.55 * dip) * (1 - smoothstep((x - 0.93) / 0.07))
        return float(f), float(o)

    def contraction(self, t: float) -> float:
        """0 at ED, 1 at ES (per beat)."""
        i = self._beat(t)
        b = self.beats[i]
        f, _ = self.state(t)
        lo, hi = b.esv, b.edv
        return float(np.clip((hi - f) / max(hi - lo, 1e-6), 0.0, 1.0))
