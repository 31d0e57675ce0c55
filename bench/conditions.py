"""The conditions a bench's figures hold under, printed with them (issue 31): the CPU, the
BLAS library with its kernel and threads, the load before and after, the commit.

    from conditions import Conditions
    with Conditions() as c:      # prints the conditions and the load before
        ...                      # the measurement
    # on leaving, prints the load after
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from pathlib import Path

ROOT = Path(__file__).parent.parent


def spread(values, fmt: str = ".2f") -> str:
    """A figure as the benches quote it: the median, then the lowest–highest in brackets."""
    return f"{statistics.median(values):{fmt}} ({min(values):{fmt}}–{max(values):{fmt}})"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def blas() -> str:
    """Each BLAS/OpenMP library numpy and scipy loaded: name, version, kernel, threads."""
    import numpy  # noqa: F401  (loads its BLAS)
    from threadpoolctl import threadpool_info
    libs = [f"{i.get('internal_api')} {i.get('version')} kernel {i.get('architecture', '?')} "
            f"{i.get('num_threads')} threads" for i in threadpool_info()]
    return "; ".join(libs) or "none found"


def commit() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        return rev + (" + uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


class Conditions:
    def __enter__(self) -> "Conditions":
        print(f"# {cpu_model()}, {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable); "
              f"BLAS: {blas()}; commit {commit()}; Python {platform.python_version()}", flush=True)
        print(f"# load before (1, 5, 15 min): {load()}", flush=True)
        return self

    def __exit__(self, *exc) -> None:
        print(f"# load after (1, 5, 15 min): {load()}", flush=True)
