"""The station's state on disk: one JSON file, replaced atomically.

Written to a temporary file in the same folder, fsynced, then renamed over the old one, so a
crash or `kill -9` mid-write leaves the last good state; a file that cannot be read is
reported and ignored, never fatal.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

from ..contracts import BadValue

log = logging.getLogger("radio.state")


def save(path: Path, state: dict) -> None:
    write_atomic(path, json.dumps(state).encode())


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # one temporary name per thread: the generator and the event loop both save state
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)  # the rename itself survives a power cut
    finally:
        os.close(fd)


def load(path: Path) -> dict:
    try:
        with open(path) as f:
            state = json.load(f)
        if not isinstance(state, dict):
            raise BadValue("not a JSON object")
        return state
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        log.error("ignoring unreadable state file %s: %s", path, e)
        return {}
