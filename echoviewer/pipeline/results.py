"""What an analysis produces: plain data, no Qt, no torch (the UI and exporters read these)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from echoviewer.analysis.beat_summary import BeatSummary
    from echoviewer.io.gates import Decision

#: Paper's high-variance threshold (s.d. of per-beat EF, EF points).
HIGH_VARIANCE_SD = 2.5
#: Model EF and segmentation EF disagreeing by more than this many points is flagged.
DISAGREEMENT_POINTS = 10.0


class Cancelled(Exception):
    """Raised between batches when the caller's cancel function returns True."""


@dataclass(frozen=True)
class AnalysisSettings:
    """Everything that changes results; it is part of the cache key."""

    seg_weights: str | None = None  # path; None = discovery (official, else demo)
    ef_weights: str | None = None
    device: str | None = None  # None = cuda, then mps, else cpu
    mean: tuple[float, float, float] | None = None  # None = from the weights
    std: tuple[float, float, float] | None = None
    echonet_exact: bool = False  # reference beat rule verbatim; drop beats whose clip overruns
    hfref_threshold: float = 50.0
    fast: bool = True  # bf16 / channels-last fast paths where they agree with float32
    #: False: segment only the frames the beats are read from (pipeline/sparse.py), for runs that
    #: want beats and EF, not every frame's mask (the same ES, ED and EF)
    all_frames: bool = True

    def cache_fields(self) -> dict[str, Any]:
        return {
            "mean": self.mean,
            "std": self.std,
            "echonet_exact": self.echonet_exact,
            "fast": self.fast,
            "all_frames": self.all_frames,
        }


@dataclass
class Beat:
    number: int  # 1-based
    ed_frame: int
    es_frame: int
    ef_model: float | None = None
    ef_seg: float | None = None  # method of disks on the ED and ES masks
    ef_area_length: float | None = None  # cross-check
    edv: float | None = None  # in the loop's volume_unit
    esv: float | None = None
    clip_start: int | None = None
    clip_mode: str = "full"  # "full" | "padded" | "shifted" | "dropped"
    flags: list[str] = field(default_factory=list)
    included: bool = True
    ed_tracing: Any = None  # analysis.tracing.Tracing on the 112 grid
    es_tracing: Any = None


@dataclass
class LoopAnalysis:
    path: str
    n_frames: int
    fps: float
    cm_per_pixel_grid: float | None
    areas: np.ndarray  # (T,) LV pixels on the 112 grid
    masks: np.ndarray  # (T,112,112) bool
    beats: list[Beat]
    ef_mean: float | None  # model EF over included beats
    ef_sd: float | None
    ef_seg_mean: float | None
    edv_mean: float | None
    esv_mean: float | None
    volume_unit: str  # "mL" | "px3"
    hr_bpm: float | None
    flags: list[str]
    seg_info: Any  # models.WeightsInfo
    ef_info: Any
    settings: AnalysisSettings
    device: str
    seconds: float = 0.0
    #: the loop's ultrasound region (native px) the grid was cut from, and how it was found; a
    #: viewer of the same file adopts it instead of decoding frames to detect it again
    region: tuple[int, int, int, int] | None = None
    region_source: str = ""
    #: whether the method applies (io/gates.py, pipeline/confidence.py); None: not judged (results
    #: made outside `Analyzer.analyze`)
    gate: Decision | None = None
    #: (T,) bool: the frames segmented when not all were (``AnalysisSettings.all_frames`` False);
    #: the others' masks are empty and their areas interpolated. None: every frame.
    segmented: np.ndarray | None = None

    @property
    def analysed(self) -> bool:
        """False for a loop the gates turned away before any model ran (no masks, no beats)."""
        return len(self.masks) > 0

    @property
    def summary(self) -> BeatSummary:
        """The model's summary of the beats (what ef_mean, ef_sd ... hr_bpm were filled from)."""
        return model_summary(self.beats, self.fps)

    @property
    def included_beats(self) -> list[Beat]:
        return [b for b in self.beats if b.included]

    @property
    def demo(self) -> bool:
        return bool(getattr(self.seg_info, "demo", False) or getattr(self.ef_info, "demo", False))


def model_summary(beats: list[Beat], fps: float | None) -> BeatSummary:
    """The beats summarised as the analysis reports them: the model's EF per beat, volumes and
    segmentation EF from the tracings of the model's masks."""
    # imported here: echoviewer.analysis loads OpenCV (0.25 s), and the window imports these types early
    from echoviewer.analysis.beat_summary import BeatFigures, summarise_beats

    return summarise_beats((BeatFigures(b.es_frame, b.included, b.ef_model, b.ef_seg, b.edv, b.esv) for b in beats),
                           fps)


@dataclass
class Progress:
    """Reported by the pipeline; the UI shows it, the CLI draws a bar."""

    stage: str  # "segment" | "beats" | "ef" | "done"
    done: int
    total: int
    # Frames whose masks just became available (segment stage), so a viewer can draw them live.
    frames: np.ndarray | None = None
    masks: np.ndarray | None = None
