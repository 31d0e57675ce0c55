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
from aiohttp.http_exceptions import HttpProcessingError

from ..config import ASSETS, Settings
from . import api


def _band():
    """radio/band's modules, imported at the first completion request: they load note_seq,
    which the server process otherwise does without (issue 14: server RSS)."""
    from ..band import complete, loading, parts, search
    return types.SimpleNamespace(parts=parts, complete=complete, loading=loading, search=search)



MAX_BYTES = 2 * 1024 * 1024
MAX_CANDIDATES = 256
WORKER_NICE = 10          # the worker yields the CPU to the station's generator


class RequestError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


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
            raise RequestError(429, "a completion is already running; try again when it is done")
        self.busy = True
        try:
            if self._executor is None:
                self._executor = self._make_executor()
            result = await asyncio.get_running_loop().run_in_executor(self._executor, self.job, *args)
            self.done += 1
            return result
        except concurrent.futures.process.BrokenProcessPool:
            self._executor = None   # the next request starts a fresh worker
            raise RequestError(500, "the completion worker stopped; try again") from None
        finally:
            self.busy = False

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


COMPLETER = web.AppKey("completer", Completer)


async def _read(request: web.Request) -> tuple[bytes, dict[str, str]]:
    """The MIDI bytes and the fields, from a multipart form or a raw body + query."""
    try:
        return await _read_body(request)
    except (ValueError, HttpProcessingError) as e:   # aiohttp's words for malformed multipart
        raise RequestError(400, f"the upload is not well-formed multipart/form-data ({str(e)[:100]})") from None


async def _read_body(request: web.Request) -> tuple[bytes, dict[str, str]]:
    fields = dict(request.query)
    data = bytearray()
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        got_file = False
        async for part in reader:
            if part.filename or part.name == "file":
                got_file = True
                while chunk := await part.read_chunk(65536):
                    data += chunk
                    if len(data) > MAX_BYTES:
                        raise RequestError(413, f"the MIDI file is over the {MAX_BYTES}-byte limit")
            elif part.name:
                fields[part.name] = (await part.read(decode=True)).decode("utf-8", "replace")[:100]
        if not got_file:
            raise RequestError(400, "no file in the upload: send the MIDI file as the multipart field `file`")
    else:
        while chunk := await request.content.read(65536):
            data += chunk
            if len(data) > MAX_BYTES:
                raise RequestError(413, f"the MIDI file is over the {MAX_BYTES}-byte limit")
    return bytes(data), fields


def _number(fields: dict, key: str, kind, default, lo, hi):
    if key not in fields or fields[key] == "":
        return default
    try:
        value = kind(fields[key])
    except ValueError:
        raise RequestError(400, f"{key}={fields[key]!r}: expected {'an integer' if kind is int else 'a number'}") from None
    if not lo <= value <= hi:
        raise RequestError(400, f"{key}={value}: allowed range is {lo}–{hi}")
    return value


async def post_complete(request: web.Request) -> web.Response:
    completer = request.app[COMPLETER]
    settings = completer.settings
    api.require_admin(request, settings.admin_token)   # the API's check: wrong tokens locked out per address
    try:
        if completer.busy:   # before reading a body we would throw away
            raise RequestError(429, "a completion is already running; try again when it is done")
        data, fields = await _read(request)
        if "keep" not in fields:
            raise RequestError(400, "name the part(s) to keep: keep=bass, lead, drums or e.g. bass,drums")
        track = _number(fields, "track", int, None, 0, 1 << 16)
        candidates = _number(fields, "candidates", int, 64, 1, MAX_CANDIDATES)
        temperature = _number(fields, "temperature", float, settings.temperature, 1e-3, 2.0)
        seed = _number(fields, "seed", int, 0, 0, 2 ** 32 - 1)
        band = _band()
        try:
            keep = band.parts.parse_keep(fields["keep"])
            ns = band.parts.read_input(data)
            band.parts.find_parts(ns, keep, track)
            bars = band.parts.bar_count(ns, band.parts.TempoMap(ns.tempos))
        except band.parts.CompleteError as e:
            raise RequestError(400, str(e)) from None
        if bars > band.parts.MAX_BARS:
            raise RequestError(413, f"the file is {bars} bars long; completion takes up to {band.parts.MAX_BARS}")
        midi = await completer.run(data, keep, track, candidates, temperature, seed,
                                   band.complete.programs_for(settings))
    except RequestError as e:
        return web.json_response({"error": str(e)}, status=e.status,
                                 headers={"WWW-Authenticate": "Bearer"} if e.status == 401 else None)
    except _band().parts.CompleteError as e:   # evaluated only when an exception gets here
        return web.json_response({"error": str(e)}, status=400)
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
