"""What a benchmark reads of a running process from /proc (Linux): resident memory."""

from __future__ import annotations


def rss_mb(pid: int | str) -> float:
    """Resident set size of ``pid`` ("self" for this process) in MB; 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0
