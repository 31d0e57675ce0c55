"""Outputs stage: encoded chunks to every sink, and a failing sink never stops the others.

A `Sink` takes the chunks of its formats (`write` raises when it cannot); one that takes
them only at times says which it takes now in `wanted`, and only those are encoded. The
broadcasters (MP3, Ogg/Opus), HLS and the Icecast push are sinks. `Outputs` hands each
chunk to each sink; a sink that raises is logged, counted (/metrics), named in /healthz
and skipped until its retry time (1 s, doubling to 30 s), then tried again; the first
write that works again is logged as its recovery. The pacer and the other sinks go on.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import time
from pathlib import Path
from typing import Protocol

from ..contracts import RadioError

log = logging.getLogger("radio.sinks")


@dataclasses.dataclass(frozen=True)
class Chunk:
    """Encoded audio of one format, whole frames, and how many seconds it holds."""
    format: str          # "mp3" or "ogg"
    data: bytes
    seconds: float


class SinkError(RadioError):
    """A sink cannot take chunks now (its message says why)."""
    status = 502


class Sink(Protocol):
    name: str
    formats: tuple[str, ...]

    def write(self, chunk: Chunk) -> None: ...

    def close(self) -> None: ...


@dataclasses.dataclass
class SinkState:
    failures: int = 0                 # failed writes, ever
    failing_since: float | None = None
    last_error: str | None = None
    retry_at: float = 0.0
    backoff: float = 0.0

    def to_json(self, now: float) -> dict:
        return {"ok": self.failing_since is None, "failures": self.failures, "last_error": self.last_error,
                "failing_seconds": None if self.failing_since is None else round(now - self.failing_since, 1)}


class Outputs:
    """The sinks and their health. `write` never raises."""

    FIRST_BACKOFF, MAX_BACKOFF = 1.0, 30.0

    def __init__(self, sinks=(), clock=time.monotonic):
        self.sinks: list = []
        self.state: dict[str, SinkState] = {}
        self.clock = clock
        for sink in sinks:
            self.add(sink)

    def add(self, sink) -> None:
        self.sinks.append(sink)
        self.state[sink.name] = SinkState()

    def wanted(self) -> set[str]:
        """The formats some sink takes now: a sink's `wanted` (a broadcaster's formats while
        it has listeners), else all its formats."""
        return {fmt for sink in self.sinks for fmt in getattr(sink, "wanted", sink.formats)}

    def write(self, chunk: Chunk) -> None:
        now = None
        for sink in self.sinks:
            if chunk.format not in sink.formats:
                continue
            st = self.state[sink.name]
            if st.failing_since is not None:
                now = now or self.clock()
                if now < st.retry_at:
                    continue
            try:
                sink.write(chunk)
            except Exception as e:  # any sink's failure is reported, none stops the others
                self._failed(sink.name, st, e)
            else:
                if st.failing_since is not None:
                    log.warning("output %s: working again after %.0f s", sink.name,
                                self.clock() - st.failing_since)
                    st.failing_since, st.backoff = None, 0.0

    def _failed(self, name: str, st: SinkState, e: Exception) -> None:
        now = self.clock()
        st.failures += 1
        st.last_error = f"{type(e).__name__}: {e}"
        st.backoff = min(st.backoff * 2, self.MAX_BACKOFF) if st.backoff else self.FIRST_BACKOFF
        st.retry_at = now + st.backoff
        if st.failing_since is None:
            st.failing_since = now
            log.error("output %s failed: %s; retrying in %.0f s", name, st.last_error, st.backoff)
        else:
            log.warning("output %s still failing: %s; retrying in %.0f s", name, st.last_error, st.backoff)

    @property
    def failing(self) -> list[str]:
        return [name for name, st in self.state.items() if st.failing_since is not None]

    def health(self) -> dict:
        now = self.clock()
        return {name: st.to_json(now) for name, st in self.state.items()}

    def close(self) -> None:
        for sink in self.sinks:
            try:
                sink.close()
            except Exception:
                log.exception("closing output %s", sink.name)


class HlsSink:
    """The MP3 stream cut into HLS segments (hls.py). Remuxing and the file writes run on a
    thread of their own, never on the event loop; a write that failed there is raised by
    the next `write`, so Outputs reports it and retries. A removed folder is made again."""
    formats = ("mp3",)

    def __init__(self, folder: Path, target_seconds: float = 6.0, keep: int = 6, name: str = "hls"):
        from .hls import HlsWriter
        self.name = name
        self.writer = HlsWriter(folder, target_seconds, keep)
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="hls")
        self._pending: list[concurrent.futures.Future] = []

    @property
    def folder(self) -> Path:
        return self.writer.folder

    def write(self, chunk: Chunk) -> None:
        job = self.writer.gather(chunk.data, chunk.seconds)
        if job is not None:
            if len(self._pending) >= 3:
                raise SinkError("the disk is slower than the stream: 3 HLS segments wait to be written")
            self._pending.append(self._pool.submit(self.writer.cut, *job))
        done = [f for f in self._pending if f.done()]
        self._pending = [f for f in self._pending if not f.done()]
        for f in done:
            f.result()             # raises what went wrong in a cut

    def close(self) -> None:
        self._pool.shutdown(wait=True)
