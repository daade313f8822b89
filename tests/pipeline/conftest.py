import pytest

from echoviewer.io.loop import Loop
from echoviewer.models import build_model, save_weights
from echoviewer.synthetic.phantom import generate_phantom

MEAN, STD = (30.0, 30.0, 30.0), (45.0, 45.0, 45.0)


@pytest.fixture(scope="session")
def random_weights(tmp_path_factory):
    """Untrained compact models in the project's own format (fast; numbers are meaningless)."""
    d = tmp_path_factory.mktemp("weights")
    seg = save_weights(build_model("unet_small"), d / "seg.pt",
                       {"architecture": "unet_small", "task": "segmentation", "mean": MEAN, "std": STD})
    ef = save_weights(build_model("r2plus1d_mini"), d / "ef.pt",
                      {"architecture": "r2plus1d_mini", "task": "ef", "mean": MEAN, "std": STD,
                       "frames": 32, "period": 2})
    return str(seg), str(ef)


@pytest.fixture(scope="session")
def phantom():
    return generate_phantom(7, hr=75, fps=50, n_beats=4, ef=45, ef_sd=0)


@pytest.fixture
def phantom_loop(phantom):
    return Loop.from_frames(phantom.frames, fps=phantom.fps, cm_per_pixel=phantom.truth.cm_per_pixel,
                            path="<phantom7>")


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("ECHOVIEWER_HOME", str(tmp_path / "home"))
