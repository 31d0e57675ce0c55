"""The generator's supervisor, in the server process: it starts the generator process
(loop.py), reads what it sends, answers for it and restarts it.

A crash or a hang in the generator never touches the server: the station plays its
fallback, the watchdog kills a process whose segment is overdue (more than 3× the median
segment time, and at least `watchdog_seconds`) or that died, and starts a new one with
backoff (1 s doubling to 60 s).
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
import multiprocessing
import queue
import statistics
import threading
import time

from ..contracts import RadioError, Rendered
from .loop import RequestError, process_main

log = logging.getLogger("radio.generator")
DEFAULT_FACTORY = "radio.generator.pipeline:Pipeline"
START_LIMIT = 900.0       # seconds a new process may take to its first segment (model, anchors)


class GeneratorDown(RadioError):
    """The generator process is not running (starting or restarting); try again soon."""
    status = 503


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
