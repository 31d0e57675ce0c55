"""Broadcaster stage: one stream of encoded chunks fanned out to every listener.

`publish` never waits for a listener: each listener has its own queue, written to in
whole chunks; one that falls more than `max_lag_seconds` behind is dropped. A new listener
first gets the last `burst_seconds` at once, so its player starts without waiting.
"""

from __future__ import annotations

import asyncio
import collections


class Listener:
    def __init__(self, burst: bytes, burst_seconds: float):
        self._chunks: collections.deque[bytes] = collections.deque([burst] if burst else [])
        self.queued_seconds = burst_seconds
        self._event = asyncio.Event()
        if burst:
            self._event.set()
        self.closed = False

    def push(self, data: bytes, seconds: float) -> None:
        self._chunks.append(data)
        self.queued_seconds += seconds
        self._event.set()

    def close(self) -> None:
        self.closed = True
        self._event.set()

    async def get(self) -> bytes:
        """Everything queued so far, as one write; b'' once closed."""
        await self._event.wait()
        self._event.clear()
        data = b"".join(self._chunks)
        self._chunks.clear()
        self.queued_seconds = 0.0
        return b"" if self.closed else data


class Broadcaster:
    def __init__(self, burst_seconds: float = 2.0, max_lag_seconds: float = 10.0):
        self.burst_seconds = burst_seconds
        self.max_lag_seconds = max_lag_seconds
        self.listeners: set[Listener] = set()
        self._history: collections.deque[tuple[bytes, float]] = collections.deque()
        self._history_seconds = 0.0
        self.bytes_out = 0
        self.dropped = 0

    def publish(self, data: bytes, seconds: float) -> None:
        self._history.append((data, seconds))
        self._history_seconds += seconds
        while self._history_seconds - self._history[0][1] >= self.burst_seconds:
            self._history_seconds -= self._history.popleft()[1]
        for listener in list(self.listeners):
            if listener.queued_seconds > self.max_lag_seconds:
                self.dropped += 1
                self.unsubscribe(listener)
                continue
            listener.push(data, seconds)
            self.bytes_out += len(data)

    def subscribe(self) -> Listener:
        burst = b"".join(d for d, _ in self._history)
        listener = Listener(burst, self._history_seconds)
        self.bytes_out += len(burst)
        self.listeners.add(listener)
        return listener

    def unsubscribe(self, listener: Listener) -> None:
        self.listeners.discard(listener)
        listener.close()

    def close(self) -> None:
        for listener in list(self.listeners):
            self.unsubscribe(listener)
