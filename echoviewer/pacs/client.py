"""The door a node uses: ``open_client(node, calling_aet)`` -> a DIMSE or a DICOMweb client."""

from __future__ import annotations

from echoviewer.pacs.model import Client, PacsError
from echoviewer.pacs.nodes import Node, check_aet


def open_client(node: Node, calling_aet: str) -> Client:
    """A client for ``node`` (checked first: PacsError naming the node when it is incomplete)."""
    try:
        node.check()
    except ValueError as exc:
        raise PacsError(f"{node.label}: {exc}") from None
    if node.protocol == "dicomweb":
        from echoviewer.pacs.dicomweb import DicomwebClient

        return DicomwebClient(node)
    from echoviewer.pacs.dimse import DimseClient
    try:
        aet = check_aet(calling_aet, "our AE title")
    except ValueError as exc:
        raise PacsError(f"{node.label}: {exc}") from None
    return DimseClient(node, aet)
