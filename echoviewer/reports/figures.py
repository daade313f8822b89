"""Pictures of a report: key frames with the LV tracing drawn, and the beat-EF timeline.

Both are RGB uint8 arrays (``png_bytes`` encodes one), so the PDF, the DICOM Secondary Capture and
the window's export show the same pixels. Key frames are native frames (not the 112 grid) with the
tracing mapped through the loop's grid transform, drawn in the window's overlay colour, under a
caption band burned into the picture (a key image must say what it is when it travels alone).
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Any

import cv2
import numpy as np

from echoviewer import DEMO_LABEL
from echoviewer.analysis.drawing import OVERLAY_COLOR, to_rgb
from echoviewer.reports import fonts
from echoviewer.reports.content import BeatLine, LoopReport
from echoviewer.reports.numbers import ef_text

PHASES = {"ed": "ED", "es": "ES"}
CAPTION_BG = (16, 16, 16)
CAPTION_FG = (235, 235, 235)
CAPTION_DEMO = (255, 120, 60)  # the demo label stands out from the caption's other lines

# Print colours of the timeline (light background): the window's ED red / ES blue, darkened for paper.
ED_COLOR = "#c92a2a"
ES_COLOR = "#1864ab"
AREA_COLOR = "#343a40"
EF_MODEL_COLOR = "#495057"
EF_CORRECTED_COLOR = "#7048e8"
EXCLUDED_COLOR = "#adb5bd"


# -- key frames -------------------------------------------------------------------------------------


def tracing_outline(tracing: Any) -> np.ndarray:
    """The LV outline of a tracing (grid x,y, closed implicitly): the apex, the chords' first ends
    from apex to base, then their second ends back up (the mitral annulus closes it at the base)."""
    apex = tracing.axis[None, :2]
    return np.vstack([apex, tracing.polygon()])


def native_tracing(tracing: Any, transform: Any) -> tuple[np.ndarray, np.ndarray]:
    """(outline (N,2), long axis (2,2)) of a grid tracing in native pixel coordinates."""
    outline = transform.to_native_points(tracing_outline(tracing))
    axis = transform.to_native_points(tracing.axis.reshape(2, 2))
    return outline, axis


def line_width(shape: tuple[int, ...]) -> int:
    """Outline thickness in native pixels: 1 px per 240 px of the frame's smaller side, at least 1."""
    return max(1, int(round(min(shape[:2]) / 240)))


def draw_tracing(rgb: np.ndarray, tracing: Any, transform: Any,
                 color: tuple[int, int, int] = OVERLAY_COLOR) -> np.ndarray:
    """A copy of a native RGB frame with the tracing's outline and long axis drawn (anti-aliased)."""
    out = np.ascontiguousarray(rgb).copy()
    if tracing is None:
        return out
    outline, axis = native_tracing(tracing, transform)
    t = line_width(out.shape)
    shift = 4  # sub-pixel vertices (cv2 fixed point), so the drawn line follows the mapped points
    pts = np.rint(outline * (1 << shift)).astype(np.int32).reshape(-1, 1, 2)
    col = tuple(int(c) for c in color)
    cv2.polylines(out, [pts], isClosed=True, color=col, thickness=t, lineType=cv2.LINE_AA, shift=shift)
    a = np.rint(axis * (1 << shift)).astype(np.int32)
    cv2.line(out, tuple(int(v) for v in a[0]), tuple(int(v) for v in a[1]), col, max(1, t - 1), cv2.LINE_AA, shift)
    return out


def caption_lines(lr: LoopReport, beat: BeatLine, phase: str) -> list[str]:
    """What a key image says about itself: loop, phase and frame (from 1), beat EF, corrected, demo."""
    frame = beat.ed_frame if phase == "ed" else beat.es_frame
    ef = beat.reported(lr.corrected)[0]
    second = f"{PHASES[phase]} frame {frame + 1} · beat {beat.number} · EF {ef_text(ef)} %"
    if lr.corrected and beat.corrected:  # BeatLine marks a beat a person changed, not each phase
        second += " · corrected"
    lines = [lr.name, second]
    if lr.analysis.demo:
        lines.append(DEMO_LABEL)
    return lines


@lru_cache(maxsize=4)
def _font(size: int) -> Any:
    from PIL import ImageFont

    return ImageFont.truetype(str(fonts.font_file(fonts.REGULAR)), size)


def caption_height(width: int, n_lines: int) -> int:
    """Height in pixels of the caption band above a key frame ``width`` pixels wide."""
    return n_lines * int(round(_font_size(width) * 1.3)) + 2 * _pad(width)


def _font_size(width: int) -> int:
    return max(11, width // 38)


def _pad(width: int) -> int:
    return max(3, width // 110)


def add_caption(rgb: np.ndarray, lines: list[str], demo_line: str = DEMO_LABEL) -> np.ndarray:
    """The image with a dark caption band on top (the image's own pixels are untouched below it)."""
    from PIL import Image, ImageDraw

    h, w = rgb.shape[:2]
    band = caption_height(w, len(lines))
    canvas = Image.new("RGB", (w, band + h), CAPTION_BG)
    canvas.paste(Image.fromarray(rgb), (0, band))
    draw = ImageDraw.Draw(canvas)
    size, pad = _font_size(w), _pad(w)
    step = int(round(size * 1.3))
    for i, text in enumerate(lines):
        color = CAPTION_DEMO if text == demo_line else CAPTION_FG
        draw.text((pad + 2, pad + i * step), text, font=_font(size), fill=color)
    return np.asarray(canvas)


def key_frame_image(lr: LoopReport, beat: BeatLine, phase: str, caption: bool = True,
                    color: tuple[int, int, int] = OVERLAY_COLOR) -> np.ndarray:
    """The native frame of a beat's ED or ES (``phase`` "ed" / "es") with its LV tracing drawn:
    (H + caption band, W, 3) uint8; without ``caption`` exactly the frame's (H, W, 3).
    ValueError when the loop's frames are not at hand (LoopReport.loop is None)."""
    if phase not in PHASES:
        raise ValueError(f"phase must be one of {tuple(PHASES)}")
    if lr.loop is None:
        raise ValueError(f"the frames of {lr.name} are not available")
    frame = beat.ed_frame if phase == "ed" else beat.es_frame
    tracing = beat.ed_tracing if phase == "ed" else beat.es_tracing
    out = draw_tracing(to_rgb(lr.loop.frame(frame)), tracing, lr.loop.transform, color)
    return add_caption(out, caption_lines(lr, beat, phase)) if caption else out


def png_bytes(rgb: np.ndarray) -> bytes:
    """An RGB uint8 image as PNG."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


# -- timeline ---------------------------------------------------------------------------------------


def _ef_points(lr: LoopReport) -> list[tuple[BeatLine, float, float, bool]]:
    """(beat, time of ES, EF, is the corrected EF) to plot: the model's EF of every model beat, and
    the corrected EF of every beat when the loop was corrected."""
    fps = float(lr.analysis.fps) or 1.0
    out = []
    for b in lr.beats:
        if b.ef_model is not None:
            out.append((b, (b.model_es_frame if b.model_es_frame is not None else b.es_frame) / fps, b.ef_model, False))
        if lr.corrected and b.ef_corrected is not None and not b.deleted:
            out.append((b, b.es_frame / fps, b.ef_corrected, True))
    return out


def timeline_image(lr: LoopReport, width_in: float = 7.0, height_in: float = 2.3, dpi: int = 200) -> np.ndarray:
    """The beat-EF timeline (see ``timeline_figure``) rendered: (H, W, 3) uint8."""
    fig = timeline_figure(lr, width_in, height_in, dpi)
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[:, :, :3].copy()


def timeline_figure(lr: LoopReport, width_in: float = 7.0, height_in: float = 2.3, dpi: int = 200) -> Any:
    """LV area over time with the ED (▼) and ES (▲) markers of each beat and the per-beat EF on a
    second axis (0–100 %): the model's as squares and, for a corrected loop, the corrected as diamonds;
    beats left out of the mean are hollow. A matplotlib Figure on the Agg canvas (never pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine
    from matplotlib.lines import Line2D

    a = lr.analysis
    fps = float(a.fps) if a.fps and a.fps > 0 else 30.0
    cm = a.cm_per_pixel_grid if lr.calibrated else None
    scale, label = (cm**2, "LV area, cm²") if cm else (1.0, "LV area, px (112 grid)")
    areas = np.asarray(a.areas, dtype=float) * scale
    t = np.arange(len(areas)) / fps

    fig = Figure(figsize=(width_in, height_in), dpi=dpi, layout=ConstrainedLayoutEngine(w_pad=0.03, h_pad=0.03))
    FigureCanvasAgg(fig)
    fig.set_facecolor("white")
    ax = fig.add_subplot(111)
    ef_ax = ax.twinx()
    ax.set_gid("area")  # gids name the parts (tests and anyone restyling the figure find them by name)
    ef_ax.set_gid("ef")
    ax.set_zorder(ef_ax.get_zorder() + 1)  # the area curve and markers over the EF axis' grid
    ax.patch.set_visible(False)
    small = 7.5
    ax.plot(t, areas, color=AREA_COLOR, lw=1.1)
    shown = [b for b in lr.beats if not b.deleted]
    for phase, color, marker in (("ed", ED_COLOR, "v"), ("es", ES_COLOR, "^")):
        frames = [b.ed_frame if phase == "ed" else b.es_frame for b in shown]
        idx = np.asarray([f for f in frames if 0 <= f < len(areas)], dtype=int)
        ax.plot(idx / fps, areas[idx], ls="none", marker=marker, ms=5.5, color=color, mec="white", mew=0.6, gid=phase)
    ax.set_xlim(0, max(len(areas) - 1, 1) / fps)
    if len(areas):
        lo, hi = float(areas.min()), float(areas.max())
        span = max(hi - lo, 1e-6)
        ax.set_ylim(lo - 0.08 * span, hi + 0.12 * span)
    ax.set_xlabel("Time (s)", fontsize=small)
    ax.set_ylabel(label, fontsize=small, color=AREA_COLOR)

    for beat, x, ef, corrected in _ef_points(lr):
        color = EF_CORRECTED_COLOR if corrected else EF_MODEL_COLOR
        used = beat.included and (corrected or not lr.corrected)
        left_out = not beat.included or beat.deleted
        ef_ax.plot([x], [ef], ls="none", marker="D" if corrected else "s", ms=4.5 if corrected else 4.2,
                   mec=EXCLUDED_COLOR if left_out else color, mfc="white" if left_out else color, mew=1.0,
                   alpha=1.0 if used or left_out else 0.55, gid="ef_corrected" if corrected else "ef_model")
        if used:  # label the values that make the reported mean
            ef_ax.annotate(ef_text(ef), (x, ef), xytext=(0, 5), textcoords="offset points", ha="center",
                           fontsize=6.5, color=color)
    ef_ax.set_ylim(0, 100)
    ef_ax.set_ylabel("Beat EF, %", fontsize=small)
    ef_ax.grid(axis="y", color="#e9ecef", lw=0.6)
    for axis in (ax, ef_ax):
        axis.tick_params(labelsize=small, length=2.5, width=0.6)
        axis.spines["top"].set_visible(False)
        for spine in axis.spines.values():
            spine.set_linewidth(0.6)
            spine.set_color("#868e96")

    handles = [Line2D([], [], color=AREA_COLOR, lw=1.1, label="LV area"),
               Line2D([], [], ls="none", marker="v", color=ED_COLOR, label="ED"),
               Line2D([], [], ls="none", marker="^", color=ES_COLOR, label="ES"),
               Line2D([], [], ls="none", marker="s", color=EF_MODEL_COLOR, ms=4.2, label="EF, model")]
    if lr.corrected:
        handles.append(Line2D([], [], ls="none", marker="D", color=EF_CORRECTED_COLOR, ms=4.5, label="EF, corrected"))
    if any(not b.included or b.deleted for b in lr.beats):
        handles.append(Line2D([], [], ls="none", marker="s", mfc="white", mec=EXCLUDED_COLOR, ms=4.2,
                              label="not in the mean"))
    fig.legend(handles=handles, loc="outside upper center", ncol=len(handles), frameon=False, fontsize=small,
               handletextpad=0.3, columnspacing=1.2)
    return fig
