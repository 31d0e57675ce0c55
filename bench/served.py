"""A real station for the benches: `radio serve` in its own process on a free loopback port,
stopped on leaving.

    with served(data_folder, {"RADIO_ADMIN_TOKEN": token}) as (base_url, process):
        ...
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(data: str, env: dict | None = None, repo: str | None = None):
    """(its URL, its process); `repo`: run the station of another checkout (e.g. a worktree)."""
    port = free_port()
    full = {**os.environ, "RADIO_DATA": str(data), "RADIO_LOG_FORMAT": "text", "TF_USE_LEGACY_KERAS": "1",
            **({"PYTHONPATH": repo} if repo else {}), **(env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "radio", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=full, cwd=repo, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield f"http://127.0.0.1:{port}", proc
    finally:
        proc.terminate()
        proc.wait(60)
