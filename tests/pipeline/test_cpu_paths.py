"""The inference path is chosen by what the CPU has; each class's path is tested here by forcing it
(``ECHOVIEWER_CPU``), whatever CPU the tests run on."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from echoviewer.pipeline import inference
from echoviewer.pipeline.inference import CPU_CLASSES, InferenceEngine, choose_precision, cpu_class

CPU = torch.device("cpu")


@pytest.mark.parametrize("cls, with_int8, without_int8", [
    ("amx", "bf16", "bf16"),
    ("avx512_bf16", "bf16", "bf16"),
    ("avx512", "int8", "fp32"),
    ("avx2", "int8", "fp32"),
    ("baseline", "fp32", "fp32"),
])
def test_each_cpu_class_gets_its_path(monkeypatch, cls, with_int8, without_int8):
    monkeypatch.setenv(inference.CPU_ENV, cls)
    assert cpu_class() == cls
    assert choose_precision(CPU, fast=True, int8_ok=True) == with_int8
    assert choose_precision(CPU, fast=True, int8_ok=False) == without_int8
    assert choose_precision(CPU, fast=False, int8_ok=True) == "fp32"
    assert choose_precision(torch.device("cuda"), fast=True, int8_ok=True) == "fp16"


def test_the_probe_names_a_known_class_and_a_bad_override_is_one_line(monkeypatch):
    monkeypatch.delenv(inference.CPU_ENV, raising=False)
    assert cpu_class() in CPU_CLASSES
    monkeypatch.setenv(inference.CPU_ENV, "sse2")
    with pytest.raises(ValueError, match="ECHOVIEWER_CPU='sse2': expected one of amx, "):
        cpu_class()


def _conv():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(8, 1, 1))


def test_int8_engine_runs_its_copy_and_the_check_can_drop_it(monkeypatch):
    monkeypatch.setenv(inference.CPU_ENV, "avx2")
    made = []

    def int8(model):
        copy = _conv()
        with torch.no_grad():
            for p in copy.parameters():
                p.add_(0.5)  # a different model: its output tells which one ran
        made.append(copy)
        return copy

    eng = InferenceEngine(_conv(), "cpu", fast=True, int8=int8)
    assert eng.precision == "int8" and eng.int8_model is made[0]
    x = np.random.default_rng(0).normal(size=(3, 3, 16, 16)).astype(np.float32)
    fp32 = InferenceEngine(_conv(), "cpu", fast=False)
    out = eng.run(x)
    assert not np.allclose(out, fp32.run(x))  # the int8 copy ran
    checked = eng.check(x, out, lambda fast, ref: (False, "differs"), 2)
    assert eng.precision == "fp32" and eng.int8_model is None and "int8 refused" in eng.check_note
    np.testing.assert_allclose(checked, fp32.run(x), rtol=1e-5, atol=1e-5)


def test_an_int8_copy_that_cannot_be_made_means_float32(monkeypatch):
    monkeypatch.setenv(inference.CPU_ENV, "avx2")

    def broken(model):
        raise RuntimeError("cannot trace")

    eng = InferenceEngine(_conv(), "cpu", fast=True, int8=broken)
    assert eng.precision == "fp32" and eng.checked and "int8 unavailable" in eng.check_note
    assert InferenceEngine(_conv(), "cpu", fast=True).precision == "fp32"  # no int8 copy at all


@pytest.mark.slow
def test_official_architectures_on_an_avx2_cpu_run_int8_checked_and_cached(tmp_path, monkeypatch, phantom_loop):
    """The AVX2 path end to end with the official architectures: both models get int8 copies
    (calibrated on phantoms, float32 outputs), the run-time check decides on each, the result is
    well-formed either way, and a second session rebuilds the same int8 models from the cache."""
    from echoviewer.models.architectures import build_model
    from echoviewer.models.checkpoints import save_weights
    from echoviewer.pipeline.analyzer import Analyzer
    from echoviewer.pipeline.results import AnalysisSettings

    monkeypatch.setenv(inference.CPU_ENV, "avx2")
    monkeypatch.setenv("ECHOVIEWER_HOME", str(tmp_path / "home"))
    torch.manual_seed(0)
    seg = save_weights(build_model("deeplabv3_resnet50"), tmp_path / "seg.pt",
                       {"architecture": "deeplabv3_resnet50", "task": "segmentation",
                        "mean": (32.0,) * 3, "std": (50.0,) * 3})
    ef = save_weights(build_model("r2plus1d_18"), tmp_path / "ef.pt",
                      {"architecture": "r2plus1d_18", "task": "ef", "mean": (32.0,) * 3, "std": (50.0,) * 3,
                       "frames": 32, "period": 2})
    settings = AnalysisSettings(seg_weights=str(seg), ef_weights=str(ef), device="cpu")
    a = Analyzer(settings, use_cache=True)
    assert a.seg_engine.precision == a.ef_engine.precision == "int8"
    cached = sorted((tmp_path / "home" / "cache" / "int8").glob("*.pt"))
    assert len(cached) == 2
    # float32 outputs: the last conv of DeepLabV3 and R(2+1)D's linear head stay float
    assert isinstance(dict(a.seg_engine.int8_model.named_modules())["model.classifier.4"], torch.nn.Conv2d)
    assert isinstance(dict(a.ef_engine.int8_model.named_modules())["fc"], torch.nn.Linear)
    calibrated = a.seg_engine.int8_model
    res = a.analyze(phantom_loop)
    assert res.masks.shape == (phantom_loop.n_frames, 112, 112)
    for eng in (a.seg_engine, a.ef_engine):
        assert eng.checked and eng.check_note.startswith("int8 ")  # kept or refused, with the reason
        assert eng.precision in ("int8", "fp32")
    # a new session: the int8 models come from the cache, identical to the calibrated ones
    monkeypatch.setattr("echoviewer.pipeline.quantize.calibration_grid",
                        lambda: pytest.fail("calibrated again instead of using the cache"))
    b = Analyzer(settings, use_cache=True)
    assert b.seg_engine.precision == b.ef_engine.precision == "int8"
    x = torch.from_numpy(np.random.default_rng(3).normal(size=(2, 3, 112, 112)).astype(np.float32))
    with torch.inference_mode():
        np.testing.assert_array_equal(b.seg_engine.int8_model(x).numpy(), calibrated(x).numpy())
