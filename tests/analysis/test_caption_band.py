"""The caption band under an exported frame (analysis/drawing.py): added under the image, never over
it; text scaled and wrapped to the image width; ASCII only (OpenCV's fonts)."""

import numpy as np

from echoviewer.analysis.drawing import CAPTION_BG, CAPTION_WARN, _ascii, caption_band


def test_the_band_is_added_under_the_image_which_keeps_its_pixels():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    out = caption_band(img, ["a4c.avi · frame 3 of 40", ("demo — not for clinical use", CAPTION_WARN)])
    assert out.shape[1] == 160 and out.shape[0] > 120
    assert np.array_equal(out[:120], img)
    band = out[120:]
    assert (band == CAPTION_BG).all(axis=2).mean() > 0.6  # mostly the dark band
    assert (band.max(axis=2) > 200).any()  # with light text on it
    warn = (band[..., 0] > 200) & (band[..., 1] > 150) & (band[..., 2] < 80)
    assert warn.any()  # the demo line in its own colour


def test_grey_frames_and_no_lines():
    grey = np.full((50, 60), 80, np.uint8)
    assert caption_band(grey, []).shape == (50, 60, 3)
    assert caption_band(grey, ["x"]).shape[:2][1] == 60


def test_long_lines_wrap_to_the_image_width():
    img = np.zeros((112, 112, 3), np.uint8)
    one = caption_band(img, ["short"])
    many = caption_band(img, ["a_very_long_file_name_exported_by_the_scanner_2024.avi · frame 21 of 120 · 0.40 s"])
    assert many.shape[0] > one.shape[0] + 20  # several lines, none cut at the right edge
    assert many.shape[1] == 112
    assert not (many[112:, -2:] != CAPTION_BG).any()  # the right margin stays clear


def test_text_is_spelled_in_ascii():
    assert _ascii("Müller — EF 55.3 % · 1–20 ± 2") == "Muller - EF 55.3 % | 1-20 +/- 2"
