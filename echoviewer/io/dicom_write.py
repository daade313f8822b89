"""Write ultrasound cine loops as DICOM (Ultrasound [Multi-frame] Image Storage).

Used by the phantom generator (`echoviewer synth --dicom`) and by the tests, which build every
transfer syntax / photometric combination the reader claims to support.

Encoders (all permissively licensed):

* ``jpeg_baseline`` (1.2.840.10008.1.2.4.50): each frame encoded by Pillow (libjpeg), then
  encapsulated with a Basic Offset Table. ``YBR_FULL_422`` (the default) is a JFIF stream in
  YCbCr with 4:2:2 chroma subsampling (2x1 horizontally), which is what DICOM means by
  YBR_FULL_422 for JPEG baseline; pydicom decodes it and converts to RGB itself. ``YBR_FULL``
  is 4:4:4 YCbCr, ``RGB`` a JPEG without colour transform (Adobe marker, transform 0),
  ``MONOCHROME2`` a one-component JPEG.
* ``rle`` and ``jpeg2000`` (lossless, 1.2.840.10008.1.2.4.90): pydicom's encoders frame by frame
  (RLE: pydicom's native encoder; JPEG 2000: pylibjpeg-openjpeg, RGB stored as YBR_RCT).
* ``jpeg_lossless`` (Process 14 SV1, 1.2.840.10008.1.2.4.70): pydicom has no encoder, so the
  loop is written uncompressed and transcoded by GDCM (python-gdcm).
* ``explicit_le`` / ``implicit_le`` / ``explicit_be``: native pixel data.

The header is written by pydicom; frames are encoded one at a time into a temporary spool and the
Pixel Data element is appended from it, so memory stays at about one frame whatever the loop's length.
"""

from __future__ import annotations

import datetime as _dt
import io
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixels import convert_color_space
from pydicom.sequence import Sequence
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLosslessSV1,
    RLELossless,
    generate_uid,
)

US_MULTIFRAME_IMAGE_STORAGE = UID("1.2.840.10008.5.1.4.1.1.3.1")
US_IMAGE_STORAGE = UID("1.2.840.10008.5.1.4.1.1.6.1")

TRANSFER_SYNTAXES: dict[str, UID] = {
    "jpeg_baseline": JPEGBaseline8Bit,
    "explicit_le": ExplicitVRLittleEndian,
    "explicit_be": ExplicitVRBigEndian,
    "implicit_le": ImplicitVRLittleEndian,
    "rle": RLELossless,
    "jpeg2000": JPEG2000Lossless,
    "jpeg_lossless": JPEGLosslessSV1,
}
PHOTOMETRICS = ("YBR_FULL_422", "RGB", "MONOCHROME2", "YBR_FULL", "PALETTE COLOR", "MONOCHROME1")

_FRAME_TIME_TAG = 0x00181063


def _first_and_rest(frames: Any) -> tuple[np.ndarray, Iterator[np.ndarray], int | None]:
    """The first frame, an iterator over all frames (first included) and the count if known."""
    if isinstance(frames, np.ndarray):
        arr = frames
        # A single frame: (H,W) or (H,W,3)
        if arr.ndim == 2 or (arr.ndim == 3 and arr.shape[-1] in (3, 4) and arr.shape[0] > 4):
            arr = arr[None]
        if arr.ndim not in (3, 4) or len(arr) == 0:
            raise ValueError(f"frames must be (T,H,W) or (T,H,W,3), got shape {frames.shape}")
        return arr[0], iter(arr), len(arr)
    it = iter(frames)
    try:
        first = np.asarray(next(it))
    except StopIteration:
        raise ValueError("no frames to write") from None

    def chain() -> Iterator[np.ndarray]:
        yield first
        for f in it:
            yield np.asarray(f)

    n = len(frames) if hasattr(frames, "__len__") else None
    return first, chain(), n


def _to_samples(frame: np.ndarray, photometric: str, dtype: np.dtype) -> np.ndarray:
    """One input frame -> the array actually stored (before encoding), RGB or grey."""
    f = np.asarray(frame)
    if f.ndim == 3 and f.shape[2] == 4:
        f = f[..., :3]
    if photometric in ("MONOCHROME2", "MONOCHROME1"):
        if f.ndim == 3:
            import cv2

            f = cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY) if f.dtype == np.uint8 else f[..., 0]
        f = f.astype(dtype, copy=False)
        if photometric == "MONOCHROME1":
            f = np.iinfo(dtype).max - f
        return np.ascontiguousarray(f)
    if f.ndim == 2:
        f = np.repeat(f[..., None], 3, axis=2)
    return np.ascontiguousarray(f.astype(np.uint8, copy=False))


def _palette(sample: np.ndarray) -> tuple[np.ndarray, Any]:
    """A 256-entry palette (256,3) uint8 fitted on one RGB frame (Pillow median cut)."""
    from PIL import Image

    img = Image.fromarray(sample, "RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    pal = np.array((img.getpalette() or [])[: 256 * 3], dtype=np.uint8)  # a quantized image has one
    pal = np.pad(pal, (0, 256 * 3 - len(pal))).reshape(256, 3)
    return pal, img


def _quantize(frame_rgb: np.ndarray, palette_img: Any) -> np.ndarray:
    from PIL import Image

    q = Image.fromarray(frame_rgb, "RGB").quantize(palette=palette_img, dither=Image.Dither.NONE)
    return np.asarray(q, dtype=np.uint8)


def _jpeg_frame(f: np.ndarray, photometric: str, quality: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    if f.ndim == 2:
        Image.fromarray(f, "L").save(buf, "JPEG", quality=quality)
    elif photometric == "RGB":
        Image.fromarray(f, "RGB").save(buf, "JPEG", quality=quality, subsampling=0, keep_rgb=True)
    else:  # YBR_FULL_422: 4:2:2 (2x1), YBR_FULL: 4:4:4
        sub = 1 if photometric == "YBR_FULL_422" else 0
        Image.fromarray(f, "RGB").save(buf, "JPEG", quality=quality, subsampling=sub)
    return buf.getvalue()


def _ybr422_native(f: np.ndarray) -> bytes:
    """RGB frame -> native YBR_FULL_422 bytes (Y0 Y1 Cb Cr per horizontal pixel pair)."""
    ybr = convert_color_space(f, "RGB", "YBR_FULL").astype(np.uint16)
    y = ybr[..., 0]
    cb = (ybr[:, 0::2, 1] + ybr[:, 1::2, 1] + 1) // 2
    cr = (ybr[:, 0::2, 2] + ybr[:, 1::2, 2] + 1) // 2
    out = np.empty((f.shape[0], f.shape[1] // 2, 4), dtype=np.uint8)
    out[..., 0] = y[:, 0::2]
    out[..., 1] = y[:, 1::2]
    out[..., 2] = cb
    out[..., 3] = cr
    return out.tobytes()


def _build_dataset(
    n_frames: int,
    rows: int,
    cols: int,
    spp: int,
    photometric: str,
    bits: int,
    fps: float | None,
    region: tuple[int, int, int, int] | None,
    cm_per_pixel: float | None,
    tsyntax: UID,
) -> Dataset:
    now = _dt.datetime.now()
    sop_class = US_MULTIFRAME_IMAGE_STORAGE if n_frames > 1 else US_IMAGE_STORAGE
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = tsyntax
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = "ECHOVIEWER_01"

    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "CARDIAC"]
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyDate = now.strftime("%Y%m%d")
    ds.StudyTime = now.strftime("%H%M%S")
    ds.ContentDate = ds.StudyDate
    ds.ContentTime = ds.StudyTime
    ds.AccessionNumber = ""
    ds.Modality = "US"
    ds.Manufacturer = "EchoViewer"
    ds.ReferringPhysicianName = ""
    ds.SeriesDescription = "A4C"
    ds.PatientName = "PHANTOM^ECHO"
    ds.PatientID = "PHANTOM"
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.StudyID = "1"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.PatientOrientation = ""
    ds.SamplesPerPixel = spp
    ds.PhotometricInterpretation = photometric
    if spp == 3:
        ds.PlanarConfiguration = 0
    if n_frames > 1:
        ds.NumberOfFrames = n_frames
        if fps:
            ds.FrameIncrementPointer = _FRAME_TIME_TAG
    ds.Rows = rows
    ds.Columns = cols
    ds.BitsAllocated = bits
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    if fps:
        ds.FrameTime = f"{1000.0 / float(fps):.10g}"
        ds.CineRate = int(round(float(fps)))
    if tsyntax == JPEGBaseline8Bit:
        ds.LossyImageCompression = "01"
        ds.LossyImageCompressionMethod = "ISO_10918_1"
    else:
        ds.LossyImageCompression = "00"

    if region is not None or cm_per_pixel is not None:
        x0, y0, x1, y1 = region if region is not None else (0, 0, cols, rows)
        item = Dataset()
        item.RegionSpatialFormat = 1  # 2D
        item.RegionDataType = 1  # tissue
        item.RegionFlags = 0
        item.RegionLocationMinX0 = int(x0)
        item.RegionLocationMinY0 = int(y0)
        item.RegionLocationMaxX1 = int(x1) - 1  # inclusive
        item.RegionLocationMaxY1 = int(y1) - 1
        if cm_per_pixel is not None:
            item.PhysicalUnitsXDirection = 3  # cm
            item.PhysicalUnitsYDirection = 3
            item.PhysicalDeltaX = float(cm_per_pixel)
            item.PhysicalDeltaY = float(cm_per_pixel)
        else:
            item.PhysicalUnitsXDirection = 0
            item.PhysicalUnitsYDirection = 0
            item.PhysicalDeltaX = 0.0
            item.PhysicalDeltaY = 0.0
        item.ReferencePixelX0 = (int(x0) + int(x1)) // 2
        item.ReferencePixelY0 = int(y0)
        ds.SequenceOfUltrasoundRegions = Sequence([item])
    return ds


def write_ultrasound_dicom(
    path: str | os.PathLike,
    frames: np.ndarray | Iterable[np.ndarray],
    fps: float | None,
    region: tuple[int, int, int, int] | None = None,
    cm_per_pixel: float | None = None,
    transfer_syntax: str = "jpeg_baseline",
    photometric: str = "YBR_FULL_422",
    *,
    quality: int = 90,
    **extra: Any,
) -> Path:
    """Write `frames` as an ultrasound DICOM file and return its path.

    frames: (T,H,W) / (T,H,W,3) uint8 array, one (H,W[,3]) frame, or an iterable of frames
      (streamed: compressed syntaxes never hold more than one decoded frame). Grey input is
      replicated for colour photometrics; RGB input is converted to grey for MONOCHROME*.
      uint16 grey frames (T,H,W) are written with 16 bits allocated (not for jpeg_baseline).
    fps: writes FrameTime (ms) and CineRate; None writes no timing.
    region: (x0, y0, x1, y1) exclusive, stored inclusive in a Sequence of Ultrasound Regions
      item (2D tissue); cm_per_pixel goes into PhysicalDeltaX/Y with units cm. A calibration
      without a region describes the whole frame.
    photometric: "MONOCHROME1" is accepted too (stored inverted).
    extra: DICOM keywords set on the dataset last (None deletes an attribute), e.g.
      PatientName="DOE^JANE", CineRate=None, FrameTimeVector=[0, 20, 20, ...].
    """
    path = Path(path)
    if transfer_syntax not in TRANSFER_SYNTAXES:
        raise ValueError(f"transfer_syntax must be one of {sorted(TRANSFER_SYNTAXES)}, got {transfer_syntax!r}")
    if photometric not in PHOTOMETRICS:
        raise ValueError(f"photometric must be one of {PHOTOMETRICS}, got {photometric!r}")
    tsyntax = TRANSFER_SYNTAXES[transfer_syntax]
    if transfer_syntax == "jpeg_baseline" and photometric == "PALETTE COLOR":
        raise ValueError("PALETTE COLOR needs a lossless transfer syntax, not jpeg_baseline")
    if photometric == "YBR_FULL_422" and transfer_syntax not in ("jpeg_baseline", "explicit_le", "explicit_be",
                                                                 "implicit_le"):
        raise ValueError(f"YBR_FULL_422 is not defined for {transfer_syntax}; use RGB or YBR_FULL")

    first, it, n = _first_and_rest(frames)
    if first.ndim not in (2, 3):
        raise ValueError(f"a frame must be (H,W) or (H,W,3), got {first.shape}")
    rows, cols = first.shape[:2]
    mono = photometric in ("MONOCHROME2", "MONOCHROME1")
    bits = 16 if (first.dtype == np.uint16 and mono) else 8
    if bits == 16 and transfer_syntax == "jpeg_baseline":
        raise ValueError("jpeg_baseline holds 8-bit data only")
    if photometric == "YBR_FULL_422" and transfer_syntax != "jpeg_baseline" and cols % 2:
        raise ValueError("native YBR_FULL_422 needs an even number of columns")
    dtype = np.dtype(np.uint16 if bits == 16 else np.uint8)
    spp = 1 if (mono or photometric == "PALETTE COLOR") else 3

    palette = palette_img = None
    if photometric == "PALETTE COLOR":
        palette, palette_img = _palette(_to_samples(first, "RGB", np.dtype(np.uint8)))

    # -- encode frames, spooled to a temporary file (memory: one frame) ---------------------------
    encapsulated = tsyntax.is_encapsulated and transfer_syntax != "jpeg_lossless"
    if encapsulated and transfer_syntax != "jpeg_baseline":
        from pydicom.pixels import get_encoder

        encoder = get_encoder(tsyntax)
        enc_photometric = photometric
        enc_opts: dict[str, Any] = dict(
            rows=rows, columns=cols, samples_per_pixel=spp, bits_allocated=bits, bits_stored=bits,
            pixel_representation=0, number_of_frames=1, planar_configuration=0,
        )
        if transfer_syntax == "jpeg2000" and spp == 3 and photometric == "RGB":
            enc_opts["use_mct"] = True
            enc_photometric = "YBR_RCT"
        elif transfer_syntax == "jpeg2000" and spp == 3:
            enc_opts["use_mct"] = False
        if transfer_syntax == "jpeg2000":
            enc_opts["encoding_plugin"] = "pylibjpeg"
    big_endian_words = bits == 16 and transfer_syntax == "explicit_be"
    sizes: list[int] = []  # bytes per frame as spooled (fragments padded to even length)
    with tempfile.TemporaryFile() as spool:
        for frame in it:
            f = np.asarray(frame)
            if f.shape[:2] != (rows, cols):
                raise ValueError(f"frame {len(sizes)} is {f.shape[:2]}, the first frame is {(rows, cols)}")
            if photometric == "PALETTE COLOR":
                samples = _quantize(_to_samples(f, "RGB", np.dtype(np.uint8)), palette_img)
            else:
                samples = _to_samples(f, photometric, dtype)
            if photometric == "YBR_FULL" and transfer_syntax != "jpeg_baseline":
                samples = convert_color_space(samples, "RGB", "YBR_FULL")
            if transfer_syntax == "jpeg_baseline":
                data = _jpeg_frame(samples, photometric, quality)
            elif encapsulated:
                data = encoder.encode(np.ascontiguousarray(samples), photometric_interpretation=enc_photometric,
                                      **enc_opts)
            elif photometric == "YBR_FULL_422":
                data = _ybr422_native(samples)
            elif big_endian_words:
                data = samples.astype(">u2").tobytes()
            else:
                data = samples.astype(dtype.newbyteorder("<"), copy=False).tobytes()
            if encapsulated and len(data) % 2:
                data += b"\x00"
            spool.write(data)
            sizes.append(len(data))
        count = len(sizes)
        if n is not None and count != n:
            raise ValueError(f"expected {n} frames, got {count}")

        ds = _build_dataset(
            count, rows, cols, spp, photometric, bits, fps, region, cm_per_pixel,
            ExplicitVRLittleEndian if transfer_syntax == "jpeg_lossless" else tsyntax,
        )
        if transfer_syntax == "jpeg2000" and spp == 3 and photometric == "RGB":
            ds.PhotometricInterpretation = "YBR_RCT"
        if palette is not None:
            lut16 = palette.astype(np.uint16) * 257
            for i, colour in enumerate(("Red", "Green", "Blue")):
                setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [256, 0, 16])
                ds[f"{colour}PaletteColorLookupTableData"] = pydicom.DataElement(
                    0x00281201 + i, "OW", lut16[:, i].astype("<u2").tobytes()
                )
        for key, value in extra.items():
            if value is None:
                if key in ds:
                    delattr(ds, key)
            else:
                setattr(ds, key, value)
        if any(int(tag) >= 0x7FE00010 for tag in ds.keys()):
            raise ValueError("extra attributes at or after Pixel Data are not supported")

        path.parent.mkdir(parents=True, exist_ok=True)
        target = path
        if transfer_syntax == "jpeg_lossless":
            fd, tmp = tempfile.mkstemp(suffix=".dcm", dir=str(path.parent))
            os.close(fd)
            target = Path(tmp)
        try:
            ts_written = ExplicitVRLittleEndian if transfer_syntax == "jpeg_lossless" else tsyntax
            ds.save_as(target, enforce_file_format=True, implicit_vr=ts_written.is_implicit_VR,
                       little_endian=ts_written.is_little_endian)
            spool.seek(0)
            with open(target, "ab") as out:
                _append_pixel_data(out, spool, sizes, ts_written, encapsulated, "OW" if bits == 16 else "OB")
            if transfer_syntax == "jpeg_lossless":
                _transcode_jpeg_lossless(target, path)
        finally:
            if target != path:
                try:
                    os.unlink(target)
                except OSError:
                    pass
    return path


def _append_pixel_data(out, spool, sizes: list[int], ts: UID, encapsulated: bool, vr: str) -> None:
    """Write the (7FE0,0010) Pixel Data element at the end of a file, copying from the spool."""
    import shutil
    import struct

    if encapsulated:  # always explicit VR little endian
        out.write(b"\xe0\x7f\x10\x00OB\x00\x00\xff\xff\xff\xff")
        total = sum(8 + s for s in sizes)
        if total < 2**32:  # Basic Offset Table: item-tag offsets relative to the first fragment
            offsets = np.concatenate([[0], np.cumsum([8 + s for s in sizes])[:-1]]).astype("<u4")
            out.write(struct.pack("<HHL", 0xFFFE, 0xE000, 4 * len(sizes)) + offsets.tobytes())
        else:
            out.write(struct.pack("<HHL", 0xFFFE, 0xE000, 0))
        for size in sizes:
            out.write(struct.pack("<HHL", 0xFFFE, 0xE000, size))
            out.write(spool.read(size))
        out.write(struct.pack("<HHL", 0xFFFE, 0xE0DD, 0))
        return
    length = sum(sizes)
    pad = length % 2
    end = "<" if ts.is_little_endian else ">"
    if ts.is_implicit_VR:
        out.write(struct.pack("<HHL", 0x7FE0, 0x0010, length + pad))
    else:
        out.write(struct.pack(end + "HH", 0x7FE0, 0x0010) + vr.encode() + b"\x00\x00"
                  + struct.pack(end + "L", length + pad))
    shutil.copyfileobj(spool, out, 1 << 20)
    if pad:
        out.write(b"\x00")


def _transcode_jpeg_lossless(src: Path, path: Path) -> None:
    """Transcode an uncompressed file to JPEG Lossless SV1 with GDCM."""
    try:
        import gdcm  # python-gdcm
    except ImportError as exc:  # pragma: no cover - dependency declared in pyproject
        raise RuntimeError("writing JPEG Lossless needs python-gdcm") from exc
    reader = gdcm.ImageReader()
    reader.SetFileName(str(src))
    if not reader.Read():
        raise RuntimeError(f"GDCM could not read the intermediate file {src}")
    change = gdcm.ImageChangeTransferSyntax()
    change.SetTransferSyntax(gdcm.TransferSyntax(gdcm.TransferSyntax.JPEGLosslessProcess14_1))
    change.SetInput(reader.GetImage())
    if not change.Change():
        raise RuntimeError("GDCM could not transcode to JPEG Lossless")
    writer = gdcm.ImageWriter()
    writer.SetFile(reader.GetFile())
    writer.SetImage(change.GetOutput())
    writer.SetFileName(str(path))
    if not writer.Write():
        raise RuntimeError(f"GDCM could not write {path}")
