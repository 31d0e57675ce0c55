"""Server stage: the aiohttp app. Streams (MP3, Ogg/Opus, with ICY metadata), playlists,
the page, health and metrics here; the JSON API in api.py."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from aiohttp.http import HttpVersion11

from ..config import Settings
from ..station import health
from ..station.broadcaster import ICY_METAINT
from ..station.lineup import Lineup
from . import api, channels_api, complete_api, learn_api, metrics
from .appkeys import CHANNELS, LEARNER, STATION

WEB = Path(__file__).parent / "web"
CONTENT_TYPES = {"mp3": "audio/mpeg", "ogg": "audio/ogg"}


async def page(request: web.Request) -> web.Response:
    return web.FileResponse(WEB / "index.html")


async def stream(request: web.Request) -> web.StreamResponse:
    station = api.station_of(request)
    fmt = request.match_info["format"]
    broadcaster = station.streams[fmt]
    settings = station.settings
    icy = request.headers.get("Icy-MetaData", "").strip() == "1"
    headers = {"Content-Type": CONTENT_TYPES[fmt], "Cache-Control": "no-cache, no-store",
               "icy-name": settings.name, "icy-description": settings.description, "icy-pub": "0",
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
    channel = request.match_info.get("channel")
    base = f"{request.scheme}://{request.host}" + (f"/{channel}" if channel else "")
    name = api.station_of(request).settings.name
    if request.match_info["kind"] == "m3u":
        body = f"#EXTM3U\n#EXTINF:-1,{name}\n{base}/stream.mp3\n"
        return web.Response(text=body, content_type="audio/x-mpegurl")
    body = (f"[playlist]\nNumberOfEntries=2\nFile1={base}/stream.mp3\nTitle1={name} (MP3)\n"
            f"Length1=-1\nFile2={base}/stream.ogg\nTitle2={name} (Opus)\nLength2=-1\nVersion=2\n")
    return web.Response(text=body, content_type="audio/x-scpls")


async def healthz(request: web.Request) -> web.Response:
    body, code = health.whole(request.app[CHANNELS].stations)
    body["learn"] = request.app[LEARNER].status()
    return web.json_response(body, status=code)


def event_loop():
    """uvloop where it installs (Linux, macOS). With it and the sliced fan-out together the
    first-byte p99 at 5,000 listeners fell from ~200 to ~30 ms (bench/results/
    load-fanout-2026-11-26.txt); uvloop's own share was not measured apart."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop()


def create_app(settings: Settings, pipeline_factory=None) -> web.Application:
    """The server's app: every channel's station (station/lineup.py), its streams and API.
    `pipeline_factory`: what the generator processes build (a class or "module:name",
    picklable; default radio.generator.pipeline:Pipeline)."""
    app = web.Application(middlewares=[api.json_errors])
    lineup = Lineup(settings, pipeline_factory)
    app[CHANNELS], app[STATION] = lineup, lineup.main
    registry = metrics.registry_for(lineup)
    main = lineup.main

    async def metrics_handler(request: web.Request) -> web.Response:
        return web.Response(body=metrics.render(registry),
                            headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})

    async def run_stations(app: web.Application):
        lineup.start()
        yield
        await lineup.stop_all()

    async def let_listeners_go(app: web.Application):
        lineup.close_all()   # stream handlers return, so shutdown need not wait out its timeout

    app.on_shutdown.append(let_listeners_go)
    app.cleanup_ctx.append(run_stations)
    app.router.add_get("/", page)
    app.router.add_static("/static", WEB)
    if main.hls is not None:
        app.router.add_static("/hls", main.hls.folder)
    app.router.add_get("/stream.{format:mp3|ogg}", stream)
    app.router.add_get("/listen.{kind:m3u|pls}", playlist)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_handler)
    api.add_routes(app)
    channels_api.add_routes(app, stream, playlist)
    complete_api.setup(app, settings)
    learn_api.setup(app, settings)
    return app
