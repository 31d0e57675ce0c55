"""The whole chain, assembled: seeds → model → composer → performer → renderer → encoder.

`Pipeline` is the synchronous chain (used by `radio generate` and by the station's worker
thread). `Station` runs a Pipeline in a thread, keeps a few segments ahead of playback,
and paces encoded frames into the Broadcaster at real-time rate on the event loop, so the
server never waits on TensorFlow.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import queue
import threading
import time
from pathlib import Path

import numpy as np

from .broadcaster import Broadcaster
from .composer import Anchor, LatentWalk
from .config import Settings, find_soundfont
from .encoder import Frame, Mp3Encoder
from .performer import humanize
from .renderer import Renderer
from .segment import Segment

log = logging.getLogger("radio.station")


def load_anchors(model, seeds_dir: Path) -> list[Anchor]:
    """Encodes every trio segment of the seed folder; the walk's anchors."""
    from . import seeds
    segments, reports = seeds.import_folder(seeds_dir, model.converter)
    for report in reports:
        log.info("seed %s", report.line())
    if not segments:
        raise RuntimeError(f"no usable seed segments under {seeds_dir}: "
                           + "; ".join(r.line() for r in reports[:5]))
    z = model.encode([s.tensor for s in segments])
    return [Anchor(z=zi, qpm=s.qpm, label=f"{Path(s.source).stem}@{s.start_bar}")
            for zi, s in zip(z, segments)]


class Pipeline:
    """Model, walk, performer and renderer, driven one segment at a time."""

    def __init__(self, settings: Settings, model=None):
        from .model import TrioModel
        self.settings = settings
        self.model = model or TrioModel(settings.model)
        self.anchors = load_anchors(self.model, Path(settings.seeds))
        self.walk = LatentWalk(self.model, self.anchors, settings.steps_per_leg,
                               settings.temperature, settings.qpm, settings.seed)
        self.renderer = Renderer(find_soundfont(settings.soundfont), settings.lead_program,
                                 settings.bass_program)

    def next_segment(self) -> Segment:
        segment = next(self.walk)
        return humanize(segment, seed=self.settings.seed) if self.settings.humanize else segment

    def render(self, segment: Segment) -> np.ndarray:
        return self.renderer.render(segment)


class Station:
    """Generator thread + real-time pacer feeding a Broadcaster."""

    CHUNK_SECONDS = 0.25    # frames are published in groups of about this length
    AHEAD_SECONDS = 1.0     # published this far ahead of the wall clock

    def __init__(self, settings: Settings, broadcaster: Broadcaster, pipeline_factory=Pipeline):
        self.settings = settings
        self.broadcaster = broadcaster
        self._factory = pipeline_factory
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, settings.lead_segments))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._generate, name="generator", daemon=True)
        self.started_at = time.monotonic()
        self.first_audio_at: float | None = None
        self.segments_generated = 0
        self.underrun_seconds = 0.0
        self.now_playing: dict | None = None
        self.last_error: str | None = None
        self._silence = self._silence_frames()

    def _silence_frames(self) -> list[Frame]:
        enc = Mp3Encoder(self.settings.bitrate)
        frames = enc.encode(np.zeros((2, 44100), np.float32))
        return frames[4:4 + int(self.CHUNK_SECONDS / frames[0].seconds) + 1]

    # -- worker thread -------------------------------------------------------------
    def _generate(self) -> None:
        try:
            pipeline = self._factory(self.settings)
            encoder = Mp3Encoder(self.settings.bitrate)
            while not self._stop.is_set():
                t0 = time.process_time()
                segment = pipeline.next_segment()
                frames = encoder.encode(pipeline.render(segment))
                meta = segment.meta()
                meta["cpu_seconds"] = round(time.process_time() - t0, 3)
                self.segments_generated += 1
                while not self._stop.is_set():
                    try:
                        self._queue.put((meta, frames), timeout=0.2)
                        break
                    except queue.Full:
                        continue
        except Exception as e:  # the pacer keeps the stream going on silence
            log.exception("generator failed")
            self.last_error = f"{type(e).__name__}: {e}"

    @property
    def lead_seconds(self) -> float:
        return sum(sum(f.seconds for f in frames) for _, frames in list(self._queue.queue))

    # -- event loop ----------------------------------------------------------------
    async def run(self) -> None:
        """Paces frames into the broadcaster until cancelled."""
        self._thread.start()
        pending: collections.deque[Frame] = collections.deque()
        clock: float | None = None     # loop time at which stream time 0 plays
        sent = 0.0                     # stream seconds published
        loop = asyncio.get_running_loop()
        try:
            while True:
                if not pending:
                    try:
                        meta, frames = self._queue.get_nowait()
                        pending = collections.deque(frames)
                        self.now_playing = meta
                        if self.first_audio_at is None:
                            self.first_audio_at = time.monotonic()
                    except queue.Empty:
                        pass
                if clock is None:
                    if not pending and self.last_error is None:
                        await asyncio.sleep(0.05)
                        continue
                    clock = loop.time()
                if sent > loop.time() - clock + self.AHEAD_SECONDS:
                    await asyncio.sleep(min(self.CHUNK_SECONDS, sent - (loop.time() - clock) - self.AHEAD_SECONDS + 0.01))
                    continue
                if pending:
                    chunk, seconds = [], 0.0
                    while pending and seconds < self.CHUNK_SECONDS:
                        frame = pending.popleft()
                        chunk.append(frame.data)
                        seconds += frame.seconds
                else:  # generator late: keep the byte clock going with silence
                    chunk = [f.data for f in self._silence]
                    seconds = sum(f.seconds for f in self._silence)
                    self.underrun_seconds += seconds
                self.broadcaster.publish(b"".join(chunk), seconds)
                sent += seconds
        finally:
            self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
