"""run_evaluation end to end on phantoms, whose labels are exact: the files agree with each other,
with FileList.csv and with the truth."""

import csv
import json
import math
import re
import shutil
import sys

import numpy as np
import pytest

from echoviewer.dataset.echonet import read_filelist
from echoviewer.evaluation import Cancelled, run_evaluation
from echoviewer.evaluation.outputs import BEATS_HEADER, PREDICTIONS_HEADER
from echoviewer.evaluation.records import LoopRecord, MaskCounts
from echoviewer.evaluation.summary import Bootstrap, paired
from echoviewer.pipeline.results import AnalysisSettings


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_metrics_json_holds_the_headline_numbers_with_intervals(evaluation):
    res, _ = evaluation
    m = json.loads(res.metrics_path.read_text())
    assert m["n_loops"] == 6
    for key in ("dice", "ef_mae", "ef_rmse", "ef_r2", "ef_bias", "hfref_auc"):
        lo, hi = m[f"{key}_ci"]
        assert lo <= m[key] <= hi, key
    # the demo weights on phantoms like their training data: the paper's figures or better
    assert m["dice"] > 0.9 and m["ef_mae"] < 5 and m["hfref_auc"] > 0.9
    assert m["weights"]["segmentation"]["sha256"] and m["weights"]["ef"]["demo"] is True
    assert m["dataset"]["split"] == "ALL" and m["dataset"]["listed"] == 6 and not m["dataset"]["failed"]
    t = m["phantom_truth"]
    assert t["loops"] == 6 and t["beats_found"] >= t["beats_total"] - 1
    assert m["speed"]["seconds_per_loop"]["value"] > 0 and m["robustness"] is None


def test_predictions_and_filelist_give_back_the_mae(evaluation, phantom_folder):
    res, _ = evaluation
    m = json.loads(res.metrics_path.read_text())
    rows = _rows(res.predictions_path)
    assert list(rows[0]) == PREDICTIONS_HEADER and len(rows) == 6
    labels = {r.file_name: r.ef for r in read_filelist(phantom_folder / "FileList.csv")}
    pred = np.array([float(r["ef_pred"]) for r in rows])
    true = np.array([labels[r["FileName"]] for r in rows])
    assert [float(r["ef_true"]) for r in rows] == pytest.approx(true, abs=1e-4)
    assert np.abs(pred - true).mean() == pytest.approx(m["ef_mae"], abs=1e-3)
    assert (pred - true).mean() == pytest.approx(m["ef_bias"], abs=1e-3)
    # the per-loop EF is the mean of the used beats of beats.csv
    beats = _rows(res.beats_path)
    assert list(beats[0]) == BEATS_HEADER
    for r in rows:
        mine = [float(b["ef_model"]) for b in beats if b["FileName"] == r["FileName"] and b["included"] == "1"]
        assert int(r["beats"]) == len(mine) and float(r["ef_pred"]) == pytest.approx(np.mean(mine), abs=1e-3)
    # pooled Dice lies between the loops' ED and ES Dice
    d = [float(r[k]) for r in rows for k in ("dice_ed", "dice_es")]
    assert min(d) <= m["dice"] <= max(d)


def test_comparison_with_untrained_weights_is_paired_and_worse(evaluation):
    res, _ = evaluation
    m = json.loads(res.metrics_path.read_text())
    c = m["compare"]
    assert c["weights"]["ef"]["sha256"] != m["weights"]["ef"]["sha256"]
    dice = c["paired"]["figures"]["dice"]
    assert dice["a"]["value"] == pytest.approx(m["dice"])
    assert dice["difference"]["value"] == pytest.approx(dice["b"]["value"] - dice["a"]["value"])
    assert dice["difference"]["ci"][1] < 0  # untrained segmentation: clearly worse, interval below 0
    assert [p.name for p in res.compare_paths] == ["predictions_b.csv", "beats_b.csv"]
    assert len(_rows(res.compare_paths[0])) == 6


def test_progress_counts_every_loop_of_every_pass(evaluation):
    _, calls = evaluation
    done = [d for d, _, _ in calls]
    assert calls[0][:2] == (0, 12) and calls[-1][:2] == (12, 12)  # 6 loops x (A, B)
    assert done == sorted(done) and len({d for d in done if 0 < d}) == 12
    assert any("Phantom5_0000" in msg for _, _, msg in calls)


def test_the_report_is_self_contained(evaluation):
    res, _ = evaluation
    text = res.report_path.read_text()
    m = json.loads(res.metrics_path.read_text())
    srcs = re.findall(r'(?:src|href)\s*=\s*["\']?([^"\'\s>]+)', text)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs), srcs
    assert len(srcs) >= 5  # scatter, Bland-Altman, ROC, strip, quintile boxes
    assert "<script" not in text.lower() and "@import" not in text
    for key in ("segmentation", "ef"):
        assert m["weights"][key]["sha256"] in text
    assert "not a statement about the weights evaluated here" in text and "Comparison: B against A" in text
    assert "matplotlib.pyplot" not in sys.modules  # figures on the Agg canvas only


def test_cancel_stops_between_loops(phantom_folder, tmp_path, random_weights):
    seg, ef = random_weights
    seen = []
    with pytest.raises(Cancelled):
        run_evaluation(phantom_folder, tmp_path, AnalysisSettings(seg_weights=seg, ef_weights=ef, device="cpu"),
                       split="ALL", progress=lambda d, t, m: seen.append(d), cancelled=lambda: len(seen) >= 2)
    assert max(seen) == 1 and not (tmp_path / "metrics.json").exists()


def _record(name, ef_true, ef_pred, inter, beats=()):
    r = LoopRecord(name, "TEST", ef_true, 10, 20, ef_pred=ef_pred, n_frames=50, seconds=0.1)
    r.ed = MaskCounts(inter, 100, 100)
    r.es = MaskCounts(inter // 2, 50, 50)
    return r


def test_paired_differences_of_identical_weights_are_exactly_zero():
    a = [_record(f"p{i}", 30 + 7 * i, 32 + 6 * i, 80 + i) for i in range(8)]
    out = paired(a, a, Bootstrap(100, 0))
    assert out["n_loops"] == 8
    for name, fig in out["figures"].items():
        if fig["a"]["value"] is None:
            continue
        assert fig["difference"]["value"] == 0 and fig["difference"]["ci"] == [0, 0], name
    assert out["figures"]["dice_ed"]["a"]["value"] == pytest.approx(2 * sum(80 + i for i in range(8)) / 1600)
    failed = [*a[:7], LoopRecord("p7", "TEST", 40, 1, 2, error="cannot decode")]
    assert paired(a, failed, Bootstrap(10, 0))["n_loops"] == 7  # only loops both analysed are paired
    assert not math.isnan(out["figures"]["hfref_auc"]["a"]["value"])


def test_loops_that_cannot_be_read_are_listed_not_fatal(phantom_folder, tmp_path, random_weights):
    bad = tmp_path / "bad"
    shutil.copytree(phantom_folder, bad)
    for avi in (bad / "Videos").glob("*.avi"):
        avi.write_bytes(b"RIFF not a video")
    seg, ef = random_weights
    res = run_evaluation(bad, tmp_path / "out", AnalysisSettings(seg_weights=seg, ef_weights=ef, device="cpu"),
                         split="ALL", n_boot=20)
    m = json.loads(res.metrics_path.read_text())
    assert m["n_loops"] == 0 and m["ef_mae"] is None and len(m["dataset"]["failed"]) == 6
    assert all(f["why"] for f in m["dataset"]["failed"])
    assert "No loop gave an EF estimate" in res.report_path.read_text()
    assert all(r["error"] and not r["ef_pred"] for r in _rows(res.predictions_path))


def test_model_card_from_metrics_json(evaluation, tmp_path):
    from echoviewer.evaluation.model_card import main

    res, _ = evaluation
    out = tmp_path / "card.md"
    assert main([str(res.metrics_path), str(out), "--how", "echoviewer evaluate X", "--note", "seen: short loops"]) == 0
    card = out.read_text()
    m = res.metrics
    assert m["weights"]["ef"]["sha256"] in card and "echoviewer evaluate X" in card and "- seen: short loops" in card
    assert "Trained on synthetic phantoms only" in card and "unmeasured" in card
    assert f"| LV Dice at ED and ES (pooled) | {m['dice']:.3f} (" in card and "| 0.92 |" in card
    assert main([str(tmp_path / "none.json"), str(out)]) == 2
