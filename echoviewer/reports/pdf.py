"""The study report as PDF: what a cardiologist reads and signs (reportlab platypus).

Page 1: patient and study, a summary line per loop, how EF was obtained, the weights (names and
sha256). Then one section per loop, each from a new page: the reported figures (corrected beside
the model's when a person corrected the loop), the ED and ES key frames with the LV tracing, the
beat-EF timeline and the beat table. Then the loops that could not be reported and a sign-off
block. Every page carries the patient, "Page X of Y" and, with demo weights, the demo label.

Numbers follow ``reports.numbers`` (the CSV's figures rounded half up); frames are numbered from 1.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    Image,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from echoviewer import DEMO_LABEL
from echoviewer.analysis.ef_categories import DEFAULT_CATEGORIES, PAPER_THRESHOLD, describe_categories
from echoviewer.io.identity import Identity
from echoviewer.paths import atomic_write
from echoviewer.reports import pdf_styles as ps
from echoviewer.reports.content import METHOD, BeatLine, LoopReport, Review, StudyReport
from echoviewer.reports.figures import key_frame_image, png_bytes, timeline_image
from echoviewer.reports.numbers import NONE, ef_text, ef_with_sd, hr_text, volume_text

NOT_GIVEN = "not given"
NOT_REVIEWED = "not reviewed — model values"
TITLE = "Left-ventricular ejection fraction"
RUNNING_TITLE = "EchoViewer · LV ejection fraction report"
FOOTER_RULE = 14 * mm  # above the footer: the demo label, then the generator and "Page X of Y"
FOOTER_LINE = 6 * mm


# -- text helpers -----------------------------------------------------------------------------------


def _p(text: str, style: str = "body") -> Paragraph:
    """A paragraph of markup (callers escape what came from outside)."""
    return Paragraph(text, ps.styles()[style])


def _t(text: str, style: str = "body") -> Paragraph:
    """A paragraph of plain text."""
    return _p(escape(text), style)


def _or_not_given(text: str) -> str:
    return text.strip() or NOT_GIVEN


def _date(yyyymmdd: str) -> str:
    d = yyyymmdd.strip()
    return f"{d[:4]}-{d[4:6]}-{d[6:]}" if len(d) == 8 and d.isdigit() else d


def _person(pn: str) -> str:
    """A DICOM person name ('FAMILY^GIVEN') as 'FAMILY, Given' (Identity's rule)."""
    return Identity(patient_name=pn).display_name


def _when(dt: datetime) -> str:
    """'2026-03-14 10:30 UTC+01:00' (an offset, not a zone name: Windows' names are sentences)."""
    off = dt.utcoffset()
    if off is None:
        return f"{dt:%Y-%m-%d %H:%M}"
    minutes = int(off.total_seconds() // 60)
    sign, minutes = ("+" if minutes >= 0 else "-"), abs(minutes)
    zone = f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}" if minutes else "UTC"
    return f"{dt:%Y-%m-%d %H:%M} {zone}"


def _iso(text: str, tz: Any) -> str:
    try:
        return _when(datetime.fromisoformat(text).astimezone(tz))
    except ValueError:
        return text


def review_text(reviews: Sequence[Review], tz: Any = None) -> str:
    """'Corrected by X (3 edits, 2026-01-02 10:12 – 10:15 UTC)'; NOT_REVIEWED without reviews."""
    if not reviews:
        return NOT_REVIEWED
    parts = []
    for r in reviews:
        first, last = _iso(r.first, tz), _iso(r.last, tz)
        span = first if first == last else f"{first} – {last}"
        parts.append(f"{r.user or 'unknown user'} ({r.edits} edit{'s' if r.edits != 1 else ''}, {span})")
    return "Corrected by " + "; ".join(parts)


def _patient_line(ident: Identity) -> str:
    name = ident.display_name or "patient not given"
    bits = [name] + ([f"ID {ident.patient_id}"] if ident.patient_id else []) + \
        ([ident.study_date_text] if ident.study_date else [])
    return " · ".join(bits)


# -- page decoration --------------------------------------------------------------------------------


class _SectionMark(Flowable):
    """Invisible: names the loop whose pages follow, for the running header (a beat table carried
    over to the next page still says whose it is)."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        self.canv._echo_section = self.text  # read by _Decor at the page's end


class _Decor:
    """Running header and footer of every page (drawn at each page's end, when the page's
    section mark has been met)."""

    def __init__(self, report: StudyReport, page_size: tuple[float, float]):
        self.patient = _patient_line(report.identity)
        self.footer = f"EchoViewer {report.app_version} · generated {_when(report.generated)}"
        self.demo = report.demo_label
        self.size = page_size

    def __call__(self, c: pdfcanvas.Canvas, doc: Any) -> None:
        w, h = self.size
        x0, x1 = ps.MARGIN_X, w - ps.MARGIN_X
        c.saveState()
        c.setStrokeColor(ps.RULE)
        c.setLineWidth(0.5)
        top = h - 12 * mm
        c.setFont(ps.FONT, 7.5)
        c.setFillColor(ps.MUTED)
        c.drawRightString(x1, top, self.patient)
        title = RUNNING_TITLE
        section = getattr(c, "_echo_section", "")
        if section:
            room = x1 - x0 - c.stringWidth(self.patient + RUNNING_TITLE + " · ", ps.FONT, 7.5) - 8 * mm
            while section and c.stringWidth(section, ps.FONT, 7.5) > room:
                section = section[:-2] + "…"  # a long file name is cut, never drawn over the patient
            title = f"{RUNNING_TITLE} · {section}" if section.strip("…") else RUNNING_TITLE
        c.drawString(x0, top, title)
        c.line(x0, top - 2 * mm, x1, top - 2 * mm)
        c.line(x0, FOOTER_RULE, x1, FOOTER_RULE)
        c.drawString(x0, FOOTER_LINE, self.footer)
        if self.demo:  # on every page (a printed page travels alone), on a line of its own
            c.setFont(ps.FONT_BOLD, 8)
            c.setFillColor(ps.DEMO)
            c.drawCentredString(w / 2, FOOTER_RULE - 4 * mm, self.demo.upper())
        c.restoreState()


def _numbered_canvas(page_size: tuple[float, float]) -> type[pdfcanvas.Canvas]:
    """A canvas that holds its pages until the end, then writes 'Page X of Y' on each."""

    class NumberedCanvas(pdfcanvas.Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self) -> None:  # reportlab calls it at each page's end
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont(ps.FONT, 7.5)
                self.setFillColor(ps.MUTED)
                self.drawRightString(page_size[0] - ps.MARGIN_X, FOOTER_LINE, f"Page {self._pageNumber} of {total}")
                super().showPage()
            super().save()

    return NumberedCanvas


# -- page 1 -----------------------------------------------------------------------------------------


def _pairs_table(rows: list[tuple[str, Any, str, Any]], width: float) -> Table:
    """Four columns: label, value, label, value."""
    cells = [[_t(a, "label"), v1 if isinstance(v1, Flowable) else _t(v1, "value"),
              _t(b, "label"), v2 if isinstance(v2, Flowable) else _t(v2, "value")] for a, v1, b, v2 in rows]
    lw = 0.13 * width
    t = Table(cells, colWidths=[lw, 0.5 * width - lw, lw, 0.5 * width - lw], hAlign="LEFT")
    t.setStyle(ps.facts_table_style())
    return t


def _identity_block(report: StudyReport, width: float) -> list[Flowable]:
    i = report.identity
    device = " ".join(p for p in (i.manufacturer, i.model_name) if p)
    rows = [
        ("Patient", _or_not_given(i.display_name), "Study date", _or_not_given(i.study_date_text)),
        ("Patient ID", _or_not_given(i.patient_id), "Accession", _or_not_given(i.accession)),
        ("Date of birth", _or_not_given(_date(i.patient_birth_date)), "Sex", _or_not_given(i.patient_sex)),
        ("Institution", _or_not_given(i.institution), "Device", _or_not_given(device)),
        ("Referring", _or_not_given(_person(i.referring_physician)), "Study", report.title),
    ]
    return [_p("Patient and study", "h2"), _pairs_table(rows, width)]


def _summary_block(report: StudyReport, width: float) -> list[Flowable]:
    head = ["Loop", "Reported EF", "Category", "Beats used", "Heart rate", "Values"]
    rows: list[list[Any]] = [[_t(h, "head_cell") for h in head]]
    for lr in report.loops:
        s = lr.summary
        who = ", ".join(sorted({r.user or "unknown user" for r in lr.reviews})) or "reviewer not recorded"
        values = f"corrected ({who})" if lr.corrected else "model, not reviewed"
        rows.append([_t(lr.name, "cell"), _t(ef_with_sd(s.ef_mean, s.ef_sd), "cell_bold"),
                     _t(lr.category or NONE, "cell"), _t(f"{s.n_used} of {s.n_beats}", "cell"),
                     _t(hr_text(s.hr_bpm), "cell"), _t(values, "cell")])
    t = Table(rows, colWidths=[w * width for w in (0.26, 0.15, 0.14, 0.11, 0.1, 0.24)], repeatRows=1, hAlign="LEFT")
    t.setStyle(ps.grid_table_style(1, n_rows=len(rows)))
    return [_p("Summary", "h2"), t]


def _method_block(report: StudyReport) -> list[Flowable]:
    text = (
        f"{escape(METHOD)}. <b>Beat EF, model</b>: EchoNet-Dynamic's video model (R(2+1)D) on a clip of each beat; "
        "<b>EF, seg</b>: method of disks on the LV tracings of the model's segmentation; "
        "<b>EF, corrected</b>: method of disks on the tracings after the reviewer's corrections. "
        "A loop's EF is the mean ± s.d. over the beats used; a corrected loop reports its corrected EF. "
        "Volumes are given in mL only when the source states a pixel spacing. "
        f"Categories (heart-failure guidelines, EF in %): {escape(describe_categories(DEFAULT_CATEGORIES))}; "
        f"EchoNet-Dynamic's screening threshold is EF &lt; {PAPER_THRESHOLD:g} %. "
        "Frames are numbered from 1."
    )
    return [_p("Method", "h2"), _p(text, "body")]


def _weights_block(report: StudyReport, width: float) -> list[Flowable]:
    rows: list[list[Any]] = [[_t(h, "head_cell") for h in ("Task", "Weights", "SHA-256")]]
    for w in report.weights:
        name = w.name + (" (demo)" if getattr(w, "demo", False) else "")
        sha = " ".join(w.sha256[i:i + 16] for i in range(0, len(w.sha256), 16))  # wraps at group edges
        rows.append([_t(w.task, "cell"), _t(name, "cell"), _t(sha, "mono")])
    t = Table(rows, colWidths=[0.16 * width, 0.26 * width, 0.58 * width], hAlign="LEFT")
    t.setStyle(ps.grid_table_style(1, n_rows=len(rows)))
    return [_p("Model weights", "h2"), t]


def _demo_banner(report: StudyReport, width: float) -> list[Flowable]:
    if not report.demo:
        return []
    t = Table([[_p(f"{escape(DEMO_LABEL.upper())}", "banner")],
               [_t("These results come from the bundled demonstration weights, trained on synthetic phantoms. "
                   "They are not a diagnosis.", "body")]], colWidths=[width])
    t.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.9, ps.DEMO), ("BACKGROUND", (0, 0), (-1, -1), ps.DEMO_BG),
                           ("LEFTPADDING", (0, 0), (-1, -1), 6), ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                           ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]))
    return [t, Spacer(1, 2 * mm)]


# -- a loop -----------------------------------------------------------------------------------------


NB = "\u00a0"  # no break between a number and its unit


def _volumes(lr: LoopReport) -> str:
    if not lr.calibrated:
        return "not reported (the source gives no pixel spacing)"
    s = lr.summary
    text = f"{volume_text(s.edv_mean)}{NB}mL / {volume_text(s.esv_mean)}{NB}mL"
    if lr.corrected:
        text += f" (model {volume_text(lr.model.edv_mean)}{NB}mL / {volume_text(lr.model.esv_mean)}{NB}mL)"
    return text


def _acquisition(lr: LoopReport) -> str:
    a = lr.analysis
    parts = []
    if lr.loop is not None:
        parts.append(f"{lr.loop.width}{NB}×{NB}{lr.loop.height}{NB}px")
    parts.append(f"{a.fps:.1f}{NB}fps" if a.fps else "frame rate unknown")
    parts.append(f"{a.n_frames}{NB}frames" + (f" ({a.n_frames / a.fps:.1f}{NB}s)" if a.fps else ""))
    if lr.loop is not None and lr.loop.cm_per_pixel:
        parts.append(f"{lr.loop.cm_per_pixel * 10:.3f}{NB}mm/px")
    return " · ".join(parts)


def _facts_block(lr: LoopReport, width: float, tz: Any) -> Table:
    s, m = lr.summary, lr.model
    ef = escape(ef_with_sd(s.ef_mean, s.ef_sd).replace(" %", f"{NB}%"))
    if lr.corrected:
        ef = f'<font color="#{ps.CORRECTED.hexval()[2:]}">{ef}</font>'
    second = ("EF, model", ef_with_sd(m.ef_mean, m.ef_sd)) if lr.corrected else \
        ("EF, seg", ef_with_sd(m.ef_seg_mean, None))
    rows: list[tuple[str, Any, str, Any]] = [
        ("EF, corrected" if lr.corrected else "EF, model", _p(ef, "ef_big"),
         "Category", _t(lr.category or NONE, "cell_bold")),
        (second[0], second[1], "Beats used", f"{s.n_used} of {s.n_beats}"),
        ("EDV / ESV", _volumes(lr), "Heart rate", hr_text(s.hr_bpm).replace(" ", NB)),
        ("Flags", "; ".join(lr.flags) or "none", "Acquisition", _acquisition(lr)),
        ("Review", review_text(lr.reviews, tz), "", ""),
    ]
    t = _pairs_table(rows, width)
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, 0), "MIDDLE"), ("SPAN", (1, -1), (-1, -1))]))
    return t


def _key_images(lr: LoopReport, width: float) -> list[Flowable]:
    beat = lr.key_beat()
    if beat is None:
        return [_t("No key images: the loop has no beat to show.", "small")]
    if lr.loop is None:
        return [_t("No key images: the loop's frames could not be read when this report was made.", "small")]
    gap = 4 * mm
    w = (width - gap) / 2
    cells = []
    for phase in ("ed", "es"):
        rgb = key_frame_image(lr, beat, phase)
        cells.append(Image(io.BytesIO(png_bytes(rgb)), width=w, height=w * rgb.shape[0] / rgb.shape[1]))
    t = Table([cells], colWidths=[w + gap / 2, w + gap / 2], hAlign="LEFT")
    t.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                           ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
                           ("ALIGN", (0, 0), (0, 0), "LEFT"), ("ALIGN", (1, 0), (1, 0), "RIGHT")]))
    note = (f"Key frames of beat {beat.number} (of the beats used, the one whose EF is nearest the loop's mean): "
            f"end-diastole, frame {beat.ed_frame + 1}, and end-systole, frame {beat.es_frame + 1}; the LV tracing "
            "and its long axis in amber" + (", as corrected" if lr.corrected and beat.corrected else "") + ".")
    return [t, Spacer(1, 1.2 * mm), _t(note, "small")]


def _timeline(lr: LoopReport, width: float) -> Flowable:
    rgb = timeline_image(lr, width_in=width / 72.0, height_in=width / 72.0 * 0.31)
    return Image(io.BytesIO(png_bytes(rgb)), width=width, height=width * rgb.shape[0] / rgb.shape[1])


def _frame_cell(reported: int, model: int | None) -> str:
    """Frame from 1; '26 (25)' when a person moved it from the model's 25."""
    text = str(reported + 1)
    return text if model is None or model == reported else f"{text} ({model + 1})"


def _status(lr: LoopReport, b: BeatLine) -> str:
    if b.deleted:
        return "deleted by the reviewer"
    if b.model_ed_frame is None:
        words = "added by the reviewer"
    elif b.included:
        words = "used"
    else:
        words = f"not used: {b.exclude_reason}"
    if b.included and b.flags:
        words += f" ({'; '.join(b.flags)})"
    if lr.corrected and b.corrected and b.model_ed_frame is not None:
        words += ", corrected"
    return words


def _beat_columns(lr: LoopReport) -> list[tuple[str, str]]:
    """(group, column) of the beat table; a group spans its columns in the first header row."""
    cols = [("", "Beat"), ("Frame", "ED"), ("Frame", "ES"), ("EF (%)", "model"), ("EF (%)", "seg")]
    if lr.corrected:
        cols.append(("EF (%)", "corrected"))
    if lr.calibrated:
        for v in ("EDV", "ESV"):
            cols += [(f"{v} (mL)", "model")] + ([(f"{v} (mL)", "corrected")] if lr.corrected else [])
    return cols + [("", "In the mean")]


def _beat_rows(lr: LoopReport) -> list[list[str]]:
    """Beat rows, then the mean row (every cell text; the last column is the status)."""
    corr, cal = lr.corrected, lr.calibrated
    rows = []
    for b in lr.beats:
        row = [str(b.number), _frame_cell(b.ed_frame, b.model_ed_frame), _frame_cell(b.es_frame, b.model_es_frame),
               ef_text(b.ef_model), ef_text(b.ef_seg)]
        if corr:
            row.append(NONE if b.deleted else ef_text(b.ef_corrected))
        if cal:
            for model_v, corr_v in ((b.edv_model, b.edv_corrected), (b.esv_model, b.esv_corrected)):
                row += [volume_text(model_v)] + ([NONE if b.deleted else volume_text(corr_v)] if corr else [])
        rows.append(row + [_status(lr, b)])
    s, m = lr.summary, lr.model
    mean = ["Mean", "", "", ef_with_sd(m.ef_mean, m.ef_sd), ef_text(m.ef_seg_mean)]
    if corr:
        mean.append(ef_with_sd(s.ef_mean, s.ef_sd))
    if cal:
        for model_v, corr_v in ((m.edv_mean, s.edv_mean), (m.esv_mean, s.esv_mean)):
            mean += [volume_text(model_v)] + ([volume_text(corr_v)] if corr else [])
    return rows + [mean + [f"{s.n_used} of {s.n_beats} beats used"]]


def _beat_table(lr: LoopReport, width: float) -> Table:
    cols = _beat_columns(lr)
    rows = _beat_rows(lr)
    st = ps.styles()
    # every column as wide as its widest cell; the status column takes the rest (and wraps)
    widths = []
    for i, (_, name) in enumerate(cols[:-1]):
        texts = [(name, st["head_cell"])] + [(r[i], st["cell_bold"] if r is rows[-1] else st["cell"]) for r in rows]
        widths.append(max(stringWidth(x, s.fontName, s.fontSize) for x, s in texts) + 7)
    widths.append(max(width - sum(widths), 0.22 * width))
    widths = [w * min(1.0, width / sum(widths)) for w in widths]
    corrected = {i for i, (_, name) in enumerate(cols) if name == "corrected"}  # in the timeline's colour

    def cell(i: int, text: str, bold: bool = False) -> Paragraph:
        return _t(text, ("cell_bold" if bold else "cell") + ("_corrected" if i in corrected else ""))

    cells: list[list[Any]] = [[_t(g, "head_cell") for g, _ in cols], [_t(c, "head_cell") for _, c in cols]]
    cells += [[cell(i, v) for i, v in enumerate(r)] for r in rows[:-1]]
    cells.append([cell(i, v, bold=i == 0 or " ± " in v) for i, v in enumerate(rows[-1])])
    t = Table(cells, colWidths=widths, repeatRows=2, hAlign="LEFT")
    style = ps.grid_table_style(2, n_rows=len(cells) - 1)
    style.add("LINEABOVE", (0, -1), (-1, -1), 0.8, ps.MUTED)
    style.add("BACKGROUND", (0, -1), (-1, -1), ps.HEAD_BG)
    start = 0
    while start < len(cols):  # span each group over its columns
        end = start
        while cols[start][0] and end + 1 < len(cols) and cols[end + 1][0] == cols[start][0]:
            end += 1
        if end > start:
            style.add("SPAN", (start, 0), (end, 0))
        start = end + 1
    t.setStyle(style)
    return t


def _measurements_block(lr: LoopReport, width: float, tz: Any) -> list[Flowable]:
    """"Measurements by hand": the calipers placed on the loop (none: nothing)."""
    if not lr.measurements:
        return []
    rows: list[list[Any]] = [[_t(h, "head_cell") for h in ("Measurement", "Frame", "Value", "Measured by")]]
    rows += [[_t(m.name, "cell"), _t(str(m.frame + 1), "cell"), _t(m.text, "cell_bold"),
              _t(f"{m.user or 'unknown user'}, {_iso(m.time, tz)}", "cell")] for m in lr.measurements]
    t = Table(rows, colWidths=[w * width for w in (0.26, 0.1, 0.18, 0.46)], repeatRows=1, hAlign="LEFT")
    t.setStyle(ps.grid_table_style(1, n_rows=len(rows) - 1))
    calibrated = any(m.unit in ("cm", "cm²", "mL") for m in lr.measurements)
    note = ("Placed by hand on the frame named; cm, cm² and mL from the loop's pixel spacing, volumes by the "
            "method of disks (20 disks) on the traced outline." if calibrated
            else "Placed by hand on the frame named; in pixels: the source gives no pixel spacing.")
    return [Spacer(1, 2.5 * mm), _p("Measurements by hand", "h2"), t, Spacer(1, 1 * mm), _t(note, "small")]


def _loop_section(lr: LoopReport, n: int, count: int, width: float, tz: Any,
                  tail: Sequence[Flowable] = ()) -> list[Flowable]:
    """A loop's flowables; ``tail`` stays on the page of its beat table (the sign-off after the last
    loop: a signature alone on a page could sign anything)."""
    notes = ("Frames numbered from 1; a corrected frame is followed by the model's in brackets."
             if lr.corrected else "Frames numbered from 1.")
    if not lr.calibrated:
        notes += " No volumes: the source gives no pixel spacing, so the LV volumes have no unit."
    return [
        _SectionMark(f"loop {n} of {count}: {lr.name}"),
        KeepTogether([_t(f"Loop {n} of {count}: {lr.name}", "h1"), _facts_block(lr, width, tz)]),
        Spacer(1, 3 * mm),
        KeepTogether(_key_images(lr, width)),
        KeepTogether([_p("Beat-by-beat EF", "h2"), _timeline(lr, width)]),
        KeepTogether([Spacer(1, 1 * mm), _beat_table(lr, width), Spacer(1, 1.2 * mm), _t(notes, "small"),
                      *_measurements_block(lr, width, tz), *tail]),
    ]


# -- page 1 and the end -------------------------------------------------------------------------------


def _missing_block(report: StudyReport, width: float) -> list[Flowable]:
    if not report.missing:
        return []
    rows: list[list[Any]] = [[_t("Loop", "head_cell"), _t("Why it is not in this report", "head_cell")]]
    rows += [[_t(m.name, "cell"), _t(m.reason, "cell")] for m in report.missing]
    t = Table(rows, colWidths=[0.3 * width, 0.7 * width], repeatRows=1, hAlign="LEFT")
    t.setStyle(ps.grid_table_style(1, n_rows=len(rows)))
    return [KeepTogether([_p("Loops not reported", "h2"), t])]


def _signoff_block(report: StudyReport, width: float) -> list[Flowable]:
    reviewers = sorted({r.user for r in report.reviews})
    line = ("Corrections in this report were made by " + ", ".join(reviewers) + "." if reviewers else
            "No loop in this report was corrected: all values are the model's.")
    cells = [["", "", "", "", ""], [_t("Reviewed by", "label"), "", _t("Signature", "label"), "", _t("Date", "label")]]
    gap = 8 * mm
    t = Table(cells, colWidths=[0.36 * width - gap, gap, 0.38 * width - gap, gap, 0.26 * width],
              rowHeights=[9 * mm, None], hAlign="LEFT")
    t.setStyle(TableStyle([("LINEBELOW", (0, 0), (0, 0), 0.6, ps.INK), ("LINEBELOW", (2, 0), (2, 0), 0.6, ps.INK),
                           ("LINEBELOW", (4, 0), (4, 0), 0.6, ps.INK), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                           ("TOPPADDING", (0, 1), (-1, 1), 1.5)]))
    return [Spacer(1, 4 * mm), _t(line, "body"), t]


# -- the document -----------------------------------------------------------------------------------


def _only(report: StudyReport, names: Sequence[str] | None) -> StudyReport:
    if names is None:
        return report
    known = {lr.name: lr for lr in report.loops}
    missing = [n for n in names if n not in known]
    if missing:
        raise ValueError(f"no analysed loop named {', '.join(missing)} in this study")
    return replace(report, loops=[known[n] for n in names], missing=[])


def story(report: StudyReport, width: float) -> list[Flowable]:
    """The report's flowables, first page to last."""
    tz = report.generated.tzinfo
    out: list[Flowable] = [_t(TITLE, "title"),
                           _t(f"Echocardiography report · {report.title} · {len(report.loops)} "
                              f"loop{'s' if len(report.loops) != 1 else ''}", "subtitle")]
    out += _demo_banner(report, width)
    out += _identity_block(report, width)
    out += _summary_block(report, width)
    out += _missing_block(report, width)
    out += _method_block(report)
    out += _weights_block(report, width)
    signoff = _signoff_block(report, width)
    for n, lr in enumerate(report.loops, start=1):
        out.append(PageBreak())
        out += _loop_section(lr, n, len(report.loops), width, tz, signoff if n == len(report.loops) else ())
    if not report.loops:
        out.append(KeepTogether(signoff))
    return out


def pdf_bytes(report: StudyReport, paper: str = "A4", loops: Sequence[str] | None = None) -> bytes:
    """The report as PDF bytes; ``paper`` "A4" or "Letter"; ``loops`` names the loops to include
    (a per-loop report; the study's unreported loops are then left out), all by default."""
    if paper not in ps.PAGE_SIZES:
        raise ValueError(f"paper must be one of {', '.join(ps.PAGE_SIZES)}")
    report = _only(report, loops)
    size = ps.PAGE_SIZES[paper]
    ps.register_fonts()
    buf = io.BytesIO()
    doc = BaseDocTemplate(buf, pagesize=size, leftMargin=ps.MARGIN_X, rightMargin=ps.MARGIN_X,
                          topMargin=ps.MARGIN_TOP, bottomMargin=ps.MARGIN_BOTTOM, title=f"{TITLE} — {report.title}",
                          author=f"EchoViewer {report.app_version}", subject="Echocardiography report",
                          creator=f"EchoViewer {report.app_version}")
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body", leftPadding=0, rightPadding=0,
                  topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPageEnd=_Decor(report, size))])
    doc.build(story(report, doc.width), canvasmaker=_numbered_canvas(size))
    return buf.getvalue()


def write_pdf(report: StudyReport, path: str | Path, paper: str = "A4", loops: Sequence[str] | None = None) -> Path:
    """Write the report (see ``pdf_bytes``) to ``path`` atomically; returns the path."""
    data = pdf_bytes(report, paper, loops)
    path = Path(path)
    atomic_write(path, lambda f: f.write(data))
    return path
