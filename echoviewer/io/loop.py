"""`Loop`: one cine loop (video file or ultrasound DICOM) with lazy, memory-bounded frame access.

Native frames are decoded on demand by a `FrameSource` (io/video.py, io/dicom.py) and kept in a
byte-bounded LRU cache; grey frames are stored with one channel. `grid_frames()` resamples the
whole loop to the 112x112 model grid in one streaming pass and keeps only that result.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import InitVar, dataclass, field
from pathlib import Path

import numpy as np

from echoviewer.errors import one_line
from echoviewer.io.identity import UNKNOWN, Identity
from echoviewer.io.region import Region, detect_region
from echoviewer.io.transform import GRID, GridTransform
from echoviewer.paths import sha256_file

#: Frame rate used when neither the file nor the container gives a plausible one (EchoNet ≈ 50).
DEFAULT_FPS = 50.0
#: Default budget of the native-frame LRU cache: a 4 s colour loop at 640x480 and 50 fps (184 MB)
#: fits, so playing it again decodes nothing. The viewer keeps only the loop on screen cached.
DEFAULT_CACHE_BYTES = 256 * 1024 * 1024
#: Frames sampled (evenly over the loop) to detect the image region.
REGION_SAMPLES = 16


class LoopError(Exception):
    """A file that cannot be used as a loop; str() is one line naming the file and the problem."""

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path = str(path)
        self.problem = one_line(problem)
        super().__init__(f"{self.path}: {self.problem}")

    @property
    def message(self) -> str:
        return str(self)


class FrameSource:
    """Decodes native frames of one file. Subclasses: VideoSource, DicomSource.

    read(i) and iter_frames() return compact uint8 frames: (H,W) when the three channels are equal
    (or the data is grey), else (H,W,3) RGB. read() may be called from several threads: the
    Loop serialises it. iter_frames() opens its own handle so it can run beside read().
    """

    n_frames: int

    def read(self, i: int) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def iter_frames(self) -> Iterator[np.ndarray]:  # pragma: no cover - interface
        for i in range(self.n_frames):
            yield self.read(i)

    def close(self) -> None:
        pass


def compact(frame: np.ndarray) -> np.ndarray:
    """(H,W,3) with equal channels -> (H,W) view-free copy; anything else unchanged."""
    if frame.ndim == 3 and frame.shape[2] == 3:
        c0 = frame[..., 0]
        if np.array_equal(c0, frame[..., 1]) and np.array_equal(c0, frame[..., 2]):
            return np.ascontiguousarray(c0)
    return frame


class ArraySource(FrameSource):
    """Frames held in memory (tests, generated loops)."""

    def __init__(self, frames: np.ndarray):
        self.frames = frames
        self.n_frames = len(frames)

    def read(self, i: int) -> np.ndarray:
        return compact(np.array(self.frames[i], dtype=np.uint8, copy=True))

    def iter_frames(self) -> Iterator[np.ndarray]:
        for i in range(self.n_frames):
            yield self.read(i)


@dataclass(eq=False)
class Loop:
    """One cine loop. Build with open_loop() (files) or Loop.from_frames() (arrays).

    `region` and `transform` are properties: taken from the file when it stores them, else
    detected from a sample of frames on first use (so a study scan stays cheap); assigning
    `region` overrides it and resets the grid. Thread-safe for frame() beside grid_frames().
    """

    path: Path
    kind: str  # "video" | "dicom" ("array" for Loop.from_frames)
    n_frames: int
    height: int
    width: int
    fps: float
    fps_source: str  # "FrameTime", "FrameTimeVector", "CineRate", "RecommendedDisplayFrameRate", "container", "default"
    cm_per_pixel: float | None
    source: FrameSource = field(repr=False)
    #: where `region` came from: "ultrasound_regions", "grid" (already 112x112), "motion",
    #: "nonblack", "full_frame" (detected), or "pending" until first use.
    region_source: str = "pending"
    #: extra facts for display / reports (transfer syntax, photometric, codec, ...).
    info: dict = field(default_factory=dict)
    #: patient / study / source-image identity (from the DICOM header; empty for video files)
    identity: Identity = UNKNOWN
    cache_bytes: int = DEFAULT_CACHE_BYTES
    #: the image region when the file states it (DICOM ultrasound regions) or the caller knows it;
    #: None: detected on first use. Read it back as `region`.
    known_region: InitVar[Region | None] = None
    #: frame 0 when the reader decoded it already (its probe): cached, so showing it decodes nothing.
    first_frame: InitVar[np.ndarray | None] = None

    def __post_init__(self, known_region: Region | None, first_frame: np.ndarray | None) -> None:
        self.path = Path(self.path)
        self._lock = threading.RLock()
        self._grid_lock = threading.Lock()
        self._region_lock = threading.Lock()
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cached_bytes = 0
        self._grid: np.ndarray | None = None
        self._transform: GridTransform | None = None
        self._hash: str | None = None
        self._region: Region | None = None
        if known_region is not None:
            x0, y0, x1, y1 = (int(v) for v in known_region)
            self._region = (x0, y0, x1, y1)
        if (self.height, self.width) == (GRID, GRID):  # EchoNet-sized: used as is, bit-exact
            self._region = (0, 0, GRID, GRID)
            self.region_source = "grid"
        if first_frame is not None:
            first_frame.setflags(write=False)
            self._cache[0] = first_frame
            self._cached_bytes = first_frame.nbytes

    @classmethod
    def from_frames(
        cls,
        frames: np.ndarray,
        fps: float = DEFAULT_FPS,
        cm_per_pixel: float | None = None,
        region: Region | None = None,
        path: str | os.PathLike = "<memory>",
    ) -> Loop:
        """A Loop over in-memory uint8 frames (T,H,W) or (T,H,W,3) RGB, e.g. for tests."""
        arr = np.asarray(frames)
        if arr.dtype != np.uint8 or arr.ndim not in (3, 4) or len(arr) == 0:
            raise ValueError(f"frames must be non-empty uint8 (T,H,W[,3]), got {arr.dtype} {arr.shape}")
        return cls(
            path=Path(path), kind="array", n_frames=len(arr), height=arr.shape[1], width=arr.shape[2],
            fps=float(fps), fps_source="given", cm_per_pixel=cm_per_pixel, source=ArraySource(arr),
            known_region=region, region_source="pending" if region is None else "given",
        )

    # -- geometry -----------------------------------------------------------------------------
    @property
    def region(self) -> Region:
        """x0, y0, x1, y1 (exclusive) of the ultrasound image, native px (detected lazily)."""
        if self._region is None:
            # Its own lock, not the cache's: the samples' decode (0.1 s for a 640x480 AVI) runs in
            # the viewer's prefetch thread and must not hold up the UI thread's frame reads.
            with self._region_lock:
                if self._region is None:
                    idx = np.unique(np.linspace(0, self.n_frames - 1, min(self.n_frames, REGION_SAMPLES))
                                    .round().astype(int))
                    region, how = detect_region([self.frame(int(i)) for i in idx])
                    with self._lock:
                        if self._region is None:  # else the user set one meanwhile
                            self.region_source = how
                            self._region = region
        return self._region

    @region.setter
    def region(self, value: Region) -> None:
        x0, y0, x1, y1 = (int(v) for v in value)
        with self._lock, self._grid_lock:
            self._region = (x0, y0, x1, y1)
            self.region_source = "user"
            self._transform = None
            self._grid = None

    def adopt_region(self, region: Region, source: str) -> None:
        """A region found elsewhere for this same file (the analysis process runs the same
        detection on the same frames): kept unless one is known already."""
        with self._lock:
            if self._region is None:
                x0, y0, x1, y1 = (int(v) for v in region)
                self._region = (x0, y0, x1, y1)
                self.region_source = source
                self._transform = None

    def prepare_geometry(self) -> None:
        """Work out the region and grid transform now (a background thread calls this so that
        the viewer's first overlay does not detect the region on the UI thread)."""
        _ = self.transform

    @property
    def transform(self) -> GridTransform:
        if self._transform is None:
            if (self.height, self.width) == (GRID, GRID) and self.region == (0, 0, GRID, GRID):
                self._transform = GridTransform.identity()
            else:
                self._transform = GridTransform.from_region(self.region)
        return self._transform

    @property
    def cm_per_pixel_grid(self) -> float | None:
        return self.transform.grid_cm_per_pixel(self.cm_per_pixel)

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.fps

    # -- frames -------------------------------------------------------------------------------
    def frame(self, i: int) -> np.ndarray:
        """Native frame i, uint8 (H,W) grey or (H,W,3) RGB; read-only, LRU-cached."""
        i = int(i)
        if i < 0:
            i += self.n_frames
        if not 0 <= i < self.n_frames:
            raise IndexError(f"frame {i} out of range 0..{self.n_frames - 1}")
        with self._lock:
            arr = self._cache.get(i)
            if arr is not None:
                self._cache.move_to_end(i)
                return arr
        # Decoded outside the lock (each source serialises its own file access): a reader of
        # cached frames, the playing viewer, never waits for a decode in another thread.
        arr = self.source.read(i)
        arr.setflags(write=False)
        with self._lock:
            known = self._cache.get(i)
            if known is not None:  # decoded meanwhile by another thread
                return known
            self._cache[i] = arr
            self._cached_bytes += arr.nbytes
            while self._cached_bytes > self.cache_bytes and len(self._cache) > 1:
                _, old = self._cache.popitem(last=False)
                self._cached_bytes -= old.nbytes
            return arr

    def is_cached(self, i: int) -> bool:
        with self._lock:
            return int(i) in self._cache

    def frame_rgb(self, i: int) -> np.ndarray:
        """Native frame i as (H,W,3) uint8 RGB."""
        f = self.frame(i)
        return np.repeat(f[..., None], 3, axis=2) if f.ndim == 2 else f

    def iter_frames(self) -> Iterator[np.ndarray]:
        """All native frames in order (compact form), decoded sequentially; not cached."""
        for n, f in enumerate(self.source.iter_frames()):
            if n >= self.n_frames:
                break
            yield f

    def grid_frames(self, progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """(T,112,112,3) uint8 RGB on the model grid; one streaming pass, computed once."""
        if self._grid is not None:
            return self._grid
        with self._grid_lock:
            if self._grid is not None:
                return self._grid
            tr = self.transform
            out = np.empty((self.n_frames, tr.size, tr.size, 3), dtype=np.uint8)
            n = 0
            for f in self.iter_frames():
                g = tr.warp_to_grid(f)
                if g.ndim == 2:
                    out[n] = g[..., None]
                else:
                    out[n] = g
                n += 1
                if progress is not None and (n % 16 == 0 or n == self.n_frames):
                    progress(n, self.n_frames)
            if n == 0:
                raise LoopError(self.path, "no frame could be decoded")
            if n < self.n_frames:  # the file held fewer frames than its header said
                out = out[:n].copy()
                self.info["frames_declared"] = self.n_frames
                self.n_frames = n
            out.setflags(write=False)
            self._grid = out
            return out

    def content_hash(self) -> str:
        """sha256 of the file bytes (cache key)."""
        if self._hash is None and isinstance(self.source, ArraySource):
            self._hash = hashlib.sha256(np.ascontiguousarray(self.source.frames).tobytes()).hexdigest()
        if self._hash is None:
            self._hash = sha256_file(self.path)
        return self._hash

    # -- misc ---------------------------------------------------------------------------------
    def summary(self) -> dict:
        """JSON-friendly description (used by `echoviewer info --json`)."""
        d = {
            "path": str(self.path),
            "kind": self.kind,
            "frames": self.n_frames,
            "width": self.width,
            "height": self.height,
            "fps": round(float(self.fps), 4),
            "fps_source": self.fps_source,
            "cm_per_pixel": self.cm_per_pixel,
        }
        if self._region is not None:
            d["region"] = list(self._region)
            d["region_source"] = self.region_source
        d.update({k: v for k, v in self.info.items() if isinstance(v, (str, int, float, bool)) or v is None})
        return d

    def drop_cache(self) -> None:
        with self._lock:
            self._cache.clear()
            self._cached_bytes = 0

    def close(self) -> None:
        """Free the decoded frames and the file handle; a later read opens the file again."""
        with self._lock:
            self.drop_cache()
            self.source.close()

    def __enter__(self) -> Loop:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
