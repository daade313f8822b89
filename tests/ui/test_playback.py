"""The cine player's clock: frames due from elapsed time, never drifting, skipping only when far behind."""

import pytest

from echoviewer.ui.playback import PlaybackClock


def test_on_time_ticks_show_every_frame():
    c = PlaybackClock(100, fps=50)
    c.reset(0.0, 7)
    shown = []
    now = c.first_delay(0.0)
    assert now == pytest.approx(0.02)
    for _ in range(10):
        f, delay = c.advance(now)
        shown.append(f)
        assert delay == pytest.approx(0.02, abs=1e-9)
        now += delay
    assert shown == list(range(8, 18))
    assert c.skipped == 0


def test_late_ticks_do_not_drift():
    """Each tick fires 3 ms late and rendering takes 4 ms: after 10 s we are still at frame 500."""
    c = PlaybackClock(10_000, fps=50)
    c.reset(0.0, 0)
    now = c.first_delay(0.0) + 0.003
    f = 0
    while now < 10.0:
        f, _ = c.advance(now)
        now += 0.004  # render
        delay = c.t0 + (c.k + 1) / c.rate - now
        now += max(delay, 0) + 0.003
    assert f == 500 - 1 or f == 500
    assert c.skipped == 0


def test_skips_only_when_far_behind():
    c = PlaybackClock(1000, fps=100)
    c.reset(0.0, 0)
    f, _ = c.advance(0.025)  # 2.5 frames due: small lag, no skip
    assert f == 1 and c.skipped == 0
    f, _ = c.advance(0.5)  # 50 frames due: jump
    assert f == 50 and c.skipped == 48  # frames 2..49 were never shown


def test_speed_and_wrap():
    c = PlaybackClock(10, fps=40, speed=0.25)
    assert c.rate == 10
    c.reset(0.0, 9)
    f, delay = c.advance(0.1)
    assert f == 0 and delay == pytest.approx(0.1)
