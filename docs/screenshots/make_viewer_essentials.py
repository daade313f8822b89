"""Render the screenshots of issue 21's window items from the demo study, analysed by the real
pipeline with the bundled demo weights:

  identity.png       the DICOM loop on screen: patient identity in the study heading (and title)
  window_level.png   the same loop brightened by window/level, with the image's right-click menu
  shortcuts.png      Help → Keyboard shortcuts
  frame_export.png   File → Save frame as PNG: the frame with its caption band

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots/make_viewer_essentials.py [OUT_DIR]

(under Xvfb the right-click menu, a window of its own, is in the picture; offscreen it is not).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main(out: Path) -> int:
    from PySide6.QtCore import QEventLoop, QPoint, QTimer
    from PySide6.QtWidgets import QApplication

    tmp = Path(tempfile.mkdtemp(prefix="echoviewer-shot-"))
    os.environ["ECHOVIEWER_HOME"] = str(tmp / "home")
    os.environ["XDG_CONFIG_HOME"] = str(tmp / "config")  # a fresh QSettings: default window layout
    from echoviewer.synthetic.demo import ensure_demo_study
    from echoviewer.ui.main_window import MainWindow
    from echoviewer.ui.settings import open_qsettings
    from echoviewer.ui.theme import apply_theme
    from echoviewer.ui.window_level import PRESETS

    study = ensure_demo_study(tmp / "demo-study")
    app = QApplication([sys.argv[0]])
    app.setApplicationDisplayName("EchoViewer")
    apply_theme(app)
    win = MainWindow(qsettings=open_qsettings(tmp / "settings.ini"))
    win.resize(1500, 920)
    win.move(0, 0)
    win.show()
    out.mkdir(parents=True, exist_ok=True)

    def wait(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    dicom = study / "A4C_dicom.dcm"
    win.open_study(str(dicom))
    for _ in range(1200):  # the first analysis: a few seconds to a minute on a busy CPU
        e = win.current_entry()
        if e is not None and e.analysis is not None and win.timeline.analysis is not None:
            break
        wait(100)
    else:
        print("timed out waiting for the analysis", file=sys.stderr)
        return 1
    e = win.current_entry()
    beat = e.analysis.beats[1] if len(e.analysis.beats) > 1 else e.analysis.beats[0]
    win.seek(beat.es_frame)
    wait(600)
    print("title:", win.windowTitle(), "| heading:", win.study_title.text().replace("\n", " / "))
    win.grab().save(str(out / "identity.png"))

    win.player.set_window_level(dict(PRESETS)["Much brighter"])
    wait(300)
    vp = win.player.view.viewport()
    at = vp.mapToGlobal(QPoint(vp.width() // 2 + 60, vp.height() // 2 - 40))
    win.act.popup_image_menu(at)
    wait(500)
    screen = app.primaryScreen()
    shot = screen.grabWindow(0, 0, 0, win.frameGeometry().width(), win.frameGeometry().height())
    shot.save(str(out / "window_level.png"))
    win.act.image_menu.close()

    win.exports.save_frame_png(str(out / "frame_export.png"))
    win.show_shortcuts()
    wait(500)
    win.help_dialog.resize(1000, 700)
    wait(300)
    win.help_dialog.grab().save(str(out / "shortcuts.png"))
    win.help_dialog.close()
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent))
