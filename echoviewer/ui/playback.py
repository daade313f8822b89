"""The cine player's clock: which frame is due when (no Qt; the player's timer asks it)."""

from __future__ import annotations

import math


class PlaybackClock:
    """Which frame is due when, from elapsed time (never drifts), without skipping frames.

    Frame ``start + k`` is due at ``t0 + k / rate``. After showing one, ``advance(now)`` returns
    the next frame to show and the delay (s) until it is due. Frames are skipped only when the
    display has fallen more than ``max_lag`` frames behind (a machine that cannot keep up); then
    the clock jumps to the frame due now, so timing stays exact.
    """

    def __init__(self, n_frames: int, fps: float, speed: float = 1.0, max_lag: int = 3):
        self.n = max(1, int(n_frames))
        self.fps = float(fps) if fps and fps > 0 else 30.0
        self.speed = float(speed)
        self.max_lag = max_lag
        self.t0 = 0.0
        self.start = 0
        self.k = 0  # frames shown since t0
        self.skipped = 0

    @property
    def rate(self) -> float:
        return self.fps * self.speed

    def reset(self, now: float, frame: int) -> None:
        self.t0 = now
        self.start = int(frame)
        self.k = 0

    def frame(self) -> int:
        return (self.start + self.k) % self.n

    def advance(self, now: float) -> tuple[int, float]:
        """Step to the next frame; returns (frame to show, seconds until it is due)."""
        self.k += 1
        due_k = math.floor((now - self.t0) * self.rate + 1e-9)
        if due_k - self.k > self.max_lag:
            self.skipped += due_k - self.k
            self.k = due_k
        delay = self.t0 + (self.k + 1) / self.rate - now
        return self.frame(), max(0.0, delay)

    def first_delay(self, now: float) -> float:
        return max(0.0, self.t0 + 1.0 / self.rate - now)
