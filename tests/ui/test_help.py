"""Help (issue 21, item 7): the shortcut sheet built from the window's actions, the About box,
full screen, and the README's keyboard and mouse tables checked against the app, both ways."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from echoviewer import DEMO_LABEL, __version__
from echoviewer.ui.help import LICENCES, MOUSE
from tests.ui.conftest import wait_all_analysed
from tests.ui.fakes import FakeLoop

README = Path(__file__).resolve().parents[2] / "README.md"
PORTABLE = QKeySequence.SequenceFormat.PortableText


def readme_tables() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The (first cell, second cell) rows of the two tables in the README's keyboard section."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Keyboard and mouse (review window)", 1)[1].split("\n## ", 1)[0]
    tables, rows = [], []
    for line in section.splitlines() + [""]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            rows.append((cells[0], cells[1]))
        elif rows:
            tables.append(rows[2:])  # header and --- rows off
            rows = []
    keys, mouse = tables
    return keys, mouse


def app_shortcuts(win) -> dict[str, str]:
    """Every shortcut of the window's actions (portable text) -> the action's text."""
    return {s.toString(PORTABLE): a.text() for a in win.act.all for s in a.shortcuts() if not s.isEmpty()}


@pytest.fixture
def win(make_window, study_dir, qtbot):
    w = make_window([FakeLoop(study_dir / "a4c.avi", n_frames=60)])
    assert w.open_study(study_dir)
    wait_all_analysed(qtbot, w)
    return w


def test_every_key_the_readme_names_is_a_shortcut_of_the_app_and_the_other_way_round(win):
    keys, _ = readme_tables()
    named = set()
    for cell, _what in keys:
        tokens = re.findall(r"`([^`]+)`", cell)
        assert tokens, cell
        for t in tokens:
            seq = QKeySequence(t)
            assert not seq.isEmpty() and seq.toString(PORTABLE) == t, f"README key {t!r} is not a key Qt reads"
            named.add(t)
    shortcuts = app_shortcuts(win)
    assert named - set(shortcuts) == set(), "the README names keys the app does not have"
    assert set(shortcuts) - named == set(), "the app has shortcuts the README does not name"
    assert "wheel scrubs" not in README.read_text(encoding="utf-8")  # over the image the wheel zooms


def test_the_readme_mouse_table_is_the_help_one():
    _, mouse = readme_tables()
    assert mouse == list(MOUSE)


def test_help_menu_and_the_shortcut_sheet_lists_every_action_with_a_shortcut(win, qtbot):
    menus = [a.text() for a in win.menuBar().actions()]
    assert menus[-1] == "&Help"
    assert {QKeySequence("F1").toString(PORTABLE), "?"} <= {s.toString(PORTABLE) for s in win.act.shortcuts.shortcuts()}
    qtbot.keyClick(win, Qt.Key.Key_F1)
    sheet = win.help_dialog
    assert sheet is not None and sheet.isVisible() and sheet.windowTitle() == "Keyboard shortcuts"
    text = sheet.text.toPlainText()
    for a in win.act.all:
        for s in a.shortcuts():
            assert s.toString(QKeySequence.SequenceFormat.NativeText) in text, a.text()
    for where, what in MOUSE:
        assert where in text and what in text
    sections = [title for title, _ in sheet.sections]
    assert sections == ["File", "Edit", "View", "Measure", "Help"]  # (Analysis holds no shortcut)
    sheet.close()
    qtbot.waitUntil(lambda: win.help_dialog is None, timeout=2000)
    qtbot.keyClick(win, Qt.Key.Key_Question)  # ? opens it too
    assert win.help_dialog is not None and win.help_dialog.windowTitle() == "Keyboard shortcuts"
    win.help_dialog.close()


def test_a_new_action_appears_in_the_sheet_without_editing_it(win):
    from echoviewer.ui.help import ShortcutSheet

    extra = win.act._add("Frobnicate the ventricle", lambda: None, "Ctrl+Alt+K")
    win.act.wl_menu.addAction(extra)
    sheet = ShortcutSheet(win.menuBar(), win.act.all, win)
    assert "Frobnicate the ventricle" in sheet.text.toPlainText()
    assert QKeySequence("Ctrl+Alt+K").toString(QKeySequence.SequenceFormat.NativeText) in sheet.text.toPlainText()


def test_about_box_says_version_weights_licences_and_the_method(win, qtbot):
    win.act.about.trigger()
    box = win.help_dialog
    assert box is not None and box.windowTitle() == "About EchoViewer"
    text = box.label.text()
    assert f"EchoViewer {__version__}" in text
    a = win.current_entry().analysis
    assert f"sha256 {a.seg_info.sha256[:12]}" in text and DEMO_LABEL in text  # the fake weights are demo ones
    for name, licence, _url in LICENCES:
        assert name.split(" /")[0] in text and licence in text
    assert "LGPLv3" in text and "Ouyang" in text and "Nature" in text and "2020" in text
    box.close()


def test_about_before_any_analysis_names_the_weights_the_settings_pick(make_window, qtbot):
    w = make_window([])
    w.act.about.trigger()
    text = w.help_dialog.label.text()
    assert "demo_segmentation.pt" in text and "demo_ef.pt" in text and DEMO_LABEL in text
    assert re.search(r"sha256 [0-9a-f]{12}", text)
    w.help_dialog.close()


def test_full_screen_toggles_with_f11(win, qtbot):
    assert not win.isFullScreen()
    assert win.act.full_screen in win.act.wl_menu.parent().actions()  # in the View menu
    qtbot.keyClick(win, Qt.Key.Key_F11)
    qtbot.waitUntil(win.isFullScreen, timeout=2000)
    assert win.act.full_screen.isChecked()
    qtbot.keyClick(win, Qt.Key.Key_F11)
    qtbot.waitUntil(lambda: not win.isFullScreen(), timeout=2000)
    assert not win.act.full_screen.isChecked()
