from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

import echoviewer
from echoviewer.models import (
    FORMAT,
    DeviceError,
    WeightsError,
    build_model,
    discovery,
    find_weights,
    load_model,
    pick_device,
    save_weights,
    search_dirs,
)


@pytest.fixture()
def places(tmp_path, monkeypatch):
    """Isolated search folders: env dir, app dir, user dir (nothing from the real machine)."""
    env, app, home = tmp_path / "env", tmp_path / "app", tmp_path / "home"
    for d in (env, app, home / "weights"):
        d.mkdir(parents=True)
    monkeypatch.setenv("ECHOVIEWER_WEIGHTS", str(env))
    monkeypatch.setenv("ECHOVIEWER_HOME", str(home))
    monkeypatch.setattr(discovery, "_app_dirs", lambda: [app])
    return env, app, home / "weights"


def _touch(path: Path) -> Path:
    path.write_bytes(b"x")
    return path


def _own(folder: Path, name: str, task: str, demo: bool) -> Path:
    pt = _touch(folder / f"{name}.pt")
    pt.with_suffix(".json").write_text(json.dumps({"format": FORMAT, "task": task, "demo": demo}))
    return pt


def test_search_dirs_order(places):
    env, app, user = places
    assert search_dirs() == [env, app, user]


def test_default_dirs(monkeypatch, tmp_path):
    monkeypatch.delenv("ECHOVIEWER_WEIGHTS", raising=False)
    monkeypatch.delenv("ECHOVIEWER_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("USERPROFILE", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    repo_weights = Path(echoviewer.__file__).resolve().parent.parent / "weights"
    if sys.platform.startswith("linux"):  # no ~/.echoviewer: the OS's application-data folder
        assert search_dirs() == [repo_weights, tmp_path / "xdg-data" / "EchoViewer" / "weights"]
    (tmp_path / ".echoviewer").mkdir()  # a user of an earlier version keeps their folder
    assert search_dirs() == [repo_weights, tmp_path / ".echoviewer" / "weights"]
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "bundle"), raising=False)
    dirs = search_dirs()
    assert tmp_path / "bundle" / "weights" in dirs
    assert Path(sys.executable).resolve().parent / "weights" in dirs


def test_nothing_found(places):
    env, app, user = places
    with pytest.raises(WeightsError) as exc:
        find_weights("segmentation")
    msg = str(exc.value)
    assert msg.startswith("no segmentation weights found; looked in")
    assert all(str(d) in msg for d in places) and "\n" not in msg
    with pytest.raises(WeightsError, match="no EF weights found"):
        find_weights("ef")


def test_priority(places):
    env, app, user = places
    demo = _own(app, "demo_segmentation", "segmentation", demo=True)
    _own(app, "demo_ef", "ef", demo=True)
    assert find_weights("segmentation") == demo
    own = _own(user, "my_seg", "segmentation", demo=False)
    _own(env, "my_ef", "ef", demo=False)
    _own(env, "other_demo", "segmentation", demo=True)  # a demo is never preferred over own weights
    assert find_weights("segmentation") == own
    official_user = _touch(user / "deeplabv3_resnet50_random.pt")
    assert find_weights("segmentation") == official_user
    official_env = _touch(env / "deeplabv3_resnet50_random.pt")
    assert find_weights("segmentation") == official_env
    assert find_weights("ef") == env / "my_ef.pt"
    _touch(app / "r2plus1d_18_32_2_pretrained.pt")
    assert find_weights("ef") == app / "r2plus1d_18_32_2_pretrained.pt"
    assert discovery.available_weights("segmentation")[:3] == [official_env, official_user, own]


def test_explicit(places, tmp_path):
    env, app, user = places
    f = _touch(tmp_path / "anything.bin")
    assert find_weights("ef", explicit=f) == f
    _touch(tmp_path / "x.pt")
    assert find_weights("ef", explicit=tmp_path / "x.json") == tmp_path / "x.pt"
    folder = tmp_path / "folder"
    folder.mkdir()
    off = _touch(folder / "r2plus1d_18_32_2_pretrained.pt")
    assert find_weights("ef", explicit=folder) == off
    with pytest.raises(WeightsError, match="no such file"):
        find_weights("ef", explicit=tmp_path / "missing.pt")
    with pytest.raises(WeightsError, match=f"no segmentation weights found; looked in {folder}"):
        find_weights("segmentation", explicit=folder)


def test_load_model_discovers_demo_weights(places):
    env, app, user = places
    torch.manual_seed(0)
    save_weights(build_model("unet_small"), app / "demo_segmentation.pt",
                 {"mean": (1, 2, 3), "std": (4, 5, 6), "demo": True})
    model, info = load_model("segmentation")
    assert info.demo and info.path == app / "demo_segmentation.pt"
    assert echoviewer.DEMO_LABEL in info.label
    assert model(torch.zeros(1, 3, 112, 112)).shape == (1, 1, 112, 112)
    with pytest.raises(WeightsError, match="no EF weights found"):
        load_model("ef")


def test_pick_device():
    expected = "cuda" if torch.cuda.is_available() else (
        "mps" if torch.backends.mps.is_available() else "cpu")
    assert pick_device().type == expected
    assert pick_device("auto").type == expected
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device(torch.device("cpu")) == torch.device("cpu")
    with pytest.raises(DeviceError, match="unknown device"):
        pick_device("gpu please")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="CUDA is not available"):
            pick_device("cuda")
    else:
        assert pick_device("cuda").type == "cuda"
        with pytest.raises(DeviceError, match="CUDA device"):
            pick_device("cuda:99")
    if not torch.backends.mps.is_available():
        with pytest.raises(DeviceError, match="MPS is not available"):
            pick_device("mps")
