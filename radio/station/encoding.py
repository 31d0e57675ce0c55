"""Encoders stage: the mastered PCM encoded to each stream format somebody takes.

A format is encoded while it has a taker: a listener of its stream, or a sink that takes
it whether or not anyone listens (HLS: MP3; the Icecast push: both). The two encoders
cost about 0.03 CPU s per audio second together (docs/measured.md), and most of the time
nobody listens to the Ogg stream. The last `burst_seconds` of mastered audio are kept, so
a format taken again (its first listener) starts with a fresh encoder from there: the
listener's burst comes at the next pacer tick (0.25 s), with no stale audio. A format is
let go only after `LINGER` seconds without a taker, so a client that connects and leaves
over and over costs one burst's encoding every `LINGER` seconds at most.
"""

from __future__ import annotations

import collections
from typing import Callable

import numpy as np

from .sinks import Chunk

LINGER = 10.0       # seconds a format is still encoded after its last taker went


class Encoding:
    def __init__(self, factories: dict[str, Callable], burst_seconds: float, sample_rate: int):
        """`factories`: format → a callable making its encoder (encode(pcm) → frames)."""
        self._factories = factories
        self._encoders: dict = {}                   # the formats being encoded
        self._idle: dict[str, float] = {}           # format → seconds without a taker
        self._recent: collections.deque = collections.deque()
        self._recent_frames = 0
        self._burst_frames = int(burst_seconds * sample_rate)
        self._rate = sample_rate
        self.started = {fmt: 0 for fmt in factories}   # times each format was taken up again

    @property
    def running(self) -> tuple[str, ...]:
        return tuple(self._encoders)

    def encode(self, pcm: np.ndarray, wanted) -> tuple[list[Chunk], list[str]]:
        """(the chunks of `pcm` for each format wanted or lingering, the formats let go now)."""
        chunks, stopped = [], []
        for fmt, factory in self._factories.items():
            encoder = self._encoders.get(fmt)
            if fmt in wanted:
                self._idle[fmt] = 0.0
            elif encoder is not None:
                self._idle[fmt] += pcm.shape[1] / self._rate
                if self._idle[fmt] >= LINGER:
                    del self._encoders[fmt]
                    stopped.append(fmt)
                    continue
            if fmt in wanted and encoder is None:       # taken up: from the kept audio on
                encoder = self._encoders[fmt] = factory()
                self.started[fmt] += 1
                frames = encoder.encode(np.concatenate([*self._recent, pcm], axis=1))
            elif encoder is not None:
                frames = encoder.encode(pcm)
            else:
                continue
            if frames:
                chunks.append(Chunk(fmt, b"".join(f.data for f in frames), sum(f.seconds for f in frames)))
        self._keep(pcm)
        return chunks, stopped

    def _keep(self, pcm: np.ndarray) -> None:
        self._recent.append(pcm)
        self._recent_frames += pcm.shape[1]
        while self._recent and self._recent_frames - self._recent[0].shape[1] >= self._burst_frames:
            self._recent_frames -= self._recent.popleft().shape[1]
