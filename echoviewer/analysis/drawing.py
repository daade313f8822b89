"""The LV overlay composited onto a native frame (numpy and OpenCV): what the window saves as PNG
and what the reports' key images show, drawn by one function so they cannot differ; and the caption
band (file, frame, EF, demo label) added under an exported frame.
"""

from __future__ import annotations

import unicodedata

import cv2
import numpy as np

#: The LV overlay's default colour (RGB, amber: visible on grey ultrasound and unlike the red/blue
#: of the ED/ES markers) and fill opacity: the window's setting defaults, and the reports' tracings.
OVERLAY_COLOR: tuple[int, int, int] = (255, 196, 0)
OVERLAY_OPACITY = 0.30


def to_rgb(frame: np.ndarray) -> np.ndarray:
    """Any frame (grey, RGB, RGBA, any dtype) as contiguous (H,W,3) uint8."""
    f = np.asarray(frame)
    if f.ndim == 2:
        f = np.repeat(f[:, :, None], 3, axis=2)
    elif f.shape[2] == 4:
        f = f[:, :, :3]
    if f.dtype != np.uint8:
        f = np.clip(f, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(f)


def composite_overlay(
    frame: np.ndarray,
    mask: np.ndarray | None,
    color: tuple[int, int, int],
    opacity: float,
    contour: bool = True,
    thickness: int = 1,
) -> np.ndarray:
    """Native frame with the LV mask blended in (alpha ``opacity``) and its outline: (H,W,3) uint8."""
    rgb = to_rgb(frame)
    if mask is None:
        return rgb.copy()
    m = np.asarray(mask, dtype=bool)
    out = rgb.astype(np.float32)
    col = np.asarray(color, dtype=np.float32)
    a = min(max(float(opacity), 0.0), 1.0)
    out[m] = out[m] * (1 - a) + col * a
    out = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    if contour and m.any():
        cs, _ = cv2.findContours(m.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(out, cs, -1, tuple(int(c) for c in color), thickness)
    return out


#: The caption band's colours (RGB): a dark band, light text; a line may carry its own colour.
CAPTION_BG = (18, 20, 24)
CAPTION_FG = (235, 235, 235)
CAPTION_WARN = (255, 196, 0)

CaptionLine = str | tuple[str, tuple[int, int, int]]


def _ascii(text: str) -> str:
    """OpenCV's Hershey fonts draw ASCII only: accents dropped, dashes and dots spelled in ASCII."""
    for a, b in (("–", "-"), ("—", "-"), ("·", "|"), ("±", "+/-"), ("×", "x"), ("✎", ""), ("⚠", "!")):
        text = text.replace(a, b)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(text.split())


def _wrap(text: str, width: int, font: int, scale: float, thickness: int) -> list[str]:
    """``text`` cut into lines no wider than ``width`` pixels (at spaces; a long word by characters)."""
    def fits(s: str) -> bool:
        return cv2.getTextSize(s, font, scale, thickness)[0][0] <= width

    lines: list[str] = []
    cur = ""
    for word in text.split(" "):
        trial = f"{cur} {word}" if cur else word
        if fits(trial):
            cur = trial
            continue
        if cur:
            lines.append(cur)
        while not fits(word) and len(word) > 1:
            k = len(word) - 1
            while k > 1 and not fits(word[:k]):
                k -= 1
            lines.append(word[:k])
            word = word[k:]
        cur = word
    if cur:
        lines.append(cur)
    return lines


def caption_band(rgb: np.ndarray, lines: list[CaptionLine]) -> np.ndarray:
    """``rgb`` with a dark band added under it holding ``lines`` of text: (H + band, W, 3) uint8.

    The image's own pixels are untouched (the band is added, never drawn over them), so an exported
    frame still shows exactly what was measured. Text is scaled to the image width and wrapped to
    fit it; each line is a string or (string, RGB colour)."""
    img = to_rgb(rgb)
    w = img.shape[1]
    if not lines:
        return img.copy()
    font, thickness = cv2.FONT_HERSHEY_SIMPLEX, 1
    scale = min(max(w / 1100.0, 0.33), 0.9)
    pad = max(3, int(round(8 * scale)))
    (_, text_h), base = cv2.getTextSize("Ag", font, scale, thickness)
    line_h = text_h + base + max(2, int(round(6 * scale)))
    rows: list[tuple[str, tuple[int, int, int]]] = []
    for line in lines:
        text, color = (line, CAPTION_FG) if isinstance(line, str) else line
        rows += [(part, color) for part in _wrap(_ascii(text), max(w - 2 * pad, 1), font, scale, thickness)]
    band = np.empty((2 * pad + line_h * len(rows), w, 3), np.uint8)
    band[:] = CAPTION_BG
    for i, (text, color) in enumerate(rows):
        y = pad + i * line_h + text_h
        cv2.putText(band, text, (pad, y), font, scale, tuple(int(c) for c in color), thickness, cv2.LINE_AA)
    return np.vstack([img, band])
