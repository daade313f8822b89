"""PACS nodes and the app's own AE title, kept as JSON in the user folder (``pacs.json``)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from echoviewer.paths import atomic_write, user_dir

DEFAULT_CALLING_AET = "ECHOVIEWER"
PROTOCOLS = ("dimse", "dicomweb")
RETRIEVE_METHODS = ("get", "move")
DEFAULT_CACHE_MB = 20_000


def check_aet(aet: str, what: str = "AE title") -> str:
    """``aet`` stripped, or ValueError: 1-16 characters of the default repertoire, no backslash."""
    value = aet.strip()
    if not value:
        raise ValueError(f"{what} is empty")
    if len(value) > 16:
        raise ValueError(f"{what} {value!r} is longer than 16 characters")
    if "\\" in value or any(ord(c) < 32 or ord(c) > 126 for c in value):
        raise ValueError(f"{what} {value!r} may hold only printable ASCII characters, no backslash")
    return value


@dataclass
class Node:
    """A DICOM node. ``protocol`` picks the door: DIMSE (host, port, called AE title) or DICOMweb
    (the service's base URL, e.g. http://pacs:8042/dicom-web)."""

    name: str = ""
    host: str = ""
    port: int = 104
    called_aet: str = ""
    dicomweb_url: str = ""
    protocol: str = "dimse"
    retrieve: str = "get"  # "move" for archives that only allow C-MOVE (to our storage SCP)
    move_port: int = 11112  # our storage SCP's port for C-MOVE; the PACS must know our AE title there
    tls: bool = False
    ca_file: str = ""  # PEM file of the CA that signed the node's certificate ("" = system store)
    connect_timeout: float = 5.0  # seconds to open the connection
    timeout: float = 30.0  # seconds for each answer (association, DIMSE message, network, HTTP read)

    @property
    def label(self) -> str:
        """How messages name the node: its name, else AE@host:port or the URL."""
        if self.name:
            return self.name
        if self.protocol == "dicomweb":
            return self.dicomweb_url or "DICOMweb node"
        return f"{self.called_aet or '?'}@{self.host or '?'}:{self.port}"

    def check(self) -> Node:
        """Raise ValueError (one line for the user) when the node cannot be used as it is."""
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}, not {self.protocol!r}")
        if self.retrieve not in RETRIEVE_METHODS:
            raise ValueError(f"retrieve must be one of {', '.join(RETRIEVE_METHODS)}, not {self.retrieve!r}")
        if self.protocol == "dimse":
            if not self.host.strip():
                raise ValueError("host is empty")
            if not 0 < int(self.port) < 65536:
                raise ValueError(f"port {self.port} is not in 1-65535")
            check_aet(self.called_aet, "called AE title")
            if self.retrieve == "move" and not 0 < int(self.move_port) < 65536:
                raise ValueError(f"storage port {self.move_port} (for C-MOVE) is not in 1-65535")
        else:
            url = urlparse(self.dicomweb_url.strip())
            if url.scheme not in ("http", "https") or not url.netloc:
                raise ValueError(f"DICOMweb URL {self.dicomweb_url!r} is not an http(s):// address")
        if self.tls and self.ca_file and not Path(self.ca_file).is_file():
            raise ValueError(f"CA file {self.ca_file} does not exist")
        if not (self.connect_timeout > 0 and self.timeout > 0):
            raise ValueError("timeouts must be positive")
        return self

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Node:
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}
        node = cls(**kw)
        node.port, node.move_port = int(node.port), int(node.move_port)
        node.connect_timeout, node.timeout = float(node.connect_timeout), float(node.timeout)
        node.tls = bool(node.tls)
        return node


@dataclass
class PacsSettings:
    calling_aet: str = DEFAULT_CALLING_AET  # our AE title, as the PACS knows us
    nodes: list[Node] = field(default_factory=list)
    cache_limit_mb: int = DEFAULT_CACHE_MB  # the study cache; oldest-used studies go first

    def node(self, name: str) -> Node | None:
        return next((n for n in self.nodes if n.name == name), None)

    def to_json(self) -> dict[str, Any]:
        return {"calling_aet": self.calling_aet, "cache_limit_mb": self.cache_limit_mb,
                "nodes": [asdict(n) for n in self.nodes]}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> PacsSettings:
        return cls(calling_aet=str(d.get("calling_aet") or DEFAULT_CALLING_AET),
                   nodes=[Node.from_json(n) for n in d.get("nodes", []) if isinstance(n, dict)],
                   cache_limit_mb=int(d.get("cache_limit_mb", DEFAULT_CACHE_MB)))


def settings_path() -> Path:
    return user_dir() / "pacs.json"


def load_settings(path: Path | None = None) -> PacsSettings:
    """The saved settings; defaults when there are none. ValueError (one line) for a damaged file."""
    path = Path(path) if path is not None else settings_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return PacsSettings()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return PacsSettings.from_json(data)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: not a valid PACS settings file ({exc})") from None


def save_settings(settings: PacsSettings, path: Path | None = None) -> Path:
    path = Path(path) if path is not None else settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(settings.to_json(), indent=2).encode("utf-8")
    atomic_write(path, lambda f: f.write(data))
    return path
