"""Numbers as the clinical outputs print them, derived from the CSV report's figures.

The rule: the CSV report (``echoviewer.export.report``) records EF and volumes with 2 decimals and
the heart rate with 1; a report shows fewer digits by rounding *the CSV's figure* half up (EF and its
s.d. to 0.1 %, volumes to whole mL, heart rate to whole bpm). Rounding the recorded figure rather
than the raw value keeps a report and its CSV consistent digit for digit (rounding the raw value
can differ: 59.3496 is "59.35" in the CSV, and 59.3 rounded directly but 59.4 from the CSV).
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

#: Decimals of the CSV report (its ``_fmt``): EF and volumes; the heart rate has 1.
CSV_DECIMALS = 2
CSV_HR_DECIMALS = 1
NONE = "–"


def rounded(value: float | None, decimals: int, recorded: int = CSV_DECIMALS) -> str:
    """``value`` as recorded with ``recorded`` decimals, then rounded half up to ``decimals``."""
    if value is None or not math.isfinite(value):
        return NONE
    d = Decimal(f"{value:.{recorded}f}").quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    if d == 0:
        d = abs(d)  # no "-0.0"
    return f"{d:f}"


def ef_text(ef: float | None) -> str:
    """EF in percent to 0.1 (no unit): '59.1'."""
    return rounded(ef, 1)


def ef_with_sd(mean: float | None, sd: float | None) -> str:
    """'59.1 ± 1.1 %', '59.1 %' without a s.d., '–' without a value."""
    if mean is None or not math.isfinite(mean):
        return NONE
    if sd is None or not math.isfinite(sd):
        return f"{ef_text(mean)} %"
    return f"{ef_text(mean)} ± {rounded(sd, 1)} %"


def volume_text(ml: float | None) -> str:
    """A volume in whole mL (no unit)."""
    return rounded(ml, 0)


def hr_text(bpm: float | None) -> str:
    """Heart rate in whole beats per minute: '71 bpm'."""
    text = rounded(bpm, 0, CSV_HR_DECIMALS)
    return NONE if text == NONE else f"{text} bpm"
