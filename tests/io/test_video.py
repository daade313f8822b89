"""Video loops through OpenCV."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from echoviewer.io import GridTransform, LoopError, open_loop

from .conftest import H, W, fan_bbox, fan_frames, write_video


def _reference_rgb(path) -> np.ndarray:
    """How the EchoNet reference loads a video: OpenCV, BGR -> RGB."""
    cap = cv2.VideoCapture(str(path))
    out = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        out.append(cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
    cap.release()
    return np.stack(out)


@pytest.mark.parametrize("name, fourcc", [("a.avi", "MJPG"), ("b.mp4", "mp4v"), ("c.mov", "mp4v"), ("d.mkv", "FFV1")])
def test_video_round_trip(tmp_path, colour_frames, name, fourcc):
    p = write_video(tmp_path / name, colour_frames, fps=30, fourcc=fourcc)
    loop = open_loop(p)
    assert loop.kind == "video"
    assert (loop.n_frames, loop.height, loop.width) == (8, H, W)
    assert loop.fps == pytest.approx(30.0) and loop.fps_source == "container"
    assert loop.cm_per_pixel is None
    got = np.stack([loop.frame_rgb(i) for i in range(loop.n_frames)])
    assert np.array_equal(got, _reference_rgb(p))  # same decoder, RGB order
    assert np.abs(got.astype(int) - colour_frames).mean() < (0.5 if fourcc == "FFV1" else 6)
    red = got[:, 3:7, W - 9 : W - 5].reshape(-1, 3).mean(0)
    assert red[0] > 150 and red[2] < 110  # RGB, not BGR


def test_grey_video_frames_are_compact(tmp_path, grey_frames):
    p = write_video(tmp_path / "g.mkv", grey_frames, fourcc="FFV1")  # lossless: channels stay equal
    loop = open_loop(p)
    f = loop.frame(2)
    assert f.ndim == 2 and np.array_equal(f, grey_frames[2])


def test_echonet_sized_avi_passes_bit_exact(tmp_path):
    frames = fan_frames(12, 112, 112, colour=True)
    p = write_video(tmp_path / "0X1A.avi", frames, fps=50)
    loop = open_loop(p)
    assert loop.region == (0, 0, 112, 112) and loop.region_source == "grid"
    assert loop.transform.is_identity() and loop.transform == GridTransform.identity()
    grid = loop.grid_frames()
    assert grid.shape == (12, 112, 112, 3) and grid.dtype == np.uint8
    assert np.array_equal(grid, _reference_rgb(p))


@pytest.mark.parametrize("name, fourcc", [("s.avi", "MJPG"), ("s.mp4", "mp4v")])
def test_random_access_matches_sequential(tmp_path, name, fourcc):
    n = 70  # longer than the grab-ahead window, so frame() seeks
    frames = fan_frames(n, colour=True)
    for t in range(n):  # stamp the frame number so any off-by-one shows
        frames[t, 20:28, 2:10] = (t * 3, 255 - t * 3, 128)
    p = write_video(tmp_path / name, frames, fps=25, fourcc=fourcc)
    loop = open_loop(p)
    assert loop.n_frames == n
    seq = list(loop.iter_frames())
    order = [65, 3, 40, 41, 39, 0, 69, 10, 50, 50, 12, 68, 30]
    for i in order:
        assert np.array_equal(loop.frame(i), seq[i]), i


def test_implausible_container_fps_gives_default(tmp_path, grey_frames):
    p = write_video(tmp_path / "slow.avi", grey_frames, fps=0.5)
    loop = open_loop(p)
    assert loop.fps == 50.0 and loop.fps_source == "default"


def test_video_region_detected(tmp_path, grey_frames):
    p = write_video(tmp_path / "r.avi", grey_frames)
    loop = open_loop(p)
    got = loop.region
    assert loop.region_source == "motion"
    assert max(abs(a - b) for a, b in zip(got, fan_bbox())) <= 3, got  # static text ignored


def test_truncated_avi(tmp_path):
    p = write_video(tmp_path / "t.avi", fan_frames(40), fps=30)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(LoopError, match="truncated"):
        open_loop(p)


def test_lru_cache_is_bounded(tmp_path, colour_frames):
    p = write_video(tmp_path / "c.avi", colour_frames)
    loop = open_loop(p)
    loop.cache_bytes = 3 * H * W * 3
    for i in range(8):
        f = loop.frame(i)
        assert not f.flags.writeable
    assert loop._cached_bytes <= loop.cache_bytes and len(loop._cache) == 3
    assert sorted(loop._cache) == [5, 6, 7]


def test_content_hash(tmp_path, grey_frames):
    import hashlib

    p = write_video(tmp_path / "h.avi", grey_frames)
    assert open_loop(p).content_hash() == hashlib.sha256(p.read_bytes()).hexdigest()
