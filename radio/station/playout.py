"""Playout stage: `Rendered` segments in, PCM at the stream's pace out, and never nothing.

Liquidsoap's shape: sources, and one operator over them. The broadcast is

    Fallback(Generated(), Loop(generated), Silence())

so whatever the generator does, `take(n)` returns n samples: the generated music while
there is some; when the generator is late, the last bars played, looped (fallback.py);
before any music has played, silence. The fallback goes back up to the generated source
as soon as a segment is ready, from the loop only on one of its bar lines (crossfaded),
so the listener hears a repeat, never a gap or a cut beat.
"""

from __future__ import annotations

import collections
import logging
from typing import Callable, Protocol

import numpy as np

from ..contracts import SAMPLE_RATE, PlayMeta, Rendered, SegmentData
from .fallback import LoopFill

log = logging.getLogger("radio.playout")
TAIL_FADE = int(0.03 * SAMPLE_RATE)      # a segment cut short by a mix change fades out


class Source(Protocol):
    """A source of stereo float32 PCM at SAMPLE_RATE. `ready`: it can give samples now (a
    source that is never unready cannot fail, and only such a source may end a fallback).
    `take(n)` gives 1…n samples, stopping early at a point where the operator may switch
    (a segment's end, a loop's bar line)."""
    name: str

    @property
    def ready(self) -> bool: ...

    def take(self, n: int) -> np.ndarray: ...


class Played:
    """A segment as the station plays it: its stream start time and what made it."""

    def __init__(self, segment: SegmentData, meta: PlayMeta, start: float = 0.0, midi: bytes = b""):
        self.segment, self.meta, self.start, self.midi = segment, meta, start, midi

    def to_json(self, notes: bool = False) -> dict:
        out = {**self.meta.to_dict(), "start": round(self.start, 3)}
        if notes:
            out["notes"] = self.segment.notes
        return out


class Generated:
    """The generator's segments, in order; items made under an old mix version are dropped."""
    name = "generated"

    def __init__(self, on_start: Callable[[Played, Rendered], None] = lambda played, item: None):
        self.queue: collections.deque[Rendered] = collections.deque()
        self.mix_version = 0
        self.on_start = on_start
        self.current: Played | None = None
        self.position = 0.0          # stream seconds, set by the fallback before each take
        self._pcm: np.ndarray | None = None        # rest of the current segment
        self.played_pcm: np.ndarray | None = None  # all of it (the loop repeats its end)
        self._fade_in: np.ndarray | None = None    # added over the start of the next segment

    def push(self, item: Rendered) -> bool:
        if item.mix_version != self.mix_version:
            return False
        self.queue.append(item)
        return True

    def set_mix_version(self, version: int) -> None:
        """Segments made under an older mix never play; the one playing ends with a short fade
        (the notes it would have let ring into the dropped segment are gone)."""
        self.mix_version = version
        self.queue = collections.deque(r for r in self.queue if r.mix_version == version)
        if self._pcm is not None and self._pcm.shape[1]:
            k = min(self._pcm.shape[1], TAIL_FADE)
            self._pcm = self._pcm.copy()
            self._pcm[:, -k:] *= np.linspace(1.0, 0.0, k, dtype=np.float32)

    @property
    def playing(self) -> bool:
        return self._pcm is not None and self._pcm.shape[1] > 0

    @property
    def ready(self) -> bool:
        return self.playing or bool(self.queue)

    @property
    def bar_samples(self) -> int:
        last = self.current.segment if self.current else None
        return int(round(4 * 60.0 / last.qpm * SAMPLE_RATE)) if last else 0

    @property
    def lead_seconds(self) -> float:
        return sum(r.audio.seconds for r in self.queue) + \
            (self._pcm.shape[1] / SAMPLE_RATE if self._pcm is not None else 0.0)

    def fade_in(self, pcm: np.ndarray) -> None:
        """Mixes `pcm` (a fading-out continuation of what played before) over the next start."""
        self._fade_in = pcm

    def take(self, n: int) -> np.ndarray:
        if not self.playing:
            item = self.queue.popleft()
            pcm = item.audio.samples
            if self._fade_in is not None:
                k = min(self._fade_in.shape[1], pcm.shape[1])
                pcm = pcm.copy()
                pcm[:, :k] += self._fade_in[:, :k]
                self._fade_in = None
            self._pcm = self.played_pcm = pcm
            self.current = Played(item.segment, item.meta, self.position, item.midi)
            self.on_start(self.current, item)
        part, self._pcm = self._pcm[:, :n], self._pcm[:, n:]
        return part


class Loop:
    """The last bars the generated source played, looped (see fallback.py); ready once
    music has played. Each time the fallback falls to it, it loops the newest bars."""
    name = "loop"

    def __init__(self, generated: Generated):
        self.generated = generated
        self.fill: LoopFill | None = None

    @property
    def ready(self) -> bool:
        return self.generated.played_pcm is not None and self.generated.bar_samples > 0

    def begin(self) -> None:
        self.fill = LoopFill(self.generated.played_pcm, self.generated.bar_samples)

    @property
    def at_boundary(self) -> bool:
        return self.fill is None or self.fill.at_bar_line

    def take(self, n: int) -> np.ndarray:
        return self.fill.take(n)

    def hand_over(self, generated: Generated) -> None:
        generated.fade_in(self.fill.tail())
        self.fill = None


class Silence:
    """Digital silence: always ready; the fallback's last resort (before any music)."""
    name = "silence"
    ready = True
    at_boundary = True

    def take(self, n: int) -> np.ndarray:
        return np.zeros((2, n), np.float32)


class Fallback:
    """The broadcast: the first ready of generated, loop, silence. It cannot fail."""

    def __init__(self, generated: Generated):
        self.generated = generated
        self.loop = Loop(generated)
        self.silence = Silence()
        self.active: Generated | Loop | Silence = self.silence
        self.position = 0.0                 # stream seconds taken
        self.fill_seconds = 0.0             # seconds of loop or silence after music first played

    @property
    def filling(self) -> bool:
        """True while music has played but the stream is not playing the generated source."""
        return self.active is not self.generated and self.loop.ready

    def _choose(self) -> None:
        gen = self.generated
        if self.active is not gen and gen.ready and self.active.at_boundary:
            if self.active is self.loop:
                self.loop.hand_over(gen)
            log.info("playout: %s → generated", self.active.name)
            self.active = gen
        if self.active is gen and not gen.ready:
            if self.loop.ready:
                self.loop.begin()
                self.active = self.loop
                log.warning("generator late: looping the last bars")
            else:
                self.active = self.silence

    def take(self, n: int) -> np.ndarray:
        parts, need = [], n
        while need:
            self._choose()
            src = self.active
            self.generated.position = self.position + (n - need) / SAMPLE_RATE
            part = src.take(need)
            if src is not self.generated and self.loop.ready:
                self.fill_seconds += part.shape[1] / SAMPLE_RATE
            parts.append(part)
            need -= part.shape[1]
        self.position += n / SAMPLE_RATE
        return np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]
