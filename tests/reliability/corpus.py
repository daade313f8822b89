"""A bad-input corpus, generated on demand (nothing committed): broken, empty, odd and extreme loops.

Each case is built by a function ``build(folder) -> Path`` and carries what the reader must make
of it:

* ``"bad"``   - unusable: ``info`` / ``analyze`` exit 2 with a one-line reason containing ``reason``;
* ``"ok"``    - valid (however odd): ``info`` exits 0, ``analyze`` analyses it and exits 0;
* ``"either"``- damaged in a way that may or may not leave something readable (bit flips): exit 0
                or 2, never a traceback;
* ``"late"``  - opens (``info`` exit 0) but a later frame cannot be decoded: ``analyze`` exits 2 with a
                one-line reason containing ``reason``.

Also used by benchmarks/fuzz_readers.py for its seed files.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from echoviewer.io.dicom_write import write_ultrasound_dicom
from echoviewer.io.echonet_video import write_echonet_video


# -- frames ------------------------------------------------------------------------------------
def beating(n: int, h: int = 112, w: int = 112, period: int = 25, seed: int = 0) -> np.ndarray:
    """(n,h,w) uint8: speckle inside a sector with a dark 'ventricle' that shrinks and grows."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    fan = (np.abs(np.arctan2(xx - w / 2, yy + 1)) < 0.8) & (np.hypot(xx - w / 2, yy) < 0.95 * h)
    tex = rng.integers(40, 200, (h, w)).astype(np.uint8)
    out = np.empty((n, h, w), np.uint8)
    for t in range(n):
        f = np.where(fan, tex, 0).astype(np.uint8)
        r = 0.18 * min(h, w) * (1 + 0.25 * np.cos(2 * np.pi * t / period))
        f[np.hypot(xx - w / 2, (yy - 0.5 * h) * 0.7) < r] = 10
        out[t] = f
    return out


def write_avi(path: Path, frames: np.ndarray, fps: float = 50.0, fourcc: str = "MJPG") -> Path:
    """Any size, grey frames, through OpenCV (write_echonet_video does the same for 112x112)."""
    h, w = frames.shape[1:3]
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    assert vw.isOpened(), f"OpenCV cannot write {fourcc} {w}x{h}"
    for f in frames:
        vw.write(cv2.cvtColor(f, cv2.COLOR_GRAY2BGR))
    vw.release()
    return path


def write_mjpg_avi(path: Path, frames: np.ndarray, fps: float = 50.0, quality: int = 90) -> Path:
    """A minimal MJPG AVI written by hand (RIFF, avih/strh/strf, movi, idx1), frames JPEG-encoded by
    Pillow. Unlike OpenCV's writer, which rounds odd sizes down to even, it keeps any size."""
    import io

    from PIL import Image

    h, w = frames.shape[1:3]
    chunks = []
    for f in frames:
        buf = io.BytesIO()
        Image.fromarray(f, "L" if f.ndim == 2 else "RGB").save(buf, "JPEG", quality=quality)
        chunks.append(buf.getvalue())

    def chunk(tag: bytes, data: bytes) -> bytes:
        return tag + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) % 2 else b"")

    def lst(kind: bytes, data: bytes) -> bytes:
        return b"LIST" + struct.pack("<I", len(data) + 4) + kind + data

    n, big = len(chunks), max(len(c) for c in chunks)
    avih = struct.pack("<10I4I", int(round(1e6 / fps)), big * int(fps), 0, 0x10, n, 0, 1, big, w, h, 0, 0, 0, 0)
    strh = b"vidsMJPG" + struct.pack("<IHHIIIIIIII4h", 0, 0, 0, 0, 1000, int(round(fps * 1000)), 0, n, big,
                                     10000, 0, 0, 0, w, h)
    strf = struct.pack("<IiiHH4sIiiII", 40, w, h, 1, 24, b"MJPG", w * h * 3, 0, 0, 0, 0)
    hdrl = lst(b"hdrl", chunk(b"avih", avih) + lst(b"strl", chunk(b"strh", strh) + chunk(b"strf", strf)))
    movi_data, idx, off = b"", b"", 4
    for c in chunks:
        ck = chunk(b"00dc", c)
        idx += b"00dc" + struct.pack("<III", 0x10, off, len(c))
        movi_data += ck
        off += len(ck)
    body = b"AVI " + hdrl + lst(b"movi", movi_data) + chunk(b"idx1", idx)
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


# -- byte-level damage -----------------------------------------------------------------------------
def truncate(src: Path, dst: Path, keep: float | int) -> Path:
    data = src.read_bytes()
    n = int(len(data) * keep) if isinstance(keep, float) else int(keep)
    dst.write_bytes(data[:n])
    return dst


def bitflip(src: Path, dst: Path, n_flips: int, seed: int, start: int = 0) -> Path:
    data = bytearray(src.read_bytes())
    rng = random.Random(seed)
    for _ in range(n_flips):
        i = rng.randrange(start, len(data))
        data[i] ^= 1 << rng.randrange(8)
    dst.write_bytes(bytes(data))
    return dst


def garbage_last_jpeg_frame(src: Path, dst: Path) -> Path:
    """A JPEG DICOM whose last frame's JPEG stream is overwritten with zeros (structure intact)."""
    data = bytearray(src.read_bytes())
    last = data.rfind(b"\xff\xd8\xff")
    data[last:last + 64] = bytes(64)
    dst.write_bytes(bytes(data))
    return dst


def bad_mp4_box(dst: Path) -> Path:
    """An MP4 whose 'hdlr' box claims a size past the end of the file (OpenCV then logs
    "Could not find decoder for codec_id=0" unless its logging is muted)."""
    src = dst.with_name("_seed.mp4")
    vw = cv2.VideoWriter(str(src), cv2.VideoWriter_fourcc(*"mp4v"), 50.0, (64, 48))
    for f in beating(6, 48, 64):
        vw.write(cv2.cvtColor(f, cv2.COLOR_GRAY2BGR))
    vw.release()
    data = bytearray(src.read_bytes())
    data[data.find(b"hdlr") - 4] = 0xFF
    dst.write_bytes(bytes(data))
    return dst


def random_bytes(dst: Path, n: int, seed: int) -> Path:
    dst.write_bytes(random.Random(seed).randbytes(n))
    return dst


# -- hand-made DICOMs -----------------------------------------------------------------------------
def _bare_dataset(rows: int, cols: int, frames: int | None) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.3.1"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "US"
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    if frames is not None:
        ds.NumberOfFrames = frames
    ds.FrameTime = "20"
    return ds


def dicom_without_pixels(dst: Path) -> Path:
    _bare_dataset(64, 64, 5).save_as(dst, enforce_file_format=True)
    return dst


def dicom_zero_frames(dst: Path) -> Path:
    """NumberOfFrames 0 and an empty Pixel Data element."""
    ds = _bare_dataset(64, 64, 0)
    ds.save_as(dst, enforce_file_format=True)
    with open(dst, "ab") as fh:
        fh.write(struct.pack("<HH", 0x7FE0, 0x0010) + b"OB\x00\x00" + struct.pack("<L", 0))
    return dst


def dicom_frames_mismatch(dst: Path, declared: int, held: int) -> Path:
    """Native 8-bit grey pixel data holding `held` frames under NumberOfFrames = `declared`."""
    ds = _bare_dataset(32, 32, declared)
    data = beating(held, 32, 32).tobytes()
    ds.save_as(dst, enforce_file_format=True)
    with open(dst, "ab") as fh:
        fh.write(struct.pack("<HH", 0x7FE0, 0x0010) + b"OB\x00\x00" + struct.pack("<L", len(data)) + data)
    return dst


def empty_avi(dst: Path) -> Path:
    """An AVI container with no frames at all (writer opened and closed)."""
    vw = cv2.VideoWriter(str(dst), cv2.VideoWriter_fourcc(*"MJPG"), 50.0, (64, 64))
    assert vw.isOpened()
    vw.release()
    return dst


# -- the corpus --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    name: str
    expect: str  # "bad" | "ok" | "either" | "late"
    build: Callable[[Path], Path]
    reason: str | None = None  # for "bad": words the one-line reason must contain (lower case)
    shape: tuple[int, int, int] | None = None  # for "ok": frames, width, height
    no_beats: bool = False  # for "ok": too short / featureless for any beat, whatever the model
    slow: bool = False  # for "ok": its analysis takes tens of CPU seconds (a longer time limit)
    solo: bool = False  # "ok" / "either": `analyze FILE` on its own (else in one `analyze FOLDER` run)


def _seed_dcm(folder: Path, ts: str = "jpeg_baseline", n: int = 6) -> Path:
    p = folder / f"_seed_{ts}_{n}.dcm"
    if not p.exists():
        photometric = "MONOCHROME2" if ts != "jpeg_baseline" else "YBR_FULL_422"
        write_ultrasound_dicom(p, beating(n, 64, 80), fps=50, region=(0, 0, 80, 64), cm_per_pixel=0.05,
                               transfer_syntax=ts, photometric=photometric)
    return p


def _seed_avi(folder: Path, n: int = 6) -> Path:
    p = folder / f"_seed_avi_{n}.avi"
    if not p.exists():
        write_echonet_video(p, beating(n), 50.0)
    return p


def _cases() -> list[Case]:
    c: list[Case] = []
    add = c.append
    # ---- unusable -------------------------------------------------------------------------------
    add(Case("zero_byte.dcm", "bad", lambda d: (d / "zero_byte.dcm").write_bytes(b"") or d / "zero_byte.dcm",
             "zero-byte"))
    add(Case("zero_byte.avi", "bad", lambda d: (d / "zero_byte.avi").write_bytes(b"") or d / "zero_byte.avi",
             "zero-byte"))
    for ext, seed, why in ((".dcm", 1, "not a dicom file"), (".avi", 2, "cannot open the video"),
                           (".mp4", 3, "cannot open the video")):
        add(Case(f"random{ext}", "bad", lambda d, e=ext, s=seed: random_bytes(d / f"random{e}", 20_000, s), why))
    add(Case("random_tiny.avi", "bad", lambda d: random_bytes(d / "random_tiny.avi", 7, 4),
             "not a video or dicom file"))
    add(Case("text_named.avi", "bad",
             lambda d: (d / "text_named.avi").write_text("patient list\n" * 50) and d / "text_named.avi",
             "(text)"))
    add(Case("dicom_no_pixels.dcm", "bad", lambda d: dicom_without_pixels(d / "dicom_no_pixels.dcm"),
             "without pixel data"))
    add(Case("dicom_0_frames.dcm", "bad", lambda d: dicom_zero_frames(d / "dicom_0_frames.dcm"), "no frames"))
    add(Case("dicom_says_10_holds_5.dcm", "bad",
             lambda d: dicom_frames_mismatch(d / "dicom_says_10_holds_5.dcm", 10, 5),
             "numberofframes says 10 but the data holds 5"))
    add(Case("dicom_says_3_holds_5.dcm", "bad",
             lambda d: dicom_frames_mismatch(d / "dicom_says_3_holds_5.dcm", 3, 5),
             "numberofframes says 3 but the data holds 5"))
    add(Case("jpeg_dicom_says_9_holds_6.dcm", "bad",
             lambda d: _rewrite_frames(_seed_dcm(d), d / "jpeg_dicom_says_9_holds_6.dcm", 9),
             "numberofframes says 9 but the data holds 6"))
    add(Case("dicom_trunc_preamble.dcm", "bad",
             lambda d: truncate(_seed_dcm(d), d / "dicom_trunc_preamble.dcm", 132), "truncated"))
    add(Case("dicom_trunc_header.dcm", "bad",
             lambda d: truncate(_seed_dcm(d), d / "dicom_trunc_header.dcm", 300), "truncated"))
    add(Case("dicom_jpeg_trunc_half.dcm", "bad",
             lambda d: truncate(_seed_dcm(d), d / "dicom_jpeg_trunc_half.dcm", 0.5), "truncated"))
    add(Case("dicom_native_trunc_half.dcm", "bad",
             lambda d: truncate(_seed_dcm(d, "explicit_le"), d / "dicom_native_trunc_half.dcm", 0.5), "truncated"))
    add(Case("dicom_rle_trunc_90.dcm", "bad",
             lambda d: truncate(_seed_dcm(d, "rle"), d / "dicom_rle_trunc_90.dcm", 0.9), "truncated"))
    add(Case("mp4_bad_box_size.mp4", "bad", lambda d: bad_mp4_box(d / "mp4_bad_box_size.mp4"),
             "cannot open the video"))
    add(Case("avi_trunc_header.avi", "bad",
             lambda d: truncate(_seed_avi(d, 60), d / "avi_trunc_header.avi", 100), "corrupt or truncated"))
    add(Case("avi_0_frames.avi", "bad", lambda d: empty_avi(d / "avi_0_frames.avi"), "without decodable frames"))
    # ---- damaged, may or may not be readable ----------------------------------------------------
    add(Case("avi_trunc_half.avi", "either", lambda d: truncate(_seed_avi(d, 60), d / "avi_trunc_half.avi", 0.5)))
    for k in range(2):
        add(Case(f"dicom_jpeg_bitflip{k}.dcm", "either",
                 lambda d, k=k: bitflip(_seed_dcm(d), d / f"dicom_jpeg_bitflip{k}.dcm", 20, k)))
    add(Case("dicom_native_bitflip.dcm", "either",
             lambda d: bitflip(_seed_dcm(d, "explicit_le"), d / "dicom_native_bitflip.dcm", 20, 10)))
    add(Case("avi_bitflip.avi", "either", lambda d: bitflip(_seed_avi(d, 60), d / "avi_bitflip.avi", 20, 20)))
    # ---- opens (frame 0 is fine) but a later frame cannot be decoded: info 0, analyze 2 -----------
    add(Case("dicom_last_frame_garbage.dcm", "late",
             lambda d: garbage_last_jpeg_frame(_seed_dcm(d), d / "dicom_last_frame_garbage.dcm"),
             "frame 5 cannot be decoded", shape=(6, 80, 64)))
    # ---- valid but odd: (frames, width, height) as the reader must report them --------------------
    for n in (1, 2, 5):
        add(Case(f"avi_{n}_frames.avi", "ok",
                 lambda d, n=n: write_echonet_video(d / f"avi_{n}_frames.avi", beating(n), 50.0),
                 shape=(n, 112, 112), no_beats=True, solo=n == 1))
        add(Case(f"dicom_{n}_frames.dcm", "ok", lambda d, n=n: write_ultrasound_dicom(
            d / f"dicom_{n}_frames.dcm", beating(n, 96, 128), fps=30, transfer_syntax="explicit_le",
            photometric="MONOCHROME2"),
            shape=(n, 128, 96), no_beats=True))
    add(Case("avi_4000_frames_64x64.avi", "ok",
             lambda d: write_avi(d / "avi_4000_frames_64x64.avi", beating(4000, 64, 64)),
             shape=(4000, 64, 64), slow=True, solo=True))
    add(Case("avi_all_black.avi", "ok",
             lambda d: write_echonet_video(d / "avi_all_black.avi", np.zeros((80, 112, 112), np.uint8), 50.0),
             shape=(80, 112, 112), no_beats=True))
    add(Case("dicom_all_black.dcm", "ok", lambda d: write_ultrasound_dicom(
        d / "dicom_all_black.dcm", np.zeros((80, 64, 64), np.uint8), fps=50, transfer_syntax="rle",
        photometric="MONOCHROME2"),
        shape=(80, 64, 64), no_beats=True))
    add(Case("avi_odd_113x97.avi", "ok", lambda d: write_mjpg_avi(d / "avi_odd_113x97.avi", beating(60, 97, 113)),
             shape=(60, 113, 97)))
    add(Case("dicom_odd_113x97.dcm", "ok", lambda d: write_ultrasound_dicom(
        d / "dicom_odd_113x97.dcm", beating(60, 97, 113), fps=50, transfer_syntax="jpeg_baseline",
        photometric="MONOCHROME2"),
        shape=(60, 113, 97)))
    add(Case("avi_tiny_8x8.avi", "ok", lambda d: write_mjpg_avi(d / "avi_tiny_8x8.avi", beating(60, 8, 8)),
             shape=(60, 8, 8)))
    add(Case("avi_tiny_7x5.avi", "ok", lambda d: write_mjpg_avi(d / "avi_tiny_7x5.avi", beating(30, 5, 7)),
             shape=(30, 7, 5)))
    add(Case("dicom_tiny_8x8.dcm", "ok", lambda d: write_ultrasound_dicom(
        d / "dicom_tiny_8x8.dcm", beating(60, 8, 8), fps=50, transfer_syntax="explicit_le", photometric="MONOCHROME2"),
        shape=(60, 8, 8)))
    add(Case("dicom_1x1.dcm", "ok", lambda d: write_ultrasound_dicom(
        d / "dicom_1x1.dcm", beating(40, 1, 1), fps=50, transfer_syntax="explicit_le", photometric="MONOCHROME2"),
        shape=(40, 1, 1)))
    add(Case("avi_4k_3_frames.avi", "ok", lambda d: write_avi(d / "avi_4k_3_frames.avi", beating(3, 2160, 3840)),
             shape=(3, 3840, 2160), no_beats=True))
    add(Case("dicom_4k_3_frames.dcm", "ok", lambda d: write_ultrasound_dicom(
        d / "dicom_4k_3_frames.dcm", beating(3, 2160, 3840), fps=50, transfer_syntax="jpeg_baseline",
        photometric="MONOCHROME2"), shape=(3, 3840, 2160), no_beats=True))
    return c


def _rewrite_frames(src: Path, dst: Path, declared: int) -> Path:
    """Copy a DICOM with NumberOfFrames changed (the pixel data untouched)."""
    ds = pydicom.dcmread(src)
    ds.NumberOfFrames = declared
    ds.save_as(dst, enforce_file_format=True)
    return dst


CASES: dict[str, Case] = {c.name: c for c in _cases()}


def build_all(folder: Path, names: list[str] | None = None) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name in names or list(CASES):
        sub = folder / name.replace(".", "_")
        sub.mkdir(exist_ok=True)
        out[name] = CASES[name].build(sub)
    return out
