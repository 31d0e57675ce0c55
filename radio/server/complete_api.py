"""POST /api/complete (admin): a MIDI file in, the completed band out as MIDI.

The request is checked here, on the event loop, without the model (size, MIDI, 4/4, the
kept parts, bar count): a bad one is refused at once. The completion itself runs in a
worker process of its own (spawned), started on first use and kept: it holds its own
numpy copy of the model and the seed encodings (the first request took 12.7 s with the
start, a later one 7.2 s, for 32 bars on 2 busy cores), runs at a lower CPU priority than
the station, and does one job at a time; a second request while one runs gets 429.
Nothing here touches the station's generator, so the stream goes on as it was.

    curl -H "Authorization: Bearer $TOKEN" -F file=@bass.mid -F keep=bass \\
         http://localhost:8000/api/complete -o band.mid

Fields (multipart form fields, or query parameters with a raw `audio/midi` body): `keep`
(required: bass, lead, drums or two of them, comma-separated), `track`, `candidates`
(1–256, default 64), `temperature` (0–2], `seed`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import os
import types
from typing import Callable

from aiohttp import web

from ..config import ASSETS, Settings
from . import api
from .api import ApiError
from .appkeys import COMPLETER


def _band():
    """radio/band's modules, imported at the first completion request: they load note_seq,
    which the server process otherwise does without (issue 14: server RSS)."""
    from ..band import complete, loading, parts, search
    return types.SimpleNamespace(parts=parts, complete=complete, loading=loading, search=search)



MAX_CANDIDATES = 256
WORKER_NICE = 10          # the worker yields the CPU to the station's generator


# ── In the worker process ───────────────────────────────────────────────────────────────
# The worker's Band lives in the worker process only (set by its initializer, once).
_worker_band = None


def _start_worker(model: str, seed_folder: str, data: str | None = None) -> None:
    try:
        os.nice(WORKER_NICE)
    except OSError:
        pass
    load_band(model, seed_folder, data)


def load_band(model: str, seed_folder: str, data: str | None = None) -> None:
    """Loads the model and seed encodings the jobs of this process use."""
    global _worker_band
    _worker_band = _band().loading.Band(model, seed_folder, data)


def run_job(data: bytes, keep: list[str], track: int | None, candidates: int,
            temperature: float, seed: int, programs: dict[str, int]) -> bytes:
    """The completion, as MIDI bytes (runs in the worker; its Band is loaded once)."""
    from ..music.midi import sequence_bytes
    band = _band()
    ns = band.parts.read_input(data)
    kept = band.parts.find_parts(ns, keep, track)
    result = _worker_band.complete(ns, kept, search=band.search.Search(candidates=candidates),
                                   temperature=temperature, seed=seed)
    return sequence_bytes(band.complete.to_midi(result, programs))


# ── On the event loop ───────────────────────────────────────────────────────────────────

class Completer:
    """One completion at a time, in a worker process started on first use."""

    def __init__(self, settings: Settings, job: Callable = run_job,
                 executor: Callable[[], concurrent.futures.Executor] | None = None):
        self.settings = settings
        self.job = job
        self._make_executor = executor or self._process_pool
        self._executor: concurrent.futures.Executor | None = None
        self.busy = False
        self.done = 0

    def _process_pool(self) -> concurrent.futures.Executor:
        seeds = self.settings.seed_folder()
        return concurrent.futures.ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(self.settings.model, str(seeds if seeds.exists() else ASSETS / "seeds"), self.settings.data))

    async def run(self, *args) -> bytes:
        if self.busy:
            raise ApiError("a completion is already running; try again when it is done", 429)
        self.busy = True
        try:
            if self._executor is None:
                self._executor = self._make_executor()
            result = await asyncio.get_running_loop().run_in_executor(self._executor, self.job, *args)
            self.done += 1
            return result
        except concurrent.futures.process.BrokenProcessPool:
            self._executor = None   # the next request starts a fresh worker
            raise ApiError("the completion worker stopped; try again", 500) from None
        finally:
            self.busy = False

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None




def _form_number(fields: dict, key: str, kind, default, lo, hi):
    if key not in fields or fields[key] == "":
        return default
    try:
        value = kind(fields[key])
    except ValueError:
        raise ApiError(f"{key}={fields[key]!r}: expected {'an integer' if kind is int else 'a number'}", 400) from None
    if not lo <= value <= hi:
        raise ApiError(f"{key}={value}: allowed range is {lo}–{hi}", 400)
    return value


async def post_complete(request: web.Request) -> web.Response:
    completer = request.app[COMPLETER]
    settings = completer.settings
    api.require_admin(request, settings.admin_token)   # the API's check: wrong tokens locked out per address
    if completer.busy:   # before reading a body we would throw away
        raise ApiError("a completion is already running; try again when it is done", 429)
    _, data, fields = await api.read_upload(request, raw=True)
    if "keep" not in fields:
        raise ApiError("name the part(s) to keep: keep=bass, lead, drums or e.g. bass,drums", 400)
    track = _form_number(fields, "track", int, None, 0, 1 << 16)
    candidates = _form_number(fields, "candidates", int, 64, 1, MAX_CANDIDATES)
    temperature = _form_number(fields, "temperature", float, settings.temperature, 1e-3, 2.0)
    seed = _form_number(fields, "seed", int, 0, 0, 2 ** 32 - 1)
    band = _band()       # its CompleteError is a RadioError: the API answers 400 with its message
    keep = band.parts.parse_keep(fields["keep"])
    ns = band.parts.read_input(data)
    band.parts.find_parts(ns, keep, track)
    bars = band.parts.bar_count(ns, band.parts.TempoMap(ns.tempos))
    if bars > band.parts.MAX_BARS:
        raise ApiError(f"the file is {bars} bars long; completion takes up to {band.parts.MAX_BARS}", 413)
    midi = await completer.run(data, keep, track, candidates, temperature, seed,
                               band.complete.programs_for(settings))
    return web.Response(body=midi, content_type="audio/midi", headers={
        "Content-Disposition": 'attachment; filename="latent-radio-band.mid"'})


def setup(app: web.Application, settings: Settings, completer: Completer | None = None) -> None:
    """Adds the route, and the worker's shutdown to the app's cleanup."""
    app[COMPLETER] = completer or Completer(settings)
    api.add_guards(app, settings)

    async def worker(app: web.Application):
        yield
        app[COMPLETER].close()

    app.cleanup_ctx.append(worker)
    app.router.add_post("/api/complete", post_complete)
