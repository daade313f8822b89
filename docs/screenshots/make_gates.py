"""Render docs/screenshots/gates.png: a mixed study (every kind of echoviewer/synthetic/kinds.py)
analysed by the real pipeline with the bundled demo weights, the study list grouped by the gates'
decision, a not-analysable loop on screen (it plays; no EF).

    QT_QPA_PLATFORM=offscreen python docs/screenshots/make_gates.py [OUT.png]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(out: Path) -> int:
    from PySide6.QtWidgets import QApplication

    from echoviewer.session import LoopState
    from echoviewer.synthetic.kinds import KINDS, write_kind
    from echoviewer.ui.main_window import MainWindow
    from echoviewer.ui.settings import open_qsettings
    from echoviewer.ui.theme import apply_theme

    tmp = Path(tempfile.mkdtemp(prefix="echoviewer-gates-"))
    os.environ["ECHOVIEWER_HOME"] = str(tmp / "home")
    study = tmp / "study"
    for kind in KINDS:
        write_kind(study, kind, seed=2, name=f"{kind}.dcm")

    app = QApplication.instance() or QApplication([sys.argv[0]])
    apply_theme(app)
    win = MainWindow(qsettings=open_qsettings(tmp / "settings.ini"), overrides={"device": "cpu"}, reopen=None)
    win.resize(1400, 900)
    win.show()
    win.open_study(study)
    t0 = time.time()
    while not win.entries or any(e.state not in (LoopState.DONE, LoopState.FAILED, LoopState.UNREADABLE)
                                 for e in win.entries.values()):
        app.processEvents()
        time.sleep(0.02)
        if time.time() - t0 > 300:
            print("analysis did not finish", file=sys.stderr)
            return 1
    win.select_loop(str(study / "colour_flow.dcm"))
    win.player.seek(40)
    for _ in range(20):
        app.processEvents()
        time.sleep(0.02)
    out.parent.mkdir(parents=True, exist_ok=True)
    ok = win.grab().save(str(out), "PNG")
    win.shutdown()
    print(out if ok else f"could not write {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots" / "gates.png"))
