"""What an evaluation keeps of each loop's analysis: plain numbers, enough for every metric, table
and figure (the masks are reduced to Dice counts at once, so a large dataset stays small)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from echoviewer.evaluation.metrics import pooled_dice
from echoviewer.evaluation.phantoms import BeatTruth


@dataclass(frozen=True)
class BeatRecord:
    number: int  # 1-based, as the window shows it
    ed_frame: int
    es_frame: int
    ef_model: float | None
    ef_seg: float | None
    included: bool
    clip_mode: str

    @property
    def used(self) -> bool:
        """Counted in the loop's EF (the mean of beats), as ``analysis.beat_summary`` counts it."""
        return self.included and self.ef_model is not None and math.isfinite(self.ef_model)


@dataclass(frozen=True)
class MaskCounts:
    """Pixels of one traced frame: predicted ∩ traced, predicted, traced (112 grid)."""

    intersection: int
    pred: int
    true: int

    @classmethod
    def of(cls, pred: np.ndarray, true: np.ndarray) -> MaskCounts:
        return cls(int(np.logical_and(pred, true).sum()), int(pred.sum()), int(true.sum()))

    @property
    def dice(self) -> float:
        return pooled_dice(self.intersection, self.pred, self.true)


@dataclass
class LoopRecord:
    file_name: str
    split: str
    ef_true: float  # FileList.csv EF
    ed_frame: int  # the traced frames of VolumeTracings.csv
    es_frame: int
    n_frames: int = 0
    fps: float = 0.0
    mean_intensity: float = float("nan")
    sd_intensity: float = float("nan")
    ef_pred: float | None = None  # model EF, mean of the used beats
    ef_seg: float | None = None  # method of disks on the model's masks, mean of the used beats
    ef_sd: float | None = None  # s.d. of the used beats' EF (2 beats or more)
    beats: list[BeatRecord] = field(default_factory=list)
    ed: MaskCounts | None = None
    es: MaskCounts | None = None
    seconds: float = float("nan")
    truth: BeatTruth | None = None  # phantom folders: the exact per-beat EF
    error: str = ""  # why the loop could not be analysed ("" when it was)

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def beat_efs(self) -> list[float]:
        return [float(b.ef_model) for b in self.beats if b.used and b.ef_model is not None]

    @property
    def dice_ed(self) -> float | None:
        return None if self.ed is None else self.ed.dice

    @property
    def dice_es(self) -> float | None:
        return None if self.es is None else self.es.dice
