"""Nodes and their settings file; queries; the words a send result is told in (no server needed)."""

import json

import pytest

from echoviewer.pacs.client import open_client
from echoviewer.pacs.model import PacsError, StudyQuery, parse_date_range
from echoviewer.pacs.nodes import Node, PacsSettings, check_aet, load_settings, save_settings, settings_path
from echoviewer.pacs.send import describe, dicom_files


def test_settings_round_trip_through_the_user_folder(tmp_path):
    s = PacsSettings(calling_aet="READER1", cache_limit_mb=500, nodes=[
        Node(name="lab", host="pacs.local", port=11112, called_aet="LABPACS", retrieve="move", move_port=4006,
             tls=True, timeout=12.5),
        Node(name="cloud", protocol="dicomweb", dicomweb_url="https://cloud.example/dicom-web"),
    ])
    path = save_settings(s)
    assert path == settings_path() and str(path).startswith(str(tmp_path))  # ECHOVIEWER_HOME, never ~
    again = load_settings()
    assert again == s
    assert again.node("lab").move_port == 4006 and again.node("nope") is None


def test_missing_settings_are_the_defaults_and_a_damaged_file_is_one_line(tmp_path):
    assert load_settings(tmp_path / "none.json") == PacsSettings()
    bad = tmp_path / "pacs.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not a valid PACS settings file") as info:
        load_settings(bad)
    assert "\n" not in str(info.value)
    bad.write_text(json.dumps({"calling_aet": "X", "nodes": [{"name": "a", "port": "104", "unknown": 1}]}))
    assert load_settings(bad).nodes[0].port == 104  # unknown keys from a newer version are ignored


@pytest.mark.parametrize("aet, problem", [("", "empty"), ("A" * 17, "longer than 16"), ("A\\B", "backslash"),
                                           ("ÄRZT", "printable ASCII")])
def test_ae_titles_are_checked(aet, problem):
    with pytest.raises(ValueError, match=problem):
        check_aet(aet)
    assert check_aet("  ECHO_1 ") == "ECHO_1"


@pytest.mark.parametrize("node, problem", [
    (Node(host="", called_aet="A"), "host is empty"),
    (Node(host="h", port=70000, called_aet="A"), "port 70000"),
    (Node(host="h", called_aet=""), "called AE title is empty"),
    (Node(protocol="dicomweb", dicomweb_url="ftp://x"), "not an http"),
    (Node(host="h", called_aet="A", tls=True, ca_file="/no/such.pem"), "CA file"),
    (Node(host="h", called_aet="A", timeout=0), "timeouts must be positive"),
])
def test_an_incomplete_node_is_refused_naming_it(node, problem):
    with pytest.raises(PacsError, match=problem) as info:
        open_client(node, "ECHOVIEWER")
    assert str(info.value).startswith(node.label + ": ")


def test_our_ae_title_is_checked_before_any_connection():
    with pytest.raises(PacsError, match="our AE title"):
        open_client(Node(host="127.0.0.1", called_aet="X"), "TOO_LONG_FOR_AN_AE_TITLE")


def test_node_labels():
    assert Node(name="lab").label == "lab"
    assert Node(host="h", port=104, called_aet="PACS").label == "PACS@h:104"
    assert Node(protocol="dicomweb", dicomweb_url="http://h/dw").label == "http://h/dw"


@pytest.mark.parametrize("text, expected", [
    ("", ("", "")), ("20240101-20240131", ("20240101", "20240131")), ("20240101-", ("20240101", "")),
    ("-20240131", ("", "20240131")), ("20240105", ("20240105", "20240105")), ("2024/01/05", ("20240105", "20240105")),
])
def test_date_ranges(text, expected):
    assert parse_date_range(text) == expected


@pytest.mark.parametrize("text", ["2024-01-01", "20240131-20240101", "yesterday"])
def test_bad_date_ranges_say_why(text):
    with pytest.raises(ValueError):
        parse_date_range(text)


def test_dicom_range_matching_of_a_query():
    assert StudyQuery(date_from="20240101", date_to="20240131").date_range == "20240101-20240131"
    assert StudyQuery(date_from="20240101").date_range == "20240101-"
    assert StudyQuery(date_to="20240131").date_range == "-20240131"
    assert StudyQuery(date_from="20240105", date_to="20240105").date_range == "20240105"
    assert StudyQuery().date_range == ""


def test_what_was_sent_in_words():
    sr, pdf, sc = "1.2.840.10008.5.1.4.1.1.88.33", "1.2.840.10008.5.1.4.1.1.104.1", "1.2.840.10008.5.1.4.1.1.7"
    assert describe([sr, pdf, sc, sc, sc]) == "SR, Encapsulated PDF, 3 key images"
    assert describe([sc]) == "1 key image"


def test_folders_to_send_are_expanded_without_hidden_files(tmp_path):
    (tmp_path / "d" / "sub").mkdir(parents=True)
    for name in ("d/b.dcm", "d/a.dcm", "d/sub/c", "d/.hidden", "e.dcm"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "d" / ".git").mkdir()
    (tmp_path / "d" / ".git" / "x").write_bytes(b"x")
    got = [p.relative_to(tmp_path).as_posix() for p in dicom_files([tmp_path / "d", tmp_path / "e.dcm"])]
    assert got == ["d/a.dcm", "d/b.dcm", "d/sub/c", "e.dcm"]
