"""The run-time agreement check of the fast path (bf16) against float32."""

import numpy as np
import torch

from echoviewer.pipeline.analyzer import _ef_agree, _masks_agree
from echoviewer.pipeline.inference import InferenceEngine


def _engine():
    torch.manual_seed(0)
    model = torch.nn.Conv2d(3, 1, 3, padding=1)
    return InferenceEngine(model, "cpu", fast=True, precision="bf16")


def test_a_fast_path_that_disagrees_is_dropped_for_float32():
    eng = _engine()
    x = np.random.default_rng(0).normal(size=(6, 3, 16, 16)).astype(np.float32)
    calls = []

    def disagree(fast, ref):
        calls.append((fast.shape, ref.shape))
        return False, "too different"

    out = eng.run_checked(x, disagree, 2)
    assert calls == [((2, 1, 16, 16), (2, 1, 16, 16))]  # checked on the first 2 inputs
    assert eng.precision == "fp32" and "refused" in eng.check_note
    eng_fp32 = InferenceEngine(eng.model, "cpu", fast=True, precision="fp32")
    np.testing.assert_array_equal(out, eng_fp32.run(x))  # the whole batch redone in float32
    eng.run_checked(x, disagree, 2)
    assert len(calls) == 1  # once per model


def test_a_fast_path_that_agrees_is_kept_and_its_output_used():
    eng = _engine()
    x = np.random.default_rng(1).normal(size=(4, 3, 16, 16)).astype(np.float32)
    out = eng.run_checked(x, lambda f, r: (bool(np.abs(f - r).max() < 0.1), "close"), 4)
    assert eng.precision == "bf16" and eng.check_note.startswith("bf16 kept")
    np.testing.assert_array_equal(out, eng.run(x))


def test_agreement_rules_are_the_issue_thresholds():
    ref = np.zeros((4, 1, 112, 112), np.float32) - 5
    ref[:, :, 30:80, 30:80] = 5
    fast = ref.copy()
    assert _masks_agree(fast, ref)[0]
    fast[:, :, 30:80, 30:33] = -5  # 3 of 50 columns flipped: Dice 0.969
    ok, note = _masks_agree(fast, ref)
    assert not ok and "Dice 0.96" in note
    assert _ef_agree(np.array([[55.3]]), np.array([[55.0]]))[0]
    assert not _ef_agree(np.array([[55.6]]), np.array([[55.0]]))[0]
