"""EF vocabulary: the guideline categories and EchoNet-Dynamic's 50 % threshold.

Two different things, named so that they never contradict each other:
- the **category** (heart-failure guidelines): reduced <= 40 %, mildly reduced 41-49 %,
  preserved >= 50 %; the table is configurable (Settings) and reports print the one in use;
- the **paper's threshold**: EchoNet-Dynamic screens for heart failure with reduced EF at
  EF < 50 %, so its flag names the paper, not a guideline class.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

Category = tuple[float | None, str]

#: (upper limit in %, inclusive, or None for "and above", label). EF is rounded to a whole
#: percent before lookup, as reports state it: HF classes reduced <= 40, mildly reduced 41-49,
#: preserved >= 50.
DEFAULT_CATEGORIES: list[Category] = [
    (40.0, "reduced"),
    (49.0, "mildly reduced"),
    (None, "preserved"),
]


def validate_categories(table: Sequence[Category]) -> list[Category]:
    """Normalise a category table: ascending upper limits, exactly one open-ended last row."""
    rows = [(None if u is None else float(u), str(label).strip()) for u, label in table]
    if not rows:
        raise ValueError("the EF category table is empty")
    if any(not label for _, label in rows):
        raise ValueError("every EF category needs a name")
    limits = [u for u, _ in rows[:-1] if u is not None]
    if len(limits) < len(rows) - 1:
        raise ValueError("only the last EF category may be open-ended")
    rows[-1] = (None, rows[-1][1])  # the last category is open-ended
    if any(b <= a for a, b in zip(limits, limits[1:])):
        raise ValueError("EF category limits must increase")
    return rows


def ef_category(ef: float | None, table: Sequence[Category] = DEFAULT_CATEGORIES) -> str:
    """Category label for an EF in percent ('' when EF is unknown)."""
    if ef is None or not math.isfinite(ef):
        return ""
    value = math.floor(float(ef) + 0.5)  # reports round half up
    for upper, label in table:
        if upper is None or value <= upper:
            return label
    return table[-1][1]


def categories_to_json(table: Sequence[Category]) -> str:
    return json.dumps([[u, label] for u, label in table])


def categories_from_json(text: str | None) -> list[Category]:
    """Parse a stored table; the default on anything malformed."""
    if not text:
        return list(DEFAULT_CATEGORIES)
    try:
        return validate_categories([(u, label) for u, label in json.loads(text)])
    except (ValueError, TypeError):
        return list(DEFAULT_CATEGORIES)


def describe_categories(table: Sequence[Category]) -> str:
    """'≤40 reduced · 41–49 mildly reduced · ≥50 preserved'."""
    parts = []
    lower: float | None = None
    for upper, label in table:
        if upper is None:
            parts.append(f"≥{_num(lower + 1) if lower is not None else 0} {label}")
        elif lower is None:
            parts.append(f"≤{_num(upper)} {label}")
        else:
            parts.append(f"{_num(lower + 1)}–{_num(upper)} {label}")
        lower = upper
    return " · ".join(parts)


def _num(v: float) -> str:
    return f"{v:g}"




#: EchoNet-Dynamic's threshold for heart failure with reduced EF (the paper's AUC 0.97 is for it).
PAPER_THRESHOLD = 50.0


def paper_threshold_flag(threshold: float = PAPER_THRESHOLD) -> str:
    """The loop flag for an EF below the paper's screening threshold."""
    return f"EF below {threshold:g} % (EchoNet-Dynamic's heart-failure screening threshold)"
