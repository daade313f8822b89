"""`echoviewer gui [PATH]`: the review window (and a headless screenshot mode for CI and docs)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

SCREENSHOT_TIMEOUT_S = 600.0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "gui",
        help="open the review window",
        description="Open the review window, optionally on a study folder (or one loop file).",
    )
    p.add_argument("path", nargs="?", help="study folder or loop file to open")
    p.add_argument("--screenshot", metavar="FILE.png",
                   help="open PATH, wait until the first loop is analysed and drawn, save the window as PNG, exit")
    p.add_argument("--timeout", type=float, default=SCREENSHOT_TIMEOUT_S, help=argparse.SUPPRESS)
    # MODULE:CALLABLE returning an object with Analyzer.analyze's signature (tests, benchmarks)
    p.add_argument("--analyzer-factory", metavar="MODULE:CALLABLE", help=argparse.SUPPRESS)
    p.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], help="analysis device (this session)")
    p.add_argument("--seg-weights", metavar="F", help="segmentation weights file (this session)")
    p.add_argument("--ef-weights", metavar="F", help="EF weights file (this session)")
    # benchmarks: the launcher's time.time(); prints the seconds to the window's first paint and
    # to the first LV overlay of PATH's first loop, then quits
    p.add_argument("--startup-trace", type=float, metavar="EPOCH", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def _fail(msg: str) -> int:
    print(f"echoviewer gui: {msg}", file=sys.stderr)
    return 1


def run(args) -> int:
    # This process never imports torch: the analysis runs in its own process (pipeline.service), so
    # the window shows without paying torch's 2-4 s import, and torch's DLLs never meet Qt's (on
    # Windows they clash when Qt's load first).
    from echoviewer.ui.settings import APPLICATION, ORGANISATION

    if args.screenshot and not args.path:
        return _fail("--screenshot needs a PATH to open")
    if args.path and not Path(args.path).expanduser().exists():
        return _fail(f"no such file or folder: {args.path}")
    for flag, f in (("--seg-weights", args.seg_weights), ("--ef-weights", args.ef_weights)):
        if f and not Path(f).expanduser().is_file():
            return _fail(f"{flag}: no such file: {f}")

    overrides = {
        "device": args.device,
        "seg_weights": str(Path(args.seg_weights).expanduser().resolve()) if args.seg_weights else None,
        "ef_weights": str(Path(args.ef_weights).expanduser().resolve()) if args.ef_weights else None,
    }
    from echoviewer import applog

    # the log file and the crash trace first: the analysis process started next writes its crashes there too
    applog.setup()
    sys.excepthook = applog.log_uncaught
    factory = None
    if args.analyzer_factory:
        try:
            factory = _load_factory(args.analyzer_factory)
        except (ImportError, AttributeError, ValueError) as exc:
            return _fail(f"--analyzer-factory: {exc}")
    else:
        _prestart_analysis(overrides)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from echoviewer.ui.main_window import MainWindow
    from echoviewer.ui.theme import apply_theme

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("EchoViewer")
    apply_theme(app)
    win = MainWindow(analyzer_factory=factory, overrides=overrides)
    if args.screenshot:
        return _screenshot(app, win, args.path, Path(args.screenshot), args.timeout)
    if args.startup_trace is not None:
        _trace_startup(app, win, args.startup_trace, args.timeout)
    win.show()
    if args.path:
        QTimer.singleShot(0, lambda: win.open_study(args.path))
    rc = app.exec()
    win.shutdown()
    return int(rc)


def _prestart_analysis(overrides: dict) -> None:
    """The analysis process starts first (it needs seconds to import torch and load the models);
    the window is built meanwhile and adopts it."""
    from echoviewer.ui.settings import UiSettings, open_qsettings
    from echoviewer.ui.worker import prestart

    settings = UiSettings.effective(open_qsettings(), overrides)
    prestart(settings.analysis_settings(), threads=int(settings.torch_threads or 0))


def _trace_startup(app, win, launched: float, timeout_s: float) -> None:
    """Report when the window first painted and when the first LV overlay was on screen, then quit."""
    import time

    from PySide6.QtCore import QEvent, QObject, QTimer

    marks: dict[str, float] = {}

    class FirstPaint(QObject):
        def eventFilter(self, obj, event) -> bool:
            if event.type() == QEvent.Type.Paint and "window" not in marks:
                marks["window"] = time.time() - launched
            return False

    painted = FirstPaint(win)
    win.installEventFilter(painted)
    poll = QTimer(win)
    poll.setInterval(5)

    def check() -> None:
        elapsed = time.time() - launched
        if win.player.native_mask() is not None and win.player.overlay.isVisible():
            marks["overlay"] = elapsed
        elif elapsed < timeout_s:
            return
        poll.stop()
        print(f"STARTUP window {marks.get('window', float('nan')):.3f} s "
              f"first-overlay {marks.get('overlay', float('nan')):.3f} s "
              f"torch-in-window {'torch' in sys.modules}", file=sys.stderr, flush=True)
        app.quit()

    poll.timeout.connect(check)
    poll.start()


def _load_factory(spec: str):
    import importlib

    module, sep, name = spec.partition(":")
    if not sep or not module or not name:
        raise ValueError(f"expected MODULE:CALLABLE, got {spec!r}")
    return getattr(importlib.import_module(module), name)


def _screenshot(app, win, path: str, out: Path, timeout_s: float) -> int:
    from PySide6.QtCore import QEventLoop, QTimer

    from echoviewer.session import LoopState

    state = {"rc": None, "msg": ""}
    loop = QEventLoop()

    def finish(rc: int, msg: str = "") -> None:
        if state["rc"] is None:
            state["rc"], state["msg"] = rc, msg
            loop.quit()

    def shown(key: str) -> None:
        if key == first.get("key"):
            # let the timeline and labels paint before grabbing
            QTimer.singleShot(300, grab)

    def grab() -> None:
        app.processEvents()
        out.parent.mkdir(parents=True, exist_ok=True)
        ok = win.grab().save(str(out), "PNG")
        finish(0 if ok else 1, "" if ok else f"could not write {out}")

    def failed(key: str, message: str) -> None:
        if key == first.get("key"):
            finish(1, f"analysis of {Path(key).name} failed: {message}")

    first: dict = {}
    win.analysisShown.connect(shown)
    win.analysisFailed.connect(failed)
    win.resize(1400, 900)
    win.show()
    app.processEvents()
    if not win.open_study(path):
        win.shutdown()
        return _fail(win.status_label.text() or f"could not open {path}")
    first["key"] = win.current_key
    if first["key"] is None:
        win.shutdown()
        return _fail(f"no readable loops in {path}")
    e = win.current_entry()
    if e is not None and e.analysis is not None:  # already shown
        QTimer.singleShot(300, grab)
    elif e is not None and e.state == LoopState.FAILED:
        finish(1, f"analysis of {e.name} failed: {e.message}")
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(lambda: finish(1, f"timed out after {timeout_s:g} s waiting for the analysis"))
    timer.start(int(timeout_s * 1000))
    if state["rc"] is None:
        loop.exec()
    timer.stop()
    win.shutdown()
    if state["rc"]:
        return _fail(state["msg"])
    print(str(out))
    return 0
