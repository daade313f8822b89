"""Phantom generator: truth self-consistency, parameter ranges, determinism, image content."""

import cv2
import numpy as np
import pytest

from echoviewer.analysis.metrics import dice
from echoviewer.analysis.tracing import Tracing, ef_from_volumes, tracing_from_mask
from echoviewer.synthetic.phantom import generate_phantom


@pytest.fixture(scope="module")
def batch():
    """20 loops, truth only (rendering skipped: the truth does not depend on it)."""
    return [generate_phantom(np.random.default_rng([77, i]), render=False) for i in range(20)]


@pytest.fixture(scope="module")
def rendered():
    # plain and issue-20 renderings (thick apex, trabeculae, haze, dropout, burn-ins) of two loops
    return [generate_phantom(s, frames=70) for s in (3, 4)] + [generate_phantom(s, frames=70, realism=True)
                                                               for s in (7, 8)]


def test_parameter_ranges_and_variety(batch):
    hrs = [p.truth.hr for p in batch]
    fps = [p.truth.fps for p in batch]
    assert all(40 <= h <= 150 for h in hrs) and np.ptp(hrs) > 20
    assert all(20 <= f <= 100 for f in fps)
    for p in batch:
        nb = len(p.truth.ef)
        assert 1 <= nb <= 8 and nb == p.params["n_beats"]
        assert np.all((p.truth.ef >= 10) & (p.truth.ef <= 80))
        assert len(p.truth.ed_frames) == len(p.truth.es_frames) == nb
        assert p.truth.tracings.shape == (nb, 2, 21, 4)
        assert p.truth.masks.shape == (p.n_frames, 112, 112)
    efs = np.array([p.truth.ef_video for p in batch])
    assert efs.min() < 45 and efs.max() > 55  # reduced and normal EF present
    high = [p for p in batch if len(p.truth.ef) >= 2 and p.truth.ef_sd > 2.5]
    low = [p for p in batch if len(p.truth.ef) >= 2 and p.truth.ef_sd < 2.5]
    assert high and low


def test_ed_es_frames_follow_the_volume_curve(batch):
    for p in batch[:8]:
        t = p.truth
        vf = t.volume_fraction
        prev = -1
        for ed, es in zip(t.ed_frames, t.es_frames):
            assert prev < ed < es
            window = vf[prev + 1 : es]
            assert vf[ed] >= window.max() - 0.011  # largest LV before this ES
            assert vf[es] < vf[ed]
            assert t.areas[es] < t.areas[ed]
            prev = es
        assert np.allclose(t.ef, (t.edv - t.esv) / t.edv * 100)


def test_truth_tracings_rasterise_to_the_truth_masks(batch):
    ds = []
    for p in batch[:10]:
        t = p.truth
        for b in range(len(t.ef)):
            for w, k in ((0, t.ed_frames[b]), (1, t.es_frames[b])):
                tr = Tracing.from_rows(t.tracings[b, w])
                d = dice(tr.rasterize((112, 112)), t.masks[k])
                assert d >= 0.95, (b, w, d)
                ds.append(d)
            # EF from the tracings is the stored EF (cm/px scales both volumes)
            v_ed = Tracing.from_rows(t.tracings[b, 0]).volume(t.cm_per_pixel)
            v_es = Tracing.from_rows(t.tracings[b, 1]).volume(t.cm_per_pixel)
            assert v_ed == pytest.approx(t.edv[b]) and v_es == pytest.approx(t.esv[b])
            assert ef_from_volumes(v_ed, v_es) == pytest.approx(t.ef[b], abs=1e-9)
    assert np.mean(ds) > 0.965


def test_tracing_from_mask_recovers_ef(batch):
    errs = []
    for p in batch[:8]:
        t = p.truth
        for b in range(len(t.ef)):
            v_ed = tracing_from_mask(t.masks[t.ed_frames[b]]).volume()
            v_es = tracing_from_mask(t.masks[t.es_frames[b]]).volume()
            errs.append(ef_from_volumes(v_ed, v_es) - t.ef[b])
    assert np.max(np.abs(errs)) < 3.0


def test_volumes_are_physiological(batch):
    for p in batch:
        t = p.truth
        assert np.all((t.edv > 50) & (t.edv < 260)), t.edv  # mL
        assert 0.1 < t.cm_per_pixel < 0.2


def test_determinism_and_overrides():
    a = generate_phantom(11, frames=40, fps=30)
    b = generate_phantom(11, frames=40, fps=30)
    assert a.n_frames == 40 and a.fps == 30
    assert np.array_equal(a.frames, b.frames)
    assert np.array_equal(a.truth.masks, b.truth.masks)
    assert np.array_equal(a.truth.ef, b.truth.ef)
    c = generate_phantom(12, frames=40, fps=30)
    assert not np.array_equal(a.frames, c.frames)
    d = generate_phantom(11, ef=30.0, ef_sd=0.0, hr=60.0, n_beats=2)
    assert abs(d.truth.ef_video - 30.0) < 3 and len(d.truth.ef) == 2 and d.truth.hr == pytest.approx(60, abs=3)
    with pytest.raises(TypeError):
        generate_phantom(1, bogus=3)


def test_image_is_an_a4c_like_view(rendered):
    for p in rendered:
        f = p.frames[..., 0].astype(np.float32)
        assert p.frames.shape[1:] == (112, 112, 3) and p.frames.dtype == np.uint8
        assert np.array_equal(p.frames[..., 0], p.frames[..., 2])
        t = p.truth
        for k in (t.ed_frames[0], t.es_frames[0]):
            m = t.masks[k]
            ys, xs = np.nonzero(m)
            assert xs.mean() > 56  # LV on the viewer's right
            ring = cv2.dilate(m.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool) & ~m
            assert f[k][ring].mean() > 2.0 * f[k][m].mean() + 10  # dark blood pool, bright wall
        # fan: apex at the top centre, black top corners
        assert f[:, :10, :10].max() == 0 and f[:, :10, -10:].max() == 0
        assert f[:, 2:8, 50:62].mean() > 10


def test_speckle_moves_with_the_tissue(rendered):
    """Consecutive frames share their fine texture (speckle fixed in tissue, not fresh noise)."""

    def hp(img):
        img = img.astype(np.float32)
        return img - cv2.GaussianBlur(img, (0, 0), 2)

    for p in rendered:
        g = p.frames[..., 0]
        fan = g.mean(axis=0) > 20
        cons = [np.corrcoef(hp(g[i])[fan], hp(g[i + 1])[fan])[0, 1] for i in range(0, len(g) - 1, 3)]
        assert np.median(cons) > 0.5
        other = rendered[0].frames[0, ..., 0] if p is not rendered[0] else rendered[1].frames[0, ..., 0]
        far = np.corrcoef(hp(g[0])[fan], hp(other)[fan])[0, 1]
        assert far < 0.3


def test_dropout_blackens_pixels():
    clean = generate_phantom(21, frames=30)
    drop = generate_phantom(21, frames=30, dropout=0.3)
    fan = clean.frames[..., 0].mean(axis=0) > 20
    z_clean = (clean.frames[:, fan, 0] == 0).mean()
    z_drop = (drop.frames[:, fan, 0] == 0).mean()
    assert z_drop - z_clean == pytest.approx(0.3, abs=0.03)


def test_fan_region_is_the_bounding_box_of_the_sector():
    from echoviewer.synthetic.render import Fan

    rng = np.random.default_rng(0)
    for size in ((800, 600), (640, 480), (700, 700)):
        fan = Fan.make(*size, rng.uniform(14, 18), rng.uniform(75, 90))
        assert fan.region() == fan.region_full()
