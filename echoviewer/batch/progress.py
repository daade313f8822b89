"""The batch's progress on stderr: loops finished of the total, loops/min and an ETA; one line
rewritten in place on a terminal, a line every few seconds otherwise (logs, Slurm)."""

from __future__ import annotations

import sys
import time


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


class BatchProgress:
    def __init__(self, total: int | None, stream=sys.stderr, enabled: bool = True, every_s: float = 10.0):
        self.total, self.stream, self.enabled, self.every_s = total, stream, enabled, every_s
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self._last = 0.0

    def text(self, summary) -> str:
        n = summary.finished
        of = f"{n}/{self.total} ({100 * n / self.total:.0f}%)" if self.total else f"{n}"
        rate = summary.loops_per_min
        left = (self.total - n) if self.total else None
        eta = f", ETA {_clock(60 * left / rate)}" if left is not None and rate > 0 else ""
        return (f"batch: {of} {rate:.1f} loops/min{eta} "
                f"[done {summary.done}, skipped {summary.skipped}, failed {summary.failed}]")

    def __call__(self, outcome, summary) -> None:
        if outcome is not None and not outcome.ok:  # always said, --quiet or not; one line
            self._clear()
            self.stream.write(f"failed {outcome.path}: {outcome.reason}\n")
        if not self.enabled:
            return
        now = time.monotonic()
        last = self.total is not None and summary.finished >= self.total
        if self.tty:
            self.stream.write("\r" + self.text(summary) + "   ")
        elif last or now - self._last >= self.every_s:
            self.stream.write(self.text(summary) + "\n")
            self._last = now
        self.stream.flush()

    def _clear(self) -> None:
        if self.tty and self.enabled:
            self.stream.write("\r" + " " * 100 + "\r")

    def end(self) -> None:
        if self.tty and self.enabled:
            self.stream.write("\n")
            self.stream.flush()
