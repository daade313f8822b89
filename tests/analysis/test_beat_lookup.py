"""Where a frame stands among a loop's beats: heart phase, [ / ] markers, its beat, a new beat's ES."""

from types import SimpleNamespace as B

import numpy as np

from echoviewer.analysis.beat_lookup import active_beat, beat_frames, es_after, heart_phase, next_marker


def test_heart_phase():
    ed, es = [0, 40], [20, 60]
    got = {f: heart_phase(f, ed, es) for f in (0, 10, 20, 30, 40, 50, 60, 70)}
    assert got == {0: "ED", 10: "systole", 20: "ES", 30: "diastole", 40: "ED", 50: "systole", 60: "ES",
                   70: "diastole"}
    # before the first marker: the phase that leads into it
    assert heart_phase(5, [30], [10]) == "systole"
    assert heart_phase(5, [10], [30]) == "diastole"
    assert heart_phase(5, [], []) == ""


def test_markers():
    assert next_marker(5, [0, 10, 20], +1) == 10
    assert next_marker(10, [0, 10, 20], +1) == 20
    assert next_marker(20, [0, 10, 20], +1) is None
    assert next_marker(10, [0, 10, 20], -1) == 0
    assert next_marker(0, [0, 10, 20], -1) is None
    assert beat_frames([B(ed_frame=40, es_frame=60), B(ed_frame=0, es_frame=20), B(ed_frame=20, es_frame=30)]) \
        == [0, 20, 30, 40, 60]


def test_active_beat_and_es_after():
    beats = [B(ed_frame=0, es_frame=20), B(ed_frame=40, es_frame=60)]
    assert active_beat(beats, 10) is beats[0] and active_beat(beats, 25) is beats[0]
    assert active_beat(beats, 30) is beats[1] and active_beat(beats, 70) is beats[1]
    assert active_beat(beats, 30.0) is beats[1] and active_beat([], 3) is None
    areas = 100 + 20 * np.cos(2 * np.pi * np.arange(120) / 40)
    assert es_after(areas, 40, 50.0) == 60
    assert es_after(areas, 119, 50.0) is None
    assert es_after(np.full(120, np.nan), 40, 30.0) == 50  # no areas known yet: a third of a second later
