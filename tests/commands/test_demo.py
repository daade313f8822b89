"""`echoviewer demo`: the dispatcher hands it the window (commands never import ui)."""

from __future__ import annotations

from pathlib import Path

from echoviewer import cli
from echoviewer.commands import demo


def _fake_demo(monkeypatch, tmp_path, display: bool) -> list:
    calls = []
    monkeypatch.setattr("echoviewer.synthetic.demo.ensure_demo_study", lambda: tmp_path)
    monkeypatch.setattr("echoviewer.commands.analyze.run", lambda args: calls.append(("analyze", args.path)) or 0)
    monkeypatch.setattr(demo, "has_display", lambda: display)
    return calls


def test_demo_ends_in_the_window_the_dispatcher_gives_it(monkeypatch, tmp_path):
    calls = _fake_demo(monkeypatch, tmp_path, display=True)
    monkeypatch.setitem(cli.WIRING, "demo", {"open_window": lambda path: calls.append(("window", path)) or 7})
    assert cli.main(["demo"]) == 7
    assert calls == [("analyze", str(tmp_path)), ("window", str(tmp_path))]


def test_demo_without_a_display_or_with_no_gui_stops_after_the_report(monkeypatch, tmp_path, capsys):
    calls = _fake_demo(monkeypatch, tmp_path, display=False)
    monkeypatch.setitem(cli.WIRING, "demo", {"open_window": lambda path: calls.append(("window", path)) or 7})
    assert cli.main(["demo"]) == 0
    assert "no display: skipping the review window" in capsys.readouterr().err
    monkeypatch.setattr(demo, "has_display", lambda: True)
    assert cli.main(["demo", "--no-gui"]) == 0
    assert ("window", str(tmp_path)) not in calls


def test_the_window_opener_gives_the_gui_command_all_its_defaults(monkeypatch, tmp_path):
    """The demo once built the gui's arguments by hand and missed --analyzer-factory."""
    import echoviewer.ui.cli as gui

    seen = []
    monkeypatch.setattr(gui, "run", lambda args: seen.append(args) or 0)
    assert cli.open_window(str(tmp_path)) == 0
    (args,) = seen
    assert Path(args.path) == tmp_path and args.screenshot is None and args.analyzer_factory is None
    assert args.device is None and args.seg_weights is None and args.ef_weights is None
