"""The report's figures as PNG bytes: the paper's plots for one evaluation.

matplotlib is imported here only, lazily, and only its object API with the Agg canvas: no pyplot,
no GUI back end, nothing global (the window may run an evaluation in a thread).
"""

from __future__ import annotations

import io
import math
import sys

import numpy as np

from echoviewer.evaluation.metrics import pooled_dice, quintiles
from echoviewer.evaluation.records import LoopRecord

A_COLOUR, B_COLOUR, GREY, RED = "#1f5fa8", "#d9822b", "#8a8a8a", "#c0392b"
DPI = 110


def _figure(w: float = 5.2, h: float = 4.0, ncols: int = 1, nrows: int = 1):
    """A figure on its own Agg canvas and its axes (flattened), gridded, without top/right spines."""
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:
        # Left at "auto", the first read of the back end (box plots read every rcParam) imports
        # pyplot, which picks a GUI back end (Qt, in the window's process). Agg is all we draw with.
        matplotlib.use("agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes:
        ax.grid(True, color="#e4e4e4", linewidth=0.7)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    return fig, axes


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _ef_pairs(records: list[LoopRecord]) -> tuple[np.ndarray, np.ndarray]:
    rs = [r for r in records if r.ok and r.ef_pred is not None]
    return np.array([r.ef_true for r in rs], float), np.array([r.ef_pred for r in rs], float)


def scatter(records: list[LoopRecord], records_b: list[LoopRecord] | None = None, names=("A", "B")) -> bytes:
    """Predicted (mean of beats) against labelled EF, with the identity and the EF 50 lines."""
    fig, (ax,) = _figure(5.0, 4.6)
    sets = [(records, A_COLOUR, names[0])] + ([(records_b, B_COLOUR, names[1])] if records_b else [])
    for rs, colour, name in sets:
        t, p = _ef_pairs(rs)
        ax.scatter(t, p, s=16, alpha=0.75, color=colour, edgecolors="none", label=f"{name} ({len(t)} loops)")
    ax.plot([0, 100], [0, 100], color=GREY, linewidth=1, linestyle="--", label="identity")
    ax.axvline(50, color=RED, linewidth=0.7, alpha=0.5)
    ax.axhline(50, color=RED, linewidth=0.7, alpha=0.5)
    lo, hi = _limits([_ef_pairs(rs)[k] for rs, *_ in sets for k in (0, 1)])
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    ax.set_xlabel("labelled EF (%)")
    ax.set_ylabel("predicted EF, mean of beats (%)")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return _png(fig)


def _limits(arrays) -> tuple[float, float]:
    vals = np.concatenate([np.asarray(a, float) for a in arrays]) if arrays else np.zeros(0)
    vals = vals[np.isfinite(vals)]
    if not len(vals):
        return 0.0, 100.0
    return max(0.0, 5 * math.floor(vals.min() / 5) - 5), min(100.0, 5 * math.ceil(vals.max() / 5) + 5)


def bland_altman(records: list[LoopRecord]) -> bytes:
    """Difference (predicted - labelled) against the mean of the two, bias and 95 % limits of agreement."""
    fig, (ax,) = _figure(5.4, 4.0)
    t, p = _ef_pairs(records)
    mean, diff = (t + p) / 2, p - t
    ax.scatter(mean, diff, s=16, alpha=0.75, color=A_COLOUR, edgecolors="none")
    if len(diff):
        bias, sd = float(diff.mean()), float(diff.std(ddof=1)) if len(diff) > 1 else 0.0
        hi, lo = bias + 1.96 * sd, bias - 1.96 * sd
        for y, label, style in ((bias, f"bias {bias:+.1f}", "-"), (hi, f"+1.96 s.d. {hi:+.1f}", "--"),
                                (lo, f"−1.96 s.d. {lo:+.1f}", "--")):
            ax.axhline(y, color=RED if style == "-" else GREY, linestyle=style, linewidth=1)
            ax.annotate(label, (1.0, y), xycoords=("axes fraction", "data"), xytext=(-4, 3),
                        textcoords="offset points", ha="right", fontsize=8, color="#444")
    ax.axhline(0, color="#333", linewidth=0.6)
    ax.set_xlabel("mean of labelled and predicted EF (%)")
    ax.set_ylabel("predicted − labelled EF (points)")
    return _png(fig)


def roc(metrics: dict, compare: dict | None = None, names=("A", "B")) -> bytes:
    """ROC of predicted EF for the label EF < 50, with its AUC (and the second weights')."""
    fig, (ax,) = _figure(4.6, 4.4)
    sets = [(metrics["hfref"], A_COLOUR, names[0])] + ([(compare["hfref"], B_COLOUR, names[1])] if compare else [])
    for h, colour, name in sets:
        fpr, tpr = h["roc"]["fpr"], h["roc"]["tpr"]
        if None in fpr or None in tpr:
            continue
        auc = h["auc"]["value"]
        ax.plot(fpr, tpr, color=colour, linewidth=1.8, drawstyle="default",
                label=f"{name}: AUC {auc:.3f}" if auc is not None else name)
        sens, spec = h["sensitivity"]["value"], h["specificity"]["value"]
        if sens is not None and spec is not None:
            ax.plot([1 - spec], [sens], "o", color=colour, markersize=6)
    ax.plot([0, 1], [0, 1], color=GREY, linestyle="--", linewidth=1)
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_aspect("equal")
    ax.set_xlabel("1 − specificity")
    ax.set_ylabel("sensitivity")
    ax.set_title(f"EF < {metrics['hfref']['threshold']:g} % (dot: predicted EF < {metrics['hfref']['threshold']:g})",
                 fontsize=9)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right", fontsize=8, frameon=False)
    else:
        ax.text(0.5, 0.3, "undefined: the labels hold one class only", ha="center", fontsize=9, color="#666")
    return _png(fig)


def beat_strip(records: list[LoopRecord], sd_limit: float) -> bytes:
    """Each beat's EF error, one column per loop, loops ordered by the s.d. of their beats
    (Extended Data Fig. 2): high-variance loops (s.d. > sd_limit) in red, the loop mean as a bar."""
    rs = sorted([r for r in records if r.ok and len(r.beat_efs) >= 1],
                key=lambda r: (r.ef_sd if r.ef_sd is not None else -1.0))
    fig, (ax,) = _figure(7.6, 3.6)
    for x, r in enumerate(rs):
        high = r.ef_sd is not None and r.ef_sd > sd_limit
        colour = RED if high else A_COLOUR
        e = np.array(r.beat_efs) - r.ef_true
        ax.scatter(np.full(len(e), x), e, s=9, color=colour, alpha=0.7, edgecolors="none")
        ax.plot([x - 0.4, x + 0.4], [e.mean()] * 2, color="#222", linewidth=1)
    first_high = next((x for x, r in enumerate(rs) if r.ef_sd is not None and r.ef_sd > sd_limit), None)
    if first_high is not None:
        ax.axvline(first_high - 0.5, color=RED, linestyle=":", linewidth=1)
        ax.annotate(f"s.d. > {sd_limit:g}", (first_high - 0.3, 1.0), xycoords=("data", "axes fraction"),
                    va="top", fontsize=8, color=RED)
    ax.axhline(0, color="#333", linewidth=0.6)
    ax.set_xlim(-1, max(len(rs), 1))
    ax.set_xticks([])
    ax.set_xlabel(f"{len(rs)} loops, ordered by the s.d. of their beats' EF (loops with one beat first)")
    ax.set_ylabel("beat EF − label (points)")
    return _png(fig)


def _band(ax, levels, figs, colour, label):
    v = np.array([f["value"] if f["value"] is not None else np.nan for f in figs], float)
    lo = np.array([f["ci"][0] if f["ci"][0] is not None else np.nan for f in figs], float)
    hi = np.array([f["ci"][1] if f["ci"][1] is not None else np.nan for f in figs], float)
    x = 100 * np.asarray(levels, float)
    ax.fill_between(x, lo, hi, color=colour, alpha=0.18, linewidth=0)
    ax.plot(x, v, "o-", color=colour, linewidth=1.6, markersize=4, label=label)


def dropout(robustness: dict) -> bytes:
    """Dice and EF R² against the share of pixels blacked out (Extended Data Fig. 6), 95 % bands."""
    fig, axes = _figure(7.6, 3.2, ncols=2)
    levels = robustness["levels"]
    _band(axes[0], levels, robustness["dice"], A_COLOUR, "Dice")
    _band(axes[1], levels, robustness["ef_r2"], B_COLOUR, "EF R²")
    for ax, name in zip(axes, ("Dice (ED + ES)", "EF R²")):
        ax.set_xlabel("pixels replaced with black (%)")
        ax.set_ylabel(name)
        ax.set_ylim(0, 1.02)
        ax.set_xticks(100 * np.asarray(levels))
    return _png(fig)


def quality_boxes(records: list[LoopRecord]) -> bytes | None:
    """|EF error| and Dice by quintile of mean pixel intensity and of its s.d. (Extended Data Fig. 5)."""
    rs = [r for r in records if r.ok and math.isfinite(r.mean_intensity)]
    if len(rs) < 5:
        return None
    fig, axes = _figure(7.6, 5.6, ncols=2, nrows=2)
    for col, (axis, label) in enumerate((("mean_intensity", "mean pixel intensity"),
                                         ("sd_intensity", "s.d. of pixel intensity"))):
        q = quintiles([getattr(r, axis) for r in rs])
        err = [[abs(r.ef_pred - r.ef_true) for r, k in zip(rs, q) if k == i and r.ef_pred is not None]
               for i in range(5)]
        dice = [[_loop_dice(r) for r, k in zip(rs, q) if k == i and r.ed is not None and r.es is not None]
                for i in range(5)]
        for row, (data, name) in enumerate(((err, "|EF error| (points)"), (dice, "Dice (ED + ES)"))):
            ax = axes[2 * row + col]
            ax.boxplot([d if d else [np.nan] for d in data], positions=range(1, 6), widths=0.55,
                       medianprops={"color": RED}, showfliers=False)
            for i, d in enumerate(data):  # every loop as a dot: quintiles of a small dataset hold a few
                jitter = np.random.default_rng(i).uniform(-0.15, 0.15, len(d))
                ax.scatter(i + 1 + jitter, d, s=7, color=A_COLOUR, alpha=0.5, edgecolors="none", zorder=3)
            ax.set_xticks(range(1, 6))
            ax.set_xticklabels(["Q1\nlow", "Q2", "Q3", "Q4", "Q5\nhigh"], fontsize=8)
            ax.set_ylabel(name)
            if row == 1:
                ax.set_xlabel(f"quintile of {label}")
    return _png(fig)


def _loop_dice(r: LoopRecord) -> float:
    """One loop's Dice over its ED and ES frames together."""
    assert r.ed is not None and r.es is not None
    return pooled_dice([r.ed.intersection, r.es.intersection], [r.ed.pred, r.es.pred], [r.ed.true, r.es.true])
