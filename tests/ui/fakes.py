"""Small stand-ins with the real interfaces: a Loop, a study scan, an Analyzer (no torch, no files)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from echoviewer.io.identity import UNKNOWN, Identity
from echoviewer.io.transform import GridTransform
from echoviewer.models.manifest import WeightsInfo
from echoviewer.pipeline.results import (
    AnalysisSettings,
    Beat,
    Cancelled,
    LoopAnalysis,
    Progress,
)


class FakeLoopError(Exception):
    def __init__(self, path, message):
        super().__init__(f"{Path(path).name}: {message}")
        self.path = str(path)


def lv_radius(t: np.ndarray | float, fps: float, period_s: float = 0.8) -> np.ndarray:
    """LV 'radius' on the 112 grid: largest at t=0 (ED), smallest half a period later (ES)."""
    phase = 2 * np.pi * (np.asarray(t) / fps) / period_s
    return 20.0 + 6.0 * np.cos(phase)


def grid_mask(frame: int, fps: float) -> np.ndarray:
    r = float(lv_radius(frame, fps))
    yy, xx = np.mgrid[0:112, 0:112]
    return ((xx - 56) / (0.6 * r)) ** 2 + ((yy - 56) / r) ** 2 <= 1.0


@dataclass
class FakeLoop:
    path: Path
    n_frames: int = 40
    fps: float = 50.0
    height: int = 120
    width: int = 160
    kind: str = "video"
    fps_source: str = "container"
    cm_per_pixel: float | None = 0.05
    region: tuple = (0, 0, 160, 120)
    region_source: str = "given"
    identity: Identity = UNKNOWN
    transform: GridTransform = field(init=False)

    def __post_init__(self):
        self.path = Path(self.path)
        self.region = (0, 0, self.width, self.height)
        self.transform = GridTransform.from_region(self.region)

    def frame(self, i: int) -> np.ndarray:
        if not 0 <= i < self.n_frames:
            raise IndexError(i)
        f = np.full((self.height, self.width), 30, np.uint8)
        native = self.transform.mask_to_native(grid_mask(i, self.fps), (self.height, self.width))
        f[native] = 90
        f[:, : (i % self.width)] += 10
        return f

    def iter_frames(self):
        return (self.frame(i) for i in range(self.n_frames))

    def grid_frames(self) -> np.ndarray:
        return np.stack([np.repeat(self.transform.warp_to_grid(self.frame(i))[:, :, None], 3, 2)
                         for i in range(self.n_frames)])

    def content_hash(self) -> str:
        return f"fake-{self.path.name}"

    def close(self) -> None:  # draws its frames on demand: no file, nothing cached
        pass


def fake_scan_factory(loops: list[FakeLoop], errors: list[FakeLoopError] = ()):
    calls = []

    def scan(folder):
        calls.append(Path(folder))
        return SimpleNamespace(loops=list(loops), errors=list(errors))

    scan.calls = calls
    return scan


INFO = WeightsInfo(path=None, name="fake-weights", task="segmentation", architecture="fake", input_size=112,
                   mean=(32.0, 32.0, 32.0), std=(50.0, 50.0, 50.0), frames=None, period=None,
                   sha256="0123456789abcdef" * 4, demo=True, official=False)


class FakeAnalyzer:
    """Same call as echoviewer.pipeline.Analyzer.analyze; masks from the fake loop's geometry."""

    instances: list[FakeAnalyzer] = []

    def __init__(self, settings, chunk: int = 8, delay: float = 0.0, fail_on: str | None = None,
                 gate: threading.Event | None = None):
        self.settings = settings
        self.chunk = chunk
        self.delay = delay
        self.fail_on = fail_on
        self.gate = gate
        self.calls: list[tuple[str, int | None]] = []
        self.cancelled: list[str] = []
        FakeAnalyzer.instances.append(self)

    def analyze(self, loop, progress=None, cancel=None, priority_frame=None) -> LoopAnalysis:
        self.calls.append((str(loop.path), priority_frame))
        if self.fail_on and self.fail_on in Path(loop.path).name:
            raise RuntimeError(f"model exploded on {Path(loop.path).name}")
        n = loop.n_frames
        masks = np.stack([grid_mask(i, loop.fps) for i in range(n)])
        order = np.arange(n)
        if priority_frame is not None:
            order = np.concatenate([order[priority_frame:], order[:priority_frame]])
        done = 0
        for s in range(0, n, self.chunk):
            if self.gate is not None:
                self.gate.wait(5)
            if cancel and cancel():
                self.cancelled.append(str(loop.path))
                raise Cancelled()
            idx = np.sort(order[s: s + self.chunk])
            if self.delay:
                time.sleep(self.delay)
            done += len(idx)
            if progress:
                progress(Progress("segment", done, n, frames=idx, masks=masks[idx]))
        if progress:
            progress(Progress("ef", 0, 1))
        return fake_analysis(loop, masks, self.settings)


def fake_analysis(loop, masks, settings=None) -> LoopAnalysis:
    n = len(masks)
    areas = masks.reshape(n, -1).sum(1).astype(np.int64)
    period = int(round(0.8 * loop.fps))
    ed = list(range(0, n, period))
    beats = []
    for k, d in enumerate(ed, start=1):
        e = d + period // 2
        if e >= n:
            break
        ef = 100.0 * (areas[d] ** 1.5 - areas[e] ** 1.5) / areas[d] ** 1.5
        beats.append(Beat(number=k, ed_frame=d, es_frame=e, ef_model=float(ef) + k, ef_seg=float(ef),
                          edv=100.0, esv=40.0))
    if len(beats) >= 2:
        beats[1].flags.append("model and segmentation EF differ by > 10 points")
    if len(beats) >= 3:
        beats[2].included = False
    used = [b.ef_model for b in beats if b.included]
    return LoopAnalysis(
        path=str(loop.path), n_frames=n, fps=float(loop.fps),
        cm_per_pixel_grid=loop.transform.grid_cm_per_pixel(loop.cm_per_pixel),
        areas=areas, masks=masks, beats=beats,
        ef_mean=float(np.mean(used)) if used else None,
        ef_sd=float(np.std(used, ddof=1)) if len(used) > 1 else None,
        ef_seg_mean=float(np.mean([b.ef_seg for b in beats])) if beats else None,
        edv_mean=100.0, esv_mean=40.0, volume_unit="mL", hr_bpm=75.0,
        flags=["demo weights", "high beat-to-beat variance (s.d. > 2.5)"],
        seg_info=INFO, ef_info=INFO, settings=settings or AnalysisSettings(), device="cpu",
        region=tuple(loop.region), region_source=loop.region_source,
    )


def analyzer_factory(settings):
    """For `echoviewer gui --analyzer-factory tests.ui.fakes:analyzer_factory`."""
    return FakeAnalyzer(settings, delay=0.01)
