import csv
import subprocess
import sys

from echoviewer.export.report import COLUMNS
from echoviewer.io.echonet_video import write_echonet_video


def _run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "echoviewer", *args], capture_output=True, text=True,
                          timeout=600, env=env)


def test_analyze_folder_writes_report_and_size_csv(tmp_path, random_weights, phantom, monkeypatch):
    seg, ef = random_weights
    study = tmp_path / "study"
    study.mkdir()
    write_echonet_video(study / "a.avi", phantom.frames, phantom.fps)
    write_echonet_video(study / "b.avi", phantom.frames[:90], phantom.fps)
    (study / "broken.avi").write_bytes(b"RIFF\x00\x00not really an avi")
    out, size = tmp_path / "r.csv", tmp_path / "size.csv"
    r = _run("analyze", str(study), "--out", str(out), "--seg-weights", seg, "--ef-weights", ef,
             "--size-csv", str(size), "--device", "cpu")
    assert r.returncode == 0, r.stderr
    assert "broken.avi" in r.stderr and "Traceback" not in r.stderr
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0].keys()) == COLUMNS
    files = {row["file"] for row in rows}
    assert {p.endswith(("a.avi", "b.avi")) for p in files} == {True} and len(files) == 2
    for f in files:
        mine = [row for row in rows if row["file"] == f]
        assert mine[-1]["beat"] == "mean"  # one summary row per loop, after its beats
        assert [row["beat"] for row in mine[:-1]] == [str(i) for i in range(1, len(mine))]
        assert all(row["seg_weights_sha256"] and row["ef_weights_sha256"] for row in mine)
        assert all(row["volume_unit"] in ("mL", "px3") for row in mine)
    sizes = list(csv.reader(size.open()))
    assert sizes[0] == ["Filename", "Frame", "Size", "HumanLarge", "HumanSmall", "ComputerSmall"]
    assert len(sizes) - 1 == len(phantom.frames) + 90


def test_analyze_nothing_readable_exits_2(tmp_path):
    (tmp_path / "x.dcm").write_bytes(b"\x00" * 10)
    r = _run("analyze", str(tmp_path))
    assert r.returncode == 2 and "no readable loops" in r.stderr and "Traceback" not in r.stderr
    r = _run("analyze", str(tmp_path / "missing"))
    assert r.returncode == 2 and "no such file" in r.stderr


def test_analyze_refuses_non_finite_or_non_positive_normalisation(tmp_path):
    """The window's Settings refuse NaN and s.d. <= 0; the CLI refuses the same, in one line."""
    for mean, std, why in (("nan", "50", "not a finite number"), ("30", "0", "must be positive"),
                           ("30,30", "50", "give one number or three")):
        r = _run("analyze", str(tmp_path), "--mean", mean, "--std", std)
        assert r.returncode == 2 and why in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_analyze_wrong_weights_file_is_a_clear_error(tmp_path, random_weights, phantom):
    seg, ef = random_weights
    write_echonet_video(tmp_path / "a.avi", phantom.frames, phantom.fps)
    r = _run("analyze", str(tmp_path), "--seg-weights", ef, "--ef-weights", ef)
    assert r.returncode == 2
    assert "EF weights, but segmentation weights were asked for" in r.stderr.replace("ejection fraction", "EF")
    assert "Traceback" not in r.stderr


def test_analyze_segments_fewer_frames_for_the_same_beats_unless_every_frame_is_wanted(tmp_path, phantom):
    """Demo weights: the default run segments only the frames the beats are read from; its report
    equals --all-frames' row for row; per-frame outputs segment every frame."""
    write_echonet_video(tmp_path / "a.avi", phantom.frames, phantom.fps)
    reports = {}
    for extra in ((), ("--all-frames",), ("--size-csv", str(tmp_path / "size.csv"))):
        out = tmp_path / f"r{len(reports)}.csv"
        r = _run("analyze", str(tmp_path / "a.avi"), "--out", str(out), "--no-cache", "--device", "cpu", *extra)
        assert r.returncode == 0, r.stderr
        reports[extra[:1]] = (list(csv.DictReader(out.open())), r.stderr)
    rows, err = reports[()]
    assert "frames segmented" in err and len(rows) >= 3
    done, total = (int(v) for v in err.split(" frames segmented")[0].rsplit(", ", 1)[1].split("/"))
    assert total == len(phantom.frames) and done < 0.9 * total
    timing = {"seconds"}  # the only column allowed to differ
    strip = [{k: v for k, v in row.items() if k not in timing} for row in rows]
    for extra in (("--all-frames",), ("--size-csv",)):
        other, err = reports[extra]
        assert "frames segmented" not in err
        assert strip == [{k: v for k, v in row.items() if k not in timing} for row in other]
    sizes = list(csv.reader((tmp_path / "size.csv").open()))[1:]
    assert len(sizes) == len(phantom.frames) and all(int(s[2]) > 0 for s in sizes)
