"""A beat whose EF clip had to be moved or padded says so in words a sonographer reads (issue 21,
item 10); the CSV's clip_mode keeps the mode's name."""

import numpy as np
import pytest

from echoviewer.io.loop import Loop
from echoviewer.pipeline.analyzer import Analyzer
from echoviewer.pipeline.preprocess import CLIP_NOTES
from echoviewer.pipeline.results import AnalysisSettings
from echoviewer.synthetic.phantom import generate_phantom


@pytest.fixture(scope="module")
def phantom():
    return generate_phantom(7, hr=75, fps=50, n_beats=4, ef=45, ef_sd=0)


@pytest.mark.parametrize("n,exact,mode", [(155, False, "shifted"), (50, False, "padded"), (155, True, "dropped")])
def test_clip_flags_are_words(random_weights, phantom, n, exact, mode):
    seg, ef = random_weights
    analyzer = Analyzer(AnalysisSettings(seg_weights=seg, ef_weights=ef, device="cpu", echonet_exact=exact),
                        use_cache=False)
    analyzer.ef_engine.run_checked = lambda x, *a, **k: np.zeros((len(x), 1), np.float32)
    loop = Loop.from_frames(phantom.frames[:n].copy(), fps=phantom.fps)
    res = analyzer.summarise(loop, loop.grid_frames(), phantom.truth.masks[:n])
    beats = [b for b in res.beats if b.clip_mode == mode]
    assert beats
    for b in beats:
        assert CLIP_NOTES[mode] in b.flags
        assert not any(f.startswith("clip ") for f in b.flags)  # not "clip shifted"
    assert "moved to fit inside the loop" in CLIP_NOTES["shifted"]
