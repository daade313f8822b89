"""Key images as DICOM Secondary Capture (highdicom ``SCImage``): same study, one series of their own.

Generic: any RGB uint8 pictures with a description each (the report's key-image pictures come from
``reports.figures``); a picture may name the loop and frame it shows, which becomes its Source Image
Sequence (DICOM frame number = index + 1).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset

from echoviewer.io.identity import Identity
from echoviewer.reports.dicom_common import (
    CHARACTER_SET,
    KEY_IMAGE_SERIES,
    MANUFACTURER,
    StudyContext,
    new_uid,
)


@dataclass(frozen=True)
class KeyImage:
    pixels: np.ndarray  # (H, W, 3) uint8 RGB
    description: str  # what a person reads under the picture: loop, beat, phase ...
    source: Identity | None = None  # the loop shown, when it is a DICOM instance
    frame: int | None = None  # 0-based index of the frame shown


def as_key_image(item: KeyImage | tuple[Any, ...]) -> KeyImage:
    """A KeyImage from itself or from a (pixels, description[, source[, frame]]) tuple."""
    return item if isinstance(item, KeyImage) else KeyImage(*item)


def _source_image(source: Identity, frame: int | None) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = source.sop_class_uid
    item.ReferencedSOPInstanceUID = source.sop_instance_uid
    if frame is not None:
        item.ReferencedFrameNumber = int(frame) + 1
    return item


def secondary_captures(images: Iterable[KeyImage | tuple[Any, ...]], ctx: StudyContext) -> list[hd.sc.SCImage]:
    """One Secondary Capture instance per picture, numbered from 1, all in one new series."""
    series_uid = new_uid()
    description = (KEY_IMAGE_SERIES.description + (f" ({ctx.demo_label})" if ctx.demo_label else ""))[:64]
    out = []
    for number, item in enumerate((as_key_image(i) for i in images), start=1):
        pixels = np.ascontiguousarray(item.pixels)
        if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
            raise ValueError(f"key image {number}: expected an (H, W, 3) uint8 RGB array, got "
                             f"{pixels.dtype} {pixels.shape}")
        sc = hd.sc.SCImage(
            pixel_array=pixels,
            photometric_interpretation="RGB",
            bits_allocated=8,
            # highdicom asks for a patient orientation with the PATIENT coordinate system; a picture of an
            # ultrasound sector has none, so it is emptied below (type 2C: empty is allowed)
            coordinate_system="PATIENT",
            patient_orientation=("L", "F"),
            series_instance_uid=series_uid,
            series_number=KEY_IMAGE_SERIES.number,
            sop_instance_uid=new_uid(),
            instance_number=number,
            manufacturer=MANUFACTURER,
            series_description=description,
            manufacturer_model_name=MANUFACTURER,
            software_versions=list(ctx.software_versions),
            content_date=ctx.content_date,
            content_time=ctx.content_time,
            specific_character_set=CHARACTER_SET,
            **ctx.highdicom_patient_study(),
        )
        sc.PatientOrientation = []
        sc.BodyPartExamined = "HEART"  # not a paired structure: no Laterality
        sc.BurnedInAnnotation = "YES"  # pictures carry labels and tracings
        sc.ImageComments = item.description
        src = item.source
        if src is not None and src.sop_instance_uid and src.sop_class_uid:
            sc.SourceImageSequence = [_source_image(src, item.frame)]
            shown = "a frame" if item.frame is None else f"frame {int(item.frame) + 1}"
            sc.DerivationDescription = f"Picture of {shown} of the source loop"
        out.append(sc)
    return out
