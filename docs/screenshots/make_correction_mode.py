"""Render docs/screenshots/correction_mode.png: the review window in correction mode on an ES frame.

A native 800x600 phantom loop (echoviewer.synthetic) is "analysed" by a truth-mask stand-in (the
phantom's own LV masks and beats, like the fake analyzer of tests/ui), so the picture shows the
editor on a realistic A4C image without trained weights. One ES tracing point has been dragged and
released (the beat is marked ✎ corrected), and a second drag is in progress, so the live EF / EDV /
ESV of the beat show in the summary panel.

    QT_QPA_PLATFORM=offscreen python docs/screenshots/make_correction_mode.py [OUT.png]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def truth_analysis(loop, ph, settings):
    import numpy as np

    from echoviewer.analysis.tracing import ef_from_volumes, tracing_from_mask
    from echoviewer.pipeline.results import Beat, LoopAnalysis
    from tests.ui.fakes import INFO

    t = ph.truth
    masks = t.masks.astype(bool)
    cm = loop.transform.grid_cm_per_pixel(loop.cm_per_pixel)
    beats = []
    es_all = sorted(int(f) for f in t.es_frames)
    for ed in sorted(int(f) for f in t.ed_frames):
        es = next((f for f in es_all if f > ed), None)
        if es is None:
            continue
        edv = tracing_from_mask(masks[ed]).volume(cm)
        esv = tracing_from_mask(masks[es]).volume(cm)
        ef = ef_from_volumes(edv, esv)
        beats.append(Beat(number=len(beats) + 1, ed_frame=ed, es_frame=es, ef_model=float(ef) + 1.5, ef_seg=float(ef),
                          edv=edv, esv=esv, clip_start=max(es - 32, 0), clip_mode="full"))
    efs = [b.ef_model for b in beats]
    return LoopAnalysis(
        path=str(loop.path), n_frames=loop.n_frames, fps=float(loop.fps), cm_per_pixel_grid=cm,
        areas=masks.reshape(len(masks), -1).sum(1), masks=masks, beats=beats,
        ef_mean=float(np.mean(efs)), ef_sd=float(np.std(efs, ddof=1)) if len(efs) > 1 else None,
        ef_seg_mean=float(np.mean([b.ef_seg for b in beats])),
        edv_mean=float(np.mean([b.edv for b in beats])), esv_mean=float(np.mean([b.esv for b in beats])),
        volume_unit="mL", hr_bpm=float(t.hr), flags=["demo weights"], seg_info=INFO, ef_info=INFO,
        settings=settings, device="cpu",
    )


def main(out: Path) -> int:
    import numpy as np
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from echoviewer.io.loop import Loop
    from echoviewer.synthetic.phantom import generate_phantom
    from echoviewer.ui.main_window import MainWindow
    from echoviewer.ui.settings import open_qsettings
    from echoviewer.ui.theme import apply_theme

    tmp = Path(tempfile.mkdtemp(prefix="echoviewer-shot-"))
    os.environ["ECHOVIEWER_HOME"] = str(tmp / "home")
    study = tmp / "study"
    study.mkdir()
    ph = generate_phantom(11, size="native", frames=110, hr=70, fps=50, ef=52, ef_sd=0, keep_native=True)
    loop = Loop.from_frames(ph.native_frames, fps=ph.fps, cm_per_pixel=ph.native_cm_per_pixel, region=ph.region,
                            path=study / "a4c_phantom.avi")

    class TruthAnalyzer:
        def __init__(self, settings):
            self.settings = settings

        def analyze(self, lp, progress=None, cancel=None, priority_frame=None):
            return truth_analysis(lp, ph, self.settings)

    app = QApplication.instance() or QApplication([sys.argv[0]])
    apply_theme(app)
    win = MainWindow(analyzer_factory=TruthAnalyzer, qsettings=open_qsettings(tmp / "settings.ini"),
                     scan=lambda folder: SimpleNamespace(loops=[loop], errors=[]), reopen=None)
    win.resize(1400, 900)
    win.show()
    win.open_study(study)
    t0 = time.time()
    while win.current_entry() is None or win.current_entry().corrections is None:
        app.processEvents()
        time.sleep(0.01)
        if time.time() - t0 > 60:
            print("analysis did not finish", file=sys.stderr)
            return 1
    QTest.keyClick(win, Qt.Key.Key_E)
    c = win.current_entry().corrections
    beat = c.values()[1] if len(c.values()) > 1 else c.values()[0]
    win.player.seek(beat.es_frame)
    app.processEvents()
    ed, view = win.player.editor, win.player.view
    vp = view.viewport()

    def drag(i, dx, dy, release=True):
        start = view.mapFromScene(ed.scene_pos_of(("point", i)))
        QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
        for k in range(1, 5):
            QTest.qWait(15)
            QTest.mouseMove(vp, start + QPoint(int(dx * k / 4), int(dy * k / 4)))
        if release:
            QTest.qWait(15)
            QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                               start + QPoint(dx, dy))

    lateral = int(np.argmax(ed.points[:, 0]))
    drag(lateral, 9, 0)  # committed: beat marked corrected
    septal = int(np.argmin(ed.points[:, 0]))
    drag(septal, -7, 2, release=False)  # in progress: live values
    QTest.qWait(300)
    app.processEvents()
    out.parent.mkdir(parents=True, exist_ok=True)
    ok = win.grab().save(str(out), "PNG")
    QTest.keyClick(win, Qt.Key.Key_Escape)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton)
    win.shutdown()
    print(out if ok else f"could not write {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots" / "correction_mode.png"))
