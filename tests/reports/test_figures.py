"""Key frames (the tracing on the native frame, a caption burned in) and the beat-EF timeline."""

import numpy as np
import pytest

from echoviewer import DEMO_LABEL
from echoviewer.analysis.drawing import OVERLAY_COLOR, to_rgb
from echoviewer.reports.figures import (
    caption_height,
    caption_lines,
    key_frame_image,
    line_width,
    png_bytes,
    timeline_figure,
    timeline_image,
)


def _segment_distance(px: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """Distance of each point (N,2) to the nearest of the segments (M,2,2)."""
    a, b = segments[:, 0][None], segments[:, 1][None]  # (1,M,2)
    p = px[:, None, :]  # (N,1,2)
    ab = b - a
    t = np.clip(((p - a) * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-12), 0, 1)
    return np.linalg.norm(p - (a + t[..., None] * ab), axis=-1).min(axis=1)


def _expected_segments(tracing, transform) -> np.ndarray:
    """The tracing as native segments, mapped here independently of figures.py: the closed outline
    apex -> chord ends (first wall, apex to base) -> chord ends (second wall, base to apex), and the long axis."""
    c = tracing.chords
    grid = np.vstack([tracing.axis[None, :2], c[:, :2], c[::-1, 2:]])
    pts = transform.to_native_points(grid)
    outline = np.stack([pts, np.roll(pts, -1, axis=0)], axis=1)
    axis = transform.to_native_points(tracing.axis.reshape(2, 2))[None]
    return np.concatenate([outline, axis])


@pytest.mark.parametrize("loop_index", [0, 1])
@pytest.mark.parametrize("phase", ["ed", "es"])
def test_key_frame_draws_the_tracing_on_the_mapped_contour_and_nothing_else(demo_study_report, loop_index, phase):
    lr = demo_study_report.loops[loop_index]
    beat = lr.key_beat()
    frame = to_rgb(lr.loop.frame(beat.ed_frame if phase == "ed" else beat.es_frame))
    tracing = beat.ed_tracing if phase == "ed" else beat.es_tracing
    img = key_frame_image(lr, beat, phase, caption=False)
    assert img.shape == frame.shape and img.dtype == np.uint8

    segments = _expected_segments(tracing, lr.loop.transform)
    changed = np.any(img != frame, axis=2)
    ys, xs = np.nonzero(changed)
    dist = _segment_distance(np.stack([xs, ys], axis=1).astype(float), segments)
    # every pixel away from the contour is the frame's own (away: beyond the line's width, which
    # covers half of it each side, plus the anti-aliased fringe and the round joins)
    assert dist.max() <= line_width(frame.shape) + 1.5
    # and the contour is drawn all round, in the overlay colour
    along = np.concatenate([a + np.linspace(0, 1, 12)[:, None] * (b - a) for a, b in segments[:-1]])
    hit = np.rint(along).astype(int)
    assert changed[hit[:, 1], hit[:, 0]].mean() > 0.97
    colours = img[hit[:, 1], hit[:, 0]].astype(float)
    assert np.median(np.abs(colours - np.array(OVERLAY_COLOR)).max(axis=1)) < 40
    # the LV sits in the middle of the frame, well inside the contour's bounds
    assert changed.sum() > 0.3 * np.hypot(*np.diff(segments, axis=1)[:, 0].T).sum()


def test_the_caption_sits_above_the_untouched_picture(demo_study_report):
    lr = demo_study_report.loops[1]  # the corrected DICOM loop
    beat = lr.key_beat()
    bare = key_frame_image(lr, beat, "es", caption=False)
    full = key_frame_image(lr, beat, "es")
    lines = caption_lines(lr, beat, "es")
    band = caption_height(bare.shape[1], len(lines))
    assert full.shape == (bare.shape[0] + band, bare.shape[1], 3)
    assert np.array_equal(full[band:], bare)
    assert full[:band].std() > 5  # text was drawn on the band
    ef = beat.reported(lr.corrected)[0]
    assert lines == [lr.name, f"ES frame {beat.es_frame + 1} · beat {beat.number} · EF {ef:.1f} % · corrected",
                     DEMO_LABEL]
    assert png_bytes(full)[:8] == b"\x89PNG\r\n\x1a\n"


def test_uncorrected_loop_caption_says_not_corrected(demo_study_report):
    lr = demo_study_report.loops[0]
    beat = lr.key_beat()
    text = " ".join(caption_lines(lr, beat, "ed"))
    assert f"ED frame {beat.ed_frame + 1} " in text and "corrected" not in text and DEMO_LABEL in text


def test_key_frame_needs_the_loop_and_a_phase(demo_study_report):
    from dataclasses import replace

    lr = demo_study_report.loops[0]
    with pytest.raises(ValueError, match="phase"):
        key_frame_image(lr, lr.key_beat(), "mid")
    with pytest.raises(ValueError, match="not available"):
        key_frame_image(replace(lr, loop=None), lr.key_beat(), "ed")


def _gid_lines(ax, gid):
    return [ln for ln in ax.get_lines() if ln.get_gid() == gid]


def test_timeline_marks_each_beat_and_both_efs(demo_study_report):
    lr = demo_study_report.loops[1]
    fig = timeline_figure(lr)
    area = next(a for a in fig.axes if a.get_gid() == "area")
    ef = next(a for a in fig.axes if a.get_gid() == "ef")
    fps = lr.analysis.fps
    (ed,) = _gid_lines(area, "ed")
    (es,) = _gid_lines(area, "es")
    assert np.allclose(ed.get_xdata(), [b.ed_frame / fps for b in lr.beats])
    assert np.allclose(es.get_xdata(), [b.es_frame / fps for b in lr.beats])  # the corrected ES frames
    assert sorted(float(ln.get_ydata()[0]) for ln in _gid_lines(ef, "ef_model")) == sorted(b.ef_model for b in lr.beats)
    assert sorted(float(ln.get_ydata()[0]) for ln in _gid_lines(ef, "ef_corrected")) == \
        sorted(b.ef_corrected for b in lr.beats)
    assert ef.get_ylim() == (0, 100)
    assert "cm²" in area.get_ylabel()  # calibrated: areas in cm²


def test_uncorrected_timeline_has_model_ef_only_and_renders(demo_study_report):
    lr = demo_study_report.loops[0]
    fig = timeline_figure(lr)
    ef = next(a for a in fig.axes if a.get_gid() == "ef")
    assert len(_gid_lines(ef, "ef_model")) == len(lr.beats) and not _gid_lines(ef, "ef_corrected")
    assert ef.get_ylim()[0] == 0
    img = timeline_image(lr, width_in=5.0, height_in=2.0, dpi=100)
    assert img.shape == (200, 500, 3) and img.dtype == np.uint8
    assert (img < 128).any() and (img == 255).all(axis=2).mean() > 0.5  # ink on a white page
