from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import echoviewer
from echoviewer.models import (
    FORMAT,
    NUMPY_SAFE_GLOBALS,
    STANDIN_MEAN,
    STANDIN_STD,
    SegmentationLogits,
    WeightsError,
    build_model,
    load_model,
    save_weights,
)
from echoviewer.models.checkpoints import read_checkpoint
from echoviewer.paths import sha256_file

MEAN = (30.0, 31.0, 32.0)
STD = (48.0, 49.0, 50.0)


def _assert_same_weights(loaded: torch.nn.Module, original: torch.nn.Module) -> None:
    inner = loaded.model if isinstance(loaded, SegmentationLogits) else loaded
    a, b = inner.state_dict(), original.state_dict()
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def _one_line(exc: pytest.ExceptionInfo, path) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    assert str(path) in msg, msg
    return msg


@pytest.fixture(scope="module")
def demo_models():
    torch.manual_seed(3)
    seg = build_model("unet_small").eval()
    ef = build_model("r2plus1d_mini").eval()
    for m in (seg, ef):  # non-trivial BN statistics, so a buffer mix-up would show
        for mod in m.modules():
            if isinstance(mod, torch.nn.modules.batchnorm._BatchNorm):
                mod.running_mean.uniform_(-0.1, 0.1)
                mod.running_var.uniform_(0.5, 1.5)
    return seg, ef


@pytest.fixture()
def own_seg(tmp_path, demo_models):
    seg, _ = demo_models
    return save_weights(seg, tmp_path / "seg_v1.pt", {
        "mean": MEAN, "std": STD, "demo": False,
        "provenance": {"command": "echoviewer train seg", "seed": 3, "data": "synthetic"},
        "metrics": {"dice": np.float64(0.9)},
    })


# ---------------------------------------------------------------- official format (a)

def test_official_segmentation_loads(official_seg):
    model, path = official_seg
    loaded, info = load_model("segmentation", path)
    assert isinstance(loaded, SegmentationLogits) and not loaded.training
    _assert_same_weights(loaded, model)
    x = torch.randn(1, 3, 64, 64)  # small input: the check is that both compute the same
    with torch.inference_mode():
        torch.testing.assert_close(loaded(x), model(x)["out"])
    assert info.task == "segmentation" and info.architecture == "deeplabv3_resnet50"
    assert info.official and not info.demo
    assert info.name == "deeplabv3_resnet50_random" and info.path == path
    assert info.mean == STANDIN_MEAN and info.std == STANDIN_STD
    assert "stand-in" in info.provenance["mean_std"]
    assert info.provenance["released_name"] and info.provenance["epoch"] == 44
    assert info.frames is None and info.period is None
    assert info.sha256 == sha256_file(path)
    assert info.metrics["best_loss"] == pytest.approx(0.0713)


def test_official_ef_loads_with_numpy_r2(official_ef):
    model, path = official_ef
    # the plain weights_only load refuses the numpy scalar: the allow-list is really needed
    with pytest.raises(Exception, match="numpy"):
        torch.load(path, map_location="cpu", weights_only=True)
    loaded, info = load_model("ef", path, mean=MEAN)
    assert not loaded.training
    _assert_same_weights(loaded, model)
    x = torch.randn(1, 3, 4, 56, 56)
    with torch.inference_mode():
        torch.testing.assert_close(loaded(x), model(x))
    assert info.architecture == "r2plus1d_18" and info.official
    assert (info.frames, info.period) == (32, 2)
    assert info.metrics["r2"] == pytest.approx(0.8) and type(info.metrics["r2"]) is float
    assert info.mean == MEAN and info.std == STANDIN_STD
    assert info.provenance["mean_std"] == "set by the caller"


def test_wrong_task_refused(official_seg, official_ef):
    _, seg_path = official_seg
    with pytest.raises(WeightsError) as exc:
        load_model("ef", seg_path)
    assert "holds segmentation weights, but EF weights were asked for" in _one_line(exc, seg_path)
    _, ef_path = official_ef
    with pytest.raises(WeightsError) as exc:
        load_model("segmentation", ef_path)
    assert "holds EF weights, but segmentation weights were asked for" in _one_line(exc, ef_path)


def test_mismatched_official_architecture(tmp_path, reference_saver):
    # torchvision's default 21-class head: recognised as segmentation, but does not fit
    class Partial(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.classifier = torch.nn.Sequential(*[torch.nn.Identity()] * 4, torch.nn.Conv2d(256, 21, 1))

    path = tmp_path / "deeplabv3_resnet50_random.pt"
    reference_saver(Partial(), path)
    with pytest.raises(WeightsError) as exc:
        load_model("segmentation", path)
    msg = _one_line(exc, path)
    assert "does not fit architecture deeplabv3_resnet50" in msg
    assert "classifier.4.weight (21, 256, 1, 1) vs (1, 256, 1, 1)" in msg
    assert "missing keys: backbone.conv1.weight" in msg and "more)" in msg


def test_official_layout_legacy_format_numpy1_names(tmp_path, demo_models, reference_saver):
    """torch < 1.6 (legacy, non-zip) file whose pickle names numpy < 2's numpy.core.multiarray.scalar,
    like the released checkpoints; here with a demo architecture to keep it small."""
    _, ef = demo_models
    tmp = tmp_path / "tmp.pt"
    reference_saver(ef, tmp, {"period": 2, "frames": 16, "r2": np.float64(0.75)},
                    _use_new_zipfile_serialization=False)
    raw = tmp.read_bytes()
    new_name, old_name = b"numpy._core.multiarray\nscalar", b"numpy.core.multiarray\nscalar"
    assert raw.count(new_name) == 1
    path = tmp_path / "legacy_ef.pt"
    path.write_bytes(raw.replace(new_name, old_name))
    loaded, info = load_model("ef", path)
    _assert_same_weights(loaded, ef)
    assert info.architecture == "r2plus1d_mini" and info.frames == 16 and info.metrics["r2"] == 0.75
    assert info.provenance["source"] == "EchoNet-Dynamic checkpoint" and not info.provenance["released_name"]


def test_allow_list_is_minimal(tmp_path):
    names = sorted(g[1] if isinstance(g, tuple) else f"{g.__module__}.{g.__qualname__}" for g in NUMPY_SAFE_GLOBALS)
    assert names == ["numpy._core.multiarray.scalar", "numpy.core.multiarray.scalar", "numpy.dtype",
                     "numpy.dtypes.Float64DType"]
    ok = tmp_path / "ok.pt"
    torch.save({"r2": np.float64(0.5)}, ok)
    assert read_checkpoint(ok)["r2"] == 0.5
    for i, value in enumerate([np.float32(0.5), np.arange(3)]):
        bad = tmp_path / f"bad{i}.pt"
        torch.save({"x": value}, bad)
        with pytest.raises(WeightsError, match="refused"):
            read_checkpoint(bad)


# ---------------------------------------------------------------- own format (b)

def test_own_format_round_trip(own_seg, demo_models):
    seg, _ = demo_models
    path = own_seg
    assert path.suffix == ".pt" and path.with_suffix(".json").is_file()
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    man = json.loads(path.with_suffix(".json").read_text())
    assert man["format"] == FORMAT and man["architecture"] == "unet_small" and man["task"] == "segmentation"
    assert man["sha256"] == sha256_file(path)
    assert man["metrics"]["dice"] == 0.9 and man["provenance"]["seed"] == 3 and "date" in man["provenance"]
    # a plain state dict of tensors: loads with weights_only and no allow-list at all
    sd = torch.load(path, map_location="cpu", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in sd.values())
    loaded, info = load_model("segmentation", path)
    _assert_same_weights(loaded, seg)
    x = torch.randn(2, 3, 112, 112)
    with torch.inference_mode():
        torch.testing.assert_close(loaded(x), seg(x))
    assert info.mean == MEAN and info.std == STD and not info.demo and not info.official
    assert info.sha256 == man["sha256"] and info.provenance["command"] == "echoviewer train seg"
    # the manifest path works too
    assert load_model("segmentation", path.with_suffix(".json"))[1].sha256 == info.sha256


def test_own_format_ef_and_demo(tmp_path, demo_models):
    _, ef = demo_models
    wrapped = torch.nn.DataParallel(ef)
    path = save_weights(wrapped, tmp_path / "demo_ef", {"mean": MEAN, "std": STD, "demo": True, "frames": 16})
    assert path.name == "demo_ef.pt"
    loaded, info = load_model("ef", path)
    _assert_same_weights(loaded, ef)
    assert info.demo and (info.frames, info.period) == (16, 2)
    assert echoviewer.DEMO_LABEL in info.label
    with pytest.raises(WeightsError) as exc:
        load_model("segmentation", path)
    assert "holds EF weights, but segmentation weights were asked for" in _one_line(exc, path)


def test_save_weights_needs_mean_std(tmp_path, demo_models):
    with pytest.raises(ValueError, match="mean"):
        save_weights(demo_models[0], tmp_path / "x.pt", {})


def test_checksum_mismatch(own_seg):
    data = bytearray(own_seg.read_bytes())
    data[-30] ^= 0xFF
    own_seg.write_bytes(bytes(data))
    with pytest.raises(WeightsError) as exc:
        load_model("segmentation", own_seg)
    assert "checksum mismatch" in _one_line(exc, own_seg)


def _rewrite_manifest(pt: Path, **changes) -> None:
    m = pt.with_suffix(".json")
    data = json.loads(m.read_text())
    data.update(changes)
    m.write_text(json.dumps(data))


def test_unknown_architecture_in_manifest(own_seg):
    _rewrite_manifest(own_seg, architecture="unet_huge")
    with pytest.raises(WeightsError) as exc:
        load_model("segmentation", own_seg)
    msg = str(exc.value)
    assert "unknown architecture 'unet_huge'" in msg and "seg_v1.json" in msg and "\n" not in msg


def test_manifest_architecture_mismatch(tmp_path):
    from echoviewer.models import UNetSmall

    # save_weights itself refuses weights that do not fit the named architecture
    with pytest.raises(WeightsError, match="does not fit architecture unet_small"):
        save_weights(UNetSmall(widths=(8, 16, 32, 64)), tmp_path / "narrow.pt",
                     {"architecture": "unet_small", "mean": MEAN, "std": STD})
    # a hand-made own-format pair that does not fit is refused on load, naming offending keys
    narrow = tmp_path / "narrow.pt"
    torch.save(UNetSmall(widths=(8, 16, 32, 64)).state_dict(), narrow)
    narrow.with_suffix(".json").write_text(json.dumps({
        "format": FORMAT, "architecture": "unet_small", "task": "segmentation", "input_size": 112,
        "mean": MEAN, "std": STD, "frames": None, "period": None, "provenance": {}, "metrics": {},
        "sha256": sha256_file(narrow), "demo": False}))
    with pytest.raises(WeightsError) as exc:
        load_model("segmentation", narrow)
    msg = _one_line(exc, narrow)
    assert ("does not fit architecture unet_small: wrong shapes (file vs model): "
            "enc1.0.0.weight (8, 3, 3, 3) vs (16, 3, 3, 3)") in msg


def test_own_format_refuses_numpy(tmp_path, demo_models):
    """Own-format files get no allow-list: even a numpy scalar is refused."""
    seg, _ = demo_models
    path = save_weights(seg, tmp_path / "s.pt", {"mean": MEAN, "std": STD})
    sd = torch.load(path, weights_only=True)
    sd["extra"] = np.float64(1.0)
    torch.save(sd, path)
    _rewrite_manifest(path, sha256=sha256_file(path))
    with pytest.raises(WeightsError) as exc:
        load_model("segmentation", path)
    assert "refused" in _one_line(exc, path) and "numpy" in str(exc.value)


# ---------------------------------------------------------------- hostile and broken files

class _Payload:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


@pytest.mark.parametrize("with_manifest", [False, True])
def test_code_carrying_pickle_is_refused(tmp_path, with_manifest):
    marker = tmp_path / "marker.txt"
    path = tmp_path / "evil.pt"
    torch.save({"state_dict": {"module.classifier.4.weight": torch.zeros(1, 256, 1, 1)}, "x": _Payload(marker)}, path)
    if with_manifest:
        path.with_suffix(".json").write_text(json.dumps({
            "format": FORMAT, "architecture": "unet_small", "task": "segmentation", "mean": MEAN, "std": STD,
            "sha256": sha256_file(path), "demo": False}))
    with pytest.raises(WeightsError) as exc:
        load_model("segmentation", path)
    msg = _one_line(exc, path)
    assert "refused" in msg and "exec" in msg
    assert not marker.exists()
    # the file really is hostile: full unpickling would have run the payload
    copy = tmp_path / "copy.pt"
    shutil.copy(path, copy)
    torch.load(copy, weights_only=False)
    assert marker.read_text() == "pwned"


def test_truncated_files(tmp_path, demo_models, reference_saver):
    _, ef = demo_models
    for legacy in (False, True):
        full = tmp_path / f"full{legacy}.pt"
        reference_saver(ef, full, _use_new_zipfile_serialization=not legacy)
        data = full.read_bytes()
        for frac in (0.5, 0.99):
            cut = tmp_path / f"cut{legacy}{frac}.pt"
            cut.write_bytes(data[: int(len(data) * frac)])
            with pytest.raises(WeightsError) as exc:
                load_model("ef", cut)
            assert "truncated or corrupt" in _one_line(exc, cut)


def test_not_a_checkpoint(tmp_path):
    cases = {
        "empty.pt": (b"", "is empty"),
        "text.pt": (b"hello, this is not a model\n", "is not a PyTorch checkpoint"),
        "image.pt": (b"\x89PNG\r\n\x1a\n" + bytes(100), "is not a PyTorch checkpoint"),
    }
    for name, (content, expected) in cases.items():
        p = tmp_path / name
        p.write_bytes(content)
        with pytest.raises(WeightsError) as exc:
            load_model("segmentation", p)
        assert expected in _one_line(exc, p)
    z = tmp_path / "archive.pt"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("readme.txt", "hi")
    with pytest.raises(WeightsError) as exc:
        load_model("segmentation", z)
    assert "zip archive but not a PyTorch checkpoint" in _one_line(exc, z)
    for name, obj, expected in [("tensor.pt", torch.zeros(3), "does not hold model weights"),
                                ("list.pt", [1, 2], "does not hold model weights"),
                                ("strange.pt", {"a.weight": torch.zeros(2)}, "keys match no known architecture")]:
        p = tmp_path / name
        torch.save(obj, p)
        with pytest.raises(WeightsError) as exc:
            load_model("segmentation", p)
        assert expected in _one_line(exc, p)
    missing = tmp_path / "nope.pt"
    with pytest.raises(WeightsError) as exc:
        load_model("segmentation", missing)
    assert "no such file" in _one_line(exc, missing)


def test_unknown_task_and_device(own_seg):
    with pytest.raises(ValueError, match="unknown task"):
        load_model("volume", own_seg)
    from echoviewer.models import DeviceError

    with pytest.raises(DeviceError):
        load_model("segmentation", own_seg, device="tpu")
