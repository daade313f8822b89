"""EchoNet-Dynamic videos: 112x112 MJPG AVI, 3 identical channels, round trip."""

import cv2
import numpy as np
import pytest

from echoviewer.io.echonet_video import read_echonet_video, write_echonet_video


def test_write_echonet_video_mjpg_grey_round_trip(tmp_path):
    rng = np.random.default_rng(2)
    base = cv2.GaussianBlur(rng.integers(0, 255, (112, 112)).astype(np.uint8), (0, 0), 3)
    frames = np.stack([np.roll(base, k, axis=1) for k in range(12)])
    p = write_echonet_video(tmp_path / "v.avi", np.repeat(frames[..., None], 3, axis=3), 37)
    cap = cv2.VideoCapture(str(p))
    fourcc = int(cap.get(cv2.CAP_PROP_FOURCC))
    assert "".join(chr((fourcc >> (8 * i)) & 0xFF) for i in range(4)) == "MJPG"
    assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(37)
    cap.release()
    back = read_echonet_video(p)
    assert back.shape == (12, 112, 112, 3)
    assert np.abs(back[..., 0].astype(int) - back[..., 2].astype(int)).max() <= 2  # grey
    assert np.abs(back[..., 0].astype(int) - frames.astype(int)).mean() < 3
    with pytest.raises(ValueError):
        write_echonet_video(tmp_path / "x.avi", frames.astype(np.float32), 50)
