"""Report fixtures: real content built from the demo study with the bundled demo weights.

``demo_study`` (session scope, ~15 s once: the demo study is generated and two loops analysed) is a
``DemoStudy``; ``demo_study_report`` is its ``StudyReport``. What they hold:

- ``report.loops[0]`` "A4C_normal.avi": AVI, no identity and no pixel spacing (volumes in px³, so
  reports give no mL), the model's values, not corrected (no ``Corrections``).
- ``report.loops[1]`` "A4C_dicom.dcm": DICOM (patient "DEMO^PHANTOM", calibrated: volumes in mL),
  corrected by ``REVIEWER``: beat 1's ES moved one frame later, beat 2's ED tracing redrawn
  (the model's outline enlarged by 3 %), beat 3 excluded ("ectopic beat"); 3 audit entries.
- ``report.missing``: "damaged.dcm", a file in the study folder the reader refuses, with its reason.
- ``report.identity`` is the DICOM loop's; ``report.demo`` is True.

Both loops stay open (``LoopReport.loop``) for key images until the session ends. Treat all of it
as read-only: it is shared by every test of the session (copy with ``dataclasses.replace``).
``csv_text`` is the CSV report (``export.report.report_text``) of the same analyses and corrections.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

REVIEWER = "Dr. R. Viewer"
AVI, DICOM, DAMAGED = "A4C_normal.avi", "A4C_dicom.dcm", "damaged.dcm"


@dataclass
class DemoStudy:
    folder: Path
    report: object  # reports.content.StudyReport
    analyses: dict  # name -> pipeline.results.LoopAnalysis
    corrections: dict  # name -> annotations.model.Corrections (the corrected loop only)
    csv_text: str


def _correct(analysis):
    from echoviewer.analysis.tracing import mask_contour
    from echoviewer.annotations.model import Corrections

    c = Corrections(analysis, user=REVIEWER)
    b1, b2 = analysis.beats[0], analysis.beats[1]
    c.set_frame(b1.number, "es", b1.es_frame + 1)
    # the reviewer traces the endocardium a little outside the model's (3 %: EF about 4 points higher)
    contour = mask_contour(analysis.masks[b2.ed_frame])
    centre = contour.mean(axis=0)
    apex = centre + (b2.ed_tracing.axis[:2] - centre) * 1.03
    c.set_tracing(b2.number, "ed", centre + (contour - centre) * 1.03, apex, b2.ed_tracing.axis[2:])
    c.exclude(analysis.beats[2].number, "ectopic beat")
    return c


@pytest.fixture(scope="session")
def demo_study(tmp_path_factory):
    from echoviewer.errors import one_line
    from echoviewer.export.report import report_text
    from echoviewer.io import LoopError, open_loop
    from echoviewer.pipeline.analyzer import Analyzer
    from echoviewer.pipeline.results import AnalysisSettings
    from echoviewer.reports.content import MissingLoop, loop_report, study_report
    from echoviewer.synthetic.demo import ensure_demo_study

    home = tmp_path_factory.mktemp("reports_home")
    with pytest.MonkeyPatch.context() as mp:  # nothing of this session-wide build lands in the user's folder
        mp.setenv("ECHOVIEWER_HOME", str(home))
        folder = ensure_demo_study(tmp_path_factory.mktemp("demo") / "study")
        (folder / DAMAGED).write_bytes(b"\0" * 200 + b"not an echo")
        analyzer = Analyzer(AnalysisSettings(), use_cache=False)
        loops, analyses, missing = {}, {}, []
        for name in (AVI, DICOM, DAMAGED):
            try:
                loops[name] = open_loop(folder / name)
            except LoopError as e:
                missing.append(MissingLoop(name, one_line(e.problem)))
                continue
            analyses[name] = analyzer.analyze(loops[name])
    corrections = {DICOM: _correct(analyses[DICOM])}
    reports = [loop_report(name, analyses[name], corrections.get(name), loops[name]) for name in (AVI, DICOM)]
    report = study_report(folder.name, reports, missing, generated=datetime.now(UTC))
    csv_text = report_text([analyses[AVI], analyses[DICOM]], {analyses[DICOM].path: corrections[DICOM]})
    yield DemoStudy(folder, report, analyses, corrections, csv_text)
    for loop in loops.values():
        loop.close()


@pytest.fixture(scope="session")
def demo_study_report(demo_study):
    """The demo ``StudyReport`` (see this module's docstring)."""
    return demo_study.report
