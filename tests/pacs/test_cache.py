"""The retrieve bookkeeping and the study cache, around a stand-in client (the network tests are in
test_orthanc_*.py; this one checks our own logic: resume, skipping, eviction order)."""

import threading
import time

import pytest

from echoviewer.pacs.cache import StudyCache
from echoviewer.pacs.model import US_MULTIFRAME_STORAGE, Cancelled, InstanceRef, PacsError
from echoviewer.pacs.retrieve import MANIFEST, FolderSink, read_manifest, retrieve_study

SR = "1.2.840.10008.5.1.4.1.1.88.33"


class StandInClient:
    """Serves a study from memory: ``refs`` and bytes per SOP UID; records what was asked."""

    label = "stand-in"

    def __init__(self, refs, size=1000, drop=()):
        self.refs, self.size, self.drop = refs, size, set(drop)
        self.asked: list[list[str]] = []
        self.whole: list[frozenset] = []

    def study_instances(self, study_uid):
        return [r for r in self.refs if r.study_uid == study_uid]

    def retrieve(self, refs, sink, progress=None, cancel=None, whole_series=frozenset()):
        self.asked.append([r.sop_uid for r in refs])
        self.whole.append(whole_series)
        for i, r in enumerate(refs):
            if cancel is not None and cancel.is_set():
                raise Cancelled("stand-in: cancelled")
            if r.sop_uid not in self.drop:
                sink.add(r.sop_uid, b"D" * self.size)
            if progress:
                progress(i + 1, len(refs))
        return len(refs) - len(self.drop & {r.sop_uid for r in refs})


def study(uid="1.2.3", n_us=4, n_sr=1, series=2):
    refs = [InstanceRef(uid, f"{uid}.{i % series}", f"{uid}.1.{i}", US_MULTIFRAME_STORAGE) for i in range(n_us)]
    refs += [InstanceRef(uid, f"{uid}.9", f"{uid}.9.{i}", SR) for i in range(n_sr)]
    return refs


def test_retrieve_skips_and_counts_non_us_instances(tmp_path):
    client = StandInClient(study())
    r = retrieve_study(client, "1.2.3", tmp_path / "s")
    assert (r.total, r.fetched, r.already, r.skipped) == (4, 4, 0, 1)
    assert sorted(p.name for p in (tmp_path / "s").glob("*.dcm")) == [f"1.2.3.1.{i}.dcm" for i in range(4)]
    assert "1 non-US instance skipped" in r.summary()
    assert client.whole == [frozenset({"1.2.3.0", "1.2.3.1"})]  # both US series wanted whole
    m = read_manifest(tmp_path / "s")
    assert m["study_uid"] == "1.2.3" and m["complete"] is True and m["skipped_non_us"] == 1


def test_resume_fetches_only_what_is_missing(tmp_path):
    client = StandInClient(study(n_us=6))
    cancel = threading.Event()

    def progress(done, total):
        if done == 3:
            cancel.set()

    with pytest.raises(Cancelled):
        retrieve_study(client, "1.2.3", tmp_path / "s", progress=progress, cancel=cancel)
    kept = {p.stem for p in (tmp_path / "s").glob("*.dcm")}
    assert len(kept) == 3
    assert read_manifest(tmp_path / "s")["complete"] is False
    client.asked.clear()
    r = retrieve_study(client, "1.2.3", tmp_path / "s")
    assert (r.fetched, r.already) == (3, 3)
    assert set(client.asked[-1]) == {f"1.2.3.1.{i}" for i in range(6)} - kept
    # a series with an instance already here is asked for by instance, never whole
    assert client.whole[-1] <= {"1.2.3.0", "1.2.3.1"} and len(client.whole[-1]) < 2


def test_an_instance_that_never_arrives_is_an_error(tmp_path):
    with pytest.raises(PacsError, match="1 instance of the study did not arrive"):
        retrieve_study(StandInClient(study(), drop={"1.2.3.1.2"}), "1.2.3", tmp_path / "s")


def test_a_study_without_ultrasound_is_refused(tmp_path):
    with pytest.raises(PacsError, match="no ultrasound instances .2 other instances skipped"):
        retrieve_study(StandInClient(study(n_us=0, n_sr=2)), "1.2.3", tmp_path / "s")
    with pytest.raises(PacsError, match="no instances of study 9.9"):
        retrieve_study(StandInClient(study()), "9.9", tmp_path / "s")


def test_files_appear_whole_and_a_killed_write_leaves_no_loop(tmp_path):
    sink = FolderSink(tmp_path)
    stale = tmp_path / ".1.2.dcm.abc123.tmp"  # what atomic_write leaves when killed mid-write
    stale.write_bytes(b"half")
    sink = FolderSink(tmp_path)  # a resumed retrieve cleans it up
    assert not stale.exists()
    sink.add("1.2", b"whole")
    assert sink.present() == {"1.2"} and (tmp_path / "1.2.dcm").read_bytes() == b"whole"
    sink.add("../../evil", b"x")  # a UID from a node is not trusted to be a file name
    assert all(p.parent == tmp_path for p in tmp_path.iterdir())


def test_the_cache_evicts_the_studies_used_longest_ago(tmp_path):
    cache = StudyCache(tmp_path / "cache", limit_mb=0.01)  # ~10 kB: two 4 kB studies fit, not three
    for uid in ("1.1", "1.2"):
        cache.fetch(StandInClient(study(uid, n_us=4, n_sr=0), size=1000), uid)
    assert [s.study_uid for s in cache.studies()] == ["1.1", "1.2"]
    time.sleep(0.01)
    cache.touch(cache.folder("1.1"))  # opened again: now 1.2 is the oldest
    result, evicted = cache.fetch(StandInClient(study("1.3", n_us=4, n_sr=0), size=1000), "1.3")
    assert evicted == [cache.folder("1.2")] and not cache.folder("1.2").exists()
    assert {s.study_uid for s in cache.studies()} == {"1.1", "1.3"}
    assert (result.folder / MANIFEST).is_file() and result.folder == cache.folder("1.3")


def test_the_cache_never_evicts_the_study_just_retrieved_nor_the_open_one(tmp_path):
    cache = StudyCache(tmp_path / "cache", limit_mb=0.001)  # smaller than any study
    cache.fetch(StandInClient(study("1.1", n_sr=0)), "1.1")
    _, evicted = cache.fetch(StandInClient(study("1.2", n_sr=0)), "1.2", keep={cache.folder("1.1")})
    assert evicted == [] and cache.folder("1.1").is_dir() and cache.folder("1.2").is_dir()
    _, evicted = cache.fetch(StandInClient(study("1.3", n_sr=0)), "1.3")
    assert set(evicted) == {cache.folder("1.1"), cache.folder("1.2")} and cache.folder("1.3").is_dir()
