"""Training helpers: augmentation keeps masks aligned; beats are matched one to one."""

import numpy as np

from echoviewer.evaluation.phantoms import match_beats
from echoviewer.training.augment import Augment


def test_augment_keeps_mask_aligned_with_frame():
    rng = np.random.default_rng(0)
    frame = np.zeros((112, 112, 3), np.uint8)
    frame[40:70, 50:80] = 200
    mask = frame[..., 0] > 0
    aug = Augment(noise_sd=(0, 0), dropout_p=0, gamma=(1, 1), gain=(1, 1), geometry_p=1.0)
    for _ in range(5):
        f, m = aug(frame, mask, rng)
        bright = f[..., 0] > 100
        inter = (bright & m).sum()
        assert inter / max(m.sum(), 1) > 0.9 and m.sum() > 0.7 * mask.sum()


def test_match_beats_is_one_to_one_within_tolerance():
    assert match_beats(np.array([10, 50, 90]), [12, 49, 130], tolerance=5) == {0: 0, 1: 1}
    assert match_beats(np.array([10, 12]), [11], tolerance=5) in ({0: 0}, {1: 0})
