"""Fixtures shared by every test package."""

import pytest

from echoviewer.models import build_model, save_weights

MEAN, STD = (30.0, 30.0, 30.0), (45.0, 45.0, 45.0)


@pytest.fixture(autouse=True)
def _isolated_user_folder(tmp_path, monkeypatch):
    """No test reads or writes the real ~/.echoviewer (caches, demo study, user weights)."""
    monkeypatch.setenv("ECHOVIEWER_HOME", str(tmp_path / "echoviewer-home"))


@pytest.fixture(scope="session")
def random_weights(tmp_path_factory):
    """Untrained compact models in the project's own format (fast; their numbers are meaningless)."""
    d = tmp_path_factory.mktemp("weights")
    seg = save_weights(build_model("unet_small"), d / "seg.pt",
                       {"architecture": "unet_small", "task": "segmentation", "mean": MEAN, "std": STD})
    ef = save_weights(build_model("r2plus1d_mini"), d / "ef.pt",
                      {"architecture": "r2plus1d_mini", "task": "ef", "mean": MEAN, "std": STD,
                       "frames": 32, "period": 2})
    return str(seg), str(ef)
