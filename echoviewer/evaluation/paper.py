"""The paper's figures, and an evaluation's numbers told beside them in plain language (shared by
report.html and the model card, so that both say the same).

The paper's numbers are EchoNet-Dynamic's weights on EchoNet-Dynamic's data (Ouyang et al.,
Nature 2020): a reference point for a reader, never a claim about the weights evaluated here.
"""

from __future__ import annotations

from echoviewer.formatting import plural

#: (key in metrics.json, label, the paper's figure, digits)
PAPER: list[tuple[str, str, float | None, int]] = [
    ("dice", "LV Dice at ED and ES (pooled)", 0.92, 3),
    ("ef_mae", "EF mean absolute error (points)", 4.1, 2),
    ("ef_rmse", "EF root-mean-square error (points)", 5.3, 2),
    ("ef_r2", "EF R² (squared Pearson r)", 0.81, 3),
    ("ef_bias", "EF bias, predicted − labelled (points)", None, 2),
    ("hfref_auc", "EF < 50 % (HFrEF): AUC", 0.97, 3),
]
PAPER_SOURCE = "EchoNet-Dynamic (Ouyang et al., Nature 2020): its weights on its own test set of 1,277 videos"
PAPER_EXTERNAL = "on an external hospital's data it reported EF MAE 6.0 and HFrEF AUC 0.96"

#: how a loop's beats' clips fit the video (``summary.clip_modes``), as a reader is told
CLIP_LABELS = {"full": "all full", "shifted": "some shifted back (would run past the end)",
               "padded": "padded (video shorter than one clip)"}


def fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def fmt_figure(fig: dict | None, digits: int = 2) -> str:
    """'4.12 (3.50 to 4.80)': the value and its 95 % interval."""
    if not fig or fig.get("value") is None:
        return "–"
    lo, hi = fig["ci"]
    ci = "" if lo is None or hi is None else f" ({lo:.{digits}f} to {hi:.{digits}f})"
    return f"{fig['value']:.{digits}f}{ci}"


def headline_rows(metrics: dict) -> list[tuple[str, str, str]]:
    """(label, this evaluation with its interval, the paper's figure) for the headline table."""
    rows = []
    for key, label, paper, digits in PAPER:
        fig = {"value": metrics.get(key), "ci": metrics.get(f"{key}_ci") or [None, None]}
        rows.append((label, fmt_figure(fig, digits), "–" if paper is None else f"{paper:g}"))
    return rows


def _weights_name(metrics: dict) -> str:
    w = metrics["weights"]
    seg, ef = w["segmentation"], w["ef"]
    demo = " (demo weights, not for clinical use)" if seg.get("demo") or ef.get("demo") else ""
    return f"{seg['name']} + {ef['name']}{demo}"


def plain_summary(metrics: dict) -> list[str]:
    """Short paragraphs a researcher reads first."""
    d, ef, seg = metrics["dataset"], metrics["ef_per_loop"], metrics["segmentation"]
    hf, var = metrics["hfref"], metrics["beat_variance"]
    out = [f"{_weights_name(metrics)} on {plural(metrics['n_loops'], 'labelled loop')} "
           f"(split {d['split']}) of {d['path']}."]
    if metrics.get("ef_mae") is not None:
        out.append(
            f"EF, as the mean of the beats found in each loop, is off the label by {fmt_figure(ef['mae'])} points "
            f"on average (mean absolute error, 95 % interval), with a bias of {fmt_figure(ef['bias'])} points "
            f"and R² {fmt_figure(ef['r2'], 3)}. The left-ventricle outline at the traced frames overlaps "
            f"the tracings with Dice {fmt_figure(seg['dice'], 3)}.")
    else:
        out.append("No loop gave an EF estimate: the EF figures are undefined.")
    if hf["n_positive"] and hf["n_negative"]:
        out.append(
            f"Telling EF < {hf['threshold']:g} % ({plural(hf['n_positive'], 'loop')}) from the rest "
            f"({hf['n_negative']}): "
            f"AUC {fmt_figure(hf['auc'], 3)}; calling predicted EF < {hf['threshold']:g} % finds "
            f"{fmt_figure(hf['sensitivity'], 2)} of them (sensitivity) and clears "
            f"{fmt_figure(hf['specificity'], 2)} of the others (specificity).")
    else:
        out.append(f"The labels hold {'no' if not hf['n_positive'] else 'only'} loops with EF < {hf['threshold']:g} %: "
                   "the HFrEF AUC is undefined here.")
    if var["n_loops"]:
        out.append(f"Of {plural(var['n_loops'], 'loop')} with two beats or more, {var['n_high']} "
                   f"{'has' if var['n_high'] == 1 else 'have'} beats whose EF varies with s.d. > {var['sd_limit']:g} "
                   "points (the paper's hard cases).")
    out.append("For comparison only, the EchoNet-Dynamic paper (Ouyang et al., Nature 2020) reported, for its own "
               "weights on its own test set of 1,277 videos, Dice 0.92, EF MAE 4.1, RMSE 5.3, R² 0.81 and HFrEF AUC "
               f"0.97 ({PAPER_EXTERNAL}). Those are the paper's figures on the paper's data, not a statement about "
               "the weights evaluated here; the numbers above are what these weights did on this dataset.")
    caveats = []
    if metrics["n_loops"] < 50:
        caveats.append(f"with {metrics['n_loops']} loops the intervals are wide")
    if ef.get("loops_without_ef"):
        caveats.append(f"{plural(ef['loops_without_ef'], 'loop')} gave no EF (no usable beat) and are left out "
                       "of the EF figures")
    if d["failed"]:
        caveats.append(f"{plural(len(d['failed']), 'loop')} could not be analysed (listed below)")
    if caveats:
        out.append("Note: " + "; ".join(caveats) + ".")
    return out
