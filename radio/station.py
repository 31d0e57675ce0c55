"""The station: a Pipeline (pipeline.py) run in a worker thread, feeding the encoders and
broadcasters in real time.

`Station` runs a Pipeline in a thread, keeps a few rendered segments ahead of
playback, and on the event loop cuts their PCM into 0.25 s chunks at real-time pace,
masters each chunk (radio/master.py: one loudness control, compressor and limiter for
everything that plays, fill included), encodes it once per format (MP3, Ogg/Opus) and
hands it to that format's Broadcaster. Encoding at the pacer keeps every format
sample-continuous even when the generator is late (the last bars loop through the same
master and encoders), and the server never waits on TensorFlow.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
import queue
import threading
import time
from pathlib import Path

import numpy as np

from . import state
from .broadcaster import Broadcaster
from .composer import Anchor
from .config import Settings
from .encoder import Mp3Encoder
from .fallback import LoopFill
from .hls import HlsWriter
from .master import Master
from .mix import MixError, StyleMix
from .opus import OggOpusEncoder
from .pipeline import Pipeline
from .contracts import PART_INDEX, SAMPLE_RATE
from .segment import Segment, part_of
from .votes import Votes

log = logging.getLogger("radio.station")



def _close(pipeline, keep_model: bool = False) -> None:
    close = getattr(pipeline, "close", None)
    if close is not None:
        try:
            close(keep_model=keep_model)
        except Exception:
            log.exception("closing the pipeline")


def _labels(pipeline) -> list[str] | None:
    """The seed segments a mix's endpoints may name; None when the pipeline does not say."""
    anchors = getattr(pipeline, "anchors", None)
    return None if anchors is None else [a.label for a in anchors]


def sound_meta(sound) -> dict:
    """What the page and the segment's MIDI need of the sound preset a segment played with."""
    if sound is None:
        return {}
    return {"sound": sound.name, "programs": {"lead": sound.lead.program, "bass": sound.bass.program,
                                              "drums": sound.drums.kit}}


@dataclasses.dataclass
class Played:
    """A segment as the station plays it: its stream start time and what made it."""
    segment: Segment
    meta: dict
    start: float = 0.0          # stream seconds at which its first sample is published

    def to_json(self, notes: bool = False) -> dict:
        out = {**self.meta, "start": round(self.start, 3)}
        if notes:
            out["notes"] = [[PART_INDEX[part_of(n)], n.pitch, round(n.start_time, 3),
                             round(n.end_time, 3), n.velocity] for n in self.segment.sequence.notes]
        return out


class Station:
    """Generator thread + real-time pacer feeding one Broadcaster per format."""

    CHUNK_SECONDS = 0.25    # PCM is encoded and published in chunks of this length
    AHEAD_SECONDS = 1.0     # published this far ahead of the wall clock

    def __init__(self, settings: Settings, pipeline_factory=Pipeline):
        self.settings = settings
        self._factory = pipeline_factory
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, settings.lead_segments))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._generate, name="generator", daemon=True)
        self._mp3 = Mp3Encoder(settings.bitrate)
        self._ogg = OggOpusEncoder(settings.opus_bitrate)
        self.master = Master(SAMPLE_RATE, settings.loudness_lufs)
        self.streams = {
            "mp3": Broadcaster("mp3", settings.burst_seconds),
            "ogg": Broadcaster("ogg", settings.burst_seconds, header=self._ogg.header),
        }
        self.hls = HlsWriter(Path(settings.data) / "hls") if settings.hls else None
        self.started_at = time.monotonic()
        self.first_audio_at: float | None = None
        self.pipeline: Pipeline | None = None
        self.mix: StyleMix | None = None
        self._pending_mix: StyleMix | None = None
        self._mix_version = 0          # bumped by every mix change; queued segments carry theirs
        self._mix_lock = threading.Lock()   # the event loop sets a mix while the generator takes it
        self._fade_tail = threading.Event()
        self._last_made: int | None = None     # id of the last segment the generator made
        self.segments_generated = 0
        # seconds spent per stage, as [segments, total]: walk + decode + humanize, render
        self.timings = {"decode": [0, 0.0], "render": [0, 0.0]}
        self.underrun_seconds = 0.0
        self.position = 0.0                                   # stream seconds published
        self.current: Played | None = None
        self.history: collections.deque[Played] = collections.deque(maxlen=settings.history_segments)
        self._restore_history()
        self.last_error: str | None = None
        self._pcm: np.ndarray | None = None                   # rest of the current segment
        self._played_pcm: np.ndarray | None = None            # all of it (the fill loops its end)
        self._fill: LoopFill | None = None
        self.restarts = 0
        self._drills: collections.deque[tuple[str, float]] = collections.deque()
        self.votes = Votes()
        self.votes.load(state.load(self.votes_path))
        self._votes_saved = self.votes.version

    # -- requests from the server (event loop thread) -------------------------------
    def set_mix(self, changes: dict) -> StyleMix:
        """Validates and queues a mix change; heard from the next segment boundary."""
        if self.mix is None:
            raise RuntimeError("the station is still starting")
        pipeline = self.pipeline
        mix = self.mix.updated(changes, pipeline.library.sets(),
                               _labels(pipeline))
        with self._mix_lock:
            self.mix = self._pending_mix = mix
            self._mix_version += 1
        self._save_state()
        return mix

    def seeds_changed(self, removed_set: str | None = None) -> None:
        if removed_set and self.mix and removed_set in self.mix.sets:
            sets = {k: v for k, v in self.mix.sets.items() if k != removed_set}
            if not any(w > 0 for w in sets.values()):
                sets = {k: 1.0 for k in self.pipeline.library.sets() if k != removed_set}
            if sets:
                with self._mix_lock:
                    self.mix = self._pending_mix = dataclasses.replace(self.mix, sets=sets)
                    self._mix_version += 1

    def drill(self, fault: str, seconds: float = 0.0) -> None:
        """A fault drill: the generator crashes (`crash`) or hangs `seconds` (`stall`) before
        its next segment, so an operator (or bench/soak.py) can watch the station cope."""
        if fault not in ("crash", "stall"):
            raise ValueError(f"fault {fault!r}: use \"crash\" or \"stall\"")
        self._drills.append((fault, float(seconds)))

    def vote(self, client: str, kind: str, segment_id: int | None = None) -> dict:
        """A listener's like/skip for a played segment (the current one by default)."""
        from .votes import VoteError
        played = self.current if segment_id is None else self.find(segment_id)
        if played is None:
            raise VoteError("nothing is playing yet" if segment_id is None else
                            f"segment {segment_id} is not in the recent history", 404)
        if played.segment.z is None:
            raise VoteError(f"segment {played.segment.id} was played before a restart; vote on a newer one", 409)
        return self.votes.vote(client, played.segment.id, played.segment.z, kind)

    def find(self, segment_id: int) -> Played | None:
        return next((p for p in reversed(self.history) if p.segment.id == segment_id), None)

    def upcoming(self) -> list[Played]:
        """Rendered segments waiting to play, with their predicted start times."""
        out, start = [], self.current.start + self.current.segment.duration if self.current else self.position
        for segment, _, meta, _ in list(self._queue.queue):
            out.append(Played(segment, meta, start))
            start += segment.duration
        return out

    # -- worker thread -------------------------------------------------------------
    def _generate(self) -> None:
        """Builds the pipeline and generates until stopped; after a failure it logs, waits
        (1 s, doubling to 60 s) and starts a fresh pipeline. The fill covers the gap.

        A pipeline that had made music is rebuilt around the same loaded model (a new
        TensorFlow graph per restart would grow memory); one that failed before its first
        segment gets a fresh model too."""
        backoff, model = 1.0, None
        while not self._stop.is_set():
            made, pipeline = self.segments_generated, None
            try:
                pipeline = self._factory(self.settings, model=model) if model else self._factory(self.settings)
                self._generate_with(pipeline)
                _close(pipeline)
                return
            except Exception as e:
                worked = self.segments_generated > made
                model = getattr(pipeline, "model", None) if worked else None
                _close(pipeline, keep_model=model is not None)
                if worked:                     # it had been working: start over at 1 s
                    backoff = 1.0
                log.exception("generator failed; restarting in %.0f s", backoff)
                self.last_error = f"{type(e).__name__}: {e}"
                self.pipeline = None
                if self._stop.wait(backoff):
                    return
                backoff = min(backoff * 2, 60.0)
                self.restarts += 1

    @property
    def votes_path(self) -> Path:
        return Path(self.settings.data) / "votes.json"

    def _save_votes(self) -> None:
        """At most once a segment: votes come in bursts, the disk need not hear each one."""
        if self.votes.version == self._votes_saved:
            return
        try:
            state.save(self.votes_path, self.votes.to_dict())
            self._votes_saved = self.votes.version
        except OSError as e:
            log.error("cannot save votes to %s: %s", self.votes_path, e)

    @property
    def state_path(self) -> Path:
        return Path(self.settings.data) / "state.json"

    def _save_state(self) -> None:
        walk = getattr(self.pipeline, "walk", None)
        here = walk.position.z.tolist() if walk is not None and walk.position is not None else None
        try:
            state.save(self.state_path, {"mix": self.mix.to_dict() if self.mix else None,
                                         "walk_position": here})
        except OSError as e:
            log.error("cannot save the station state to %s: %s", self.state_path, e)

    def _restore(self, pipeline) -> None:
        """The mix and walk position of this run, or else of the last run on disk."""
        saved = state.load(self.state_path)
        mix = self.mix.to_dict() if self.mix is not None else saved.get("mix")
        if mix:
            mix.pop("label", None)
            try:
                pipeline.set_mix(pipeline.mix.updated(mix, pipeline.library.sets(),
                                                      _labels(pipeline)))
            except MixError as e:
                log.error("the saved mix no longer fits the seed sets (%s); using the default mix", e)
        z = saved.get("walk_position")
        walk = getattr(pipeline, "walk", None)
        if walk is not None and isinstance(z, list) and len(z) == len(walk.here.z):
            walk.here = Anchor(z=np.asarray(z, np.float32), qpm=walk.here.qpm, label="restored", set="")

    def _generate_with(self, pipeline) -> None:
        votes_seen = -1
        self._restore(pipeline)
        self.pipeline, self.mix = pipeline, pipeline.mix
        while not self._stop.is_set():
            # every segment: uploads, deletes and `radio seeds import` into the data folder
            # are heard without a restart (listing a few dozen files costs nothing)
            sync = getattr(pipeline, "sync_seeds", None)
            if sync is not None:
                sync()
            with self._mix_lock:   # taken with its version: a later change drops this segment
                mix, self._pending_mix = self._pending_mix, None
                version = self._mix_version
            if mix is not None:
                pipeline.set_mix(mix)
                self._drop_queued(pipeline)
            walk = getattr(pipeline, "walk", None)
            if walk is not None and votes_seen != self.votes.version:
                votes_seen = self.votes.version
                walk.bias = self.votes.bias(pipeline.anchors)
            drill = self._drills.popleft() if self._drills else None
            if drill and drill[0] == "crash":
                raise RuntimeError("fault drill: generator crash")
            if drill:
                log.warning("fault drill: generator stalls %.0f s", drill[1])
                self._stop.wait(drill[1])
            t0 = time.perf_counter()
            segment = pipeline.next_segment()
            t1 = time.perf_counter()
            pcm = pipeline.render(segment)
            for stage, seconds in (("decode", t1 - t0), ("render", time.perf_counter() - t1)):
                self.timings[stage][0] += 1
                self.timings[stage][1] += seconds
            segment.id = self.segments_generated   # ids run on across pipeline restarts
            meta = {**segment.meta(), "mix": pipeline.mix.label(),
                    "temperature": pipeline.mix.temperature, **sound_meta(getattr(pipeline, "sound", None))}
            self.segments_generated += 1
            self.last_error = None
            self._save_state()
            self._save_votes()
            self._last_made = segment.id
            while not self._stop.is_set() and self._pending_mix is None:  # a new mix: drop this one
                try:
                    self._queue.put((segment, pcm, meta, version), timeout=0.2)
                    break
                except queue.Full:
                    continue

    def _drop_queued(self, pipeline) -> None:
        """A new mix is heard from the next segment boundary: segments made ahead under the
        old one never play (the pacer skips them too, by their mix version, if it gets
        there first). The music playing now goes on; the generator is about a second from
        its next segment, and the loop fill covers it if not."""
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        current = self.current.segment if self.current else None
        if self._last_made is not None and (current is None or current.id != self._last_made):
            restart = getattr(pipeline, "restart_after", None)
            if restart is not None:
                restart(current)
            self._fade_tail.set()  # notes the dropped render would have let ring out
            log.info("mix change: segments %s–%s made ahead are dropped",
                     current.id + 1 if current else 0, self._last_made)
            self._last_made = current.id if current else None

    def sound_health(self) -> dict:
        """The preset playing, the master's gain and output loudness, and soundfonts that
        are missing (their presets play on the General MIDI fallback)."""
        renderer = getattr(self.pipeline, "renderer", None)
        level = self.master.output_lufs
        return {"preset": self.current.meta.get("sound") if self.current else None,
                "master_gain_db": round(self.master.gain_db, 2),
                "loudness_lufs": None if level is None else round(level, 2),
                "target_lufs": self.master.target,
                "missing_soundfonts": sorted(getattr(renderer, "missing", ()))}

    @property
    def filling(self) -> bool:
        """True while the stream plays the loop because no new segment is ready."""
        return self._fill is not None

    @property
    def lead_seconds(self) -> float:
        """Audio ready beyond what is published: the generator's lead over playback."""
        queued = sum(s.duration for s, _, _, _ in list(self._queue.queue))
        return queued + (self._pcm.shape[1] / SAMPLE_RATE if self._pcm is not None else 0.0)

    # -- event loop ----------------------------------------------------------------
    def _take(self, n: int) -> np.ndarray:
        """The next n samples: the current segment, then queued ones; while none is ready,
        the last bars looped (see fallback.py), handed over to new music on a bar line."""
        if self._fade_tail.is_set() and self._pcm is not None:
            self._fade_tail.clear()
            k = min(self._pcm.shape[1], int(0.03 * SAMPLE_RATE))
            if k:
                self._pcm = self._pcm.copy()
                self._pcm[:, -k:] *= np.linspace(1.0, 0.0, k, dtype=np.float32)
        parts, need = [], n
        while need:
            if self._pcm is None or not self._pcm.shape[1]:
                if self._fill is None or self._fill.at_bar_line:
                    try:
                        segment, pcm, meta, version = self._queue.get_nowait()
                        if version != self._mix_version:
                            continue  # made under a mix that has changed since
                    except queue.Empty:
                        segment = None
                    if segment is not None:
                        self._start(segment, pcm, meta, self.position + (n - need) / SAMPLE_RATE)
                        continue
                if self._fill is None:
                    last = self.current.segment if self.current else None
                    bar = int(round(4 * 60.0 / last.qpm * SAMPLE_RATE)) if last else 0
                    self._fill = LoopFill(self._played_pcm, bar)
                    log.warning("generator late: looping the last bars")
                part = self._fill.take(need)
                self.underrun_seconds += part.shape[1] / SAMPLE_RATE
            else:
                part, self._pcm = self._pcm[:, :need], self._pcm[:, need:]
            parts.append(part)
            need -= part.shape[1]
        return np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]

    @property
    def history_path(self) -> Path:
        return Path(self.settings.data) / "history"

    def _keep_played(self, played: Played) -> None:
        """The segment as played, on disk: its NoteSequence and meta; the oldest deleted."""
        sid = played.segment.id
        try:
            state.write_atomic(self.history_path / f"{sid}.pb", played.segment.sequence.SerializeToString())
            state.save(self.history_path / f"{sid}.json", {**played.meta, "start": played.start})
            for old in self.history_path.glob("*.json"):
                if old.stem.isdigit() and int(old.stem) <= sid - self.settings.history_segments:
                    old.unlink(missing_ok=True)
                    old.with_suffix(".pb").unlink(missing_ok=True)
        except OSError as e:
            log.error("cannot keep segment %s in %s: %s", sid, self.history_path, e)

    def _restore_history(self) -> None:
        """The last run's played segments, so /api/history and their MIDI survive a restart."""
        import note_seq
        ids = sorted(int(p.stem) for p in self.history_path.glob("*.json") if p.stem.isdigit())
        for sid in ids[-self.settings.history_segments:]:
            meta = state.load(self.history_path / f"{sid}.json")
            try:
                seq = note_seq.NoteSequence.FromString((self.history_path / f"{sid}.pb").read_bytes())
                segment = Segment(id=sid, sequence=seq, qpm=float(meta["qpm"]), bars=int(meta["bars"]),
                                  anchors=tuple(meta["anchors"]), t=float(meta["t"]),
                                  humanized=bool(meta["humanized"]),
                                  start_qpm=float(meta.get("start_qpm", 0.0)),
                                  ramp_beats=float(meta.get("ramp_beats", 0.0)))
            except Exception as e:  # one damaged entry is skipped, not fatal
                log.error("skipping saved segment %s: %s", sid, e)
                continue
            self.history.append(Played(segment, {**meta, "restored": True}, float(meta.get("start", 0))))
        if ids:
            self.segments_generated = ids[-1] + 1     # new ids run on from the last run's

    def _start(self, segment: Segment, pcm: np.ndarray, meta: dict, start: float) -> None:
        if self._fill is not None:
            pcm = self._fill.hand_over(pcm)
            self._fill = None
        self.current = Played(segment, meta, start)
        self.history.append(self.current)
        self._keep_played(self.current)
        self._pcm = self._played_pcm = pcm
        title = f"{meta['mix']} · segment {segment.id} · {meta['qpm']:g} bpm"
        for stream in self.streams.values():
            stream.title = title
        if self.first_audio_at is None:
            self.first_audio_at = time.monotonic()

    def _publish(self, pcm: np.ndarray) -> None:
        pcm = self.master.process(pcm)
        for name, encoder in (("mp3", self._mp3), ("ogg", self._ogg)):
            frames = encoder.encode(pcm)
            if frames:
                data, seconds = b"".join(f.data for f in frames), sum(f.seconds for f in frames)
                self.streams[name].publish(data, seconds)
                if name == "mp3" and self.hls is not None:
                    self.hls.add(data, seconds)
        self.position += pcm.shape[1] / SAMPLE_RATE

    async def run(self) -> None:
        """Paces chunks into the broadcasters until cancelled."""
        self._thread.start()
        loop = asyncio.get_running_loop()
        chunk = int(self.CHUNK_SECONDS * SAMPLE_RATE)
        try:
            while self._queue.empty() and self.last_error is None:
                await asyncio.sleep(0.05)
            clock = loop.time() - self.position  # loop time at which stream time 0 plays
            while True:
                ahead = self.position - (loop.time() - clock)
                if ahead > self.AHEAD_SECONDS:
                    await asyncio.sleep(ahead - self.AHEAD_SECONDS + 0.005)
                    continue
                self._publish(self._take(chunk))
                await asyncio.sleep(0)  # catching up after a stall must not starve requests
        finally:
            self._stop.set()

    def close(self) -> None:
        for stream in self.streams.values():
            stream.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
