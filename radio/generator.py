"""The generator: model, walk, performer, FluidSynth and the sound stage in a process of its
own, supervised by the station.

    server process                          │ generator process (spawned)
    GeneratorProcess ── control queue ────► │ control thread: mixes, votes, drills,
      (watchdog, restarts, requests)        │   seed uploads (validated with the model's
                     ◄── events queue ───── │   converter here), deletions
                     ◄── rendered queue ─── │ main thread: Pipeline → Rendered, one by one
                         (bounded)          │

A crash or a hang in here never touches the server: the station plays its fallback, the
watchdog kills a process whose segment is overdue (more than 3× the median segment time,
and at least `watchdog_seconds`) or that died, and starts a new one with backoff
(1 s doubling to 60 s). Exceptions inside the process restart its pipeline there, around
the model already loaded, as before.

This module imports nothing heavy at the top: the server imports it for the supervisor
and must never load TensorFlow or magenta (tests/test_station.py checks).
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import hashlib
import itertools
import logging
import multiprocessing
import queue
import statistics
import threading
import time
import types
from pathlib import Path

import numpy as np

from .contracts import PART_INDEX, Audio, PlayMeta, Rendered, SegmentData, part_of

log = logging.getLogger("radio.generator")
DEFAULT_FACTORY = "radio.pipeline:Pipeline"
GENERATOR_NICE = 10       # the generator process's lower CPU priority (see process_main)
START_LIMIT = 900.0       # seconds a new process may take to its first segment (model, anchors)


class GeneratorDown(Exception):
    """The generator process is not running (starting or restarting); try again soon."""


class RequestError(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def _resolve(factory):
    if callable(factory):
        return factory
    module, _, name = factory.partition(":")
    import importlib
    return getattr(importlib.import_module(module), name)


# == the generator process ============================================================
class GeneratorLoop:
    """Runs a pipeline until stopped; `emit(kind, *args)` sends events, `put(Rendered)` the
    segments (blocking while the station has enough). In the process it runs in its main
    thread, while `handle` runs in the control thread; tests run it in threads."""

    def __init__(self, settings, factory, boot: dict, put, emit, stop: threading.Event):
        self.settings, self.factory = settings, _resolve(factory)
        self.put, self.emit, self.stop = put, emit, stop
        self.boot = boot
        self.next_id = int(boot.get("next_id", 0))
        self.mix_version = int(boot.get("mix_version", 0))
        from .votes import Votes
        self.votes = Votes()
        self.votes.load(boot.get("votes") or {})
        self.lock = threading.Lock()
        self.pending_mix = None
        self.playing: tuple[int, float] | None = None   # (id, qpm) the station plays now
        self.drills: collections.deque = collections.deque()
        self.pipeline = None
        self.ready = threading.Event()
        self.last_made: int | None = None
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
        with self.lock:
            current = self.pending_mix or pipeline.mix
            try:
                mix = current.updated(changes, pipeline.library.sets(), _labels(pipeline))
                check = getattr(pipeline, "check_mix", None)
                if check is not None:      # what this model cannot play (band mode: hierdec only)
                    check(mix)
            except MixError as e:
                raise RequestError(str(e)) from None
            return self._queue_mix(mix, playing)

    def _queue_mix(self, mix, playing) -> dict:
        self.pending_mix = mix
        self.mix_version += 1
        self.playing = playing
        return {"mix": mix.to_dict(), "version": self.mix_version}

    def _add_seed(self, set_name: str, file_name: str, data: bytes) -> dict:
        from .seedsets import SeedSetError
        pipeline = self._wait_ready()
        try:
            path, report = pipeline.library.add(set_name, file_name, data, pipeline.model.converter)
        except SeedSetError as e:
            raise RequestError(str(e), e.status) from None
        return {"set": path.parent.name, "file": path.name, "segments": report.segments, "roles": report.roles,
                "sets": self.sets(pipeline)}

    def _remove_seed(self, set_name: str, file_name: str | None, playing) -> dict:
        """Deletes a file or a set; a removed set leaves the mix (heard from the next segment)."""
        from .seedsets import SeedSetError
        pipeline = self._wait_ready()
        try:
            removed = pipeline.library.remove(set_name, file_name)
        except SeedSetError as e:
            raise RequestError(str(e), e.status) from None
        out = {"removed": [f"{p.parent.name}/{p.name}" for p in removed], "sets": self.sets(pipeline)}
        with self.lock:
            mix = self.pending_mix or pipeline.mix
            if file_name is None and set_name in mix.sets:
                sets = {k: v for k, v in mix.sets.items() if k != set_name}
                if not any(w > 0 for w in sets.values()):
                    sets = {k: 1.0 for k in pipeline.library.sets() if k != set_name}
                if sets:
                    out.update(self._queue_mix(dataclasses.replace(mix, sets=sets), playing))
        return out

    # -- main thread -----------------------------------------------------------------
    def run(self) -> None:
        """Builds the pipeline and generates until stopped; after an exception it logs,
        waits (1 s doubling to 60 s) and starts a fresh pipeline around the same model
        (a pipeline that never made music gets a fresh model too)."""
        backoff, model = 1.0, None
        while not self.stop.is_set():
            if self.restarts:
                # the failed pipeline is gone by now (the except block's traceback held it
                # through _generate_with's frame): hand its pages back before the next
                trim_heap()
            made, pipeline = self.next_id, None
            try:
                pipeline = self.factory(self.settings, model=model) if model else self.factory(self.settings)
                self._restore(pipeline)
                self.pipeline = pipeline
                self.ready.set()
                self._generate_with(pipeline)
                _close(pipeline)
                return
            except Exception as e:  # noqa: BLE001  the station must go on
                self.ready.clear()
                worked = self.next_id > made
                model = getattr(pipeline, "model", None) if worked else None
                _close(pipeline, keep_model=model is not None)
                pipeline = self.pipeline = None
                if worked:
                    backoff = 1.0
                log.exception("generator failed; restarting in %.0f s", backoff)
                self.restarts += 1
                self.emit("error", f"{type(e).__name__}: {e}")
                if self.stop.wait(backoff):
                    return
                backoff = min(backoff * 2, 60.0)

    def _restore(self, pipeline) -> None:
        """The mix and walk position the station hands over (this run's, else the last run's)."""
        from .composer import Anchor
        from .mix import MixError
        mix = dict(self.pending_mix.to_dict() if self.pending_mix else self.boot.get("mix") or {})
        self.pending_mix = None
        if mix:
            mix.pop("label", None)
            try:
                pipeline.set_mix(pipeline.mix.updated(mix, pipeline.library.sets(), _labels(pipeline)))
            except MixError as e:
                log.error("the saved mix no longer fits the seed sets (%s); using the default mix", e)
        z = self.boot.get("walk_position")
        walk = getattr(pipeline, "walk", None)
        if walk is not None and isinstance(z, list) and len(z) == len(walk.here.z):
            walk.here = Anchor(z=np.asarray(z, np.float32), qpm=walk.here.qpm, label="restored", set="")

    def status(self, pipeline) -> dict:
        """What the station shows of the generator; `anchors` (label, z) only when they changed,
        so the station can weigh votes against them itself."""
        renderer = getattr(pipeline, "renderer", None)
        anchors = list(getattr(pipeline, "anchors", []))
        key = [a.label for a in anchors]
        sent, self._anchors_sent = (None if key == getattr(self, "_anchors_sent", None) else
                                    [(a.label, np.asarray(a.z, np.float32)) for a in anchors]), key
        return {"mix": pipeline.mix.to_dict(), "mix_version": self.mix_version, "sets": self.sets(pipeline),
                "anchors": sent, "missing_soundfonts": sorted(getattr(renderer, "missing", ())),
                "restarts": self.restarts}

    @staticmethod
    def sets(pipeline) -> dict:
        """Seed set → its files: name, bytes, and the segments the walk has from it."""
        library = pipeline.library
        counts: dict[str, int] = {}
        for a in getattr(pipeline, "anchors", []):
            from .contracts import SeedRef
            ref = SeedRef.try_parse(a.label)
            if ref:
                counts[ref.stem] = counts.get(ref.stem, 0) + 1
        sets = {}
        for name, paths in library.sets().items():
            sets[name] = [{"name": p.name, "bytes": _size(p), "segments": counts.get(f"{name}/{Path(p).stem}", 0)}
                          for p in paths]
        return sets

    def _generate_with(self, pipeline) -> None:
        votes_seen = None
        self._anchors_sent = None
        while not self.stop.is_set():
            sync = getattr(pipeline, "sync_seeds", None)
            if sync is not None:
                sync()
            with self.lock:
                mix, self.pending_mix = self.pending_mix, None
                version, votes, playing = self.mix_version, self.votes, self.playing
            if mix is not None:
                from .mix import MixError
                try:
                    pipeline.set_mix(mix)
                except MixError as e:
                    log.error("mix refused by the walk: %s", e)
                if self.last_made is not None and (playing is None or playing[0] != self.last_made):
                    restart = getattr(pipeline, "restart_after", None)
                    if restart is not None:   # segments made ahead were dropped
                        restart(types.SimpleNamespace(qpm=playing[1]) if playing else None)
                    self.last_made = playing[0] if playing else None
            walk = getattr(pipeline, "walk", None)
            if walk is not None and votes_seen is not votes:
                votes_seen = votes
                walk.bias = votes.bias(pipeline.anchors)
            self.emit("status", self.status(pipeline))
            drill = self.drills.popleft() if self.drills else None
            self.emit("working", self.next_id)
            if drill and drill[0] == "crash":
                raise RuntimeError("fault drill: generator crash")
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
        segment.id = self.next_id            # ids run on across pipeline restarts
        self.next_id += 1
        sound = getattr(pipeline, "sound", None)
        programs = {"lead": sound.lead.program, "bass": sound.bass.program, "drums": sound.drums.kit} if sound else {}
        meta = PlayMeta(**segment.meta(), mix=pipeline.mix.label(), temperature=pipeline.mix.temperature,
                        sound=sound.name if sound else None, programs=programs)
        from .output import midi_bytes
        midi = midi_bytes([segment], programs.get("lead", 81), programs.get("bass", 33))
        notes = [[PART_INDEX[part_of(n)], n.pitch, round(n.start_time, 3), round(n.end_time, 3), n.velocity]
                 for n in segment.sequence.notes]
        z = None if segment.z is None else np.asarray(segment.z, np.float32).tolist()
        walk = getattr(pipeline, "walk", None)
        here = walk.position.z.tolist() if walk is not None and walk.position is not None else None
        return Rendered(SegmentData(segment.id, segment.qpm, segment.bars, segment.duration, notes, z),
                        Audio(np.ascontiguousarray(pcm, np.float32)), meta, version, midi, here,
                        {"decode": t1 - t0, "render": t2 - t1})


def _labels(pipeline) -> list[str] | None:
    """The seed segments a mix's endpoints may name; None when the pipeline does not say."""
    anchors = getattr(pipeline, "anchors", None)
    return None if anchors is None else [a.label for a in anchors]


def _size(p) -> int:
    try:
        return Path(p).stat().st_size
    except OSError:
        return 0


def _close(pipeline, keep_model: bool = False) -> None:
    close = getattr(pipeline, "close", None)
    if close is not None:
        try:
            close(keep_model=keep_model)
        except Exception:  # noqa: BLE001
            log.exception("closing the pipeline")


def return_big_buffers() -> None:
    """Called in both processes: a segment's audio (5–15 MB arrays) is made or arrives and is
    freed every segment. With glibc's dynamic mmap threshold such arrays end up in the heap
    and fragment it, so RSS creeps; with the threshold fixed at 1 MiB they are mmapped and
    handed back when freed (the generator: 442 → 354 MiB after 20 s of music)."""
    _glibc("mallopt", -3, 1 << 20)                           # M_MMAP_THRESHOLD


def trim_heap() -> None:
    """Hands freed heap pages back to the system (glibc's malloc_trim), so a pipeline
    rebuilt after a crash does not stack on the old one's freed but kept memory."""
    import gc
    gc.collect()
    _glibc("malloc_trim", 0)


def _glibc(function: str, *args) -> None:
    """Calls glibc's allocator tuning `function`; elsewhere (not glibc) nothing to do."""
    try:
        import ctypes
        getattr(ctypes.CDLL("libc.so.6"), function)(*args)
    except (OSError, AttributeError):
        pass


def process_main(settings, factory, boot: dict, rendered_q, events_q, control_q) -> None:
    """The generator process: the loop in the main thread, the control queue in another."""
    import os

    from . import logs
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


# == the supervisor (server process) ==================================================
class GeneratorProcess:
    """Starts the generator process, reads what it sends, answers for it, restarts it.

    `boot()` gives what a new process starts from (mix, walk position, votes, next id, mix
    version); `on_rendered(Rendered)` and `on_event(kind, *args)` run on the event loop;
    `room()` says whether the station wants another segment now."""

    def __init__(self, settings, factory, boot, on_rendered, on_event, room):
        self.settings, self.factory = settings, factory or DEFAULT_FACTORY
        self.boot, self.on_rendered, self.on_event, self.room = boot, on_rendered, on_event, room
        self.watchdog_seconds = settings.watchdog_seconds
        self.proc = None
        self.restarts = 0             # process restarts (kills and deaths)
        self.last_error: str | None = None
        self.make_seconds: collections.deque[float] = collections.deque(maxlen=21)
        self.working_since: float | None = None
        self._working_id: int | None = None
        self.started_at: float | None = None
        self._generation = 0
        self._control = None
        self._requests: dict[int, asyncio.Future] = {}
        self._ids = itertools.count()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._made_since_start = 0

    @property
    def up(self) -> bool:
        return self.proc is not None and self.proc.is_alive()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def hang_limit(self) -> float:
        """Seconds a segment may take: 3× the median of the recent ones, at least watchdog_seconds."""
        med = statistics.median(self.make_seconds) if self.make_seconds else 0.0
        return max(self.watchdog_seconds, 3.0 * med)

    async def run(self) -> None:
        """Supervises until cancelled: start, watch, and after a death or a hang, restart."""
        self._loop = asyncio.get_running_loop()
        backoff = 1.0
        try:
            while True:
                self._start()
                reason = await self._watch()
                self.restarts += 1
                self.last_error = reason
                log.error("%s; restarting the generator process in %.0f s", reason, backoff)
                self._end(kill=True)
                await asyncio.sleep(backoff)
                backoff = 1.0 if self._made_since_start else min(backoff * 2, 60.0)
        finally:
            await asyncio.get_running_loop().run_in_executor(None, self._end)

    def _start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._generation += 1
        gen = self._generation
        rendered_q, events_q, control_q = ctx.Queue(maxsize=1), ctx.Queue(), ctx.Queue()
        self.proc = ctx.Process(target=process_main, name="radio-generator", daemon=True,
                                args=(self.settings, self.factory, self.boot(), rendered_q, events_q, control_q))
        self.proc.start()
        self._control = control_q
        self.working_since, self.started_at = None, time.monotonic()
        self._made_since_start = 0
        log.info("generator process %s started", self.proc.pid)
        for target, q in ((self._read_rendered, rendered_q), (self._read_events, events_q)):
            threading.Thread(target=target, args=(gen, q), name=f"generator-reader-{gen}", daemon=True).start()

    def _read_rendered(self, gen: int, q) -> None:
        while gen == self._generation:
            if not self.room():
                time.sleep(0.05)
                continue
            try:
                item = q.get(timeout=0.5)
            except queue.Empty:
                continue
            except (EOFError, OSError, ValueError):
                return
            if gen == self._generation:
                taken = threading.Event()          # room is asked again only once it is queued
                self._loop.call_soon_threadsafe(self._rendered, item, taken)
                taken.wait(2.0)

    def _read_events(self, gen: int, q) -> None:
        while gen == self._generation:
            try:
                event = q.get(timeout=0.5)
            except queue.Empty:
                continue
            except (EOFError, OSError, ValueError):
                return
            if gen == self._generation:
                self._loop.call_soon_threadsafe(self._event, event)

    def _rendered(self, item: Rendered, taken: threading.Event) -> None:
        try:
            self.last_error = None
            self.on_rendered(item)
        finally:
            taken.set()

    def _event(self, event: tuple) -> None:
        kind, args = event[0], event[1:]
        if kind == "working":          # (id): it starts making segment id
            self.working_since, self._working_id = time.monotonic(), args[0]
        elif kind == "made":           # (id, seconds): done; the station gets it when it has room
            if args[0] == self._working_id and self.working_since is not None:
                self.make_seconds.append(time.monotonic() - self.working_since)
                self.working_since = None
            self._made_since_start += 1
            self.on_event(kind, *args)
        elif kind == "reply":
            fut = self._requests.pop(args[0], None)
            if fut is not None and not fut.done():
                if args[1]:
                    fut.set_result(args[2])
                else:
                    fut.set_exception(RequestError(*args[2]))
        else:
            self.on_event(kind, *args)

    async def _watch(self) -> str:
        while True:
            await asyncio.sleep(0.25)
            if not self.proc.is_alive():
                return f"the generator process exited (code {self.proc.exitcode})"
            now = time.monotonic()
            if self.working_since is not None and now - self.working_since > self.hang_limit():
                return (f"the generator hung: a segment took over {self.hang_limit():.0f} s "
                        f"(3× the median, at least {self.watchdog_seconds:g} s); killed")
            if self.working_since is None and not self._made_since_start and now - self.started_at > START_LIMIT:
                return f"the generator process made nothing in {START_LIMIT:.0f} s; killed"

    def _end(self, kill: bool = False) -> None:
        proc, self.proc = self.proc, None
        self._generation += 1                         # its readers stop
        for fut in self._requests.values():
            if not fut.done():
                fut.get_loop().call_soon_threadsafe(
                    fut.set_exception, GeneratorDown("the generator restarted; try again in a few seconds"))
        self._requests.clear()
        if proc is None:
            return
        if not kill and proc.is_alive():
            try:
                self._control.put(("stop",))
            except (OSError, ValueError):
                pass
            proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join(5)

    def send(self, *msg) -> None:
        """A message the generator needs no answer to (votes, drills); lost if it is down."""
        if self.up:
            self._control.put(msg)

    async def request(self, kind: str, *args, timeout: float = 60.0):
        """Asks the generator process; its answer, or RequestError / GeneratorDown."""
        if not self.up:
            raise GeneratorDown("the generator is restarting; try again in a few seconds")
        req = next(self._ids)
        fut = asyncio.get_running_loop().create_future()
        self._requests[req] = fut
        self._control.put((kind, req, *args))
        try:
            return await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            raise GeneratorDown(f"the generator did not answer in {timeout:.0f} s") from None
        finally:
            self._requests.pop(req, None)


# == anchors, cached ==================================================================
def model_hash(path) -> str:
    """A hash of the model's files (the checkpoint and its card), for the anchor cache."""
    h = hashlib.sha256()
    root = Path(path)
    files = sorted(p for p in root.iterdir() if p.is_file()) if root.is_dir() else [root]
    for p in files:
        h.update(p.name.encode())
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:16]
