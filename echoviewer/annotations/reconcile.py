"""The model's beats beside a sonographer's corrected beats: one list both reports read.

A model beat the sonographer kept pairs with its corrected values; one they deleted has no values;
one they added has no model beat. The CSV report, the PDF report and the DICOM SR all walk this
list, so they can never disagree about which beat is which.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from echoviewer.annotations.model import BeatValues, Corrections
from echoviewer.io.gates import ANALYSABLE, Decision, apply_override


@dataclass(frozen=True)
class BeatPair:
    model: Any  # pipeline.results.Beat; None: added by the sonographer
    values: BeatValues | None  # after corrections; None: no corrections, or the beat was deleted

    @property
    def deleted(self) -> bool:
        return self.model is not None and self.values is None and self._with_corrections

    @property
    def added(self) -> bool:
        return self.model is None

    @property
    def ed_frame(self) -> int:
        """The ED frame (0-based) the beat is ordered by: the corrected one when there is one."""
        return int(self.values.ed_frame if self.values is not None else self.model.ed_frame)

    # set by reconcile(): whether the list was made with corrections (a missing value means deleted)
    _with_corrections: bool = False


def loop_corrected(values: Sequence[BeatValues] | None, analysis: Any) -> bool:
    """Whether corrections changed anything in a loop: a corrected beat, or a model beat deleted."""
    if values is None:
        return False
    if any(v.corrected for v in values):
        return True
    return {int(v.id) for v in values if v.origin == "model"} != {int(b.number) for b in analysis.beats}


def reconcile(analysis: Any, corrections: Corrections | None) -> list[BeatPair]:
    """The loop's beats in ED order, each model beat paired with its corrected values (if any)."""
    if corrections is None:
        return [BeatPair(b, None) for b in analysis.beats]
    values = corrections.values()
    by_id = {v.id: v for v in values if v.origin == "model"}
    pairs = [BeatPair(b, by_id.pop(b.number, None), True) for b in analysis.beats]
    pairs += [BeatPair(None, v, True) for v in values if v.origin != "model" or v.id in by_id]
    return sorted(pairs, key=lambda p: p.ed_frame)


def loop_decision(analysis: Any, corrections: Corrections | None = None) -> Decision:
    """Whether the method applies to the loop, as reported: the gates' decision (analysable when the
    analysis was not judged), overruled by a person's choice saved with the corrections."""
    gate = getattr(analysis, "gate", None) or ANALYSABLE
    return apply_override(gate, corrections.gate_override if corrections is not None else None)
