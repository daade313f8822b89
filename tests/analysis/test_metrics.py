import numpy as np
import pytest

from echoviewer.analysis.metrics import dice, mae, r2, rmse


def test_dice_is_pooled_over_masks():
    a1 = np.zeros((4, 4), bool)
    a1[:2] = True  # 8
    b1 = np.zeros((4, 4), bool)
    b1[:1] = True  # 4, overlap 4
    a2 = np.zeros((4, 4), bool)
    a2[0, 0] = True  # 1
    b2 = np.zeros((4, 4), bool)  # 0
    pooled = 2 * (4 + 0) / (8 + 4 + 1 + 0)
    assert dice([a1, a2], [b1, b2]) == pytest.approx(pooled)
    assert dice(np.stack([a1, a2]), np.stack([b1, b2])) == pytest.approx(pooled)
    # not the mean of per-mask Dice
    assert pooled != pytest.approx((2 * 4 / 12 + 0) / 2)
    assert dice(a1, a1) == 1.0
    assert dice(np.zeros((3, 3)), np.zeros((3, 3))) == 1.0
    with pytest.raises(ValueError):
        dice(np.zeros((3, 3)), np.zeros((4, 4)))


def test_errors():
    assert mae([1, 2, 3], [2, 2, 5]) == pytest.approx(1.0)
    assert rmse([1, 2, 3], [2, 2, 5]) == pytest.approx(np.sqrt(5 / 3))
    assert r2([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert np.isnan(mae([], []))
