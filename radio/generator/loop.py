"""The generator process's side: the loop that runs a pipeline and answers the station's
requests (supervisor.py starts the process and is its server-side half).

    server process                          │ generator process (spawned)
    GeneratorProcess ── control queue ────► │ control thread: mixes, votes, drills,
      (watchdog, restarts, requests)        │   seed uploads (validated with the model's
                     ◄── events queue ───── │   converter here), deletions
                     ◄── rendered queue ─── │ main thread: Pipeline → Rendered, one by one
                         (bounded)          │

Exceptions inside the process restart its pipeline there, around the model already
loaded. The pipeline is named by a factory string and imported only in the process, so
importing this module (the supervisor does, for `process_main`) loads nothing heavy:
the server must never load TensorFlow or magenta (tests/test_station.py checks).
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import queue
import threading
import time
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from ..contracts import PART_INDEX, SAMPLE_RATE, Audio, FaultDrill, PlayMeta, RadioError, Rendered, SegmentData, part_of
from ..support.heap import return_big_buffers, trim_heap
from . import report
from .models import key_of, model_of, sets_played, settings_for

if TYPE_CHECKING:     # note_seq: the server, which imports this module, never loads it
    from ..music.segment import Segment

log = logging.getLogger("radio.generator")
GENERATOR_NICE = 10       # the generator process's lower CPU priority (see process_main)


@runtime_checkable
class PipelineLike(Protocol):
    """What the loop needs of a pipeline: pipeline.py's, or a test's stand-in
    (tests/tonepipeline.py); tests/test_station.py checks both. The optional parts are None
    where a pipeline has none."""
    mix: Any                 # the StyleMix playing (mix.py)
    library: Any             # the seed sets: sets(), learned(), add(), remove() (music/seedsets.py)
    anchors: list            # the walk's anchors: .label, .z
    model: Any               # kept for the next pipeline after a failure; None: none to keep
    model_key: str           # whose model plays: a learned set's name, or "" (models.py)
    walk: Any                # the LatentWalk: position, set_bias(), restore(); or None
    sound: Any               # the SoundPreset playing, or None
    renderer: Any            # its `missing` soundfonts are reported; or None
    songwriter: Any          # the Songwriter: `taken` titles (unique across restarts), end_song(); or None

    def next_segment(self) -> Segment: ...
    def render(self, segment: Segment) -> np.ndarray: ...
    def set_mix(self, mix) -> None: ...
    def check_mix(self, mix) -> None: ...
    def sync_seeds(self) -> bool: ...
    def restart_after(self, last) -> None: ...   # last: .qpm, .song (as written) of what plays
    def close(self, keep_model: bool = False) -> None: ...


class _Switch(RadioError):
    """The mix taken is played by another model than the pipeline's (models.py)."""


class RequestError(RadioError):
    """A request the generator refused; `status` is the HTTP status the API answers with."""
    status = 400


def _resolve(factory):
    if callable(factory):
        return factory
    module, _, name = factory.partition(":")
    import importlib
    return getattr(importlib.import_module(module), name)


class GeneratorLoop:
    """Runs a pipeline until stopped; `emit(kind, *args)` sends events, `put(Rendered)` the
    segments (blocking while the station has enough). In the process it runs in its main
    thread, while `handle` runs in the control thread; tests run it in threads."""

    def __init__(self, settings, factory, boot: dict, put, emit, stop: threading.Event):
        self.settings, self.factory = settings, _resolve(factory)
        self.put, self.emit, self.stop = put, emit, stop
        self.boot = boot
        from .numbering import Numbering
        self.ids = Numbering(int(boot.get("next_id", 0)), boot.get("titles") or ())
        self.mix_version = int(boot.get("mix_version", 0))
        from .votes import Votes
        self.votes = Votes()
        self.votes.load(boot.get("votes") or {})
        self.lock = threading.Lock()
        self.pending_mix = None
        self.pending_next_song = False       # the admin asked for the next song at the next boundary
        self.playing: tuple[int, float] | None = None   # (id, qpm) the station plays now
        self.drills: collections.deque = collections.deque()
        self.pipeline = None
        self.ready = threading.Event()
        self.last_made: int | None = None
        self._passage: tuple | None = None       # (sound, mix label) of the last segment made
        self.restarts = 0

    # -- control thread --------------------------------------------------------------
    def handle(self, msg: tuple) -> None:
        kind, args = msg[0], msg[1:]
        if kind == "stop":
            self.stop.set()
        elif kind == "votes":
            from .votes import Votes
            votes = Votes()
            votes.load(args[0])
            with self.lock:
                self.votes = votes
        elif kind == "drill":
            self.drills.append(args)
        elif kind == "playing":
            self.playing = args[0]
        elif kind in ("mix", "add_seed", "remove_seed"):
            req = args[0]
            try:
                result = getattr(self, "_" + kind)(*args[1:])
            except RequestError as e:
                self.emit("reply", req, False, (str(e), e.status))
            except Exception as e:  # noqa: BLE001  a request never stops the generator
                log.exception("request %s failed", kind)
                self.emit("reply", req, False, (f"{type(e).__name__}: {e}", 500))
            else:
                self.emit("reply", req, True, result)

    def _wait_ready(self):
        if not self.ready.wait(60):
            raise RequestError("the generator is still starting; try again in a few seconds", 503)
        return self.pipeline

    def _mix(self, changes: dict, playing) -> dict:
        from .mix import MixError
        pipeline = self._wait_ready()
        if isinstance(changes, dict) and "next_song" in changes:
            changes = dict(changes)
            next_song = changes.pop("next_song")
            if not isinstance(next_song, bool):
                raise RequestError(f"next_song: expected true or false, got {next_song!r:.40}")
        else:
            next_song = False
        with self.lock:
            current = self.pending_mix or pipeline.mix
            try:
                mix = current.updated(changes, pipeline.library.sets(), _labels(pipeline))
                model_of(mix.sets, pipeline.library.learned())   # a blend across models is refused
                pipeline.check_mix(mix)    # what this model cannot play (band mode: hierdec only)
            except MixError as e:
                raise RequestError(str(e)) from None
            self.pending_next_song |= next_song
            return self._queue_mix(mix, playing)

    def _queue_mix(self, mix, playing) -> dict:
        self.pending_mix = mix
        self.mix_version += 1
        self.playing = playing
        return {"mix": mix.to_dict(), "version": self.mix_version}

    def _add_seed(self, set_name: str, file_name: str, data: bytes) -> dict:
        from ..music.seedsets import SeedSetError
        pipeline = self._wait_ready()
        try:
            path, added = pipeline.library.add(set_name, file_name, data, pipeline.model.converter)
        except SeedSetError as e:
            raise RequestError(str(e), e.status) from None
        return {"set": path.parent.name, "file": path.name, "segments": added.segments, "roles": added.roles,
                "sets": report.seed_sets(pipeline)}

    def _remove_seed(self, set_name: str, file_name: str | None, playing) -> dict:
        """Deletes a file or a set; a removed set leaves the mix (heard from the next segment)."""
        from ..music.seedsets import SeedSetError
        pipeline = self._wait_ready()
        try:
            removed = pipeline.library.remove(set_name, file_name)
        except SeedSetError as e:
            raise RequestError(str(e), e.status) from None
        out = {"removed": [f"{p.parent.name}/{p.name}" for p in removed], "sets": report.seed_sets(pipeline)}
        with self.lock:
            mix = self.pending_mix or pipeline.mix
            if file_name is None and set_name in mix.sets:
                sets = {k: v for k, v in mix.sets.items() if k != set_name}
                if not any(w > 0 for w in sets.values()):
                    sets = {k: 1.0 for k in sets_played("", pipeline.library.sets(), pipeline.library.learned())
                            if k != set_name}
                if sets:
                    out.update(self._queue_mix(dataclasses.replace(mix, sets=sets), playing))
        return out

    # -- main thread -----------------------------------------------------------------
    def run(self) -> None:
        """Builds the pipeline and generates until stopped; after an exception: log, wait (1 s
        doubling to 60 s), a new pipeline around the same model (a new model if none made music)."""
        backoff, model = 1.0, None
        settings = settings_for(self.settings, (self._mix_to_restore() or dict(self.settings.mix or {})).get("sets"))
        while not self.stop.is_set():
            if self.restarts:
                # the failed pipeline is gone by now (the except block's traceback held it
                # through _generate_with's frame): hand its pages back before the next
                trim_heap()
            made, pipeline = self.ids.next_id, None
            try:
                pipeline = self.factory(settings, model=model) if model else self.factory(settings)
                self._restore(pipeline)
                self.pipeline = pipeline
                self.ready.set()
                self._generate_with(pipeline)
                _close(pipeline)
                return
            except _Switch as switch:
                # another model plays the mix: its pipeline starts behind the segments held, at its anchors
                self.ready.clear()
                _close(pipeline)
                pipeline = self.pipeline = model = None
                settings = settings_for(self.settings, switch.args[0].sets)
                self.boot.pop("walk_position", None)
                log.info("the mix is played by another model: %s", settings.model)
            except Exception as e:  # noqa: BLE001  the station must go on
                self.ready.clear()
                worked = self.ids.next_id > made
                if not worked and settings.model != self.settings.model:   # a learned model that fails
                    settings = self.settings
                model = pipeline.model if worked and pipeline is not None else None
                _close(pipeline, keep_model=model is not None)
                pipeline = self.pipeline = None
                if worked:
                    backoff = 1.0
                log.exception("generator failed; restarting in %.0f s on %s", backoff, settings.model)
                self.restarts += 1
                self.emit("error", f"{type(e).__name__}: {e}")
                if self.stop.wait(backoff):
                    return
                backoff = min(backoff * 2, 60.0)

    def _mix_to_restore(self) -> dict:
        """This run's pending mix, else the last run's: a dict of the mix's fields."""
        return dict(self.pending_mix.to_dict() if self.pending_mix else self.boot.get("mix") or {})

    def _restore(self, pipeline) -> None:
        """The mix and walk position the station hands over (this run's, else the last run's)."""
        from .mix import MixError
        mix = self._mix_to_restore()
        self.pending_mix = None
        if mix:
            mix.pop("label", None)
            mix.pop("head", None)          # heading there was that change's, not the restart's
            try:
                pipeline.set_mix(pipeline.mix.updated(mix, pipeline.library.sets(), _labels(pipeline)))
            except MixError as e:
                log.error("the saved mix no longer fits the seed sets (%s); using the default mix", e)
        z = self.boot.get("walk_position")
        walk = pipeline.walk
        if walk is not None and isinstance(z, list) and len(z) == len(walk.here.z):
            walk.restore(np.asarray(z, np.float32))
        if pipeline.songwriter is not None:
            pipeline.songwriter.taken.update(self.ids.titles)

    def status(self, pipeline) -> dict:
        """What the station shows of the generator (report.py); the anchors only when they changed."""
        key = [a.label for a in pipeline.anchors]
        changed, self._anchors_sent = key != getattr(self, "_anchors_sent", None), key
        return report.status(pipeline, self.mix_version, self.restarts, changed)

    def _generate_with(self, pipeline) -> None:
        votes_seen = None
        self._anchors_sent = None
        while not self.stop.is_set():
            pipeline.sync_seeds()
            with self.lock:
                mix, self.pending_mix = self.pending_mix, None
                next_song, self.pending_next_song = self.pending_next_song, False
                version, votes, playing = self.mix_version, self.votes, self.playing
            # a new mix, or (between songs) a set learned or its model gone since
            switch = mix if mix is not None else pipeline.mix if _between_songs(pipeline) else None
            if switch is not None and key_of(switch.sets, pipeline.library.learned(),
                                             pipeline.model_key) != pipeline.model_key:
                with self.lock:
                    self.pending_mix = self.pending_mix or switch
                    self.pending_next_song |= next_song
                raise _Switch(switch)
            if mix is not None:
                from .mix import MixError
                try:
                    pipeline.set_mix(mix)
                except MixError as e:
                    log.error("mix refused by the walk: %s", e)
                if self.last_made is not None and (playing is None or playing[0] != self.last_made):
                    # segments made ahead were dropped: go on after the one playing
                    pipeline.restart_after(self.ids.as_made(playing))
                    self.last_made = playing[0] if playing else None
                if next_song and pipeline.songwriter is not None:
                    pipeline.songwriter.end_song()
            if pipeline.walk is not None and votes_seen is not votes:
                votes_seen = votes
                pipeline.walk.set_bias(votes.bias(pipeline.anchors, pipeline.model_key))
            self.emit("status", self.status(pipeline))
            drill = self.drills.popleft() if self.drills else None
            self.emit("working", self.ids.next_id)
            if drill and drill[0] == "crash":
                raise FaultDrill("fault drill: generator crash")
            if drill and drill[0] == "stall":
                log.warning("fault drill: generator stalls %.0f s", drill[1])
                self.stop.wait(drill[1])
            rendered = self._make(pipeline, version)
            if self.last_made is None:
                log.info("first segment made: decode %.1f s, render %.1f s", *rendered.stage_seconds.values())
            self.last_made = rendered.segment.id
            self.emit("made", rendered.segment.id, sum(rendered.stage_seconds.values()))
            while not self.stop.is_set():
                if self.pending_mix is not None:
                    break            # a new mix: this one would be dropped anyway
                try:
                    self.put(rendered, timeout=0.2)
                    break
                except queue.Full:
                    continue

    def _make(self, pipeline, version: int) -> Rendered:
        t0 = time.perf_counter()
        segment = pipeline.next_segment()
        t1 = time.perf_counter()
        pcm = pipeline.render(segment)
        t2 = time.perf_counter()
        self.ids.stamp(segment)
        sound = pipeline.sound
        programs = {"lead": sound.lead.program, "bass": sound.bass.program, "drums": sound.drums.kit} if sound else {}
        meta = PlayMeta(**segment.meta(), mix=pipeline.mix.label(), temperature=pipeline.mix.temperature,
                        sound=sound.name if sound else None, programs=programs, model=pipeline.model_key)
        from ..music.midi import midi_bytes
        midi = midi_bytes([segment], programs.get("lead", 81), programs.get("bass", 33))
        notes = [[PART_INDEX[part_of(n)], n.pitch, round(n.start_time, 3), round(n.end_time, 3), n.velocity]
                 for n in segment.sequence.notes]
        z = None if segment.z is None else np.asarray(segment.z, np.float32).tolist()
        walk = pipeline.walk
        here = walk.position.z.tolist() if walk is not None and walk.position is not None else None
        # a change of style: the gain that lands it at the target, for the station's master
        # to go to at once (sound/master.py); within a style the master's slow control follows
        passage, cue = (meta.sound, meta.mix), None
        if passage != self._passage:
            from ..sound.master import settled_gain
            cue = settled_gain(pcm, SAMPLE_RATE, self.settings.loudness_lufs)
        self._passage = passage
        return Rendered(SegmentData(segment.id, segment.qpm, segment.bars, segment.duration, notes, z),
                        Audio(np.ascontiguousarray(pcm, np.float32)), meta, version, midi, here,
                        {"decode": t1 - t0, "render": t2 - t1}, cue)


def _between_songs(pipeline) -> bool:
    writer = pipeline.songwriter
    return writer is None or not pipeline.mix.songs() or writer.between_songs()


def _labels(pipeline) -> list[str] | None:
    """The seed segments a mix's endpoints may name."""
    return [a.label for a in pipeline.anchors]


def _close(pipeline, keep_model: bool = False) -> None:
    if pipeline is None:
        return
    try:
        pipeline.close(keep_model=keep_model)
    except Exception:  # noqa: BLE001
        log.exception("closing the pipeline")


def process_main(settings, factory, boot: dict, rendered_q, events_q, control_q) -> None:
    """The generator process: the loop in the main thread, the control queue in another."""
    import os

    from ..support import logs
    logs.setup(settings.log_format)
    # the generator works ahead (lead_segments); the server answers listeners now: on a
    # busy machine the scheduler should prefer the server
    os.nice(GENERATOR_NICE)
    return_big_buffers()
    log.info("generator process started")
    rendered_q.cancel_join_thread()     # exiting never waits for the server to read
    stop = threading.Event()

    def emit(*event):
        events_q.put(event)

    loop = GeneratorLoop(settings, factory, boot, rendered_q.put, emit, stop)

    def control():
        while True:
            msg = control_q.get()
            loop.handle(msg)
            if msg[0] == "stop":
                return
    threading.Thread(target=control, name="control", daemon=True).start()
    loop.run()
