"""Exported frames say what they show (issue 21, item 3): file name, frame counted from 1, the beat's
EF as reported, "corrected tracing" when a person's tracing is drawn, the demo label; burned into a
band under the frame, whose own pixels stay as measured."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QGuiApplication, QImage

from echoviewer import DEMO_LABEL
from echoviewer.analysis.drawing import CAPTION_WARN
from tests.ui.conftest import wait_all_analysed
from tests.ui.fakes import FakeLoop


def qimage_rgb(img: QImage) -> np.ndarray:
    img = img.convertToFormat(QImage.Format.Format_RGB888)
    w, h = img.width(), img.height()
    return np.frombuffer(img.constBits(), np.uint8).reshape(h, img.bytesPerLine())[:, : 3 * w].reshape(h, w, 3).copy()


@pytest.fixture
def win(make_window, study_dir, qtbot):
    w = make_window([FakeLoop(study_dir / "a4c_0.avi", n_frames=120)])
    assert w.open_study(study_dir)
    wait_all_analysed(qtbot, w)
    qtbot.waitUntil(lambda: w.current_entry().corrections is not None, timeout=5000)
    return w


def texts(lines) -> list[str]:
    return [x if isinstance(x, str) else x[0] for x in lines]


def test_the_png_carries_file_frame_beat_ef_and_the_demo_label(win, tmp_path):
    a = win.current_entry().analysis
    b1 = a.beats[0]  # ED 0, ES 20 in the fake analysis
    win.player.seek(10)
    lines = win.exports.frame_caption()
    assert texts(lines)[0].startswith("a4c_0.avi · frame 11 of 120 · 0.20 s")  # frames count from 1
    assert f"beat 1 of {len(a.beats)} · EF {b1.ef_model:.1f} %" in texts(lines)
    assert (DEMO_LABEL, CAPTION_WARN) in lines  # the fake weights are demo weights
    assert not any("corrected" in t for t in texts(lines))
    png = win.exports.save_frame_png(str(tmp_path / "f.png"))
    rgb = qimage_rgb(QImage(str(png)))
    frame = win.exports.frame_image()
    h = frame.shape[0]
    assert rgb.shape[0] > h and np.array_equal(rgb[:h], frame)  # the frame's pixels as measured
    band = rgb[h:]
    assert (band.max(axis=2) > 200).any()  # text burned in
    assert ((band[..., 0] > 200) & (band[..., 2] < 80)).any()  # the demo label in amber
    win.player.seek(30)  # between beat 1's ES and beat 2's ED: no beat, no EF
    assert not any(t.startswith("beat") for t in texts(win.exports.frame_caption()))
    other = qimage_rgb(QImage(str(win.exports.save_frame_png(str(tmp_path / "g.png")))))
    assert other.shape[0] < rgb.shape[0]  # one line fewer


def test_a_traced_frame_says_corrected_tracing_and_the_corrected_ef(win):
    from echoviewer.analysis.tracing import mask_contour

    e = win.current_entry()
    beat = e.corrections.beats[0]
    yy, xx = np.mgrid[:112, :112]
    drawn = ((xx - 56) / 18) ** 2 + ((yy - 60) / 30) ** 2 <= 1
    e.corrections.set_tracing(beat["id"], "ed", mask_contour(drawn), np.array([56.0, 31.0]), np.array([56.0, 89.0]))
    win.request_redraw()
    win.player.seek(beat["ed_frame"])
    lines = texts(win.exports.frame_caption())
    v = e.corrections.values()[0]
    assert "corrected tracing (drawn by a person)" in lines
    assert f"frame {beat['ed_frame'] + 1} of 120 (ED)" in lines[0]
    assert f"beat 1 of {len(e.corrections.values())} · EF {v.ef:.1f} % (corrected)" in lines
    win.act.overlay.trigger()  # overlay off: no tracing drawn, none claimed
    assert "corrected tracing (drawn by a person)" not in texts(win.exports.frame_caption())


def test_copy_frame_puts_the_captioned_frame_on_the_clipboard(win, tmp_path):
    win.player.seek(5)
    win.act.copy_frame.trigger()
    got = qimage_rgb(QGuiApplication.clipboard().image())
    assert np.array_equal(got, win.exports.captioned_frame())
