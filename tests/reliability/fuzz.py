"""Reader fuzzing: seed files, byte-level mutators and the check every mutated input must pass.

The contract under test (docs/architecture.md): ``open_loop(path)`` returns a Loop or raises
``LoopError``; on a Loop, ``frame(0)`` and ``grid_frames()`` return uint8 arrays of the documented
shapes or raise ``LoopError``. Any other exception is a failure; a hang or a dead interpreter too.

Shared by tests/reliability/test_fuzz_readers.py (hypothesis, in-process, a few hundred inputs) and
benchmarks/fuzz_readers.py (>= 10,000 inputs in a pool of subprocesses with a per-input timeout).
"""

from __future__ import annotations

import random
import re
import struct
import traceback
import warnings
from pathlib import Path

import numpy as np

#: (name, extension) of each seed; files are built by make_seeds().
SEED_NAMES = [
    ("jpeg_ybr422.dcm", ".dcm"),
    ("jpeg_mono.dcm", ".dcm"),
    ("explicit_le_mono.dcm", ".dcm"),
    ("explicit_le_rgb.dcm", ".dcm"),
    ("implicit_le_mono.dcm", ".dcm"),
    ("explicit_be_16bit.dcm", ".dcm"),
    ("rle_rgb.dcm", ".dcm"),
    ("rle_palette.dcm", ".dcm"),
    ("jpeg2000_mono.dcm", ".dcm"),
    ("jpeg2000_rgb.dcm", ".dcm"),
    ("jpeg_lossless_mono.dcm", ".dcm"),
    ("jpeg_lossless_rgb.dcm", ".dcm"),
    ("native_ybr422.dcm", ".dcm"),
    ("monochrome1.dcm", ".dcm"),
    ("opencv_mjpg.avi", ".avi"),
    ("hand_mjpg.avi", ".avi"),
    ("opencv_mp4v.mp4", ".mp4"),
]

_SOI = re.compile(rb"\xff\xd8\xff")
INTERESTING_U32 = [0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000,
                   0xFFFFFFFE, 0xFFFFFFFF]


def make_seeds(folder: Path) -> dict[str, bytes]:
    """Small valid files (6 frames, 64x80 or 112x112) covering each reader path; name -> bytes."""
    import cv2

    from echoviewer.io.dicom_write import write_ultrasound_dicom
    from echoviewer.io.echonet_video import write_echonet_video
    from tests.reliability.corpus import beating, write_avi, write_mjpg_avi

    folder.mkdir(parents=True, exist_ok=True)
    grey = beating(6, 64, 80)
    rgb = np.repeat(grey[..., None], 3, axis=3).copy()
    rgb[:, 60:62, :, 1] = 220  # a green "ECG" line so colour survives
    region = dict(region=(0, 0, 80, 64), cm_per_pixel=0.05)
    w = write_ultrasound_dicom
    w(folder / "jpeg_ybr422.dcm", rgb, fps=50, **region)
    w(folder / "jpeg_mono.dcm", grey, fps=30, transfer_syntax="jpeg_baseline", photometric="MONOCHROME2")
    w(folder / "explicit_le_mono.dcm", grey, fps=50, transfer_syntax="explicit_le", photometric="MONOCHROME2", **region)
    w(folder / "explicit_le_rgb.dcm", rgb, fps=50, transfer_syntax="explicit_le", photometric="RGB")
    w(folder / "implicit_le_mono.dcm", grey, fps=None, transfer_syntax="implicit_le", photometric="MONOCHROME2",
      FrameTimeVector=[0] + [20] * 5)
    w(folder / "explicit_be_16bit.dcm", grey.astype(np.uint16) * 200, fps=25, transfer_syntax="explicit_be",
      photometric="MONOCHROME2", WindowCenter=25000, WindowWidth=50000)
    w(folder / "rle_rgb.dcm", rgb, fps=50, transfer_syntax="rle", photometric="RGB")
    w(folder / "rle_palette.dcm", rgb, fps=50, transfer_syntax="rle", photometric="PALETTE COLOR")
    w(folder / "jpeg2000_mono.dcm", grey, fps=50, transfer_syntax="jpeg2000", photometric="MONOCHROME2")
    w(folder / "jpeg2000_rgb.dcm", rgb, fps=50, transfer_syntax="jpeg2000", photometric="RGB")
    w(folder / "jpeg_lossless_mono.dcm", grey, fps=50, transfer_syntax="jpeg_lossless", photometric="MONOCHROME2")
    w(folder / "jpeg_lossless_rgb.dcm", rgb, fps=50, transfer_syntax="jpeg_lossless", photometric="RGB")
    w(folder / "native_ybr422.dcm", rgb, fps=50, transfer_syntax="explicit_le", photometric="YBR_FULL_422")
    w(folder / "monochrome1.dcm", grey, fps=50, transfer_syntax="explicit_le", photometric="MONOCHROME1")
    write_echonet_video(folder / "opencv_mjpg.avi", beating(6), 50.0)
    write_mjpg_avi(folder / "hand_mjpg.avi", beating(6, 33, 47), 50.0)
    vw = cv2.VideoWriter(str(folder / "opencv_mp4v.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 50.0, (64, 48))
    if vw.isOpened():
        for f in beating(6, 48, 64):
            vw.write(cv2.cvtColor(f, cv2.COLOR_GRAY2BGR))
        vw.release()
    else:  # pragma: no cover - an OpenCV without an MPEG-4 encoder
        write_avi(folder / "opencv_mp4v.mp4", beating(6, 48, 64))
    return {name: (folder / name).read_bytes() for name, _ in SEED_NAMES}


# -- mutators -----------------------------------------------------------------------------------
def _pos(rng: random.Random, n: int, header_bias: float = 0.5) -> int:
    """A byte position, biased towards the first 1 KiB where the headers live."""
    if n <= 1:
        return 0
    if rng.random() < header_bias:
        return rng.randrange(min(n, 1024))
    return rng.randrange(n)


def mutate(data: bytes, rng: random.Random, seeds: list[bytes] | None = None) -> tuple[bytes, str]:
    """One to four stacked mutations of `data`; returns (bytes, description)."""
    out = bytearray(data)
    done = []
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 4))):
        n = len(out)
        op = rng.choice(("flip", "flip", "byte", "u32", "u16", "insert", "delete", "truncate", "dup", "zero",
                         "splice", "random_head", "jpeg_header", "jpeg_header"))
        if n == 0:
            op = "insert"
        if op == "jpeg_header":  # damage the marker segments of one embedded JPEG frame (DQT, DHT, SOF, SOS)
            starts = [m.start() for m in _SOI.finditer(bytes(out))]
            if not starts:
                op = "flip"
            else:
                i = rng.choice(starts) + rng.randrange(2, 700)
                if i < n:
                    if rng.random() < 0.5:
                        out[i] ^= 1 << rng.randrange(8)
                    else:
                        out[i] = rng.choice((0, 0xFF, 1, 0x80, rng.randrange(256)))
                done.append(f"jpeg_header@{i}")
                continue
        if op == "flip":
            k = rng.choice((1, 1, 2, 8, 32))
            for _ in range(k):
                i = _pos(rng, n)
                out[i] ^= 1 << rng.randrange(8)
            done.append(f"flip{k}")
        elif op == "byte":
            i = _pos(rng, n)
            out[i] = rng.choice((0, 0xFF, 0x7F, 0x80, rng.randrange(256)))
            done.append(f"byte@{i}")
        elif op in ("u32", "u16") and n >= 4:
            i = _pos(rng, n - 3)
            v = rng.choice(INTERESTING_U32)
            out[i:i + 4 if op == "u32" else i + 2] = struct.pack("<I" if op == "u32" else "<H",
                                                                 v if op == "u32" else v & 0xFFFF)
            done.append(f"{op}@{i}={v:#x}")
        elif op == "insert":
            i = _pos(rng, n + 1) if n else 0
            blob = rng.randbytes(rng.choice((1, 2, 4, 16, 256)))
            out[i:i] = blob
            done.append(f"insert{len(blob)}@{i}")
        elif op == "delete" and n > 1:
            i = _pos(rng, n)
            k = min(rng.choice((1, 2, 4, 16, 256, 4096)), n - i)
            del out[i:i + k]
            done.append(f"delete{k}@{i}")
        elif op == "truncate" and n > 1:
            i = rng.randrange(n)
            del out[i:]
            done.append(f"truncate@{i}")
        elif op == "dup" and n > 8:
            i = rng.randrange(n - 4)
            k = min(rng.choice((4, 64, 1024)), n - i)
            j = _pos(rng, n)
            out[j:j] = out[i:i + k]
            done.append(f"dup{k}@{i}->{j}")
        elif op == "zero" and n > 1:
            i = _pos(rng, n)
            k = min(rng.choice((2, 16, 256)), n - i)
            out[i:i + k] = bytes(k)
            done.append(f"zero{k}@{i}")
        elif op == "splice" and seeds:
            other = rng.choice(seeds)
            i, j = rng.randrange(max(n, 1)), rng.randrange(max(len(other), 1))
            out = out[:i] + bytearray(other[j:])
            done.append(f"splice@{i}")
        elif op == "random_head":
            k = rng.choice((4, 132, 512))
            out[:k] = rng.randbytes(k)
            done.append(f"random_head{k}")
    return bytes(out), "+".join(done) or "none"


def random_file(rng: random.Random) -> tuple[bytes, str]:
    """Random bytes, sometimes behind a plausible magic (DICM preamble, RIFF AVI, MP4 ftyp)."""
    size = rng.choice((0, 1, 7, 64, 200, 1000, 5000))
    body = rng.randbytes(size)
    kind = rng.choice(("raw", "dicm", "riff", "ftyp"))
    if kind == "dicm":
        body = bytes(128) + b"DICM" + body
    elif kind == "riff":
        body = b"RIFF" + struct.pack("<I", len(body) + 4) + b"AVI " + body
    elif kind == "ftyp":
        body = struct.pack(">I", 24) + b"ftypisom" + bytes(12) + body
    return body, f"random_{kind}{size}"


# -- the check ------------------------------------------------------------------------------------
def check_file(path: str | Path) -> tuple[str, str]:
    """Run the reader contract on one file -> (outcome, detail).

    outcome: "loop" (read fine), "loop_error" (refused or failed with LoopError: allowed),
    "failure" (any other exception, a broken invariant, or a warning that would reach the user's
    terminal; detail has the traceback tail or the warning).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outcome, detail = _check_file(path)
    if caught and outcome != "failure":
        w = caught[0]
        return "failure", f"warning {w.category.__name__}: {w.message} | {w.filename}:{w.lineno}"
    return outcome, detail


def _check_file(path: str | Path) -> tuple[str, str]:
    from echoviewer.io import LoopError, open_loop

    try:
        try:
            loop = open_loop(path)
        except LoopError as exc:
            _check_message(exc, path)
            return "loop_error", f"open: {exc.problem}"
        try:
            f0 = loop.frame(0)
            assert f0.dtype == np.uint8 and f0.shape[:2] == (loop.height, loop.width), f"frame(0) {f0.dtype} {f0.shape}"
            assert f0.ndim == 2 or (f0.ndim == 3 and f0.shape[2] == 3), f"frame(0) shape {f0.shape}"
            grid = loop.grid_frames()
            assert grid.dtype == np.uint8 and grid.shape == (loop.n_frames, 112, 112, 3), f"grid {grid.shape}"
            assert loop.n_frames >= 1
            last = loop.frame(loop.n_frames - 1)
            assert last.shape[:2] == (loop.height, loop.width)
            loop.summary()
        except LoopError as exc:
            _check_message(exc, path)
            return "loop_error", f"decode: {exc.problem}"
        finally:
            loop.close()
        return "loop", f"{loop.kind} {loop.n_frames}x{loop.width}x{loop.height}"
    except Exception as exc:  # the contract is broken: report where
        tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
        return "failure", f"{type(exc).__name__}: {exc} | " + " ".join("".join(tb[-3:]).split())[-600:]


def _check_message(exc, path) -> None:
    msg = str(exc)
    assert "\n" not in msg, f"multi-line LoopError: {msg!r}"
    assert msg.startswith(str(path)), f"LoopError does not name the file: {msg!r}"
    assert exc.problem.strip(), "empty LoopError reason"


# -- mutations as data (for hypothesis, which can then shrink them) ------------------------------
OPS = ("flip", "set", "u32", "insert", "delete", "truncate", "jpeg_header")


def apply_ops(data: bytes, ops: list[tuple[str, int, int, bytes]]) -> bytes:
    """Apply (op, position, value, blob) mutations in order; positions wrap around the length.

    flip: xor one bit (value % 8); set: byte = value & 255; u32: 4 bytes = value (little endian);
    insert: blob at position; delete: value % 4096 + 1 bytes; truncate: keep position bytes;
    jpeg_header: set a byte within 700 bytes after an embedded JPEG start (DQT/DHT/SOF/SOS live there).
    """
    out = bytearray(data)
    for op, pos, value, blob in ops:
        n = len(out)
        if op == "insert":
            i = pos % (n + 1)
            out[i:i] = blob
            continue
        if n == 0:
            continue
        i = pos % n
        if op == "flip":
            out[i] ^= 1 << (value % 8)
        elif op == "set":
            out[i] = value & 0xFF
        elif op == "u32":
            out[i:i + 4] = struct.pack("<I", value & 0xFFFFFFFF)
        elif op == "delete":
            del out[i:i + value % 4096 + 1]
        elif op == "truncate":
            del out[i:]
        elif op == "jpeg_header":
            starts = [m.start() for m in _SOI.finditer(bytes(out))]
            if starts:
                j = starts[pos % len(starts)] + 2 + value % 700
                if j < n:
                    out[j] = (value >> 10) & 0xFF
    return bytes(out)


# -- targeted damage of embedded JPEG headers ---------------------------------------------------------
def jpeg_header_damage(data: bytes, max_frames: int = 3) -> list[tuple[str, bytes]]:
    """Deterministic damage to the marker segments (APPn, DQT, DHT, SOF, SOS) of the first frames'
    JPEG streams in a file: lengths, table counts, component counts set to out-of-range values.
    These are the inputs on which GDCM (the only JPEG-lossless decoder) aborted or crashed the
    process before the reader checked the structure first."""
    out = []
    for f, start in enumerate(m.start() for m in _SOI.finditer(data)):
        if f >= max_frames:
            break
        pos = start + 2
        while pos + 4 <= len(data) and data[pos] == 0xFF:
            marker = data[pos + 1]
            length = (data[pos + 2] << 8) | data[pos + 3]
            for what, off, value in (("len_hi", 2, 0x01), ("len_hi", 2, 0xFF), ("len_lo", 3, 0x00),
                                     ("body0", 4, 0xFF), ("body1", 5, 0x00), ("body5", 9, 0xFF),
                                     ("body6", 10, 0x7F)):
                if off < 4 or off < 2 + length:
                    mutated = bytearray(data)
                    mutated[pos + off] = value
                    out.append((f"frame{f}:FF{marker:02X}:{what}={value:#x}", bytes(mutated)))
            if marker == 0xDA:
                break
            pos += 2 + length
    return out
