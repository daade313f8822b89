"""The paper's measurements for any weights on any labelled EchoNet-format folder: Dice, EF
agreement, HFrEF AUC, beat-to-beat variance, robustness to dropout, image quality and speed, each
with a bootstrap interval by patient; metrics.json, predictions.csv, beats.csv and report.html.

    run.py          run_evaluation(): the app's pipeline over the folder, progress and cancel
    dataset.py      the folder checked up front (DatasetError: one line), pixel dropout, intensity
    records.py      what is kept per loop and per beat
    metrics.py      pure metric functions (AUC with ties, ROC, bootstrap by patient, ...)
    summary.py      the figures with their intervals; paired differences of two sets of weights
    outputs.py      metrics.json, predictions.csv, beats.csv
    figures.py      the plots (matplotlib, Agg canvas, imported lazily)
    report_html.py  the self-contained report
    paper.py        the paper's figures and the plain-language summary beside them
    model_card.py   a weights' model card (markdown) from an evaluation's metrics.json
    phantoms.py     exact per-beat truth of phantom folders; the demo weights' held-out check

No Qt: the window calls ``run_evaluation`` from a worker thread.
"""

from echoviewer.evaluation.dataset import SPLIT_CHOICES, DatasetError, open_dataset
from echoviewer.evaluation.run import Cancelled, EvaluationResult, run_evaluation

__all__ = ["run_evaluation", "EvaluationResult", "DatasetError", "open_dataset", "SPLIT_CHOICES", "Cancelled"]
