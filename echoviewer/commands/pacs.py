"""`echoviewer pacs echo|find|get|send|nodes`: a DICOM node from the command line.

    echoviewer pacs echo --host H --port P --called-aet A [--calling-aet C]
    echoviewer pacs find --host H --port P --called-aet A [--patient-id ID] [--modality US] [--date FROM-TO] --json
    echoviewer pacs get STUDY_UID --host H --port P --called-aet A --to DIR
    echoviewer pacs send FILE_OR_DIR... --host H --port P --called-aet A

and the same with ``--dicomweb URL`` instead of host, port and AE title, or ``--node NAME`` for a node
saved in Settings. Exit 0 on success; 2 with one line naming the node and the problem.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path


def _node_options() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("node (DIMSE: --host, --port, --called-aet; DICOMweb: --dicomweb; or a saved --node)")
    g.add_argument("--node", metavar="NAME", help="a node saved in Settings (the options below override it)")
    g.add_argument("--host", help="the node's host name or address")
    g.add_argument("--port", type=int, help="the node's DICOM port")
    g.add_argument("--called-aet", metavar="AET", help="the node's AE title")
    g.add_argument("--calling-aet", metavar="AET", help="our AE title (default: the one in Settings, else ECHOVIEWER)")
    g.add_argument("--dicomweb", metavar="URL", help="DICOMweb base URL (QIDO/WADO/STOW), e.g. http://h:8042/dicom-web")
    g.add_argument("--tls", action="store_true", default=None, help="TLS (DIMSE over TLS, or verify https)")
    g.add_argument("--ca-file", metavar="PEM", help="CA certificate(s) that signed the node's certificate")
    g.add_argument("--timeout", type=float, metavar="S", help="seconds to wait for each answer (default 30)")
    g.add_argument("--connect-timeout", type=float, metavar="S", help="seconds to open the connection (default 5)")
    return p


def register(sub) -> None:
    p = sub.add_parser("pacs", help="find, retrieve and send studies on a DICOM node (DIMSE or DICOMweb)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cmds = p.add_subparsers(dest="pacs_command", metavar="ACTION")
    node = _node_options()

    e = cmds.add_parser("echo", parents=[node], help="verify a node (C-ECHO, or a QIDO-RS query)")
    e.set_defaults(func=run_echo)

    f = cmds.add_parser("find", parents=[node], help="search studies")
    f.add_argument("--patient-id", default="", metavar="ID")
    f.add_argument("--patient-name", default="", metavar="NAME", help="wildcards * and ? allowed")
    f.add_argument("--accession", default="", metavar="NUMBER")
    f.add_argument("--modality", default="US", help="a modality in the study (default US; '' for any)")
    f.add_argument("--date", default="", metavar="FROM-TO", help="YYYYMMDD-YYYYMMDD, YYYYMMDD-, -YYYYMMDD or one day")
    f.add_argument("--study-uid", default="", metavar="UID")
    f.add_argument("--count-us", action="store_true", help="also count each study's US instances (a query per study)")
    f.add_argument("--json", action="store_true", help="a JSON list of studies on stdout")
    f.set_defaults(func=run_find)

    g = cmds.add_parser("get", parents=[node], help="retrieve a study's ultrasound instances into a folder")
    g.add_argument("study_uid", metavar="STUDY_UID")
    g.add_argument("--to", required=True, metavar="DIR", help="the folder (created); a second run fetches only "
                   "what is missing")
    g.add_argument("--move", action="store_true", help="retrieve with C-MOVE to our own storage SCP (not C-GET)")
    g.add_argument("--move-port", type=int, metavar="P", help="our storage SCP's port for --move (default 11112)")
    g.add_argument("--json", action="store_true", help="the result as JSON on stdout")
    g.set_defaults(func=run_get)

    s = cmds.add_parser("send", parents=[node], help="store DICOM files (folders: every file under them)")
    s.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")
    s.add_argument("--json", action="store_true", help="each file's outcome as JSON on stdout")
    s.set_defaults(func=run_send)

    n = cmds.add_parser("nodes", help="list the nodes saved in Settings")
    n.set_defaults(func=run_nodes)
    p.set_defaults(func=lambda _args: (p.print_help(), 2)[1])


def _err(text: str) -> int:
    print(f"error: {' '.join(str(text).split())}", file=sys.stderr)
    return 2


class _Usage(Exception):
    pass


def _client(args):
    """The node the options describe, and a client for it. _Usage or PacsError when it cannot be."""
    from echoviewer.pacs.client import open_client
    from echoviewer.pacs.nodes import Node, load_settings

    try:
        settings = load_settings()
    except ValueError as exc:
        if args.node:
            raise _Usage(str(exc)) from None
        settings = None
    if args.node:
        found = settings.node(args.node) if settings else None
        if found is None:
            raise _Usage(f"no saved node named {args.node!r} (see `echoviewer pacs nodes`)")
        node = replace(found)
    elif args.dicomweb:
        node = Node(protocol="dicomweb", dicomweb_url=args.dicomweb)
    elif args.host and args.port and args.called_aet:
        node = Node(host=args.host, port=args.port, called_aet=args.called_aet)
    else:
        raise _Usage("name the node: --host, --port and --called-aet (DIMSE), or --dicomweb URL, or --node NAME")
    if args.node:  # explicit options override the saved node
        if args.dicomweb:
            node.protocol, node.dicomweb_url = "dicomweb", args.dicomweb
        for attr in ("host", "port", "called_aet"):
            if getattr(args, attr) is not None:
                setattr(node, attr, getattr(args, attr))
                node.protocol = "dimse"
    if args.tls is not None:
        node.tls = True
    if args.ca_file:
        node.ca_file = args.ca_file
    if args.timeout is not None:
        node.timeout = args.timeout
    if args.connect_timeout is not None:
        node.connect_timeout = args.connect_timeout
    if getattr(args, "move", False):
        node.retrieve = "move"
    if getattr(args, "move_port", None):
        node.move_port = args.move_port
    calling = args.calling_aet or (settings.calling_aet if settings else "") or "ECHOVIEWER"
    return open_client(node, calling)


def _run(args, action) -> int:
    from echoviewer.pacs.model import PacsError

    try:
        return action(_client(args))
    except (_Usage, PacsError) as exc:
        return _err(str(exc))


class _Counter:
    """'label 5/20' on a terminal, nothing otherwise (scripts read the summary line)."""

    def __init__(self, label: str):
        self.label = label
        self.tty = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if self.tty:
            sys.stderr.write(f"\r{self.label} {done}/{total}")
            sys.stderr.flush()

    def clear(self) -> None:
        if self.tty:
            sys.stderr.write("\r" + " " * 60 + "\r")


def run_echo(args) -> int:
    def action(client) -> int:
        print(f"{client.label}: {client.echo()}")
        return 0

    return _run(args, action)


def run_find(args) -> int:
    from echoviewer.pacs.model import StudyQuery, parse_date_range

    try:
        lo, hi = parse_date_range(args.date)
    except ValueError as exc:
        return _err(str(exc))
    query = StudyQuery(patient_id=args.patient_id, patient_name=args.patient_name, date_from=lo, date_to=hi,
                       accession=args.accession, modality=args.modality.strip(), study_uid=args.study_uid)

    def action(client) -> int:
        studies = client.find_studies(query)
        if args.count_us:
            for s in studies:
                s.n_us = client.count_us(s.study_uid)
        if args.json:
            json.dump([s.to_json() for s in studies], sys.stdout, indent=1)
            print()
            return 0
        for s in studies:
            n = s.n_us if s.n_us is not None else s.n_instances
            print(f"{s.study_date or '-':8}  {s.patient_id or '-':16}  {s.patient_name or '-':24}  "
                  f"{'/'.join(s.modalities) or '-':8}  {n if n is not None else '?':>4}  {s.study_uid}")
        print(f"{len(studies)} stud{'y' if len(studies) == 1 else 'ies'} on {client.label}", file=sys.stderr)
        return 0

    return _run(args, action)


def run_get(args) -> int:
    from echoviewer.pacs.retrieve import retrieve_study

    def action(client) -> int:
        counter = _Counter("instances")
        try:
            result = retrieve_study(client, args.study_uid, Path(args.to), progress=counter)
        except OSError as exc:
            counter.clear()
            return _err(f"{args.to}: cannot write: {exc.strerror or exc}")
        finally:
            counter.clear()
        if args.json:
            print(json.dumps(result.to_json(), indent=1))
        print(f"{result.summary()} -> {result.folder} "
              f"({result.fetched / result.seconds if result.seconds > 0 else 0:.1f} instances/s)", file=sys.stderr)
        return 0

    return _run(args, action)


def run_send(args) -> int:
    from echoviewer.pacs.send import describe, dicom_files

    files = dicom_files(args.paths)
    missing = [p for p in files if not p.is_file()]
    if missing:
        return _err(f"{missing[0]}: no such file")
    if not files:
        return _err("nothing to send: the folders hold no files")

    def action(client) -> int:
        counter = _Counter("sent")
        try:
            report = client.store(files, progress=counter)
        finally:
            counter.clear()
        if args.json:
            print(json.dumps([{"path": str(o.path), "stored": o.ok, "SOPInstanceUID": o.sop_uid,
                               "message": o.message} for o in report.outcomes], indent=1))
        if report.refused:
            return _err(report.summary())
        print(f"{report.summary()} ({describe(o.sop_class for o in report.stored)})", file=sys.stderr)
        return 0

    return _run(args, action)


def run_nodes(args) -> int:
    from echoviewer.pacs.nodes import load_settings, settings_path

    try:
        settings = load_settings()
    except ValueError as exc:
        return _err(str(exc))
    print(f"our AE title: {settings.calling_aet}   ({settings_path()})")
    for n in settings.nodes:
        where = n.dicomweb_url if n.protocol == "dicomweb" else f"{n.called_aet}@{n.host}:{n.port} ({n.retrieve})"
        print(f"{n.name:20}  {n.protocol:8}  {where}{'  TLS' if n.tls else ''}")
    return 0
