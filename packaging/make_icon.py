"""Draw the app icon (an echo sector with a heart and an ECG trace) into resources/icons/.

Run from anywhere: ``python packaging/make_icon.py``. Needs only Pillow; the outputs are committed,
so a build never runs this. One geometry, two renderings: an SVG (``scalable``) and PNGs in the
sizes desktops use (hicolor theme layout), plus Windows .ico and macOS .icns.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
ICONS = ROOT / "resources" / "icons"
APP_ID = "org.echoviewer.EchoViewer"
S = 1024  # the geometry's canvas; PNGs are drawn at 1024 px, then downsampled (antialiasing)
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)

# -- geometry (canvas units) ---------------------------------------------------------------------
BOX = (40, 40, 984, 984)
RADIUS = 190
GRADIENT = ((14, 36, 72), (24, 58, 106))  # top, bottom
APEX = (512.0, 150.0)
SECTOR_R = 720.0
SECTOR_HALF_DEG = 36
SECTOR_RIM, SECTOR_FILL = (58, 78, 104), (38, 54, 78)
ARCS = (0.38, 0.52, 0.66, 0.80)
ARC_COLOR, ARC_WIDTH = (70, 96, 128), 6
HEART = ((512, 470), 200)
GLOW = ((512, 470), 215, (255, 70, 90), 150, 28)  # centre, size, colour, alpha, blur radius
HEART_COLOR = (226, 40, 62)
ECG_BASE = 830
ECG = list(zip((130, 330, 370, 400, 440, 475, 510, 560, 600, 640, 894), (0, 0, -25, 0, 60, -135, 30, 0, -35, 0, 0)))
ECG_WIDTH = 30


def heart_points(cx: float, cy: float, r: float, n: int = 240) -> list[tuple[float, float]]:
    pts = []
    for i in range(n):
        t = 2 * math.pi * i / n
        x = 16 * math.sin(t) ** 3
        y = 13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)
        pts.append((cx + r * x / 16, cy - r * y / 16))
    return pts


def ecg_points() -> list[tuple[float, float]]:
    return [(float(x), float(ECG_BASE + y)) for x, y in ECG]


def _polar(r: float, deg: float) -> tuple[float, float]:
    """A point at angle ``deg`` (clockwise from +x, y down, as Pillow counts) from the apex."""
    a = math.radians(deg)
    return APEX[0] + r * math.cos(a), APEX[1] + r * math.sin(a)


# -- PNG --------------------------------------------------------------------------------------------
def draw(size: int = S) -> Image.Image:
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    k = size / S
    grad = Image.new("RGBA", (size, size))
    gd = ImageDraw.Draw(grad)
    (r0, g0, b0), (r1, g1, b1) = GRADIENT
    for y in range(size):
        f = y / (size - 1)
        gd.line([(0, y), (size, y)], fill=(int(r0 + (r1 - r0) * f), int(g0 + (g1 - g0) * f),
                                           int(b0 + (b1 - b0) * f), 255))
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).rounded_rectangle([int(v * k) for v in BOX], radius=int(RADIUS * k), fill=255)
    img.paste(grad, (0, 0), mask)

    d = ImageDraw.Draw(img)
    ax, ay = APEX[0] * k, APEX[1] * k
    for rr, fill, half in ((SECTOR_R, SECTOR_RIM, SECTOR_HALF_DEG),
                           (SECTOR_R * 0.97, SECTOR_FILL, SECTOR_HALF_DEG - 1)):
        q = rr * k
        d.pieslice([ax - q, ay - q, ax + q, ay + q], 90 - half, 90 + half, fill=fill + (255,))
    for f in ARCS:
        q = SECTOR_R * f * k
        d.arc([ax - q, ay - q, ax + q, ay + q], 90 - (SECTOR_HALF_DEG - 3), 90 + (SECTOR_HALF_DEG - 3),
              fill=ARC_COLOR + (255,), width=max(1, int(ARC_WIDTH * k)))

    (gx, gy), gr, gcol, galpha, blur = GLOW
    glow = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    ImageDraw.Draw(glow).polygon(heart_points(gx * k, gy * k, gr * k), fill=gcol + (galpha,))
    img.alpha_composite(glow.filter(ImageFilter.GaussianBlur(blur * k)))
    d = ImageDraw.Draw(img)
    (hx, hy), hr = HEART
    d.polygon(heart_points(hx * k, hy * k, hr * k), fill=HEART_COLOR + (255,))

    pts = [(x * k, y * k) for x, y in ecg_points()]
    d.line(pts, fill=(255, 255, 255, 255), width=int(ECG_WIDTH * k), joint="curve")
    for p in (pts[0], pts[-1]):
        rr = ECG_WIDTH / 2 * k
        d.ellipse([p[0] - rr, p[1] - rr, p[0] + rr, p[1] + rr], fill=(255, 255, 255, 255))
    return img


# -- SVG --------------------------------------------------------------------------------------------
def _rgb(c: tuple[int, int, int]) -> str:
    return f"#{c[0]:02x}{c[1]:02x}{c[2]:02x}"


def _pts(points) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def _sector_path(r: float, half: float) -> str:
    (x0, y0), (x1, y1) = _polar(r, 90 + half), _polar(r, 90 - half)
    return f"M{APEX[0]:.1f},{APEX[1]:.1f} L{x0:.1f},{y0:.1f} A{r:.1f},{r:.1f} 0 0 0 {x1:.1f},{y1:.1f} Z"


def _arc_path(r: float, half: float) -> str:
    (x0, y0), (x1, y1) = _polar(r, 90 + half), _polar(r, 90 - half)
    return f"M{x0:.1f},{y0:.1f} A{r:.1f},{r:.1f} 0 0 0 {x1:.1f},{y1:.1f}"


def svg() -> str:
    x0, y0, x1, y1 = BOX
    (gx, gy), gr, gcol, galpha, blur = GLOW
    (hx, hy), hr = HEART
    arcs = "\n".join(
        f'  <path d="{_arc_path(SECTOR_R * f, SECTOR_HALF_DEG - 3)}" fill="none" stroke="{_rgb(ARC_COLOR)}" '
        f'stroke-width="{ARC_WIDTH}"/>' for f in ARCS)
    glow = (f'  <polygon points="{_pts(heart_points(gx, gy, gr, 120))}" fill="{_rgb(gcol)}" '
            f'fill-opacity="{galpha / 255:.2f}" filter="url(#glow)"/>')
    ecg = (f'  <polyline points="{_pts(ecg_points())}" fill="none" stroke="#ffffff" stroke-width="{ECG_WIDTH}" '
           'stroke-linecap="round" stroke-linejoin="round"/>')
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- EchoViewer: an echo sector with a heart and an ECG trace. Generated by packaging/make_icon.py. -->
<svg xmlns="http://www.w3.org/2000/svg" width="{S}" height="{S}" viewBox="0 0 {S} {S}">
  <defs>
    <linearGradient id="bg" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="{_rgb(GRADIENT[0])}"/>
      <stop offset="1" stop-color="{_rgb(GRADIENT[1])}"/>
    </linearGradient>
    <filter id="glow" x="-50%" y="-50%" width="200%" height="200%">
      <feGaussianBlur stdDeviation="{blur / 2:g}"/>
    </filter>
  </defs>
  <rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" rx="{RADIUS}" fill="url(#bg)"/>
  <path d="{_sector_path(SECTOR_R, SECTOR_HALF_DEG)}" fill="{_rgb(SECTOR_RIM)}"/>
  <path d="{_sector_path(SECTOR_R * 0.97, SECTOR_HALF_DEG - 1)}" fill="{_rgb(SECTOR_FILL)}"/>
{arcs}
{glow}
  <polygon points="{_pts(heart_points(hx, hy, hr, 120))}" fill="{_rgb(HEART_COLOR)}"/>
{ecg}
</svg>
"""


def main() -> None:
    big = draw()
    hicolor = ICONS / "hicolor"
    for n in SIZES:
        out = hicolor / f"{n}x{n}" / "apps" / f"{APP_ID}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        big.resize((n, n), Image.LANCZOS).save(out)
    scalable = hicolor / "scalable" / "apps" / f"{APP_ID}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    scalable.write_text(svg(), encoding="utf-8")
    big.resize((256, 256), Image.LANCZOS).save(ICONS / "echoviewer.ico", sizes=[(n, n) for n in SIZES if n <= 256])
    try:
        big.save(ICONS / "echoviewer.icns")
    except (OSError, ValueError, KeyError) as exc:  # Pillow builds without ICNS writing
        print(f"echoviewer.icns not written: {exc}")
    print("wrote", ", ".join(str(p.relative_to(ROOT)) for p in sorted(ICONS.rglob("*.*"))))


if __name__ == "__main__":
    main()
