"""report.html: one self-contained page (styles inline, figures as base64 PNG, no script, nothing
fetched) with the paper's table and figures for the evaluated weights."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from echoviewer.evaluation import figures
from echoviewer.evaluation.paper import (
    CLIP_LABELS,
    PAPER_EXTERNAL,
    PAPER_SOURCE,
    fmt,
    fmt_figure,
    headline_rows,
    plain_summary,
)
from echoviewer.evaluation.records import LoopRecord
from echoviewer.formatting import plural

STYLE = """
body{font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1d1d1f;
  max-width:1060px;margin:24px auto;padding:0 20px;background:#fff}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}.sub{color:#555;margin:0 0 14px}
.banner{background:#fff4e5;border:1px solid #f0b46b;border-radius:6px;padding:8px 12px;margin:12px 0}
.summary p{margin:6px 0}.muted{color:#666;font-size:12.5px}
table{border-collapse:collapse;margin:6px 0 10px;font-size:13px}
th,td{border-bottom:1px solid #e6e6e6;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f6f7f9;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
code{font-size:12px;word-break:break-all}
.figs{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}
.figs figure{flex:1 1 440px;max-width:560px}.figs figure img{width:100%}
figure{margin:0 0 8px}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:12.5px;color:#444;max-width:560px}
.better{color:#1e7b34}.worse{color:#b03a2e}
"""


def _e(text) -> str:
    return html.escape(str(text))


def _img(png: bytes | None, caption: str, alt: str) -> str:
    if png is None:
        return f'<p class="muted">{_e(alt)}: not enough loops to draw it.</p>'
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{_e(alt)}">'
            f"<figcaption>{_e(caption)}</figcaption></figure>")


def _table(head: list[str] | None, rows: list[list], num_from: int = 1) -> str:
    """Cells escaped; columns from ``num_from`` on right-aligned (numbers); no header row without ``head``."""
    th = "<tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr>" if head else ""
    body = "".join("<tr>" + "".join(f'<td{" class=num" if i >= num_from else ""}>{_e(c)}</td>'
                                    for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table>{th}{body}</table>"


def _weights_table(w: dict) -> str:
    rows = []
    for task in ("segmentation", "ef"):
        i = w[task]
        rows.append([task, i["name"], i["architecture"], "yes" if i.get("demo") else "no",
                     ", ".join(f"{v:.2f}" for v in w["mean_used"][task]),
                     ", ".join(f"{v:.2f}" for v in w["std_used"][task])])
    sha = "".join(f"<tr><td>{_e(t)}</td><td><code>{_e(w[t]['sha256'])}</code></td>"
                  f"<td><code>{_e(w[t].get('path') or '')}</code></td></tr>" for t in ("segmentation", "ef"))
    return (_table(["task", "weights", "architecture", "demo", "input mean (0-255)", "input s.d."], rows, num_from=9)
            + f"<table><tr><th>task</th><th>sha256</th><th>file</th></tr>{sha}</table>"
            + f'<p class="muted">device: {_e(w["device"])}</p>')


def _agreement_rows(block: dict) -> list[list]:
    return [["MAE", fmt_figure(block["mae"])], ["RMSE", fmt_figure(block["rmse"])],
            ["R² (squared Pearson r)", fmt_figure(block["r2"], 3)],
            ["bias (predicted − label)", fmt_figure(block["bias"])],
            ["coefficient of determination", fmt_figure(block["coefficient_of_determination"], 3)], ["n", block["n"]]]


def _quality_table(rows: list[dict]) -> str:
    if not rows:
        return '<p class="muted">Fewer than 5 loops: no quintiles.</p>'
    return _table(["quintile", "range (0-255)", "loops", "EF MAE", "Dice"],
                  [[f"Q{r['quintile']}", f"{fmt(r['range'][0], 1)} to {fmt(r['range'][1], 1)}", r["n"],
                    fmt_figure(r["ef_mae"]), fmt_figure(r["dice"], 3)] for r in rows])


#: metrics.json's names of the paired figures, as the comparison table shows them
PAIRED_LABELS = {"dice": "Dice, ED and ES pooled", "dice_ed": "Dice at ED", "dice_es": "Dice at ES",
                 "ef_mae": "EF MAE, per loop", "ef_rmse": "EF RMSE, per loop", "ef_r2": "EF R², per loop",
                 "ef_bias": "EF bias, per loop", "hfref_auc": "HFrEF AUC", "ef_mae_per_beat": "EF MAE, per beat"}


def _paired_section(metrics: dict) -> str:
    c = metrics["compare"]
    p = c["paired"]
    digits = {"dice": 3, "dice_ed": 3, "dice_es": 3, "ef_r2": 3, "hfref_auc": 3}
    lower_is_better = {"ef_mae", "ef_rmse", "ef_mae_per_beat"}
    rows = []
    for name, f in p["figures"].items():
        d = digits.get(name, 2)
        lo, hi = f["difference"]["ci"]
        verdict = ""
        if lo is not None and hi is not None and (lo > 0 or hi < 0):
            b_higher = lo > 0
            if name == "ef_bias":
                verdict = "B differs"
            else:
                verdict = "B better" if b_higher != (name in lower_is_better) else "B worse"
        rows.append([PAIRED_LABELS.get(name, name), fmt_figure(f["a"], d), fmt_figure(f["b"], d),
                     fmt_figure(f["difference"], d),
                     verdict or "no clear difference"])
    head = (f"<p>The same {p['n_loops']} loops ({p['n_loops_with_ef']} with an EF from both) through two sets of "
            "weights. B − A with its 95 % interval, the same patients resampled for A and B; a difference is "
            "called only when its interval excludes 0.</p>")
    a, b = metrics["weights"], c["weights"]
    names = _table(None, [["A", f"{a['segmentation']['name']} + {a['ef']['name']}"],
                          ["B", f"{b['segmentation']['name']} + {b['ef']['name']}"]], num_from=9)
    return (head + names + _table(["figure", "A", "B", "B − A", "verdict"], rows)
            + "<h3>Weights B</h3>" + _weights_table(b))


def _phantom_section(t: dict | None) -> str:
    if not t:
        return ""
    return ("<h2>Phantom truth</h2><p>This folder comes from <code>echoviewer synth</code>: every beat's EF is known "
            "exactly, while FileList.csv labels each loop with its first complete beat only. "
            "Against the exact beats:</p>"
            + _table(["figure", "value (95 % interval)"], [
                ["beats found / in truth", f"{t['beats_found']} / {t['beats_total']}"],
                ["extra beats found", t["extra_beats"]],
                ["EF MAE per beat, against that beat's exact EF", fmt_figure(t["ef_mae_per_beat"])],
                ["EF MAE per loop, against the mean of the exact beats", fmt_figure(t["ef_mae_per_loop"])]]))


def render(metrics: dict, records: list[LoopRecord], records_b: list[LoopRecord] | None = None) -> str:
    d, seg, hf, var = metrics["dataset"], metrics["segmentation"], metrics["hfref"], metrics["beat_variance"]
    compare = metrics.get("compare")
    names = ("A: " + metrics["weights"]["ef"]["name"],
             "B: " + compare["weights"]["ef"]["name"] if compare else "B")
    demo = metrics["weights"]["segmentation"].get("demo") or metrics["weights"]["ef"].get("demo")
    parts = [
        f"<h1>Evaluation on {_e(Path(d['path']).name)}</h1>",
        f'<p class="sub">{metrics["n_loops"]} loops analysed of {d["listed"]} listed in split {_e(d["split"])} · '
        f"{_e(metrics['generated']['by'])} · {_e(metrics['generated']['date'])}</p>",
    ]
    if demo:
        parts.append('<div class="banner"><b>Demo weights</b>: trained on synthetic phantoms only, not for clinical '
                     "use; their figures on real echocardiograms are not what these numbers show.</div>")
    parts.append('<h2>Summary</h2><div class="summary">' + "".join(f"<p>{_e(s)}</p>" for s in plain_summary(metrics))
                 + "</div>")
    parts.append(_table(["figure", "these weights, this dataset (95 % interval)", "the paper, its data"],
                        [list(r) for r in headline_rows(metrics)]))
    parts.append(f'<p class="muted">Paper: {_e(PAPER_SOURCE)}; {_e(PAPER_EXTERNAL)}.</p>')

    parts.append("<h2>EF</h2><div class=figs>"
                 + _img(figures.scatter(records, records_b, names), "Predicted EF (mean of the beats found) "
                        "against the labelled EF; dashed: identity; red lines: EF 50 %.",
                        "scatter of predicted against labelled EF")
                 + _img(figures.bland_altman(records), "Bland–Altman: the difference against the mean, with the bias "
                        "and the 95 % limits of agreement (bias ± 1.96 s.d.).", "Bland-Altman plot")
                 + "</div>")
    parts.append("<div class=figs><div><h3>Per loop (mean of beats)</h3>"
                 + _table(["figure", "value (95 % interval)"], _agreement_rows(metrics["ef_per_loop"]))
                 + "</div><div><h3>Per beat (each beat against its loop's label)</h3>"
                 + _table(["figure", "value (95 % interval)"], _agreement_rows(metrics["ef_per_beat"]))
                 + "</div></div>")
    parts.append(f'<p class="muted">EF from the model\'s own masks (method of disks), per loop: MAE '
                 f'{_e(fmt_figure(metrics["ef_per_loop"]["segmentation_ef_mae"]))}.</p>')

    parts.append("<h2>Heart failure with reduced EF (label EF &lt; 50 %)</h2><div class=figs>"
                 + _img(figures.roc(metrics, compare["summary"] if compare else None, names),
                        "ROC of the predicted EF; the dot is the call 'predicted EF < 50 %'.", "ROC curve")
                 + "<div>" + _table(["figure", "value (95 % interval)"], [
                     ["AUC", fmt_figure(hf["auc"], 3)], ["sensitivity", fmt_figure(hf["sensitivity"], 3)],
                     ["specificity", fmt_figure(hf["specificity"], 3)],
                     ["loops labelled EF < 50 / ≥ 50", f"{hf['n_positive']} / {hf['n_negative']}"]]) + "</div></div>")

    clips = metrics.get("clip_modes") or []
    if clips:
        parts.append("<h3>By how the beats' clips fit the video</h3>" + _table(
            ["clips of the loop's beats", "loops", "EF MAE per loop"],
            [[CLIP_LABELS.get(c["clips"], c["clips"]), c["n"], fmt_figure(c["ef_mae"])] for c in clips])
            + '<p class="muted">The reference drops a beat whose clip runs past the end and cannot run a video '
              "shorter than one clip; the app moves the first back and pads the second.</p>")
    worst = metrics.get("largest_errors") or []
    if worst:
        parts.append("<h3>Largest EF errors</h3>" + _table(
            ["loop", "label", "predicted", "error", "beats", "s.d.", "frames", "clips"],
            [[w["file"], fmt(w["ef_true"], 1), fmt(w["ef_pred"], 1), fmt(w["error"], 1), w["beats"],
              fmt(w["ef_sd"], 1), w["n_frames"], ", ".join(w["clips"])] for w in worst]))
    parts.append("<h2>Beat-to-beat variation</h2>"
                 + _img(figures.beat_strip(records, var["sd_limit"]), "Each beat's EF minus its loop's label, one "
                        "column per loop, ordered by the s.d. of the loop's beats; bar: the loop's mean; red: s.d. > "
                        f"{var['sd_limit']:g} (Extended Data Fig. 2 of the paper).", "per-beat strip plot")
                 + _table(["figure", "value (95 % interval)"], [
                     [f"loops with 2+ beats whose s.d. > {var['sd_limit']:g}",
                      f"{var['n_high']} of {var['n_loops']}: share {fmt_figure(var['share_high'])}"],
                     [f"EF MAE, s.d. ≤ {var['sd_limit']:g} ({plural(var['n_low'], 'loop')})",
                      fmt_figure(var["mae_low"])],
                     [f"EF MAE, s.d. > {var['sd_limit']:g} ({plural(var['n_high'], 'loop')})",
                      fmt_figure(var["mae_high"])]]))

    parts.append("<h2>Segmentation</h2>" + _table(["figure", "value (95 % interval)"], [
        ["Dice, ED and ES pooled", fmt_figure(seg["dice"], 3)], ["Dice at ED", fmt_figure(seg["dice_ed"], 3)],
        ["Dice at ES", fmt_figure(seg["dice_es"], 3)], ["loops", seg["n_loops"]]])
        + '<p class="muted">The model\'s mask (logit &gt; 0) at the traced ED and ES frames against the tracings of '
          "VolumeTracings.csv rasterised as the reference loader does (polygon of the chords' ends); pixels "
          "pooled.</p>")

    q = metrics["image_quality"]
    parts.append("<h2>Image quality</h2>"
                 + _img(figures.quality_boxes(records), "|EF error| and Dice by quintile of the loop's mean pixel "
                        "intensity and of its s.d. (Extended Data Fig. 5).", "quintile box plots")
                 + "<div class=figs><div><h3>By mean intensity</h3>" + _quality_table(q.get("mean_intensity", []))
                 + "</div><div><h3>By s.d. of intensity</h3>" + _quality_table(q.get("sd_intensity", []))
                 + "</div></div>")

    rob = metrics.get("robustness")
    parts.append("<h2>Robustness to dropout</h2>")
    if rob:
        parts.append(_img(figures.dropout(rob), "Dice and EF R² when a share of the pixels (random in every frame) "
                          "is set to black before normalisation (Extended Data Fig. 6); bands: 95 % intervals.",
                          "dropout curves")
                     + _table(["black pixels", "Dice", "EF R²", "EF MAE"],
                              [[f"{100 * lv:.0f} %", fmt_figure(a, 3), fmt_figure(b, 3), fmt_figure(c)]
                               for lv, a, b, c in zip(rob["levels"], rob["dice"], rob["ef_r2"], rob["ef_mae"])]))
    else:
        parts.append('<p class="muted">Not measured: run with <code>--dropout</code>.</p>')

    sp = metrics["speed"]
    parts.append("<h2>Speed</h2>" + _table(["figure", "value"], [
        ["seconds per loop (95 % interval)", fmt_figure(sp["seconds_per_loop"], 3)],
        ["frames per second", fmt(sp["frames_per_second"], 1)], ["device", sp["device"]]]))
    parts.append(_phantom_section(metrics.get("phantom_truth")))
    if compare:
        parts.append("<h2>Comparison: B against A</h2>" + _paired_section(metrics))

    parts.append("<h2>Weights</h2>" + _weights_table(metrics["weights"]))
    parts.append("<h2>Dataset</h2>" + _table(None, [
        ["folder", d["path"]], ["split", d["split"]], ["loops listed in the split", d["listed"]],
        ["with two traced frames (evaluated)", d["traced"]], ["analysed", d["analysed"]],
        ["labelled EF < 50 %", d["hfref_labels"]]], num_from=9))
    if d["without_tracings"]:
        untraced = d["without_tracings"]
        parts.append(f'<p class="muted">Left out, fewer than two traced frames (as the reference does): '
                     f'{_e(", ".join(untraced[:20]))}{" …" if len(untraced) > 20 else ""}</p>')
    if d["failed"]:
        parts.append("<h3>Loops that could not be analysed</h3>"
                     + _table(["loop", "why"], [[f["file"], f["why"]] for f in d["failed"]], num_from=9))
    b, clip = metrics["bootstrap"], metrics["weights"]["clip"]
    parts.append("<h2>Method</h2><p class=muted>"
                 f"Intervals: {b['level'] * 100:g} % percentile bootstrap over {b['resamples']} resamples, seed "
                 f"{b['seed']}; the unit resampled is the {_e(b['unit'])}. EF per loop: the mean of the model's EF "
                 f"over the beats the pipeline found (each beat's clip: {clip['frames']} frames, one every "
                 f"{clip['period']}, starting {clip['frames']} frames before its end-systole), against "
                 "FileList.csv's EF. R²: squared Pearson r, as the paper reports it (the coefficient of "
                 "determination is given beside it). "
                 "Everything runs through the app's own pipeline, as the window and <code>echoviewer analyze</code> "
                 "do, without the analysis cache.</p>")
    if metrics["generated"].get("command"):
        parts.append(f'<p class="muted">Command: <code>{_e(metrics["generated"]["command"])}</code></p>')
    title = f"EchoViewer evaluation: {Path(d['path']).name}"
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style></head>'
            f"<body>{''.join(parts)}</body></html>\n")


def write_report(metrics: dict, records: list[LoopRecord], records_b: list[LoopRecord] | None, path) -> Path:
    Path(path).write_text(render(metrics, records, records_b), encoding="utf-8")
    return Path(path)
