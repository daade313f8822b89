"""The reports' rounding rule: the CSV's figure, rounded half up."""

from echoviewer.reports.numbers import ef_text, ef_with_sd, hr_text, rounded, volume_text


def test_reports_round_the_csv_figure_half_up():
    assert f"{59.3496:.2f}" == "59.35"  # what the CSV prints ...
    assert ef_text(59.3496) == "59.4"  # ... and what a report shows: never 59.3 beside a CSV saying 59.35
    assert ef_text(59.25) == "59.3"  # half up, not half to even
    assert ef_text(None) == ef_text(float("nan")) == "–"
    assert ef_text(-0.01) == "0.0"  # no "-0.0"
    assert volume_text(104.5) == "105" and rounded(3.14159, 3) == "3.140"


def test_ef_with_sd_and_heart_rate():
    assert ef_with_sd(46.666, 2.649) == "46.7 ± 2.7 %"  # s.d. "2.65" in the CSV
    assert ef_with_sd(46.666, None) == "46.7 %"
    assert ef_with_sd(None, 1.0) == "–"
    assert hr_text(70.46) == "71 bpm"  # the CSV says 70.5: rounded half up (the raw value would give 70)
    assert hr_text(None) == "–"
