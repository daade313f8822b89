"""Numbers as a person reads them: EF, durations, times. Shared by the window, the CLI and reports
(no echoviewer imports, so any layer can use it)."""

from __future__ import annotations

import math


def format_time(seconds: float | None) -> str:
    """Seconds with two decimals ('1.24 s'); '–' for unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "–"
    return f"{seconds:.2f} s"


def format_duration(n_frames: int, fps: float) -> str:
    """A loop's length: '3.2 s', or its frame count when the frame rate is unknown."""
    if not fps or fps <= 0:
        return f"{n_frames} frames"
    return f"{n_frames / fps:.1f} s"


def format_ef(mean: float | None, sd: float | None = None) -> str:
    """'55.0 ± 2.3 %', '61.0 %' without a s.d., '–' without a value."""
    if mean is None:
        return "–"
    if sd is None:
        return f"{mean:.1f} %"
    return f"{mean:.1f} ± {sd:.1f} %"


def plural(n: int, word: str) -> str:
    """'1 loop', '2 loops'."""
    return f"{n} {word}{'s' if n != 1 else ''}"
