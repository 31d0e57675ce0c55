"""The station: sources → operators → outputs, in the server process.

    generator process ──Rendered──► Fallback(generated, loop, silence) ─► master ─► MP3, Opus
    (generator.py, supervised)          (playout.py)                     encoders ─► Outputs:
                                                                                    broadcasters,
                                                                                    HLS, Icecast

The station keeps the wiring; each part owns its state. The pacer (pacer.py) takes 0.25 s
of PCM from the fallback at real-time pace; the station masters it (sound/master.py:
everything that plays, fill included, goes through one master), encodes it once per format
and hands the chunks to the outputs (sinks.py). The fallback cannot fail, so from the first
second the stream carries audio: silence before the first segment, the looped last bars
when the generator is late. A failing output is retried and reported; a pacer that raises
is restarted (and /healthz says error meanwhile); the generator process is restarted when
it dies or hangs. What the station knows of the generator is generator_state.py; the played
segments history.py; the votes ballot.py; /healthz's report health.py. History, state and
votes are written by the store (store.py), off the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import signal
import time
from pathlib import Path

import numpy as np

from ..config import IcecastTarget, Settings
from ..contracts import MIDI_SUFFIXES, SAMPLE_RATE, SET_NAME, RadioError, Rendered
from ..generator.supervisor import GeneratorProcess
from ..generator.votes import VoteError
from ..sound.master import Master
from ..support.heap import return_big_buffers
from .ballot import Ballot
from .broadcaster import Broadcaster
from .encoder import Mp3Encoder
from .encoding import Encoding
from .generator_state import GeneratorState
from .history import History
from .icecast import IcecastPush
from .latentmap import LatentMap
from .opus import OggOpusEncoder
from .pacer import Pacer
from .playout import Fallback, Generated, Played
from .sinks import HlsSink, Outputs
from .store import Store

log = logging.getLogger("radio.station")
DRILLS = ("crash", "stall", "kill", "pacer")


class DrillError(RadioError, ValueError):
    status = 400


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
    def __init__(self, settings: Settings, pipeline_factory=None):
        return_big_buffers()
        self.settings = settings
        self.store = Store(Path(settings.data), settings.history_segments)
        self.encoding = Encoding({"mp3": functools.partial(Mp3Encoder, settings.bitrate),
                                  "ogg": functools.partial(OggOpusEncoder, settings.opus_bitrate)},
                                 settings.burst_seconds, SAMPLE_RATE)
        self.master = Master(SAMPLE_RATE, settings.loudness_lufs)
        self.streams = {
            "mp3": Broadcaster("mp3", settings.burst_seconds),
            "ogg": Broadcaster("ogg", settings.burst_seconds, header=OggOpusEncoder(settings.opus_bitrate).header),
        }
        self.outputs = Outputs(self.streams.values())
        # the outputs besides the broadcasters, assembled here and nowhere else
        self.hls = HlsSink(Path(settings.data) / "hls") if settings.hls else None
        self.icecast = IcecastPush(IcecastTarget.parse(settings.icecast), self.streams, settings.name, settings.description,
                                   {"mp3": settings.bitrate, "ogg": settings.opus_bitrate}) if settings.icecast else None
        for sink in (self.hls, self.icecast):
            if sink is not None:
                self.outputs.add(sink)
        self.generated = Generated(on_start=self._started)
        self.playout = Fallback(self.generated)
        self.pacer = Pacer(self.playout, self._publish)
        self.generator = GeneratorProcess(settings, pipeline_factory, self._boot, self._rendered,
                                          self._event, self._room)
        self.gen = GeneratorState(self.store.load_state())
        self.history = History(self.store, settings.history_segments)
        self.ballot = Ballot(self.store)
        self.map = LatentMap()
        self.started_at = time.monotonic()
        self.first_audio_at: float | None = None

    # -- what the server reads ------------------------------------------------------
    @property
    def ready(self) -> bool:
        """The generator has started and told us its seed sets (the API can change things)."""
        return self.gen.mix is not None and self.generator.up

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
        return self.generator.restarts + self.gen.errors

    def upcoming(self) -> list[Played]:
        """Rendered segments waiting to play, with their predicted start times."""
        cur = self.current
        out, start = [], cur.start + cur.segment.duration if cur else self.position
        for r in list(self.generated.queue):
            out.append(Played(r.segment, r.meta, start, r.midi))
            start += r.audio.seconds
        return out

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
        if self.gen.adopt_mix(result):
            self.generated.set_mix_version(self.gen.mix_version)
            self._save_state()

    async def add_seed(self, set_name: str, file_name: str, data: bytes) -> dict:
        """An uploaded seed file, validated with the model's converter in the generator."""
        result = await self.generator.request("add_seed", set_name, file_name, data)
        self.gen.sets = result.pop("sets")
        return result

    async def remove_seed(self, set_name: str, file_name: str | None = None) -> list[str]:
        result = await self.generator.request("remove_seed", set_name, file_name, self._playing())
        self.gen.sets = result.pop("sets")
        self._adopt_mix(result)
        return result["removed"]

    def vote(self, client: str, kind: str, segment_id: int | None = None) -> dict:
        """A listener's like/skip for a played segment (the current one by default)."""
        played = self.current if segment_id is None else self.history.find(segment_id)
        result, changed = self.ballot.cast(played, client, kind, segment_id)
        if changed:
            self.generator.send("votes", self.ballot.votes.to_dict())
        return result

    def vote_region(self, client: str, label: str) -> dict:
        """A listener's click on the map: a like aimed at the region of anchor `label`."""
        z = self.map.z_of(label) if isinstance(label, str) else None
        if z is None:
            raise VoteError(f"anchor: no seed segment {label!r:.80} on the map (see /api/map's dots)", 404)
        result, changed = self.ballot.cast_region(label, z, client)
        if changed:
            self.generator.send("votes", self.ballot.votes.to_dict())
        return result

    def map_document(self) -> tuple[bytes, bytes, str]:
        """/api/map: (JSON, gzipped JSON, ETag); the trail: the history's segments and the queued."""
        played = list(self.history) + self.upcoming()
        return self.map.document(played, self.ballot.votes.points(self.ballot.model), self.ballot.votes.version)

    def drill(self, fault: str, seconds: float = 0.0) -> None:
        """A fault drill, so an operator (or bench/soak.py) can watch the station cope:
        `crash` (the generator's pipeline raises), `stall` (it hangs `seconds` before its
        next segment), `kill` (the generator process gets SIGKILL), `pacer` (the pacer
        raises, and again after each restart for `seconds`)."""
        if fault not in DRILLS:
            raise DrillError(f"fault {fault!r}: use one of {', '.join(DRILLS)}")
        if fault == "kill":
            if self.generator.pid is not None:
                os.kill(self.generator.pid, signal.SIGKILL)
        elif fault == "pacer":
            self.pacer.fail(seconds)
        else:
            self.generator.send("drill", fault, float(seconds))

    # -- the generator's side (event loop) ------------------------------------------
    def _boot(self) -> dict:
        """What a new generator process starts from."""
        return {**self.gen.boot(), "votes": self.ballot.votes.to_dict(), "next_id": self.history.next_id,
                "titles": sorted({p.meta.song["title"] for p in self.history if p.meta.song is not None})}

    def _room(self) -> bool:
        # one more waits in the generator's queue and one in its hand: lead_segments (≥ 1)
        # are queued here, minus the one in the queue
        return len(self.generated.queue) < max(1, self.settings.lead_segments - 1)

    def _rendered(self, item: Rendered) -> None:
        self.history.made(item.segment.id)
        self.gen.rendered(item)
        self._save_state()
        if not self.generated.push(item):
            log.info("segment %s was made under an older mix; dropped", item.segment.id)

    def _event(self, kind: str, *args) -> None:
        if kind == "status":
            status = args[0]
            if self.gen.status(status):
                self.generated.set_mix_version(self.gen.mix_version)
            if status["anchors"] is not None:
                self.ballot.set_anchors(status["anchors"], status["model"])
                self.map.set_anchors(status["anchors"], status["model"])
        elif kind == "error":
            self.gen.failed(args[0])

    def _started(self, played: Played, item: Rendered) -> None:
        """A segment starts playing (called from the pacer, through the playout)."""
        self.history.keep(played)
        # at a change of style its loudness is known, so the master lands it at the target
        # from its first second (within a style, sections keep their own dynamics)
        self.master.cue(item.cue, passage=(played.meta.sound, played.meta.mix))
        for stream in self.streams.values():
            stream.title = played.meta.title()
        if self.first_audio_at is None:
            self.first_audio_at = time.monotonic()
            for stream in self.streams.values():
                stream.forget_burst()
            log.info("music plays %.1f s after start", self.first_audio_at - self.started_at)
        self.generator.send("playing", self._playing())
        self.ballot.save()      # at most once a segment

    def _save_state(self) -> None:
        self.store.save_state(self.gen.to_save())

    # -- the pacer's hand-off (event loop) -------------------------------------------
    def _publish(self, pcm: np.ndarray) -> None:
        pcm = self.master.process(pcm)
        chunks, stopped = self.encoding.encode(pcm, self.outputs.wanted())
        for fmt in stopped:           # nobody takes it: a later listener must not get stale audio
            self.streams[fmt].forget_burst()
        for chunk in chunks:
            self.outputs.write(chunk)

    async def run(self) -> None:
        """The generator's supervisor, the Icecast push if configured and the pacer, until
        cancelled."""
        tasks = [asyncio.create_task(self.generator.run())]
        if self.icecast is not None:
            tasks.append(asyncio.create_task(self.icecast.run()))
        try:
            await self.pacer.run()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.ballot.save()
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
