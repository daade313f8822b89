"""Loop -> masks -> beats -> per-beat EF. No Qt: the CLI, the tests and the UI worker all call this."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np

from echoviewer.analysis.beats import ed_frames, es_frames, first_climb_open, incomplete_beats, late_ed_frames
from echoviewer.analysis.ef_categories import paper_threshold_flag
from echoviewer.analysis.mask_cleanup import LvCleaner, keep_lv, one_region
from echoviewer.analysis.metrics import dice
from echoviewer.analysis.tracing import area_length_volume, ef_from_volumes, tracing_from_mask
from echoviewer.io.gates import Decision, screen
from echoviewer.models import load_model, pick_device
from echoviewer.pipeline import cache as cache_mod
from echoviewer.pipeline import sparse
from echoviewer.pipeline.confidence import decide
from echoviewer.pipeline.feeder import GridFeeder
from echoviewer.pipeline.inference import InferenceEngine
from echoviewer.pipeline.preprocess import CLIP_NOTES, ClipSpec, clip_batch, gather_clip, normalise
from echoviewer.pipeline.results import (
    DISAGREEMENT_POINTS,
    HIGH_VARIANCE_SD,
    AnalysisSettings,
    Beat,
    Cancelled,
    LoopAnalysis,
    Progress,
    model_summary,
)

ProgressFn = Callable[[Progress], None]
CancelFn = Callable[[], bool]

#: Frames segmented first around the playhead, so the overlay shows at once in the viewer.
PRIORITY_RADIUS = 16
#: Frames in a loop's first batch: the playhead's own frames, so the viewer's first overlay waits
#: for 4 frames' inference (0.15 s with the official DeepLabV3 on 2 cores), not a full batch's (0.9 s).
FIRST_BATCH = 4


def frame_order(n: int, priority_frame: int | None) -> np.ndarray:
    """All frame indices: those within PRIORITY_RADIUS of the playhead first, nearest first."""
    idx = np.arange(n)
    if priority_frame is None:
        return idx
    dist = np.abs(idx - int(priority_frame))
    near = dist <= PRIORITY_RADIUS
    return np.concatenate([idx[near][np.argsort(dist[near], kind="stable")], idx[~near]])


#: The fast path (bf16/fp16) is checked against float32 on the first frames and clip each model
#: sees, and must agree as the speed issue requires: masks Dice >= 0.99, EF within 0.5 points.
CHECK_FRAMES, CHECK_CLIPS = 4, 1
MIN_DICE, MAX_EF_DIFF = 0.99, 0.5


def _masks_agree(fast: np.ndarray, ref: np.ndarray) -> tuple[bool, str]:
    d = dice(fast[:, 0] > 0, ref[:, 0] > 0)
    return d >= MIN_DICE, f"mask Dice {d:.4f} against float32 on {len(ref)} frames (need {MIN_DICE})"


def _ef_agree(fast: np.ndarray, ref: np.ndarray) -> tuple[bool, str]:
    diff = float(np.abs(fast.reshape(-1) - ref.reshape(-1)).max())
    return diff <= MAX_EF_DIFF, f"EF {diff:.2f} points from float32 on {len(ref)} clip(s) (need <= {MAX_EF_DIFF})"


class Analyzer:
    """Holds the loaded models; reuse one instance across loops."""

    def __init__(self, settings: AnalysisSettings | None = None, use_cache: bool = True):
        self.settings = settings or AnalysisSettings()
        self.use_cache = use_cache
        self.device = pick_device(self.settings.device)
        seg, self.seg_info = load_model("segmentation", self.settings.seg_weights, device=str(self.device))
        ef, self.ef_info = load_model("ef", self.settings.ef_weights, device=str(self.device))
        self.seg_mean, self.seg_std = self._norm(self.seg_info)
        self.ef_mean, self.ef_std = self._norm(self.ef_info)
        self.clip = ClipSpec.of(self.ef_info)
        self.seg_engine = InferenceEngine(seg, self.device, fast=self.settings.fast, int8=self._int8("segmentation"))
        self.ef_engine = InferenceEngine(ef, self.device, fast=self.settings.fast, int8=self._int8("ef"))

    def _int8(self, task: str) -> Callable | None:
        """How to make the int8 copy of a model (CPUs without bf16 run it), or None: only the
        official architectures have one. Calibrated on phantoms with this session's normalisation."""
        from echoviewer.pipeline import quantize

        seg = task == "segmentation"
        info = self.seg_info if seg else self.ef_info
        if not quantize.supports_int8(info.architecture):
            return None
        mean, std = (self.seg_mean, self.seg_std) if seg else (self.ef_mean, self.ef_std)
        shape = (1, 3, 112, 112) if seg else (1, 3, self.clip.frames, 112, 112)

        def calibrate():
            grids = quantize.calibration_grid()
            if seg:
                return quantize.segmentation_calibration(grids, mean, std)
            return quantize.ef_calibration(grids, mean, std, self.clip)

        key = quantize.int8_key(info.sha256, mean.tolist(), std.tolist(), shape)
        # kept whatever use_cache says: that is about analyses (--no-cache recomputes results), and
        # an int8 model depends only on the weights and the recipe
        cache = cache_mod.cache_dir() / "int8"
        return lambda model: quantize.int8_copy(model, info.architecture, key, shape, calibrate, cache)

    def _norm(self, info) -> tuple[np.ndarray, np.ndarray]:
        mean = self.settings.mean if self.settings.mean is not None else info.mean
        std = self.settings.std if self.settings.std is not None else info.std
        return np.asarray(mean, np.float32), np.asarray(std, np.float32)

    # -- cache --------------------------------------------------------------------------------
    def cache_key(self, loop, settings: AnalysisSettings | None = None) -> str:
        return cache_mod.make_key(
            loop.content_hash(), self.seg_info.sha256, self.ef_info.sha256, (settings or self.settings).cache_fields(),
            self.seg_mean.tolist(), self.ef_mean.tolist(), self.seg_std.tolist(), self.ef_std.tolist(),
        )

    def _cached(self, loop) -> tuple[str, LoopAnalysis | None]:
        """(this analysis' cache key, a cached result that serves it): when not every frame is
        wanted, an analysis of every frame (e.g. the window's) serves as well."""
        key = self.cache_key(loop)
        hit = cache_mod.load(key, self.seg_info, self.ef_info, self.settings)
        if hit is None and not self.settings.all_frames:
            full = replace(self.settings, all_frames=True)
            hit = cache_mod.load(self.cache_key(loop, full), self.seg_info, self.ef_info, full)
        return key, hit

    # -- stages -------------------------------------------------------------------------------
    def segment(
        self,
        frames,
        progress: ProgressFn | None = None,
        cancel: CancelFn | None = None,
        priority_frame: int | None = None,
    ) -> np.ndarray:
        """Grid frames (a (T,112,112,3) uint8 array or a GridFeeder) -> (T,112,112) bool masks
        (logit > 0), segmented in batches, frames around ``priority_frame`` first. Progress carries
        each frame's mask as a viewer shows it until the analysis ends (one region, see
        ``display_masks``); the masks returned are the raw ones (``summarise`` cleans them)."""
        feeder = frames if isinstance(frames, GridFeeder) else _ArrayFeeder(frames)
        n = feeder.n
        masks = np.zeros((n, 112, 112), dtype=bool)
        have = np.zeros(n, dtype=bool)
        self._segment_into(feeder, frame_order(n, priority_frame), masks, have, progress, cancel,
                           viewer_waits=priority_frame is not None)
        return masks[: feeder.n]

    def _segment_into(self, feeder, order, masks, have, progress, cancel, viewer_waits=False, total=None) -> None:
        """Segment frames ``order`` into ``masks``, marking them in ``have``."""
        for idx, m in self._segment_batches(feeder, order, cancel, viewer_waits=viewer_waits):
            masks[idx] = m  # a batch may come twice: fast-path masks, then float32 ones (see below)
            have[idx] = True
            if progress:
                progress(Progress("segment", int(have.sum()), total or len(have), frames=idx,
                                  masks=self.display_masks(m)))

    def segment_for_beats(self, feeder, fps: float, progress=None, cancel=None,
                          cleaner: LvCleaner | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(masks, which frames were segmented): only the frames the beats are read from (see
        ``pipeline/sparse.py``); the others' masks are empty. ``cleaner``: give the same to
        ``summarise`` (each frame is cleaned once)."""
        cleaner = cleaner or LvCleaner()
        n = feeder.n
        masks = np.zeros((n, 112, 112), dtype=bool)
        have = np.zeros(n, dtype=bool)
        todo = sparse.coarse(n)
        while todo.any():
            self._segment_into(feeder, np.flatnonzero(todo), masks, have, progress, cancel,
                               total=int((have | todo).sum()))
            if feeder.n < len(have):  # the file held fewer frames than its header said
                masks, have = masks[: feeder.n], have[: feeder.n]
                if not have[-1]:  # its last frame ends the trace: segment it
                    todo = np.zeros_like(have)
                    todo[-1] = True
                    continue
            _clean, areas = self._trace(masks, have, cleaner)
            es, ed, _incomplete = self._beats(areas, fps)
            todo = sparse.needed(areas, ed, es) & ~have
        return masks, have

    def display_masks(self, masks: np.ndarray) -> np.ndarray:
        """Frames' masks before the whole loop is known: each its largest region, filled
        (``--echonet-exact``: as the model gave them)."""
        if self.settings.echonet_exact:
            return masks
        return np.stack([one_region(m) for m in masks]) if len(masks) else masks

    def _segment_batches(
        self, feeder, order, cancel, viewer_waits: bool = False
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        eng = self.seg_engine
        start = 0
        while start < len(order):
            if cancel and cancel():
                raise Cancelled()
            first = start == 0
            bs = min(FIRST_BATCH, eng.batch_size) if first else eng.batch_size
            idx = np.sort(order[start : start + bs])
            start += bs
            if viewer_waits:  # frames around a playhead far ahead of the decoder: random access
                feeder.prefetch(idx)
            batch = feeder.get(idx)
            idx = idx[: len(batch)]
            if not len(idx):
                continue
            x = normalise(batch, self.seg_mean, self.seg_std)
            if first and viewer_waits:  # alone: decoding beside it would slow it down (see GridFeeder.pause)
                feeder.pause()
            try:
                logits = eng.run(x)
            finally:
                feeder.resume()
            yield idx, logits[:, 0] > 0
            if not eng.checked and not (cancel and cancel()):
                # The session's first batch is checked against float32 after its masks are shown,
                # not before (0.2 s with the official DeepLabV3); float32 ones replace them if the
                # fast path disagrees. A job cancelled meanwhile leaves the check to the next.
                checked = eng.check(x, logits, _masks_agree, CHECK_FRAMES)
                if checked is not logits:
                    yield idx, checked[:, 0] > 0

    def _model_ef(self, grid: np.ndarray, starts: list[int], cancel: CancelFn | None) -> list[float]:
        """EF for the clip at each start, the clips of all beats batched together."""
        if not starts:
            return []
        video = normalise(grid, self.ef_mean, self.ef_std)  # (T,3,H,W)
        out: list[float] = []
        bs = max(1, self.ef_engine.batch_size // 8)
        for i in range(0, len(starts), bs):
            if cancel and cancel():
                raise Cancelled()
            x = clip_batch([gather_clip(video, s, self.clip) for s in starts[i : i + bs]])
            out.extend(float(v) for v in self.ef_engine.run_checked(x, _ef_agree, CHECK_CLIPS).reshape(-1))
        return out

    # -- whole loop ---------------------------------------------------------------------------
    def analyze(
        self,
        loop,
        progress: ProgressFn | None = None,
        cancel: CancelFn | None = None,
        priority_frame: int | None = None,
        skip_not_analysable: bool = False,
    ) -> LoopAnalysis:
        """Segment, find beats, estimate EF; ``gate`` says whether the method applies. With
        ``skip_not_analysable`` a loop the gates before the models reject (metadata, pixels on a
        few frames) is not analysed at all: its result has no masks and no beats (`not_analysed`)."""
        t0 = time.perf_counter()
        before: Decision | None = None
        if skip_not_analysable:
            before = screen(loop)
            if not before.analysable:
                if progress:
                    progress(Progress("done", 1, 1))
                return self.not_analysed(loop, before)
        key = None
        if self.use_cache:
            key, hit = self._cached(loop)
            if hit is not None:
                if progress:
                    progress(Progress("segment", hit.n_frames, hit.n_frames, np.arange(hit.n_frames), hit.masks))
                    progress(Progress("done", 1, 1))
                return hit
        feeder = GridFeeder(loop)
        have = None
        cleaner = LvCleaner()
        try:
            if self.settings.all_frames:
                masks = self.segment(feeder, progress, cancel, priority_frame)
            else:
                masks, have = self.segment_for_beats(feeder, loop.fps, progress, cancel, cleaner)
            grid = feeder.all()
        finally:
            feeder.close()
        result = self.summarise(loop, grid, masks[: len(grid)], progress, cancel,
                                segmented=None if have is None else have[: len(grid)], cleaner=cleaner)
        result.gate = decide(before if before is not None else screen(loop, grid), result)
        result.seconds = time.perf_counter() - t0
        if key:
            cache_mod.save(key, result)
        if progress:
            progress(Progress("done", 1, 1))
        return result

    def not_analysed(self, loop, gate: Decision) -> LoopAnalysis:
        """The result of a loop the gates turned away: no masks, no beats, no EF; the reason in its flags."""
        return LoopAnalysis(
            path=str(loop.path), n_frames=int(loop.n_frames), fps=float(loop.fps), cm_per_pixel_grid=None,
            areas=np.zeros(0, np.int64), masks=np.zeros((0, 112, 112), bool), beats=[], ef_mean=None, ef_sd=None,
            ef_seg_mean=None, edv_mean=None, esv_mean=None, volume_unit="mL" if loop.cm_per_pixel else "px3",
            hr_bpm=None, flags=[gate.text()], seg_info=self.seg_info, ef_info=self.ef_info, settings=self.settings,
            device=str(self.device), gate=gate,
        )

    def _trace(self, masks: np.ndarray, have: np.ndarray | None = None,
               cleaner: LvCleaner | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(the masks as the analysis keeps them, the LV area per frame). ``have``: the frames
        segmented; the others' areas are interpolated (``sparse.filled``), their masks empty."""
        n = len(masks)
        if have is None or have.all():
            clean = masks if self.settings.echonet_exact else keep_lv(masks)
            return clean, clean.reshape(n, -1).sum(axis=1).astype(np.int64)
        if self.settings.echonet_exact:
            clean = np.where(have[:, None, None], masks, False)
        else:
            clean = (cleaner or LvCleaner()).clean(masks, have)
        return clean, sparse.filled(clean.reshape(n, -1).sum(axis=1), have)

    def _beats(self, areas: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(ES frames, ED frames, why each beat is incomplete or '') of an area trace."""
        exact = self.settings.echonet_exact
        es = es_frames(areas, fps, exact=exact)
        ed = ed_frames(areas, es) if exact else late_ed_frames(areas, es)
        # the reference counts every ES it finds; the app leaves out beats it saw only in part
        incomplete = [""] * len(es) if exact else incomplete_beats(ed, es, first_climb_open(areas, es))
        return es, ed, incomplete

    def summarise(self, loop, grid, masks, progress=None, cancel=None, segmented=None,
                  cleaner: LvCleaner | None = None) -> LoopAnalysis:
        s = self.settings
        n = len(masks)
        masks, areas = self._trace(masks, segmented, cleaner)
        es, ed, incomplete = self._beats(areas, loop.fps)
        cm = loop.transform.grid_cm_per_pixel(loop.cm_per_pixel)
        beats: list[Beat] = []
        starts: list[int] = []
        for k, (d, e) in enumerate(zip(ed, es), start=1):
            start, mode = self.clip.beat_clip(int(e), n, s.echonet_exact)
            beat = Beat(number=k, ed_frame=int(d), es_frame=int(e), clip_start=start, clip_mode=mode)
            if mode != "full":
                beat.flags.append(CLIP_NOTES[mode])
            if incomplete[k - 1]:
                beat.flags.append(incomplete[k - 1])
                beat.included = False
            if start is None:  # mode "dropped"
                beat.included = False
            else:
                starts.append(start)
            self._seg_volumes(beat, masks, cm)
            beats.append(beat)
        if progress:
            progress(Progress("ef", 0, len(starts)))
        efs = iter(self._model_ef(grid, starts, cancel))
        for beat in beats:
            if beat.clip_mode != "dropped":
                beat.ef_model = next(efs)
            if beat.ef_model is not None and beat.ef_seg is not None:
                if abs(beat.ef_model - beat.ef_seg) > DISAGREEMENT_POINTS:
                    beat.flags.append(f"model and segmentation EF differ by > {DISAGREEMENT_POINTS:g} points")
        result = self._loop_summary(loop, areas, masks, beats, cm)
        if segmented is not None and not segmented.all():
            result.segmented = segmented
        return result

    def _seg_volumes(self, beat: Beat, masks: np.ndarray, cm: float | None) -> None:
        beat.ed_tracing = tracing_from_mask(masks[beat.ed_frame])
        beat.es_tracing = tracing_from_mask(masks[beat.es_frame])
        if beat.ed_tracing is None or beat.es_tracing is None:
            beat.flags.append("no LV tracing on the ED or ES frame")
            return
        beat.edv = beat.ed_tracing.volume(cm)
        beat.esv = beat.es_tracing.volume(cm)
        if beat.edv > 0:
            beat.ef_seg = ef_from_volumes(beat.edv, beat.esv)
        ed_len = _axis_length(beat.ed_tracing)
        es_len = _axis_length(beat.es_tracing)
        if ed_len > 0 and es_len > 0:
            v_ed = area_length_volume(float(masks[beat.ed_frame].sum()), ed_len, cm)
            v_es = area_length_volume(float(masks[beat.es_frame].sum()), es_len, cm)
            if v_ed > 0:
                beat.ef_area_length = ef_from_volumes(v_ed, v_es)

    def _loop_summary(self, loop, areas, masks, beats, cm) -> LoopAnalysis:
        s = self.settings
        summary = model_summary(beats, loop.fps)
        flags: list[str] = []
        if not beats:
            flags.append("no beats found")
        elif summary.n_used < 2:
            flags.append("fewer than 2 beats")
        if summary.ef_sd is not None and summary.ef_sd > HIGH_VARIANCE_SD:
            flags.append(f"high beat-to-beat variance (s.d. > {HIGH_VARIANCE_SD:g})")
        if summary.ef_mean is not None and summary.ef_mean < s.hfref_threshold:
            flags.append(paper_threshold_flag(s.hfref_threshold))
        if any(b.included and b.ef_model is not None and b.ef_seg is not None
               and abs(b.ef_model - b.ef_seg) > DISAGREEMENT_POINTS for b in beats):
            flags.append("model and segmentation EF disagree")
        if self.seg_info.demo or self.ef_info.demo:
            flags.append("demo weights")
        x0, y0, x1, y1 = (int(v) for v in loop.region)
        return LoopAnalysis(
            path=str(loop.path),
            n_frames=len(masks),
            fps=float(loop.fps),
            cm_per_pixel_grid=cm,
            areas=areas,
            masks=masks,
            beats=beats,
            ef_mean=summary.ef_mean,
            ef_sd=summary.ef_sd,
            ef_seg_mean=summary.ef_seg_mean,
            edv_mean=summary.edv_mean,
            esv_mean=summary.esv_mean,
            volume_unit="mL" if cm is not None else "px3",
            hr_bpm=summary.hr_bpm,
            flags=flags,
            seg_info=self.seg_info,
            ef_info=self.ef_info,
            settings=s,
            device=str(self.device),
            region=(x0, y0, x1, y1),
            region_source=loop.region_source,
        )


def _axis_length(t) -> float:
    x1, y1, x2, y2 = (float(v) for v in t.axis)
    return float(np.hypot(x2 - x1, y2 - y1))


class _ArrayFeeder:
    """GridFeeder's interface over frames already in memory."""

    def __init__(self, frames: np.ndarray):
        self.frames = frames
        self.n = len(frames)

    def prefetch(self, idx) -> None:
        pass

    def get(self, idx) -> np.ndarray:
        return self.frames[idx]

    def pause(self) -> None:
        pass

    def resume(self) -> None:
        pass
