"""The PDF report, read back as text with poppler (pdftotext, pdfinfo, pdffonts).

EF and volumes are compared with the CSV report of the same analyses and corrections under the
reports' rule (``reports.numbers``): the PDF shows the CSV's figure rounded half up (EF to 0.1 %,
volumes to whole mL). The rounding is re-done here with ``decimal`` from the CSV's text.
"""

import csv
import io
import re
import shutil
import subprocess
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal

import pytest

from echoviewer import DEMO_LABEL
from echoviewer.reports.content import study_report
from echoviewer.reports.pdf import NOT_REVIEWED, write_pdf
from tests.reports.conftest import AVI, DAMAGED, DICOM, REVIEWER


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is missing: install poppler-utils (scripts/system-deps.sh)"
    return path


def _run(*args) -> str:
    return subprocess.run([_tool(args[0]), *map(str, args[1:])], check=True, capture_output=True, text=True).stdout


def n_pages(pdf) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", _run("pdfinfo", pdf), re.M).group(1))


def page_text(pdf, page: int, layout: bool = False) -> str:
    return _run("pdftotext", *(["-layout"] if layout else []), "-f", page, "-l", page, pdf, "-")


def pdf_text(pdf, layout: bool = False) -> str:
    return _run("pdftotext", *(["-layout"] if layout else []), pdf, "-")


def section(text: str, name: str) -> str:
    """The text of one loop's section: from its heading to the next loop's (or the end)."""
    start = re.search(rf"Loop \d+ of \d+: {re.escape(name)}", text)
    assert start, f"no section for {name}"
    nxt = re.search(r"Loop \d+ of \d+: ", text[start.end():])
    return text[start.start(): start.end() + nxt.start() if nxt else len(text)]


def half_up(text: str, places: int = 1) -> str:
    return str(Decimal(text).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def csv_rows(demo_study, name: str) -> list[dict]:
    path = demo_study.analyses[name].path
    return [r for r in csv.DictReader(io.StringIO(demo_study.csv_text)) if r["file"] == path]


@pytest.fixture(scope="module")
def study_pdf(demo_study, tmp_path_factory):
    return write_pdf(demo_study.report, tmp_path_factory.mktemp("pdf") / "study.pdf")


def test_every_page_says_demo_and_its_number(study_pdf):
    total = n_pages(study_pdf)
    assert total >= 3  # page 1, then a page per loop
    for page in range(1, total + 1):
        text = page_text(study_pdf, page)
        assert DEMO_LABEL.lower() in text.lower(), f"page {page} lacks the demo label"
        assert f"Page {page} of {total}" in text
        assert "DEMO, PHANTOM" in text  # the patient on every page


def test_uncorrected_loop_prints_the_csv_values(study_pdf, demo_study):
    text = section(pdf_text(study_pdf, layout=True), AVI)
    rows = csv_rows(demo_study, AVI)
    beats, mean = rows[:-1], rows[-1]
    for r in beats:  # beat, ED and ES frames from 1, model EF and segmentation EF side by side
        line = rf"^\s*{r['beat']}\s+{int(r['ed_frame']) + 1}\s+{int(r['es_frame']) + 1}\s+" \
               rf"{re.escape(half_up(r['ef_model']))}\s+{re.escape(half_up(r['ef_seg']))}\s+used"
        assert re.search(line, text, re.M), f"beat {r['beat']} row: {line}"
    assert f"{half_up(mean['ef_model'])} ± {half_up(mean['ef_sd'])} %" in text
    assert f"{mean['beats_used']} of {len(beats)}" in text
    assert f"{half_up(mean['hr_bpm'], 0)} bpm" in text
    assert NOT_REVIEWED in text and "Frames numbered from 1" in text
    assert "preserved" in text
    assert "mL" not in text  # no pixel spacing: no volumes in mL anywhere in the section
    assert "not reported" in text


def test_corrected_loop_prints_model_and_corrected_values_side_by_side(study_pdf, demo_study):
    text = section(pdf_text(study_pdf, layout=True), DICOM)
    rows = csv_rows(demo_study, DICOM)
    beats, mean = rows[:-1], rows[-1]
    assert any(r["es_frame"] != r["es_frame_corrected"] for r in beats)  # the fixture moved a frame
    for r in beats:
        ed, es = int(r["ed_frame_corrected"]) + 1, int(r["es_frame_corrected"]) + 1
        es_cell = str(es) if r["es_frame"] == r["es_frame_corrected"] else rf"{es} \({int(r['es_frame']) + 1}\)"
        values = [r["ef_model"], r["ef_seg"], r["ef_corrected"]]
        volumes = [r["edv"], r["edv_corrected"], r["esv"], r["esv_corrected"]]
        line = rf"^\s*{r['beat']}\s+{ed}\s+{es_cell}\s+" + r"\s+".join(re.escape(half_up(v)) for v in values) + \
            r"\s+" + r"\s+".join(half_up(v, 0) for v in volumes) + r"\s"
        assert re.search(line, text, re.M), f"beat {r['beat']} row: {line}"
    assert f"{half_up(mean['ef_corrected'])} ± {half_up(mean['ef_sd_corrected'])} %" in text
    assert f"{half_up(mean['ef_model'])} ± {half_up(mean['ef_sd'])} %" in text
    assert f"{half_up(mean['edv_corrected'], 0)} mL / {half_up(mean['esv_corrected'], 0)} mL" in text
    assert "EF, corrected" in text and "EF, model" in text
    assert f"Corrected by {REVIEWER} (3 edits" in text and NOT_REVIEWED not in text
    assert "not used: ectopic beat" in text
    assert "followed by the model's in brackets" in text
    assert "mildly reduced" in text and "EF below 50 %" in text  # category and flags in words


def test_page_one_identity_weights_missing_loops_and_method(study_pdf, demo_study):
    first = page_text(study_pdf, 1)
    ident = demo_study.report.identity
    assert "DEMO, PHANTOM" in first and ident.patient_id in first and ident.study_date_text in first
    assert "not given" in first  # the phantom DICOM has no accession number
    flat = re.sub(r"\s+", "", first)
    for w in demo_study.report.weights:  # names and the full hash (wrapped in groups)
        assert w.name in first and w.sha256 in flat
    assert DAMAGED in first and "not a DICOM file" in first
    words = " ".join(first.split())  # (the paragraph wraps)
    assert "≤40 reduced · 41–49 mildly reduced · ≥50 preserved" in words  # glyphs beyond Latin-1 survive
    assert "Frames are numbered from 1" in first
    assert AVI in first and DICOM in first


def test_last_page_has_the_signature_lines(study_pdf):
    last = page_text(study_pdf, n_pages(study_pdf))
    for words in ("Reviewed by", "Signature", "Date", f"made by {REVIEWER}"):
        assert words in last


def test_text_has_no_leaked_python_values_and_fonts_are_embedded(study_pdf):
    text = pdf_text(study_pdf)
    assert not re.search(r"\bNone\b|\bnan\b|\binf\b", text)
    fonts = _run("pdffonts", study_pdf)
    assert "DejaVuSans" in fonts and "DejaVuSans-Bold" in fonts


def test_avi_only_study_says_not_given_and_fits_letter(demo_study_report, tmp_path):
    avi = demo_study_report.loops[0]
    pdf = write_pdf(study_report("avi study", [avi]), tmp_path / "avi.pdf", paper="Letter")
    assert re.search(r"Page size:\s+612 x 792", _run("pdfinfo", pdf))
    first = page_text(pdf, 1)
    assert first.count("not given") >= 8 and "patient not given" in first
    assert "Loops not reported" not in first
    assert "No loop in this report was corrected" in page_text(pdf, n_pages(pdf))
    for page in range(2, n_pages(pdf) + 1):  # a loop's pages name it in the running header
        assert f"loop 1 of 1: {AVI}" in page_text(pdf, page).splitlines()[0]


def test_per_loop_report_and_unknown_loop(demo_study_report, tmp_path):
    pdf = write_pdf(demo_study_report, tmp_path / "one.pdf", loops=[DICOM])
    text = pdf_text(pdf)
    assert "Loop 1 of 1: A4C_dicom.dcm" in text and AVI not in text and DAMAGED not in text
    with pytest.raises(ValueError, match="no analysed loop"):
        write_pdf(demo_study_report, tmp_path / "x.pdf", loops=["nope.avi"])
    with pytest.raises(ValueError, match="paper"):
        write_pdf(demo_study_report, tmp_path / "x.pdf", paper="A5")


def test_official_weights_carry_no_demo_label(demo_study_report, tmp_path):
    loops = []
    for lr in demo_study_report.loops:
        a = lr.analysis
        official = replace(a, seg_info=replace(a.seg_info, demo=False), ef_info=replace(a.ef_info, demo=False),
                           flags=[f for f in a.flags if f != "demo weights"])
        loops.append(replace(lr, analysis=official))
    pdf = write_pdf(replace(demo_study_report, loops=loops), tmp_path / "official.pdf")
    text = pdf_text(pdf).lower()
    assert "not for clinical use" not in text and "demo weights" not in text


def test_measurements_by_hand_are_listed_per_loop(demo_study, tmp_path):
    """Calipers (issue 21, item 5): kind, frame counted from 1, value with its unit, who and when."""
    from echoviewer.annotations.model import Corrections
    from echoviewer.reports.content import loop_report

    report = demo_study.report
    loops = {lr.name: lr for lr in report.loops}
    dicom = Corrections(demo_study.analyses[DICOM], user="Dr. M. Easure")
    dicom.add_measurement("distance", 4, [(10, 20), (40, 60)], cm_per_pixel=0.05)  # 50 px
    dicom.add_measurement("area", 0, [(0, 0), (20, 0), (20, 20), (0, 20)], cm_per_pixel=0.05)  # 400 px²
    avi = Corrections(demo_study.analyses[AVI], user="Dr. M. Easure")
    avi.add_measurement("distance", 2, [(0, 0), (30, 40)])  # no pixel spacing: px
    lines = [loop_report(name, demo_study.analyses[name], c, loops[name].loop) for name, c in ((AVI, avi),
                                                                                              (DICOM, dicom))]
    assert [(m.kind, m.frame, m.text) for m in lines[1].measurements] == [("area", 0, "1.00 cm²"),
                                                                          ("distance", 4, "2.50 cm")]
    assert lines[1].measurements[0].user == "Dr. M. Easure" and lines[1].measurements[0].time == dicom.audit[1]["time"]
    assert not lines[1].corrected  # measuring is not correcting the EF
    pdf = write_pdf(study_report(report.title, lines, generated=report.generated), tmp_path / "calipers.pdf")
    text = pdf_text(pdf, layout=True)
    dcm, avi_text = section(text, DICOM), section(text, AVI)
    assert "Measurements by hand" in dcm and "Measurements by hand" in avi_text
    rows = [re.sub(r"\s+", " ", line).strip() for line in dcm.splitlines() if "Dr. M. Easure" in line]
    assert rows[0].startswith("Area 1 1.00 cm² Dr. M. Easure, ")
    assert rows[1].startswith("Distance 5 2.50 cm Dr. M. Easure, ")
    assert re.search(r"Distance\s+3\s+50\.0 px\s+Dr\. M\. Easure", avi_text)
    assert "in pixels: the source gives no pixel spacing" in re.sub(r"\s+", " ", avi_text)
    # a loop without measurements has no such table
    assert "Measurements by hand" not in pdf_text(write_pdf(report, tmp_path / "none.pdf"))
