"""The PDF report as a DICOM Encapsulated PDF (PS3.3 A.45.1): same study, its own series.

highdicom has no class for this IOD, so the dataset is built with pydicom: Patient, General Study,
Encapsulated Document Series, General Equipment, SC Equipment, Encapsulated Document and SOP Common.
"""

from __future__ import annotations

from collections.abc import Iterable

import highdicom as hd
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sr.codedict import codes
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID, ExplicitVRLittleEndian

from echoviewer.io.identity import Identity
from echoviewer.reports.dicom_common import PDF_SERIES, StudyContext, new_uid

ENCAPSULATED_PDF_STORAGE = UID("1.2.840.10008.5.1.4.1.1.104.1")
DEFAULT_TITLE = "Echocardiography report: LV ejection fraction"


#: The document's concept: (42148-7, LN, "Echocardiography Report") [CID 7000 Diagnostic Imaging Report
#: Document Titles].
TITLE_CONCEPT = codes.LN.EchocardiographyReport


def _source_instances(sources: Iterable[Identity]) -> list[Dataset]:
    """Source Instance Sequence items: the DICOM loops the PDF's pictures and numbers come from."""
    out: dict[str, Dataset] = {}
    for ident in sources:
        if ident.sop_instance_uid and ident.sop_class_uid and ident.sop_instance_uid not in out:
            item = Dataset()
            item.ReferencedSOPClassUID = ident.sop_class_uid
            item.ReferencedSOPInstanceUID = ident.sop_instance_uid
            out[ident.sop_instance_uid] = item
    return list(out.values())


def encapsulated_pdf(pdf: bytes, ctx: StudyContext, title: str = DEFAULT_TITLE,
                     sources: Iterable[Identity] = ()) -> Dataset:
    """An Encapsulated PDF instance holding ``pdf`` (the bytes of a PDF file) in ``ctx``'s study.

    ``sources``: identities of the loops the report shows (DICOM ones are referenced as its sources).
    """
    if not pdf.startswith(b"%PDF-"):
        raise ValueError("not a PDF document (no %PDF- header)")
    sop_uid = new_uid()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ENCAPSULATED_PDF_STORAGE
    meta.MediaStorageSOPInstanceUID = UID(sop_uid)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = "ECHOVIEWER_01"

    ds = Dataset()
    ds.file_meta = meta
    ctx.apply(ds)  # character set, patient, study, equipment, content and instance creation date/time
    ds.SOPClassUID = ENCAPSULATED_PDF_STORAGE
    ds.SOPInstanceUID = sop_uid
    # Encapsulated Document Series
    ds.Modality = "DOC"
    ds.SeriesInstanceUID = new_uid()
    ds.SeriesNumber = PDF_SERIES.number
    ds.SeriesDescription = (PDF_SERIES.description + (f" ({ctx.demo_label})" if ctx.demo_label else ""))[:64]
    # SC Equipment: made on a workstation
    ds.ConversionType = "WSD"
    # Encapsulated Document
    ds.InstanceNumber = 1
    ds.AcquisitionDateTime = ctx.content_date + ctx.content_time
    ds.BurnedInAnnotation = "YES"  # the PDF names the patient
    ds.DocumentTitle = title
    ds.ConceptNameCodeSequence = [hd.sr.CodedConcept.from_code(TITLE_CONCEPT)]
    ds.VerificationFlag = "UNVERIFIED"
    refs = _source_instances(sources)
    if refs:
        ds.SourceInstanceSequence = refs
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.EncapsulatedDocument = pdf + (b"\x00" if len(pdf) % 2 else b"")  # OB: even length, padded with NUL
    ds.EncapsulatedDocumentLength = len(pdf)  # the PDF's own length, without the pad
    return ds
