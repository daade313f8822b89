"""Input normalisation values (mean, s.d. per channel on the 0-255 scale) as people type them.

One parser for the CLI's ``--mean/--std`` and the window's Settings, so both accept and refuse
the same text."""

from __future__ import annotations

import math
from collections.abc import Sequence

Triplet = tuple[float, float, float]


def parse_triplet(text: str | None, positive: bool = False) -> Triplet | None:
    """'32.5, 32.6, 32.9' -> tuple; '' -> None; one number is used for all three channels.

    Raises ValueError (one line) for anything else, for NaN or infinity, and, with ``positive``,
    for a value <= 0 (a standard deviation)."""
    text = (text or "").strip()
    if not text:
        return None
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    try:
        vals = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"not a number in {text!r}: give one number or three (R, G, B) on the 0-255 scale") from None
    if len(vals) == 1:
        vals = vals * 3
    if len(vals) != 3:
        raise ValueError(f"{len(vals)} numbers in {text!r}: give one number or three (R, G, B) on the 0-255 scale")
    if not all(math.isfinite(v) for v in vals):
        raise ValueError(f"{text!r} is not a finite number")
    if positive and min(vals) <= 0:
        raise ValueError(f"{text!r}: a standard deviation must be positive")
    return (vals[0], vals[1], vals[2])


def format_triplet(t: Sequence[float] | None) -> str:
    return "" if t is None else ", ".join(f"{v:g}" for v in t)
