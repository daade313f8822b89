"""Draw the app icon (an echo sector with a heart and an ECG trace) into packaging/icon.png/.ico/.icns.

Run from anywhere: ``python packaging/make_icon.py``. Needs only Pillow; the outputs are committed,
so a build never runs this.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).resolve().parent
S = 1024  # drawn at 1024 px, then downsampled (antialiasing)


def heart_points(cx: float, cy: float, r: float, n: int = 240) -> list[tuple[float, float]]:
    pts = []
    for i in range(n):
        t = 2 * math.pi * i / n
        x = 16 * math.sin(t) ** 3
        y = 13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)
        pts.append((cx + r * x / 16, cy - r * y / 16))
    return pts


def draw(size: int = S) -> Image.Image:
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    k = size / S
    # background: rounded square, vertical navy gradient
    grad = Image.new("RGBA", (size, size))
    gd = ImageDraw.Draw(grad)
    for y in range(size):
        f = y / (size - 1)
        gd.line([(0, y), (size, y)], fill=(int(14 + 10 * f), int(36 + 22 * f), int(72 + 34 * f), 255))
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).rounded_rectangle([int(40 * k), int(40 * k), int(984 * k), int(984 * k)],
                                           radius=int(190 * k), fill=255)
    img.paste(grad, (0, 0), mask)

    d = ImageDraw.Draw(img)
    # ultrasound sector: apex at the top, 72 degree fan, soft grey with a brighter rim
    apex = (512 * k, 150 * k)
    r = 720 * k
    box = [apex[0] - r, apex[1] - r, apex[0] + r, apex[1] + r]
    d.pieslice(box, 90 - 36, 90 + 36, fill=(58, 78, 104, 255))
    d.pieslice([apex[0] - r * 0.97, apex[1] - r * 0.97, apex[0] + r * 0.97, apex[1] + r * 0.97],
               90 - 35, 90 + 35, fill=(38, 54, 78, 255))
    # speckle-like arcs
    for i, rr in enumerate((0.38, 0.52, 0.66, 0.80)):
        q = r * rr
        d.arc([apex[0] - q, apex[1] - q, apex[0] + q, apex[1] + q], 90 - 33, 90 + 33,
              fill=(70, 96, 128, 255), width=max(1, int(6 * k)))

    # heart (LV red), with a soft glow
    glow = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    ImageDraw.Draw(glow).polygon(heart_points(512 * k, 470 * k, 215 * k), fill=(255, 70, 90, 150))
    img.alpha_composite(glow.filter(ImageFilter.GaussianBlur(28 * k)))
    d = ImageDraw.Draw(img)
    d.polygon(heart_points(512 * k, 470 * k, 200 * k), fill=(226, 40, 62, 255))

    # ECG trace across the lower third, white
    base = 830 * k
    xs = [130, 330, 370, 400, 440, 475, 510, 560, 600, 640, 894]
    ys = [0, 0, -25, 0, 60, -135, 30, 0, -35, 0, 0]
    pts = [(x * k, base + y * k) for x, y in zip(xs, ys)]
    d.line(pts, fill=(255, 255, 255, 255), width=int(30 * k), joint="curve")
    for p in (pts[0], pts[-1]):
        rr = 15 * k
        d.ellipse([p[0] - rr, p[1] - rr, p[0] + rr, p[1] + rr], fill=(255, 255, 255, 255))
    return img


def main() -> None:
    big = draw()
    png = big.resize((512, 512), Image.LANCZOS)
    png.save(HERE / "icon.png")
    sizes = [(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]
    big.resize((256, 256), Image.LANCZOS).save(HERE / "icon.ico", sizes=sizes)
    try:
        big.save(HERE / "icon.icns")
    except (OSError, ValueError, KeyError) as exc:  # Pillow builds without ICNS writing
        print(f"icon.icns not written: {exc}")
    print("wrote", ", ".join(p.name for p in sorted(HERE.glob("icon.*"))))


if __name__ == "__main__":
    main()
