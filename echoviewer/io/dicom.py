"""Ultrasound DICOM loops through pydicom 3's pixel handling, one frame at a time.

Opening reads the header (everything before Pixel Data), checks the pixel data's structure
against the header without decoding it (native: byte length; encapsulated: the item table,
read by seeking over the fragments), and decodes the first frame as a probe.

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
import struct
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
from pydicom.uid import UID, ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from echoviewer.io.loop import DEFAULT_FPS, FrameSource, Loop, LoopError, compact
from echoviewer.io.region import region_from_dataset

_PIXEL_DATA = (0x7FE0, 0x0010)
_FLOAT_PIXEL_DATA = {(0x7FE0, 0x0008), (0x7FE0, 0x0009)}
_ITEM = (0xFFFE, 0xE000)
_SEQ_DELIM = (0xFFFE, 0xE0DD)
_LONG_VRS = {b"OB", b"OW", b"OF", b"OD", b"OL", b"OV", b"SQ", b"UT", b"UN", b"UC", b"UR", b"SV", b"UV"}
_VRS = {
    b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FL", b"FD", b"IS", b"LO", b"LT", b"PN", b"SH", b"SL",
    b"SS", b"ST", b"TM", b"UI", b"UL", b"US",
} | _LONG_VRS
_JPEG_FAMILY = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70"}
_J2K_FAMILY = {"1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202",
               "1.2.840.10008.1.2.4.203"}
_PILLOW_FIRST = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51"}
_MAX_FPS = 1000.0


def looks_like_dicom(head: bytes) -> bool:
    """True for a Part 10 file (DICM at 128, or at 0 without preamble) or a raw dataset that
    starts with a group 0002/0008 element."""
    if len(head) >= 132 and head[128:132] == b"DICM":
        return True
    if head[:4] == b"DICM":
        return True
    if len(head) < 8:
        return False
    for fmt in ("<HH", ">HH"):
        group, elem = struct.unpack(fmt, head[:4])
        if group in (0x0002, 0x0008) and elem <= 0x0100:
            if head[4:6] in _VRS:
                return True
            (length,) = struct.unpack(fmt[0] + "L", head[4:8])
            if length < 256:
                return True
    return False


# -- header and pixel data structure ---------------------------------------------------------
def _read_header(path: Path):
    """(dataset without pixel data, transfer syntax, pixel element offset, file size)."""
    size = path.stat().st_size
    try:
        with open(path, "rb") as fh:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = pydicom.dcmread(fh, stop_before_pixels=True, force=True)
                _convert_all(ds)
            pos = fh.tell()
    except (EOFError, struct.error) as exc:
        raise LoopError(path, "truncated file (the DICOM header ends early)") from exc
    except pydicom.errors.InvalidDicomError as exc:
        raise LoopError(path, f"not a DICOM file ({exc})") from exc
    except Exception as exc:
        msg = str(exc)
        if "end of file" in msg.lower() or "eof" in msg.lower():
            raise LoopError(path, "truncated file (the DICOM header ends early)") from exc
        raise LoopError(path, f"unreadable DICOM header: {type(exc).__name__}: {msg}") from exc
    if len(ds) == 0 and not getattr(ds, "file_meta", None):
        if size <= 136:
            raise LoopError(path, "truncated file (nothing after the DICOM preamble)")
        raise LoopError(path, "not a DICOM file (no parseable dataset)")
    ts = ds.file_meta.get("TransferSyntaxUID", None) if getattr(ds, "file_meta", None) else None
    if not ts:
        implicit, little = getattr(ds, "original_encoding", (True, True))
        ts = ImplicitVRLittleEndian if implicit else (ExplicitVRLittleEndian if little else ExplicitVRBigEndian)
    with warnings.catch_warnings():  # UID() validates: a malformed one would print a UserWarning
        warnings.simplefilter("ignore")
        return ds, UID(str(ts)), pos, size


def _uid_name(value) -> str:
    """The registered name of a UID value ('' for none), without pydicom's validation warnings."""
    if not value:
        return ""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return str(UID(str(value)).name)


def _convert_all(ds) -> None:
    """Turn every raw element into a value now, while warnings are silenced: pydicom validates values
    when they are first accessed and would otherwise print a UserWarning (e.g. "Invalid value for
    VR UI") on stderr whenever a later attribute access meets a malformed element. An element that
    cannot be decoded at all (e.g. an unknown VR) is dropped: a damaged Modality or UID must not make
    the loop unreadable, and a damaged Rows then reads as a missing one."""
    def convert(d, depth: int) -> None:
        for tag in list(d.keys()):
            try:
                elem = d[tag]
                if elem.VR == "SQ" and depth < 8:
                    for item in elem.value:
                        convert(item, depth + 1)
            except Exception:
                try:
                    del d[tag]
                except Exception:
                    pass

    for d in (getattr(ds, "file_meta", None), ds):
        if d is not None:
            convert(d, 0)


def _pixel_element(fh, ts: UID, pos: int):
    """(tag, vr, value offset, length or None for undefined) of the element at pos, or None."""
    fh.seek(pos)
    head = fh.read(8)
    if len(head) < 8:
        return None
    end = "<" if ts.is_little_endian else ">"
    group, elem = struct.unpack(end + "HH", head[:4])
    vr = None
    if ts.is_implicit_VR:
        (length,) = struct.unpack(end + "L", head[4:8])
        offset = pos + 8
    else:
        vr = head[4:6]
        if vr in _LONG_VRS or vr not in _VRS:
            more = fh.read(4)
            if len(more) < 4:
                return (group, elem), vr, pos + 12, -1
            (length,) = struct.unpack(end + "L", more)
            offset = pos + 12
        else:
            (length,) = struct.unpack(end + "H", head[6:8])
            offset = pos + 8
    return ((group, elem), (vr.decode("ascii", "replace") if vr else None), offset,
            (None if length == 0xFFFFFFFF else length))


def _walk(fh, pos: int, size: int, ts: UID, end_tag: tuple[int, int] | None = None, depth: int = 0) -> int | None:
    """Skip over elements from pos to end_tag (an item / sequence delimiter) or EOF.

    Returns the position after the walk, or None when an element runs past the end of the file
    (a truncated file) or the bytes make no sense. Group 0002 is always explicit VR little endian.
    """
    if depth > 16:
        return None
    while True:
        if pos == size and end_tag is None:
            return pos
        fh.seek(pos)
        head = fh.read(8)
        if len(head) < 8:
            return None
        meta = head[:2] == b"\x02\x00"
        little = meta or ts.is_little_endian
        implicit = (not meta) and ts.is_implicit_VR
        end = "<" if little else ">"
        group, elem = struct.unpack(end + "HH", head[:4])
        if group == 0xFFFE:  # item / delimiters: always tag + 4-byte length
            (length,) = struct.unpack(end + "L", head[4:8])
            if (group, elem) == end_tag:
                return pos + 8
            if elem == 0xE000:  # an item
                if length == 0xFFFFFFFF:
                    nxt = _walk(fh, pos + 8, size, ts, (0xFFFE, 0xE00D), depth + 1)
                    if nxt is None:
                        return None
                    pos = nxt
                else:
                    if pos + 8 + length > size:
                        return None
                    pos += 8 + length
                continue
            return None
        vr = None
        if implicit:
            (length,) = struct.unpack(end + "L", head[4:8])
            value = pos + 8
        else:
            vr = head[4:6]
            if vr not in _VRS:
                return None
            if vr in _LONG_VRS:
                more = fh.read(4)
                if len(more) < 4:
                    return None
                (length,) = struct.unpack(end + "L", more)
                value = pos + 12
            else:
                (length,) = struct.unpack(end + "H", head[6:8])
                value = pos + 8
        if length == 0xFFFFFFFF:
            nxt = _walk(fh, value, size, ts, (0xFFFE, 0xE0DD), depth + 1)
            if nxt is None:
                return None
            pos = nxt
        else:
            if value + length > size:
                return None
            pos = value + length


def _header_is_complete(fh, ts: UID, size: int) -> bool:
    fh.seek(0)
    head = fh.read(132)
    start = 132 if head[128:132] == b"DICM" else (4 if head[:4] == b"DICM" else 0)
    return _walk(fh, start, size, ts) == size


def _read_items(fh, offset: int, size: int) -> tuple[list[tuple[int, int]], bool]:
    """Items of encapsulated pixel data: [(data offset, length)], complete (delimiter found and
    nothing cut off). The first item is the Basic Offset Table."""
    items: list[tuple[int, int]] = []
    pos = offset
    while True:
        fh.seek(pos)
        head = fh.read(8)
        if len(head) < 8:
            return items, False
        group, elem, length = struct.unpack("<HHL", head)
        if (group, elem) == _SEQ_DELIM:
            return items, True
        if (group, elem) != _ITEM or length == 0xFFFFFFFF:
            raise ValueError(f"unexpected element ({group:04X},{elem:04X}) in the encapsulated pixel data")
        if pos + 8 + length > size:
            return items, False
        items.append((pos + 8, length))
        pos += 8 + length


def _frame_table(fh, items: list[tuple[int, int]], n_frames: int, ts: UID, ds) -> list[list[tuple[int, int]]]:
    """Group fragments into frames: Extended / Basic Offset Table, 1:1, one frame, or start markers."""
    bot_off, bot_len = items[0]
    frags = items[1:]
    if not frags:
        return []
    first = frags[0][0] - 8  # offsets in the tables are relative to the first fragment's item tag
    if "ExtendedOffsetTable" in ds:
        try:
            offs = np.frombuffer(ds.ExtendedOffsetTable, dtype="<u8").astype(np.int64)
            starts = [first + int(o) for o in offs]
            return _group_by_starts(frags, starts)
        except Exception:
            pass
    if bot_len >= 4:
        fh.seek(bot_off)
        offs = np.frombuffer(fh.read(bot_len - bot_len % 4), dtype="<u4").astype(np.int64)
        starts = [first + int(o) for o in offs]
        table = _group_by_starts(frags, starts)
        if table:
            return table
    if len(frags) == n_frames:
        return [[f] for f in frags]
    if n_frames == 1:
        return [frags]
    # Several fragments per frame without an offset table: a frame starts with SOI / SOC / jp2.
    if str(ts) in _JPEG_FAMILY or str(ts) in _J2K_FAMILY:
        starts = []
        for off, _length in frags:
            fh.seek(off)
            b = fh.read(12)
            if b[:2] == b"\xff\xd8" or b[:4] == b"\xff\x4f\xff\x51" or b[4:12] == b"jP  \r\n\x87\n":
                starts.append(off - 8)
        return _group_by_starts(frags, starts)
    return [[f] for f in frags]


def _group_by_starts(frags: list[tuple[int, int]], starts: list[int]) -> list[list[tuple[int, int]]]:
    starts = sorted(set(starts))
    if not starts:
        return []
    table: list[list[tuple[int, int]]] = []
    k = -1
    for off, length in frags:
        tag_pos = off - 8
        while k + 1 < len(starts) and tag_pos >= starts[k + 1]:
            k += 1
            table.append([])
        if k < 0:
            return []  # a fragment before the first frame start: inconsistent table
        table[-1].append((off, length))
    return [t for t in table if t]


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
    first = "pillow" if str(ts) in _PILLOW_FIRST else "pylibjpeg" if str(ts) in _J2K_FAMILY else None
    if first in others:
        others = [first] + [p for p in others if p != first]
    if others:
        return others
    return ["gdcm"] if "gdcm" in available else [""]


_JPEG_SOF = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_STANDALONE = {0x01} | set(range(0xD0, 0xD8))


def jpeg_structure_problem(data: bytes) -> str | None:
    """What is wrong with the marker structure of one JPEG / JPEG-LS frame, or None.

    Checks the marker segments up to the first scan (SOI, every segment's length inside the data,
    DQT / DHT / SOF / SOS lengths consistent with their contents, a frame header before the scan,
    scan components declared in the frame header) and that the data ends with EOI. Run before a
    frame goes to GDCM, which aborts the process instead of raising on such streams.
    """
    n = len(data)
    if n < 4 or data[0] != 0xFF or data[1] != 0xD8:
        return "no SOI marker"
    end = n
    while end > 2 and data[end - 1] == 0:  # fragments are padded to an even length
        end -= 1
    if end < 4 or data[end - 2] != 0xFF or data[end - 1] != 0xD9:
        return "no EOI marker at the end"
    pos = 2
    components: set[int] | None = None
    while True:
        if pos + 4 > end:
            return "the headers run past the end"
        if data[pos] != 0xFF:
            return f"no marker at byte {pos}"
        while pos + 1 < end and data[pos + 1] == 0xFF:  # fill bytes
            pos += 1
        marker = data[pos + 1]
        if marker in _JPEG_STANDALONE:
            pos += 2
            continue
        if marker in (0x00, 0xD8, 0xD9):
            return f"unexpected marker FF{marker:02X} at byte {pos}"
        length = (data[pos + 2] << 8) | data[pos + 3]
        body = data[pos + 4 : pos + 2 + length]
        if length < 2 or pos + 2 + length > end:
            return f"segment FF{marker:02X} at byte {pos} runs past the end"
        if marker == 0xDB:  # DQT
            k = 0
            while k < len(body):
                pq, tq = body[k] >> 4, body[k] & 15
                if pq > 1 or tq > 3:
                    return "bad quantisation table"
                k += 1 + 64 * (1 + pq)
            if k != len(body):
                return "bad quantisation table length"
        elif marker == 0xC4:  # DHT
            k = 0
            while k < len(body):
                if k + 17 > len(body):
                    return "bad Huffman table length"
                tc, th = body[k] >> 4, body[k] & 15
                count = sum(body[k + 1 : k + 17])
                if tc > 1 or th > 3 or count > 256:
                    return "bad Huffman table"
                k += 17 + count
            if k != len(body):
                return "bad Huffman table length"
        elif marker in _JPEG_SOF or marker == 0xF7:  # SOFn, JPEG-LS SOF55
            if len(body) < 6:
                return "short frame header"
            precision, _rows, cols, nf = body[0], (body[1] << 8) | body[2], (body[3] << 8) | body[4], body[5]
            if components is not None:
                return "two frame headers"
            if not 2 <= precision <= 16 or cols == 0 or nf == 0 or len(body) != 6 + 3 * nf:
                return "bad frame header"
            ids = [body[6 + 3 * c] for c in range(nf)]
            sampling = [body[7 + 3 * c] for c in range(nf)]
            if len(set(ids)) != nf or any(not (1 <= h >> 4 <= 4 and 1 <= h & 15 <= 4) for h in sampling):
                return "bad frame header components"
            components = set(ids)
        elif marker == 0xDA:  # SOS: the headers end here
            if components is None:
                return "scan before the frame header"
            ns = body[0] if body else 0
            if not 1 <= ns <= len(components) or len(body) != 4 + 2 * ns:
                return "bad scan header"
            if any(body[1 + 2 * c] not in components for c in range(ns)):
                return "scan component not in the frame header"
            return None
        pos += 2 + length


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
    ds, ts, pos, size = _read_header(path)
    with open(path, "rb") as fh:
        el = _pixel_element(fh, ts, pos)
        if el is None:
            if not _header_is_complete(fh, ts, size):
                raise LoopError(path, "truncated file (the DICOM header ends early)")
            raise LoopError(path, "DICOM without pixel data")
        tag, vr, offset, length = el
        if tag in _FLOAT_PIXEL_DATA:
            raise LoopError(path, "float pixel data is not supported")
        if tag != _PIXEL_DATA:
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
                items, complete = _read_items(fh, offset, size)
            except ValueError as exc:
                raise LoopError(path, f"corrupt encapsulated pixel data ({exc})") from None
            if not items:
                raise LoopError(path, "truncated file (no pixel data items)")
            table = _frame_table(fh, items, n_declared, ts, ds)
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
        }
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
        known_region=region,
        region_source="ultrasound_regions" if region is not None else "pending",
        first_frame=first,  # the probe: frame 0 is what a viewer shows first
    )
