"""Render docs/screenshots/caliper.png (issue 21, item 5): the demo study's DICOM loop (calibrated)
on an ED frame with an LV trace measured by the method of disks and a distance caliper across the
mitral annulus, both placed through the caliper controller as the mouse would, and the summary
panel's list of measurements.

    QT_QPA_PLATFORM=offscreen python docs/screenshots/make_caliper.py [OUT_DIR]
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main(out: Path) -> int:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    tmp = Path(tempfile.mkdtemp(prefix="echoviewer-shot-"))
    os.environ["ECHOVIEWER_HOME"] = str(tmp / "home")
    os.environ["XDG_CONFIG_HOME"] = str(tmp / "config")
    from echoviewer.synthetic.demo import ensure_demo_study
    from echoviewer.ui.main_window import MainWindow
    from echoviewer.ui.settings import open_qsettings
    from echoviewer.ui.theme import apply_theme

    study = ensure_demo_study(tmp / "demo-study")
    app = QApplication([sys.argv[0]])
    app.setApplicationDisplayName("EchoViewer")
    apply_theme(app)
    win = MainWindow(qsettings=open_qsettings(tmp / "settings.ini"))
    win.resize(1500, 920)
    win.show()

    def wait(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    win.open_study(str(study / "A4C_dicom.dcm"))
    for _ in range(1200):
        e = win.current_entry()
        if e is not None and e.corrections is not None and win.timeline.analysis is not None:
            break
        wait(100)
    else:
        print("timed out waiting for the analysis", file=sys.stderr)
        return 1
    e = win.current_entry()
    beat = e.analysis.beats[1] if len(e.analysis.beats) > 1 else e.analysis.beats[0]
    win.seek(beat.ed_frame)
    wait(400)
    # the model's ED tracing, clicked as a sonographer traces: left hinge, round the apex, right hinge
    tr = beat.ed_tracing
    c = tr.chords
    apex = tr.axis[:2]
    grid = np.vstack([c[::-2, :2], apex[None, :], c[1::2, 2:4]])
    native = e.loop.transform.to_native_points(grid) + 0.5  # view coordinates
    cal = win.calipers
    cal.start("volume")
    for p in native:
        cal.layer.add_point(p)
    cal.finish()
    cal.start("distance")
    cal.layer.add_point(native[0])
    cal.layer.add_point(native[-1])
    wait(400)
    print("labels:", cal.layer.labels(), "| list:", cal.list.texts())
    out.mkdir(parents=True, exist_ok=True)
    win.grab().save(str(out / "caliper.png"))
    win.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"))
