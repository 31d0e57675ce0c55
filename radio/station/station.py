"""The station: sources → operators → outputs, in the server process.

    generator process ──Rendered──► Fallback(generated, loop, silence) ─► master ─► MP3, Opus
    (generator.py, supervised)          (playout.py)                     encoders ─► Outputs:
                                                                                    broadcasters,
                                                                                    HLS, Icecast

The pacer (`run`) takes 0.25 s of PCM from the fallback at real-time pace, masters it
(radio/master.py: everything that plays, fill included, goes through one master), encodes
it once per format and hands the chunks to the outputs (sinks.py). The fallback cannot
fail, so from the first second the stream carries audio: silence before the first segment,
the looped last bars when the generator is late. A failing output is retried and reported;
a pacer that raises is restarted (and /healthz says error meanwhile); the generator process
is restarted when it dies or hangs. History, state and votes are written by the store
(store.py), off the event loop.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import signal
import time
import types
from pathlib import Path

import numpy as np

from ..config import IcecastTarget, Settings
from ..contracts import MIDI_SUFFIXES, SAMPLE_RATE, SET_NAME, Rendered
from ..generator.supervisor import GeneratorProcess
from ..generator.votes import VoteError, Votes
from ..sound.master import Master
from ..support.heap import return_big_buffers
from .broadcaster import Broadcaster
from .encoder import Mp3Encoder
from .icecast import IcecastPush
from .opus import OggOpusEncoder
from .playout import Fallback, Generated, Played
from .sinks import Chunk, HlsSink, Outputs
from .store import Store

log = logging.getLogger("radio.station")
DRILLS = ("crash", "stall", "kill", "pacer")
DESCRIPTION = "drums, bass and lead from a walk through a MusicVAE latent space"   # what players show


def prepare_seeds(settings: Settings) -> dict[str, list[Path]]:
    """At station start: the data folder, and the seed folder made from the shipped sets if
    it does not exist yet; returns the sets found (set → MIDI files) for the start mix check.
    (The generator process reads them with seedsets.SeedLibrary.)"""
    import shutil

    from ..config import ASSETS
    Path(settings.data).mkdir(parents=True, exist_ok=True)
    folder = settings.seed_folder()
    if not folder.exists():
        shutil.copytree(ASSETS / "seeds", folder)
        log.info("seed sets copied to %s", folder)
    return {d.name: sorted(p for p in d.iterdir() if p.suffix.lower() in MIDI_SUFFIXES)
            for d in sorted(folder.iterdir()) if d.is_dir() and SET_NAME.fullmatch(d.name)}


class Station:
    CHUNK_SECONDS = 0.25    # PCM is encoded and published in chunks of this length
    AHEAD_SECONDS = 1.0     # published this far ahead of the wall clock

    def __init__(self, settings: Settings, pipeline_factory=None):
        return_big_buffers()
        self.settings = settings
        self.store = Store(Path(settings.data), settings.history_segments)
        self._mp3 = Mp3Encoder(settings.bitrate)
        self._ogg = OggOpusEncoder(settings.opus_bitrate)
        self.master = Master(SAMPLE_RATE, settings.loudness_lufs)
        self.streams = {
            "mp3": Broadcaster("mp3", settings.burst_seconds),
            "ogg": Broadcaster("ogg", settings.burst_seconds, header=self._ogg.header),
        }
        self.outputs = Outputs(self.streams.values())
        # the outputs besides the broadcasters, assembled here and nowhere else
        self.hls = HlsSink(Path(settings.data) / "hls") if settings.hls else None
        self.icecast = IcecastPush(IcecastTarget.parse(settings.icecast), self.streams, settings.name, DESCRIPTION,
                                   {"mp3": settings.bitrate, "ogg": settings.opus_bitrate}) if settings.icecast else None
        for sink in (self.hls, self.icecast):
            if sink is not None:
                self.outputs.add(sink)
        self.generated = Generated(on_start=self._started)
        self.playout = Fallback(self.generated)
        self.generator = GeneratorProcess(settings, pipeline_factory, self._boot, self._rendered,
                                          self._event, self._room)
        self.started_at = time.monotonic()
        self.first_audio_at: float | None = None
        saved = self.store.load_state()
        self.mix: dict | None = None                  # the mix as the generator accepted it
        self._saved_mix = saved.get("mix") if isinstance(saved.get("mix"), dict) else None
        self.walk_position = saved.get("walk_position")
        self.mix_version = 0
        self.sets: dict[str, list[dict]] = {}         # seed sets and files, as the generator sees them
        self.anchors: list = []                       # the walk's anchors: label and z, for votes
        self.missing_soundfonts: list[str] = []
        self.generator_errors = 0                     # pipeline restarts inside the process
        self.last_error: str | None = None
        self.timings = {"decode": [0, 0.0], "render": [0, 0.0]}   # [segments, seconds]
        self.history: collections.deque[Played] = collections.deque(maxlen=settings.history_segments)
        for segment, meta, start, midi in self.store.load_history():
            self.history.append(Played(segment, meta, start, midi))
        last = self.store.last_history_id()
        self.segments_generated = last + 1 if last is not None else 0   # the next segment's id
        self.votes = Votes()
        self.votes.load(self.store.load_votes())
        self._votes_saved = self.votes.version
        self.pacer_restarts = 0
        self.pacer_error: str | None = None
        self.pacer_down = False
        self._pacer_fail_until = 0.0
        self._pacer_fail_once = False
        self._clock: float | None = None

    # -- what the server reads ------------------------------------------------------
    @property
    def ready(self) -> bool:
        """The generator has started and told us its seed sets (the API can change things)."""
        return self.mix is not None and self.generator.up

    @property
    def current(self) -> Played | None:
        return self.generated.current

    @property
    def position(self) -> float:
        return self.playout.position

    @property
    def filling(self) -> bool:
        return self.playout.filling

    @property
    def underrun_seconds(self) -> float:
        return self.playout.fill_seconds

    @property
    def lead_seconds(self) -> float:
        return self.generated.lead_seconds

    @property
    def restarts(self) -> int:
        """Generator restarts: of the process (killed or died) and of its pipeline."""
        return self.generator.restarts + self.generator_errors

    @property
    def anchor_bias(self) -> dict[str, float]:
        """The ten anchors the votes move most: label → weight factor on the walk's choice."""
        bias = self.votes.bias(self.anchors)
        return dict(sorted(bias.items(), key=lambda kv: -abs(kv[1] - 1.0))[:10])

    def find(self, segment_id: int) -> Played | None:
        return next((p for p in reversed(self.history) if p.segment.id == segment_id), None)

    def upcoming(self) -> list[Played]:
        """Rendered segments waiting to play, with their predicted start times."""
        cur = self.current
        out, start = [], cur.start + cur.segment.duration if cur else self.position
        for r in list(self.generated.queue):
            out.append(Played(r.segment, r.meta, start, r.midi))
            start += r.audio.seconds
        return out

    def sound_health(self) -> dict:
        level = self.master.output_lufs
        return {"preset": self.current.meta.sound if self.current else None,
                "master_gain_db": round(self.master.gain_db, 2),
                "loudness_lufs": None if level is None else round(level, 2),
                "target_lufs": self.master.target,
                "missing_soundfonts": self.missing_soundfonts}

    def health(self) -> tuple[str, int]:
        """(status, HTTP code) for /healthz: 503 until music plays and while the pacer is
        down; then 200, "degraded" while the generator or an output is in trouble."""
        if self.pacer_down:
            return "error", 503
        if self.first_audio_at is None:
            return ("error" if self.last_error else "starting"), 503
        trouble = self.filling or self.last_error or not self.generator.up or self.outputs.failing
        return ("degraded" if trouble else "ok"), 200

    # -- requests from the server ---------------------------------------------------
    def _playing(self):
        cur = self.current
        return (cur.segment.id, cur.segment.qpm) if cur else None

    async def set_mix(self, changes: dict) -> dict:
        """Validated by the generator; heard from the next segment boundary."""
        result = await self.generator.request("mix", changes, self._playing())
        self._adopt_mix(result)
        return result["mix"]

    def _adopt_mix(self, result: dict) -> None:
        if "mix" not in result:
            return
        self.mix, self.mix_version = result["mix"], result["version"]
        self.generated.set_mix_version(self.mix_version)
        self._save_state()

    async def add_seed(self, set_name: str, file_name: str, data: bytes) -> dict:
        """An uploaded seed file, validated with the model's converter in the generator."""
        result = await self.generator.request("add_seed", set_name, file_name, data)
        self.sets = result.pop("sets")
        return result

    async def remove_seed(self, set_name: str, file_name: str | None = None) -> list[str]:
        result = await self.generator.request("remove_seed", set_name, file_name, self._playing())
        self.sets = result.pop("sets")
        self._adopt_mix(result)
        return result["removed"]

    def vote(self, client: str, kind: str, segment_id: int | None = None) -> dict:
        """A listener's like/skip for a played segment (the current one by default)."""
        played = self.current if segment_id is None else self.find(segment_id)
        if played is None:
            raise VoteError("nothing is playing yet" if segment_id is None else
                            f"segment {segment_id} is not in the recent history", 404)
        if played.segment.z is None:
            raise VoteError(f"segment {played.segment.id} was played before a restart; vote on a newer one", 409)
        before = self.votes.version
        result = self.votes.vote(client, played.segment.id, np.asarray(played.segment.z, np.float32), kind)
        if self.votes.version != before:
            self.generator.send("votes", self.votes.to_dict())
        return result

    def drill(self, fault: str, seconds: float = 0.0) -> None:
        """A fault drill, so an operator (or bench/soak.py) can watch the station cope:
        `crash` (the generator's pipeline raises), `stall` (it hangs `seconds` before its
        next segment), `kill` (the generator process gets SIGKILL), `pacer` (the pacer
        raises, and again after each restart for `seconds`)."""
        if fault not in DRILLS:
            raise ValueError(f"fault {fault!r}: use one of {', '.join(DRILLS)}")
        if fault == "kill":
            if self.generator.pid is not None:
                os.kill(self.generator.pid, signal.SIGKILL)
        elif fault == "pacer":
            self._pacer_fail_until = time.monotonic() + float(seconds)
            self._pacer_fail_once = True
        else:
            self.generator.send("drill", fault, float(seconds))

    # -- the generator's side (event loop) ------------------------------------------
    def _boot(self) -> dict:
        """What a new generator process starts from."""
        return {"mix": self.mix or self._saved_mix, "walk_position": self.walk_position,
                "votes": self.votes.to_dict(), "next_id": self.segments_generated,
                "mix_version": self.mix_version}

    def _room(self) -> bool:
        # one more waits in the generator's queue and one in its hand: lead_segments (≥ 1)
        # are queued here, minus the one in the queue
        return len(self.generated.queue) < max(1, self.settings.lead_segments - 1)

    def _rendered(self, item: Rendered) -> None:
        self.segments_generated = max(self.segments_generated, item.segment.id + 1)
        for stage, seconds in item.stage_seconds.items():
            if stage in self.timings:
                self.timings[stage][0] += 1
                self.timings[stage][1] += seconds
        self.last_error = None
        if item.walk_position is not None:
            self.walk_position = item.walk_position
        self._save_state()
        if not self.generated.push(item):
            log.info("segment %s was made under an older mix; dropped", item.segment.id)

    def _event(self, kind: str, *args) -> None:
        if kind == "status":
            status = args[0]
            if self.mix is None:
                self.mix, self.mix_version = status["mix"], status["mix_version"]
                self.generated.set_mix_version(self.mix_version)
            self.sets = status["sets"]
            if status["anchors"] is not None:
                self.anchors = [types.SimpleNamespace(label=label, z=z) for label, z in status["anchors"]]
            self.missing_soundfonts = status["missing_soundfonts"]
        elif kind == "error":
            self.generator_errors += 1
            self.last_error = args[0]

    def _started(self, played: Played, item: Rendered) -> None:
        """A segment starts playing (called from the pacer, through the playout)."""
        self.history.append(played)
        self.store.keep_played(played.segment, played.meta, played.start, played.midi)
        for stream in self.streams.values():
            stream.title = played.meta.title()
        if self.first_audio_at is None:
            self.first_audio_at = time.monotonic()
            for stream in self.streams.values():
                stream.forget_burst()
            log.info("music plays %.1f s after start", self.first_audio_at - self.started_at)
        self.generator.send("playing", self._playing())
        if self.votes.version != self._votes_saved:     # at most once a segment
            self._votes_saved = self.votes.version
            self.store.save_votes(self.votes.to_dict())

    def _save_state(self) -> None:
        self.store.save_state({"mix": self.mix or self._saved_mix, "walk_position": self.walk_position})

    # -- the pacer (event loop) ------------------------------------------------------
    def _publish(self, pcm: np.ndarray) -> None:
        pcm = self.master.process(pcm)
        for fmt, encoder in (("mp3", self._mp3), ("ogg", self._ogg)):
            frames = encoder.encode(pcm)
            if frames:
                self.outputs.write(Chunk(fmt, b"".join(f.data for f in frames), sum(f.seconds for f in frames)))

    async def _pace(self) -> None:
        loop = asyncio.get_running_loop()
        chunk = int(self.CHUNK_SECONDS * SAMPLE_RATE)
        if self._clock is None:
            self._clock = loop.time() - self.playout.position   # loop time at which stream time 0 plays
        while True:
            ahead = self.playout.position - (loop.time() - self._clock)
            if ahead > self.AHEAD_SECONDS:
                await asyncio.sleep(ahead - self.AHEAD_SECONDS + 0.005)
                continue
            if self._pacer_fail_once or time.monotonic() < self._pacer_fail_until:
                self._pacer_fail_once = False
                raise RuntimeError("fault drill: pacer exception")
            self._publish(self.playout.take(chunk))
            self.pacer_down = False
            await asyncio.sleep(0)  # catching up after a stall must not starve requests

    async def run_pacer(self) -> None:
        """The pacer, supervised: an exception is logged, /healthz says error, and it is
        restarted after 1 s (doubling to 30 s); the stream clock runs on, so it catches up."""
        backoff = 1.0
        while True:
            started = time.monotonic()
            try:
                await self._pace()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001  restarted, never silently dead
                self.pacer_down = True
                self.pacer_restarts += 1
                self.pacer_error = f"{type(e).__name__}: {e}"
                if time.monotonic() - started > 60:
                    backoff = 1.0
                log.exception("the pacer failed; restarting it in %.0f s", backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)

    async def run(self) -> None:
        """The generator's supervisor, the Icecast push if configured and the pacer, until
        cancelled."""
        tasks = [asyncio.create_task(self.generator.run())]
        if self.icecast is not None:
            tasks.append(asyncio.create_task(self.icecast.run()))
        try:
            await self.run_pacer()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.votes.version != self._votes_saved:
                self.store.save_votes(self.votes.to_dict())
            await asyncio.get_running_loop().run_in_executor(None, self.store.flush)

    def close(self) -> None:
        """Lets every listener go (their handlers return)."""
        for stream in self.streams.values():
            stream.close()

    def stop(self) -> None:
        """Ends the generator process and waits for the disk writes (after `run` ended)."""
        self.generator._end()
        self.outputs.close()
        self.store.close()
