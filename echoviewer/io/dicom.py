"""Ultrasound DICOM loops through pydicom 3's pixel handling, one frame at a time.

Opening reads the header (everything before Pixel Data), checks the pixel data's structure
against the header without decoding it (native: byte length; encapsulated: the item table,
read by seeking over the fragments), and decodes the first frame as a probe. The header and that
structure (where each frame's bytes are, whether they are complete) are io/dicom_layout.py's;
this module holds what needs a decoder: the frames, their colour, the frame rate from the
dataset, and `open_dicom`, which turns what the layout finds into a `Loop` or a `LoopError`.

Decoding goes through pydicom's decoders (`pydicom.pixels.get_decoder(...).as_array`):
native data from the open file at the element's offset (pydicom seeks to the frame), compressed
frames from the bytes of that frame's fragments. pydicom picks the plugin; for JPEG baseline /
extended Pillow is preferred (faster than GDCM here), JPEG lossless needs GDCM (python-gdcm),
JPEG 2000 uses pylibjpeg-openjpeg / Pillow / GDCM, RLE pydicom's own decoder.

Colour: YBR_FULL / YBR_FULL_422 frames are decoded raw (still YCbCr) and converted with pydicom's
own `convert_color_space` - exactly what pydicom would do - except that a frame whose chroma
planes are all 128 is grey and its Y plane is used directly (identical to converting it).
Conversion happens once. PALETTE COLOR goes through `apply_color_lut`; MONOCHROME1 is inverted;
more than 8 bits are mapped to uint8 by the VOI window when one is stored, else by the range of
the first frame (fixed for the whole loop so the brightness does not flicker).
"""

from __future__ import annotations

import math
import os
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np
import pydicom
from pydicom.encaps import encapsulate
from pydicom.pixels import apply_color_lut, convert_color_space, get_decoder
from pydicom.pixels.utils import as_pixel_options
from pydicom.uid import UID

from echoviewer.io.dicom_layout import (
    FLOAT_PIXEL_DATA,
    J2K_FAMILY,
    PIXEL_DATA,
    frame_table,
    header_is_complete,
    jpeg_structure_problem,
    pixel_element,
    read_header,
    read_items,
)
from echoviewer.io.gates import label_from_dataset, regions_from_dataset
from echoviewer.io.identity import Identity
from echoviewer.io.loop import DEFAULT_FPS, FrameSource, Loop, LoopError, compact
from echoviewer.io.region import region_from_dataset

_PILLOW_FIRST = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51"}
_MAX_FPS = 1000.0


def _uid_name(value) -> str:
    """The registered name of a UID value ('' for none), without pydicom's validation warnings."""
    if not value:
        return ""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return str(UID(str(value)).name)


# -- fps ----------------------------------------------------------------------------------------
def _fps_from_dataset(ds) -> tuple[float, str]:
    def ok(v):
        return v is not None and math.isfinite(v) and 0 < v <= _MAX_FPS

    def num(v):
        try:
            return float(v)
        except (TypeError, ValueError):
            return None

    ft = num(ds.get("FrameTime", None))
    if ft and ft > 0 and ok(1000.0 / ft):
        return 1000.0 / ft, "FrameTime"
    ftv = ds.get("FrameTimeVector", None)
    if ftv is not None:
        try:
            vals = [float(v) for v in (ftv if isinstance(ftv, (list, tuple, pydicom.multival.MultiValue)) else [ftv])]
            vals = [v for v in vals[1:] if v > 0] if len(vals) > 1 and vals[0] == 0 else [v for v in vals if v > 0]
            if vals and ok(1000.0 / float(np.mean(vals))):
                return 1000.0 / float(np.mean(vals)), "FrameTimeVector"
        except (TypeError, ValueError):
            pass
    for key in ("CineRate", "RecommendedDisplayFrameRate"):
        v = num(ds.get(key, None))
        if ok(v):
            return v, key
    return DEFAULT_FPS, "default"


def _ybr_to_rgb(arr: np.ndarray) -> np.ndarray:
    """8-bit YBR_FULL frame -> compact RGB, bit-identical to pydicom's convert_color_space.

    Where Cb == Cr == 128 pydicom's formula gives R = G = B = Y exactly, so only the chroma-bearing
    pixels (an ECG trace, colour Doppler) go through pydicom's conversion; an all-grey frame is its
    Y plane.
    """
    arr = np.ascontiguousarray(arr)
    y = np.ascontiguousarray(arr[..., 0])
    grey = cv2.inRange(arr, (0, 128, 128), (255, 128, 128))  # 255 where Cb == Cr == 128
    n = grey.size - cv2.countNonZero(grey)
    if n == 0:
        return y
    if n > grey.size // 3:
        return convert_color_space(arr, "YBR_FULL", "RGB")
    colour = grey == 0
    out = cv2.merge([y, y, y])
    out[colour] = convert_color_space(arr[colour][None], "YBR_FULL", "RGB")[0]
    return out


# -- decoder plugins ---------------------------------------------------------------------------------
def _plugin_order(decoder, ts: UID, bits: int) -> list[str]:
    """pydicom decoding plugins to try, in order.

    GDCM only where no other installed plugin decodes the syntax (JPEG lossless, JPEG-LS, 12-bit
    JPEG): on some corrupt JPEG streams GDCM throws a C++ exception that its Python binding does
    not catch and the whole process aborts (found by benchmarks/fuzz_readers.py). Pillow first
    for 8-bit JPEG baseline / extended (faster here), pylibjpeg-openjpeg first for JPEG 2000. Never
    raises: an unavailable syntax fails at decode time with pydicom's own message.
    """
    try:
        available = list(decoder.available_plugins)
    except Exception:  # pragma: no cover - a decoder without plugins
        return [""]
    if str(ts) in _PILLOW_FIRST and bits > 8:  # 12-bit JPEG: Pillow cannot
        available = [p for p in available if p != "pillow"]
    others = [p for p in available if p != "gdcm"]
    first = "pillow" if str(ts) in _PILLOW_FIRST else "pylibjpeg" if str(ts) in J2K_FAMILY else None
    if first in others:
        others = [first] + [p for p in others if p != first]
    if others:
        return others
    return ["gdcm"] if "gdcm" in available else [""]


# -- the frame source ------------------------------------------------------------------------------
class DicomSource(FrameSource):
    def __init__(self, path: Path, ds, ts: UID, value_offset: int, pixel_vr: str | None,
                 n_frames: int, table: list[list[tuple[int, int]]] | None):
        self.path = path
        self.ds = ds
        self.ts = ts
        self.value_offset = value_offset
        self.n_frames = n_frames
        self.table = table  # None for native data
        self.decoder = get_decoder(ts)
        self.photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
        self.bits = int(ds.get("BitsAllocated", 8))
        self.opts = as_pixel_options(ds, transfer_syntax_uid=ts)
        self.opts["pixel_keyword"] = "PixelData"
        if pixel_vr:
            self.opts["pixel_vr"] = pixel_vr
        self.opts["number_of_frames"] = n_frames
        self._scale: tuple[float, float] | None = None  # >8 bit: (lo, hi) -> 0..255
        self._pal_shift: int | None = None
        self._fh: BinaryIO | None = None
        self._fh_lock = threading.Lock()
        self._plugins = _plugin_order(self.decoder, ts, self.bits)
        self._ybr = self.photometric in ("YBR_FULL", "YBR_FULL_422")

    # raw decode of frame i through pydicom
    def _decode(self, fh, i: int) -> tuple[np.ndarray, dict]:
        raw = self._ybr and self.bits == 8
        last: Exception | None = None
        for plugin in self._plugins:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if self.table is None:
                        fh.seek(self.value_offset)
                        return self.decoder.as_array(fh, index=i, raw=raw, decoding_plugin=plugin, **self.opts)
                    parts = []
                    for off, length in self.table[i]:
                        fh.seek(off)
                        parts.append(fh.read(length))
                        if len(parts[-1]) < length:
                            raise LoopError(self.path, f"truncated file (frame {i} is cut off)")
                    opts = dict(self.opts, number_of_frames=1)
                    opts.pop("extended_offsets", None)
                    data = parts[0] if len(parts) == 1 else b"".join(parts)
                    if plugin == "gdcm":  # GDCM aborts the process on some corrupt streams: check first
                        problem = jpeg_structure_problem(data)
                        if problem:
                            raise LoopError(self.path, f"frame {i} cannot be decoded: corrupt JPEG data ({problem})")
                    return self.decoder.as_array(encapsulate([data]), index=0, raw=raw, decoding_plugin=plugin, **opts)
            except Exception as exc:  # try the next plugin, then give up with the last error
                last = exc
        raise last if last is not None else LoopError(self.path, f"frame {i}: no decoder to try")

    def _to_uint8(self, arr: np.ndarray, props: dict) -> np.ndarray:
        pi = str(props.get("photometric_interpretation", self.photometric)).upper()
        if pi in ("YBR_FULL", "YBR_FULL_422") and arr.ndim == 3:
            return _ybr_to_rgb(arr)
        elif pi == "PALETTE COLOR":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                arr = apply_color_lut(arr, self.ds)
            if arr.dtype != np.uint8:
                arr = (arr >> self._palette_shift()).astype(np.uint8)
        if arr.dtype != np.uint8:
            arr = self._rescale(arr)
        if pi == "MONOCHROME1":
            arr = 255 - arr
        return compact(np.ascontiguousarray(arr))

    def _palette_shift(self) -> int:
        """8 when the LUT entries are 16-bit values (the usual case), 0 for 8-bit ones; decided
        once from the whole LUT so that every frame is scaled alike."""
        if self._pal_shift is None:
            try:
                n, first = (int(self.ds.RedPaletteColorLookupTableDescriptor[0]) or 65536,
                            int(self.ds.RedPaletteColorLookupTableDescriptor[1]))
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    lut = apply_color_lut(
                        np.arange(first, first + n, dtype=np.uint16 if self.bits > 8 else np.uint8)[:, None], self.ds)
                self._pal_shift = 8 if int(lut.max()) > 255 else 0
            except Exception:
                self._pal_shift = 8
        return self._pal_shift

    def _rescale(self, arr: np.ndarray) -> np.ndarray:
        a = arr.astype(np.float32)
        slope = float(self.ds.get("RescaleSlope", 1) or 1)
        intercept = float(self.ds.get("RescaleIntercept", 0) or 0)
        if arr.ndim == 2:
            a = a * slope + intercept
        if self._scale is None:
            lo: float | None = None
            hi: float | None = None
            try:
                c, w = self.ds.get("WindowCenter", None), self.ds.get("WindowWidth", None)
                if c is not None and w is not None:
                    c = float(c[0] if isinstance(c, pydicom.multival.MultiValue) else c)
                    w = float(w[0] if isinstance(w, pydicom.multival.MultiValue) else w)
                    if w > 1:
                        lo, hi = c - w / 2, c + w / 2
            except (TypeError, ValueError):
                lo = hi = None
            if lo is None or hi is None:
                lo, hi = float(a.min()), float(a.max())
                if hi <= lo:
                    hi = lo + 1
            self._scale = (lo, hi)
        lo, hi = self._scale
        out = (a - lo) * (255.0 / (hi - lo))
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)

    def _frame(self, fh, i: int) -> np.ndarray:
        try:
            arr, props = self._decode(fh, i)
            return self._to_uint8(arr, props)
        except LoopError:
            raise
        except Exception as exc:
            raise LoopError(self.path, f"frame {i} cannot be decoded: {type(exc).__name__}: {exc}") from None

    def read(self, i: int) -> np.ndarray:
        with self._fh_lock:
            if self._fh is None:
                self._fh = open(self.path, "rb")
            return self._frame(self._fh, i)

    def iter_frames(self) -> Iterator[np.ndarray]:
        with open(self.path, "rb") as fh:
            for i in range(self.n_frames):
                yield self._frame(fh, i)

    def close(self) -> None:
        with self._fh_lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None


def open_dicom(path: str | os.PathLike) -> Loop:
    """Open an ultrasound DICOM file as a Loop (raises LoopError)."""
    path = Path(path)
    ds, ts, pos, size = read_header(path)
    with open(path, "rb") as fh:
        el = pixel_element(fh, ts, pos)
        if el is None:
            if not header_is_complete(fh, ts, size):
                raise LoopError(path, "truncated file (the DICOM header ends early)")
            raise LoopError(path, "DICOM without pixel data")
        tag, vr, offset, length = el
        if tag in FLOAT_PIXEL_DATA:
            raise LoopError(path, "float pixel data is not supported")
        if tag != PIXEL_DATA:
            raise LoopError(path, "DICOM without pixel data")
        if length == -1:
            raise LoopError(path, "truncated file (the pixel data element header is cut off)")
        for key in ("Rows", "Columns"):
            if key not in ds:
                raise LoopError(path, f"DICOM image without {key}")
        rows, cols = int(ds.Rows), int(ds.Columns)
        if rows <= 0 or cols <= 0:
            raise LoopError(path, f"invalid image size {cols}x{rows}")
        try:
            nof = ds.get("NumberOfFrames", None)
            n_declared = 1 if nof is None or str(nof).strip() == "" else int(nof)  # absent / empty: one frame
        except (TypeError, ValueError):
            raise LoopError(path, f"invalid NumberOfFrames {ds.get('NumberOfFrames')!r}") from None
        if n_declared == 0:
            raise LoopError(path, "DICOM with no frames (NumberOfFrames is 0)")
        if n_declared < 1:
            raise LoopError(path, f"invalid NumberOfFrames {n_declared}")

        if not ts.is_encapsulated:
            if not ts.is_transfer_syntax:
                raise LoopError(path, f"unknown transfer syntax {ts}")
            if length is None:
                raise LoopError(path, "native pixel data with undefined length")
            try:
                with warnings.catch_warnings():  # setting a malformed value validates it again
                    warnings.simplefilter("ignore")
                    fds = pydicom.Dataset()
                    for key in ("Rows", "Columns", "SamplesPerPixel", "BitsAllocated", "PhotometricInterpretation"):
                        if key in ds:
                            setattr(fds, key, ds[key].value)
                    fds.NumberOfFrames = 1
                    frame_len = pydicom.pixels.utils.get_expected_length(fds, "bytes")
            except Exception as exc:
                raise LoopError(path, f"incomplete image description: {exc}") from None
            if int(ds.get("BitsAllocated", 8)) == 1:
                raise LoopError(path, "1-bit pixel data is not supported")
            available = min(length, size - offset)
            held = available // frame_len if frame_len else 0
            if size - offset < length and held < n_declared:
                raise LoopError(path, f"truncated file (pixel data holds {held} of {n_declared} frames)")
            if held != n_declared:
                raise LoopError(path, f"NumberOfFrames says {n_declared} but the data holds {held}")
            table = None
            n_frames = n_declared
        else:
            try:
                decoder = get_decoder(ts)
            except NotImplementedError:
                raise LoopError(path, f"unsupported transfer syntax {ts.name} ({ts})") from None
            if not decoder.is_available:
                missing = "; ".join(decoder.missing_dependencies) or "no plugin"
                raise LoopError(path, f"no decoder installed for {ts.name} ({missing})")
            try:
                items, complete = read_items(fh, offset, size)
            except ValueError as exc:
                raise LoopError(path, f"corrupt encapsulated pixel data ({exc})") from None
            if not items:
                raise LoopError(path, "truncated file (no pixel data items)")
            table = frame_table(fh, items, n_declared, ts, ds)
            held = len(table)
            if not complete:
                raise LoopError(path, "truncated file (the compressed pixel data stops after "
                                      f"{held} of {n_declared} frames)")
            if held != n_declared:
                raise LoopError(path, f"NumberOfFrames says {n_declared} but the data holds {held}")
            n_frames = n_declared

    if not ts.is_encapsulated:
        try:
            get_decoder(ts)
        except NotImplementedError:
            raise LoopError(path, f"unsupported transfer syntax {ts}") from None

    fps, fps_source = _fps_from_dataset(ds)
    region, cm = region_from_dataset(ds, cols, rows)
    source = DicomSource(path, ds, ts, offset, vr, n_frames, table)
    try:  # read() opens the file: never leak the handle of a refused file
        first = source.read(0)
        info = {
            "transfer_syntax": ts.name,
            "photometric": source.photometric,
            "modality": str(ds.get("Modality", "")),
            "sop_class": _uid_name(ds.get("SOPClassUID", "")),
            # for the gates (io/gates.py): every ultrasound region (not in the JSON summary)
            "us_regions": regions_from_dataset(ds, cols, rows),
        }
        label = label_from_dataset(ds)  # the view the file names, if any
        if label:
            info["view_label"] = label
    except LoopError as exc:
        source.close()
        raise LoopError(path, f"cannot decode the pixel data ({ts.name}): {exc.problem}") from None
    except BaseException:
        source.close()
        raise
    return Loop(
        path=path,
        kind="dicom",
        n_frames=n_frames,
        height=rows,
        width=cols,
        fps=float(fps),
        fps_source=fps_source,
        cm_per_pixel=cm,
        source=source,
        info=info,
        identity=Identity.from_dataset(ds),
        known_region=region,
        region_source="ultrasound_regions" if region is not None else "pending",
        first_frame=first,  # the probe: frame 0 is what a viewer shows first
    )
