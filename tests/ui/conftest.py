"""Fixtures for the review-window tests: an isolated QSettings file, fakes, a window factory."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session", autouse=True)
def _themed(qapp):
    from echoviewer.ui.theme import apply_theme

    apply_theme(qapp)
    return qapp


@pytest.fixture
def qsettings(tmp_path):
    from echoviewer.ui.settings import open_qsettings

    return open_qsettings(tmp_path / "settings.ini")


@pytest.fixture
def study_dir(tmp_path):
    d = tmp_path / "study"
    d.mkdir()
    return d


@pytest.fixture
def make_window(qtbot, qsettings):
    """make_window(loops, errors=(), factory=None) -> MainWindow (not yet showing a study)."""
    from echoviewer.ui.main_window import MainWindow
    from tests.ui.fakes import FakeAnalyzer, fake_scan_factory

    made = []

    def make(loops=(), errors=(), factory=None, scan=None, **kw):
        win = MainWindow(
            analyzer_factory=factory or (lambda s: FakeAnalyzer(s)),
            qsettings=qsettings,
            scan=scan or fake_scan_factory(list(loops), list(errors)),
            reopen=None,
            **kw,
        )
        qtbot.addWidget(win)
        win.show()
        made.append(win)
        return win

    yield make
    for w in made:
        w.shutdown()


def wait_all_analysed(qtbot, win, timeout=10000):
    from echoviewer.session import LoopState

    qtbot.waitUntil(
        lambda: win.entries and all(e.state in (LoopState.DONE, LoopState.FAILED, LoopState.UNREADABLE)
                                    for e in win.entries.values()),
        timeout=timeout,
    )
