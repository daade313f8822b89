"""The loop files of a batch: every candidate under a folder (as `echoviewer analyze` picks them) or
the paths listed in a file, yielded one at a time (nothing is opened here)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from echoviewer.io.study import iter_candidates


def iter_paths(root: str | os.PathLike | None = None, files_from: str | os.PathLike | None = None) -> Iterator[str]:
    """Paths as strings, in walk order (sorted names, depth first) or in the list's order.

    ``files_from``: one path per line; blank lines and lines starting with ``#`` are ignored; "-" is
    stdin. A listed path is analysed as given (a Slurm array task gets one shard of such a list).
    """
    if files_from is not None:
        yield from _listed(files_from)
        return
    if root is None:
        raise ValueError("give a folder or a list of paths")
    p = Path(root)
    if p.is_file():
        yield str(p)
        return
    for path in iter_candidates(p):
        yield str(path)


def _listed(files_from: str | os.PathLike) -> Iterator[str]:
    import sys

    stream = sys.stdin if str(files_from) == "-" else open(files_from, encoding="utf-8")
    try:
        for line in stream:
            line = line.strip()
            if line and not line.startswith("#"):
                yield line
    finally:
        if stream is not sys.stdin:
            stream.close()


def count_paths(root: str | os.PathLike | None = None, files_from: str | os.PathLike | None = None) -> int | None:
    """How many paths ``iter_paths`` will yield (a walk of names only, for the ETA); None for stdin."""
    if files_from is not None and str(files_from) == "-":
        return None
    return sum(1 for _ in iter_paths(root, files_from))
