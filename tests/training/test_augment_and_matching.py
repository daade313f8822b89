"""Training helpers: augmentation keeps masks aligned; beats are matched one to one."""

import numpy as np

from echoviewer.evaluation.phantoms import match_beats
from echoviewer.training.augment import Augment


def test_augment_keeps_mask_aligned_with_frame():
    rng = np.random.default_rng(0)
    frame = np.zeros((112, 112, 3), np.uint8)
    frame[40:70, 50:80] = 200
    mask = frame[..., 0] > 0
    appearance_off = dict(noise_sd=(0, 0), dropout_p=0, gamma=(1, 1), gain=(1, 1), curve_p=0, blur_p=0, speckle_p=0,
                          sector_p=0, geometry_p=1.0)
    aug = Augment(**appearance_off, zoom=(0.85, 1.15))
    for _ in range(5):
        f, m = aug(frame, mask, rng)
        bright = f[..., 0] > 100
        inter = (bright & m).sum()
        assert inter / max(m.sum(), 1) > 0.9 and m.sum() > 0.7 * mask.sum()
    # the default range zooms out too (a real sector often fills part of the grid): still aligned
    aug = Augment(**appearance_off)
    for _ in range(10):
        f, m = aug(frame, mask, rng)
        inter = ((f[..., 0] > 100) & m).sum()
        assert inter / max(m.sum(), 1) > 0.9 and m.sum() > 0.3 * mask.sum()


def test_each_frame_of_a_batch_gets_its_own_draw_and_masks_stay_binary():
    rng = np.random.default_rng(1)
    frames = np.zeros((6, 112, 112, 1), np.uint8)
    frames[:, 40:70, 50:80] = 180
    masks = frames[..., 0] > 0
    f, m = Augment(geometry_p=1.0).each(frames, masks, rng)
    assert f.shape == frames.shape and f.dtype == np.uint8 and m.shape == masks.shape and m.dtype == bool
    centres = {tuple(np.round(np.argwhere(mi).mean(axis=0)).astype(int)) for mi in m}
    assert len(centres) == 6  # six different geometries, not one shared by the batch


def test_match_beats_is_one_to_one_within_tolerance():
    assert match_beats(np.array([10, 50, 90]), [12, 49, 130], tolerance=5) == {0: 0, 1: 1}
    assert match_beats(np.array([10, 12]), [11], tolerance=5) in ({0: 0}, {1: 0})
