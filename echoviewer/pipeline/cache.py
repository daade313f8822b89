"""On-disk cache of analyses, keyed by loop content + weights hashes + settings.

Reopening an analysed study is instant; any change to the loop bytes, the weights or a setting
that changes results gives a new key and so recomputes. Entries are an .npz (packed masks and
areas) plus a JSON of the beats; a damaged entry is treated as a miss, never as an error.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from echoviewer.paths import atomic_write, user_cache_dir

#: Bump when the pipeline's results change for the same inputs (numbers, or the words of its flags).
# 4: a one-frame dip no longer ends the ED climb; the earliest of equal ES minima; sparse frames.
# 3: the gates' decision (LoopAnalysis.gate); one LV region, late ED, whole beats.
PIPELINE_VERSION = "4"


def cache_dir() -> Path:
    return user_cache_dir()


def make_key(*parts) -> str:
    blob = json.dumps([PIPELINE_VERSION, *parts], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _tracing_to_json(t):
    if t is None:
        return None
    return {"axis": np.asarray(t.axis).tolist(), "chords": np.asarray(t.chords).tolist()}


def _tracing_from_json(d):
    if d is None:
        return None
    from echoviewer.analysis.tracing import Tracing

    return Tracing(axis=np.asarray(d["axis"], float), chords=np.asarray(d["chords"], float))


def save(key: str, result) -> None:
    d = cache_dir()
    try:
        d.mkdir(parents=True, exist_ok=True)
        beats = []
        for b in result.beats:
            bd = asdict(b)
            bd["ed_tracing"] = _tracing_to_json(b.ed_tracing)
            bd["es_tracing"] = _tracing_to_json(b.es_tracing)
            beats.append(bd)
        meta = {
            k: getattr(result, k)
            for k in ("path", "n_frames", "fps", "cm_per_pixel_grid", "ef_mean", "ef_sd", "ef_seg_mean",
                      "edv_mean", "esv_mean", "volume_unit", "hr_bpm", "flags", "device", "seconds",
                      "region", "region_source")
        }
        meta["beats"] = beats
        meta["gate"] = result.gate.to_dict() if result.gate is not None else None
        meta["mask_shape"] = list(result.masks.shape)
        arrays = {"masks": np.packbits(result.masks.reshape(-1)), "areas": result.areas}
        if result.segmented is not None:
            arrays["segmented"] = result.segmented
        atomic_write(d / f"{key}.npz", lambda f: np.savez_compressed(f, **arrays))
        atomic_write(d / f"{key}.json", lambda f: f.write(json.dumps(meta).encode()))
    except OSError:
        pass  # a cache that cannot be written only costs time


def load(key: str, seg_info, ef_info, settings):
    from echoviewer.pipeline.results import Beat, LoopAnalysis

    d = cache_dir()
    try:
        meta = json.loads((d / f"{key}.json").read_text())
        with np.load(d / f"{key}.npz") as z:
            shape = tuple(meta.pop("mask_shape"))
            masks = np.unpackbits(z["masks"], count=int(np.prod(shape))).astype(bool).reshape(shape)
            areas = z["areas"]
            segmented = z["segmented"] if "segmented" in z else None
        if meta.get("region") is not None:  # (entries written before it was saved have none)
            meta["region"] = tuple(meta["region"])
        gate = meta.pop("gate", None)
        if gate:
            from echoviewer.io.gates import Decision

            meta["gate"] = Decision.from_dict(gate)
        beats = []
        for bd in meta.pop("beats"):
            bd["ed_tracing"] = _tracing_from_json(bd["ed_tracing"])
            bd["es_tracing"] = _tracing_from_json(bd["es_tracing"])
            beats.append(Beat(**bd))
        return LoopAnalysis(areas=areas, masks=masks, beats=beats, seg_info=seg_info, ef_info=ef_info,
                            settings=settings, segmented=segmented, **meta)
    except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError):
        return None
