import numpy as np
import pytest

from echoviewer.models.manifest import WeightsInfo
from echoviewer.pipeline.results import AnalysisSettings, Beat, LoopAnalysis


def _Info(name: str) -> WeightsInfo:
    return WeightsInfo(path=None, name=name, task="segmentation", architecture="fake", input_size=112,
                       mean=(30.0, 30.0, 30.0), std=(50.0, 50.0, 50.0), frames=None, period=None,
                       sha256="ab" * 32, demo=True, official=False)


def ellipse(cx, cy, ax, ay, size=112):
    yy, xx = np.mgrid[:size, :size]
    return ((xx - cx) / ax) ** 2 + ((yy - cy) / ay) ** 2 <= 1


@pytest.fixture
def analysis():
    """A 60-frame analysis with LV ellipses: ED at 5 and 35, ES at 20 and 50."""
    n = 60
    ph = np.cos(2 * np.pi * (np.arange(n) - 5) / 30)  # 1 at ED, -1 at ES
    masks = np.stack([ellipse(60, 55, 14 + 4 * p, 30 + 3 * p) for p in ph])
    beats = [Beat(1, 5, 20, ef_model=55.0, ef_seg=50.0), Beat(2, 35, 50, ef_model=57.0, ef_seg=51.0)]
    return LoopAnalysis(
        path="loop.avi", n_frames=n, fps=50.0, cm_per_pixel_grid=0.1, areas=masks.sum((1, 2)), masks=masks,
        beats=beats, ef_mean=56.0, ef_sd=1.4, ef_seg_mean=50.5, edv_mean=None, esv_mean=None,
        volume_unit="mL", hr_bpm=100.0, flags=[], seg_info=_Info("seg"), ef_info=_Info("ef"),
        settings=AnalysisSettings(), device="cpu",
    )
