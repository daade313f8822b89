"""Numbers as a person reads them (echoviewer.formatting)."""

from echoviewer.formatting import format_duration, format_ef, format_time, plural


def test_formatting():
    assert format_time(1.2345) == "1.23 s"
    assert format_time(float("nan")) == "–" and format_time(None) == "–"
    assert format_ef(55.04, 2.26) == "55.0 ± 2.3 %"
    assert format_ef(None) == "–"
    assert format_ef(61.0) == "61.0 %"
    assert format_duration(100, 50.0) == "2.0 s"
    assert format_duration(100, 0) == "100 frames"
    assert (plural(1, "loop"), plural(0, "loop"), plural(3, "file")) == ("1 loop", "0 loops", "3 files")
