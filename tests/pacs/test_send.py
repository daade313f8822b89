"""send_outputs' bookkeeping around a stand-in node: stored files go, refused ones stay in the
outbox, which the summary names (the real server's side is in test_window.py and test_end_to_end.py)."""

import os
from pathlib import Path

import pytest

from echoviewer.pacs.model import PacsError, StoreOutcome, StoreReport
from echoviewer.pacs.send import send_outputs

SR, PDF, SC = "1.2.840.10008.5.1.4.1.1.88.33", "1.2.840.10008.5.1.4.1.1.104.1", "1.2.840.10008.5.1.4.1.1.7"


class StandInNode:
    label = "stand-in"

    def __init__(self, refuse=(), down=False):
        self.refuse, self.down = set(refuse), down
        self.got: list[str] = []

    def store(self, paths, progress=None, cancel=None):
        if self.down:
            raise PacsError("stand-in: connection refused")
        report = StoreReport(self.label)
        for p in paths:
            sop_class = {"sr": SR, "pdf": PDF}.get(p.stem.split("_")[0], SC)
            ok = p.name not in self.refuse
            report.outcomes.append(StoreOutcome(p, ok, p.stem, sop_class, "" if ok else "refused: 0xA700 Refused"))
            self.got.append(p.name)
        return report


@pytest.fixture
def fake_outputs(monkeypatch):
    """write_outputs as a stand-in: the DICOM files it would write (its own tests are the reports')."""
    from echoviewer.reports import outputs

    def write(report, pdf=None, dicom_dir=None):
        files = []
        for name in ("sr.dcm", "pdf.dcm", "sc_1.dcm", "sc_2.dcm"):
            (Path(dicom_dir) / name).write_bytes(b"DICM")
            files.append(Path(dicom_dir) / name)
        return outputs.Written(dicom=files)

    monkeypatch.setattr(outputs, "write_outputs", write)


def outbox():
    return Path(os.environ["ECHOVIEWER_HOME"]) / "pacs-outbox"


def test_everything_stored_leaves_nothing_behind(fake_outputs):
    result = send_outputs(object(), StandInNode())
    assert result.kept is None and result.summary() == "Sent SR, Encapsulated PDF, 2 key images to stand-in: all stored"
    assert list(outbox().iterdir()) == []


def test_refused_objects_stay_in_the_outbox_and_are_named(fake_outputs):
    result = send_outputs(object(), StandInNode(refuse={"sc_2.dcm"}))
    assert result.kept is not None and result.kept.parent == outbox()
    assert sorted(p.name for p in result.kept.iterdir()) == ["sc_2.dcm"]  # the stored ones are gone
    assert result.summary() == (f"Sent SR, Encapsulated PDF, 1 key image to stand-in; 1 object refused "
                                f"(refused: 0xA700 Refused), kept in {result.kept}")


def test_a_node_that_is_down_keeps_everything(fake_outputs):
    with pytest.raises(PacsError, match=r"stand-in: connection refused; the results are kept in ") as info:
        send_outputs(object(), StandInNode(down=True))
    kept = Path(str(info.value).rsplit("kept in ", 1)[1])
    assert sorted(p.name for p in kept.iterdir()) == ["pdf.dcm", "sc_1.dcm", "sc_2.dcm", "sr.dcm"]
