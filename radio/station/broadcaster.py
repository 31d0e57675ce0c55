"""Broadcaster stage: one stream of encoded chunks fanned out to every listener.

Fan-out is the cost that grows with listeners, so `publish` does the least per listener it
can: the chunk is framed for HTTP once and the same bytes object goes to every socket with
one `transport.write`; no per-listener task wakes up. A listener whose socket buffer holds
more than `max_lag_seconds` of audio is dropped, so a slow one never holds anyone back.
The fan-out goes `SLICE` listeners per turn of the event loop: 5,000 sockets written in one
turn held the loop for tens of ms, and a listener connecting then waited that long for its
first byte. Each listener still gets every chunk in order: a new chunk first finishes the
fan-out of the one before.
A new listener gets the stream's header (Ogg) and the last `burst_seconds` at once, so its
player starts without waiting. Listeners who ask for ICY metadata get the title inserted
every `ICY_METAINT` bytes, the framing Shoutcast/Icecast players expect.
"""

from __future__ import annotations

import asyncio
import collections

ICY_METAINT = 16000
SLICE = 100   # listeners written per loop turn (≈ 1 ms of sends on asyncio's loop here)


def chunk_frame(data: bytes) -> bytes:
    """HTTP/1.1 chunked transfer framing of one chunk."""
    return b"%x\r\n%b\r\n" % (len(data), data)


def icy_block(title: str) -> bytes:
    """A metadata block: length byte (in 16s) + `StreamTitle='…';` padded with NULs."""
    text = ("StreamTitle='%s';" % title.replace("'", "\u2019")).encode()[: 255 * 16]
    blocks = -(-len(text) // 16)
    return bytes([blocks]) + text.ljust(blocks * 16, b"\0")


class Listener:
    def __init__(self, transport: asyncio.Transport, chunked: bool, icy: bool):
        self.transport = transport
        self.chunked = chunked
        self.icy = icy
        self._until_meta = ICY_METAINT
        self.done: asyncio.Future = asyncio.get_running_loop().create_future()

    def with_metadata(self, data: bytes, block: bytes) -> bytes:
        """`data` with the metadata block inserted wherever this listener's count says."""
        out = []
        while len(data) >= self._until_meta:
            out += [data[: self._until_meta], block]
            data = data[self._until_meta:]
            self._until_meta = ICY_METAINT
        self._until_meta -= len(data)
        out.append(data)
        return b"".join(out)

    def finish(self) -> None:
        if not self.done.done():
            self.done.set_result(None)


class Broadcaster:
    """One per stream format; `header` is what every listener needs before any chunk."""

    def __init__(self, name: str = "mp3", burst_seconds: float = 2.0,
                 max_lag_seconds: float = 10.0, header: bytes = b""):
        self.name = name
        self.header = header
        self.burst_seconds = burst_seconds
        self.max_lag_seconds = max_lag_seconds
        self.title = "latent radio"
        self.listeners: set[Listener] = set()
        self._history: collections.deque[tuple[bytes, float]] = collections.deque()
        self._history_seconds = 0.0
        self._bytes_per_second = 16000.0   # refined from what is published
        self.published_bytes = 0
        self.published_seconds = 0.0
        self.bytes_out = 0
        self.dropped = 0
        self._fanout: list | None = None      # [data, framed, block, listeners, next index]
        self._next_slice: asyncio.Handle | None = None

    @property
    def max_lag_bytes(self) -> int:
        return int(self.max_lag_seconds * self._bytes_per_second)

    @property
    def formats(self) -> tuple[str, ...]:
        return (self.name,)

    @property
    def wanted(self) -> tuple[str, ...]:
        """Its format while someone listens (encoding.py encodes only what is taken)."""
        return self.formats if self.listeners else ()

    def write(self, chunk) -> None:
        """The Sink protocol (sinks.py): a chunk of this stream's format to every listener."""
        self.publish(chunk.data, chunk.seconds)

    def publish(self, data: bytes, seconds: float) -> None:
        self._history.append((data, seconds))
        self._history_seconds += seconds
        while self._history_seconds - self._history[0][1] >= self.burst_seconds:
            self._history_seconds -= self._history.popleft()[1]
        self.published_bytes += len(data)
        self.published_seconds += seconds
        if self.published_seconds > 1.0:
            self._bytes_per_second = self.published_bytes / self.published_seconds
        self._finish_fanout()
        self._fanout = [data, chunk_frame(data), icy_block(self.title), list(self.listeners), 0]
        self._fan_out()

    def _finish_fanout(self) -> None:
        """Writes what is left of the last chunk's fan-out now (order per listener)."""
        if self._next_slice is not None:
            self._next_slice.cancel()
            self._next_slice = None
        while self._fanout is not None:
            self._fan_out(whole=True)

    def _fan_out(self, whole: bool = False) -> None:
        self._next_slice = None
        data, framed, block, targets, start = self._fanout
        end = len(targets) if whole else min(len(targets), start + SLICE)
        limit = self.max_lag_bytes
        for listener in targets[start:end]:
            if listener not in self.listeners:  # left since the chunk came
                continue
            transport = listener.transport
            if transport.is_closing():          # the listener went away
                self.unsubscribe(listener)
                continue
            if transport.get_write_buffer_size() > limit:
                self.dropped += 1
                transport.abort()
                self.unsubscribe(listener)
                continue
            out = listener.with_metadata(data, block) if listener.icy else data
            out = chunk_frame(out) if listener.chunked and listener.icy else \
                (framed if listener.chunked else out)
            transport.write(out)
            self.bytes_out += len(out)
        if end < len(targets):
            self._fanout[4] = end
            self._next_slice = asyncio.get_running_loop().call_soon(self._fan_out)
        else:
            self._fanout = None

    def subscribe(self, transport: asyncio.Transport, chunked: bool = True,
                  icy: bool = False) -> Listener:
        """Registers a listener and writes its header and burst at once."""
        listener = Listener(transport, chunked, icy)
        first = self.opening()
        if icy:
            first = listener.with_metadata(first, icy_block(self.title))
        if first:
            first = chunk_frame(first) if chunked else first
            transport.write(first)
            self.bytes_out += len(first)
        self.listeners.add(listener)
        return listener

    def opening(self) -> bytes:
        """What a new reader needs first: the stream's header (Ogg) and the last burst_seconds."""
        return self.header + b"".join(d for d, _ in self._history)

    def forget_burst(self) -> None:
        """Drops the burst kept so far (the silence before the music: a listener who comes
        once music plays starts with music)."""
        self._history.clear()
        self._history_seconds = 0.0

    def unsubscribe(self, listener: Listener) -> None:
        self.listeners.discard(listener)
        listener.finish()

    def close(self) -> None:
        self._finish_fanout()
        for listener in list(self.listeners):
            self.unsubscribe(listener)
