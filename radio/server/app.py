"""Server stage: the aiohttp app. Streams (MP3, Ogg/Opus, with ICY metadata), playlists,
the page, health and metrics here; the JSON API in api.py."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from aiohttp import web
from aiohttp.http import HttpVersion11

from ..config import Settings
from ..station import health
from ..station.broadcaster import ICY_METAINT
from ..station.station import DESCRIPTION, Station, prepare_seeds
from . import api, complete_api, learn_api, metrics
from .appkeys import LEARNER, STATION

WEB = Path(__file__).parent / "web"
CONTENT_TYPES = {"mp3": "audio/mpeg", "ogg": "audio/ogg"}


async def page(request: web.Request) -> web.Response:
    return web.FileResponse(WEB / "index.html")


async def stream(request: web.Request) -> web.StreamResponse:
    station = request.app[STATION]
    fmt = request.match_info["format"]
    broadcaster = station.streams[fmt]
    settings = station.settings
    icy = request.headers.get("Icy-MetaData", "").strip() == "1"
    headers = {"Content-Type": CONTENT_TYPES[fmt], "Cache-Control": "no-cache, no-store",
               "icy-name": settings.name, "icy-description": DESCRIPTION, "icy-pub": "0",
               "icy-br": str(settings.bitrate if fmt == "mp3" else settings.opus_bitrate)}
    if icy:
        headers["icy-metaint"] = str(ICY_METAINT)
    if request.method == "HEAD":   # the headers a GET would get, no body, the connection kept
        return web.Response(headers=headers)
    response = web.StreamResponse(headers=headers)
    if request.version >= HttpVersion11:
        response.enable_chunked_encoding()
    await response.prepare(request)
    await response.write(b"")   # sends the headers now; aiohttp holds them for the body
    transport = request.transport
    if transport is None or transport.is_closing():
        return response
    # From here the broadcaster writes to the socket itself (see broadcaster.py).
    listener = broadcaster.subscribe(transport, chunked=response.chunked, icy=icy)
    try:
        await listener.done
    finally:
        broadcaster.unsubscribe(listener)
    return response


async def playlist(request: web.Request) -> web.Response:
    base = f"{request.scheme}://{request.host}"
    name = request.app[STATION].settings.name
    if request.match_info["kind"] == "m3u":
        body = f"#EXTM3U\n#EXTINF:-1,{name}\n{base}/stream.mp3\n"
        return web.Response(text=body, content_type="audio/x-mpegurl")
    body = (f"[playlist]\nNumberOfEntries=2\nFile1={base}/stream.mp3\nTitle1={name} (MP3)\n"
            f"Length1=-1\nFile2={base}/stream.ogg\nTitle2={name} (Opus)\nLength2=-1\nVersion=2\n")
    return web.Response(text=body, content_type="audio/x-scpls")


async def healthz(request: web.Request) -> web.Response:
    body, code = health.report(request.app[STATION])
    body["learn"] = request.app[LEARNER].status()
    return web.json_response(body, status=code)


def create_app(settings: Settings, pipeline_factory=None) -> web.Application:
    """The station's app. `pipeline_factory`: what the generator process builds (a class or
    "module:name", picklable; default radio.generator.pipeline:Pipeline)."""
    app = web.Application(middlewares=[api.json_errors])
    prepare_seeds(settings)
    station = Station(settings, pipeline_factory)
    app[STATION] = station
    registry = metrics.registry_for(station)

    async def metrics_handler(request: web.Request) -> web.Response:
        return web.Response(body=metrics.render(registry),
                            headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})

    async def run_station(app: web.Application):
        tasks = [asyncio.create_task(station.run())]
        yield
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        station.close()
        await asyncio.get_running_loop().run_in_executor(None, station.stop)

    async def let_listeners_go(app: web.Application):
        station.close()   # stream handlers return, so shutdown need not wait out its timeout

    app.on_shutdown.append(let_listeners_go)
    app.cleanup_ctx.append(run_station)
    app.router.add_get("/", page)
    app.router.add_static("/static", WEB)
    if station.hls is not None:
        app.router.add_static("/hls", station.hls.folder)
    app.router.add_get("/stream.{format:mp3|ogg}", stream)
    app.router.add_get("/listen.{kind:m3u|pls}", playlist)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_handler)
    api.add_routes(app)
    complete_api.setup(app, settings)
    learn_api.setup(app, settings)
    return app
