"""Where each frame's bytes lie in a DICOM file, and whether they are all there, without decoding.

`read_header` reads the header (everything before Pixel Data) through pydicom; the rest walks the
bytes: `pixel_element` reads the pixel data element's header, `read_items` the item table of
encapsulated data (seeking over the fragments), `frame_table` groups the fragments into frames
(Extended / Basic Offset Table, one fragment per frame, or the frames' start markers), and
`header_is_complete` walks the whole file to tell a truncated header from a file without pixel
data. `jpeg_structure_problem` checks one JPEG frame's marker segments, so that a corrupt frame
never reaches GDCM, which aborts the process on it. `looks_like_dicom` sniffs a file's first bytes.

Apart from io/dicom.py (decoding, colour, `open_dicom`) because none of this needs a decoder or a
pixel: it is the byte-level structure that decides whether a file is truncated or inconsistent.
io/dicom.py imports it; it never imports io/dicom.py.
"""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import numpy as np
import pydicom
from pydicom.uid import UID, ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from echoviewer.io.loop import LoopError

PIXEL_DATA = (0x7FE0, 0x0010)
FLOAT_PIXEL_DATA = {(0x7FE0, 0x0008), (0x7FE0, 0x0009)}
_ITEM = (0xFFFE, 0xE000)
_SEQ_DELIM = (0xFFFE, 0xE0DD)
_LONG_VRS = {b"OB", b"OW", b"OF", b"OD", b"OL", b"OV", b"SQ", b"UT", b"UN", b"UC", b"UR", b"SV", b"UV"}
_VRS = {
    b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FL", b"FD", b"IS", b"LO", b"LT", b"PN", b"SH", b"SL",
    b"SS", b"ST", b"TM", b"UI", b"UL", b"US",
} | _LONG_VRS
_JPEG_FAMILY = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70"}
J2K_FAMILY = {"1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202",
              "1.2.840.10008.1.2.4.203"}


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
def read_header(path: Path):
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


def pixel_element(fh, ts: UID, pos: int):
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


def header_is_complete(fh, ts: UID, size: int) -> bool:
    fh.seek(0)
    head = fh.read(132)
    start = 132 if head[128:132] == b"DICM" else (4 if head[:4] == b"DICM" else 0)
    return _walk(fh, start, size, ts) == size


def read_items(fh, offset: int, size: int) -> tuple[list[tuple[int, int]], bool]:
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


def frame_table(fh, items: list[tuple[int, int]], n_frames: int, ts: UID, ds) -> list[list[tuple[int, int]]]:
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
    if str(ts) in _JPEG_FAMILY or str(ts) in J2K_FAMILY:
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


# -- JPEG marker structure ---------------------------------------------------------------------
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
