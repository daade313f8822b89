"""The phantom generator's other kinds: each written file gets the decision it should (io/gates.py)."""

from __future__ import annotations

import numpy as np
import pytest

from echoviewer.io import open_loop
from echoviewer.io.gates import Verdict, screen
from echoviewer.synthetic.kinds import EXPECTED, KINDS, mmode_strip, spectral_strip, write_kind


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kinds")
    return {kind: write_kind(folder, kind, seed=3) for kind in KINDS}


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_gets_its_decision_before_any_model(files, kind):
    loop = open_loop(files[kind])
    try:
        d = screen(loop)
    finally:
        loop.close()
    assert d.verdict.value == EXPECTED[kind], d
    if d.verdict != Verdict.ANALYSABLE:
        assert d.reason  # every loop left out says why


def test_the_strip_kinds_say_what_they_are(files):
    loops = {k: open_loop(files[k]) for k in ("doppler", "mmode", "a4c_strip", "colour_flow", "screenshot")}
    try:
        assert "Doppler strip" in screen(loops["doppler"]).reason
        assert "M-mode" in screen(loops["mmode"]).reason
        strip = loops["a4c_strip"]
        assert strip.height > 240 and strip.region[3] <= 240  # analysed in the 2D region above the strip
        assert "2D region only" in screen(strip).reason
        assert screen(loops["colour_flow"]).gate == "pixels"  # its header lists a tissue region only
        assert screen(loops["screenshot"]).gate == "pixels"
    finally:
        for lp in loops.values():
            lp.close()


def test_strips_scroll():
    for make in (spectral_strip, mmode_strip):
        s = make(5, 64, 48, 50.0, seed=1)
        assert s.shape == (5, 48, 64) and s.dtype == np.uint8
        assert not np.array_equal(s[0], s[-1])


def test_unknown_kind(tmp_path):
    with pytest.raises(ValueError, match="kind must be one of"):
        write_kind(tmp_path, "tee")
