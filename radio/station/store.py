"""The station's memory on disk: state.json (mix, walk position), votes.json and the played
segments (history/<id>.json and <id>.mid), all in the data folder.

Every write goes through one thread of its own, in order, so the event loop never waits on
a disk, and each is atomic (state.write_atomic: temporary file, fsync, rename, fsync of the
folder): a crash or `kill -9` mid-write leaves the last good file. Reads happen at start.
A failed write is logged and counted, never fatal.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
from pathlib import Path

from ..contracts import PlayMeta, SegmentData
from ..support import state

log = logging.getLogger("radio.store")


class Store:
    def __init__(self, folder: Path, history_segments: int = 32):
        self.folder = Path(folder)
        self.history_segments = history_segments
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="store")
        self.write_errors = 0
        self.last_error: str | None = None

    @property
    def state_path(self) -> Path:
        return self.folder / "state.json"

    @property
    def votes_path(self) -> Path:
        return self.folder / "votes.json"

    @property
    def history_path(self) -> Path:
        return self.folder / "history"

    # -- reads (at start) --------------------------------------------------------------
    def load_state(self) -> dict:
        return state.load(self.state_path)

    def load_votes(self) -> dict:
        return state.load(self.votes_path)

    def load_history(self) -> list[tuple[SegmentData, PlayMeta, float, bytes]]:
        """The last run's played segments, oldest first; a damaged entry is skipped."""
        ids = sorted(int(p.stem) for p in self.history_path.glob("*.json") if p.stem.isdigit())
        out = []
        for sid in ids[-self.history_segments:]:
            data = state.load(self.history_path / f"{sid}.json")
            try:
                meta = PlayMeta.from_dict(data["meta"])
                meta.restored = True
                seg = SegmentData(id=sid, qpm=float(meta.qpm), bars=int(meta.bars), seconds=float(meta.seconds),
                                  notes=list(data.get("notes", [])))
                midi = (self.history_path / f"{sid}.mid").read_bytes()
            except Exception as e:  # noqa: BLE001  one damaged entry is skipped, not fatal
                log.error("skipping saved segment %s: %s", sid, e)
                continue
            out.append((seg, meta, float(data.get("start", 0.0)), midi))
        return out

    def last_history_id(self) -> int | None:
        ids = [int(p.stem) for p in self.history_path.glob("*.json") if p.stem.isdigit()]
        return max(ids) if ids else None

    # -- writes (off the event loop, in order) -----------------------------------------
    def _submit(self, what: str, fn, *args) -> concurrent.futures.Future:
        def run():
            try:
                fn(*args)
            except OSError as e:
                self.write_errors += 1
                self.last_error = f"{what}: {e}"
                log.error("cannot save %s: %s", what, e)
        return self._pool.submit(run)

    def save_state(self, data: dict) -> concurrent.futures.Future:
        return self._submit(f"the station state to {self.state_path}", state.save, self.state_path, data)

    def save_votes(self, data: dict) -> concurrent.futures.Future:
        return self._submit(f"votes to {self.votes_path}", state.save, self.votes_path, data)

    def keep_played(self, segment: SegmentData, meta: PlayMeta, start: float, midi: bytes) -> concurrent.futures.Future:
        """The segment as played: its notes and meta, and its MIDI; the oldest are deleted."""
        body = json.dumps({"meta": meta.to_dict(), "start": start, "notes": segment.notes}).encode()
        return self._submit(f"segment {segment.id} in {self.history_path}", self._keep, segment.id, body, midi)

    def _keep(self, sid: int, body: bytes, midi: bytes) -> None:
        state.write_atomic(self.history_path / f"{sid}.mid", midi)
        state.write_atomic(self.history_path / f"{sid}.json", body)
        for old in self.history_path.glob("*.json"):
            if old.stem.isdigit() and int(old.stem) <= sid - self.history_segments:
                old.unlink(missing_ok=True)
                old.with_suffix(".mid").unlink(missing_ok=True)
        for old in self.history_path.glob("*.pb"):     # the format before the .mid files
            old.unlink(missing_ok=True)

    def flush(self, timeout: float = 10.0) -> None:
        """Waits for the writes submitted so far."""
        self._pool.submit(lambda: None).result(timeout)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
