"""Server stage: aiohttp app with the stream, a page with a player, and health."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

from aiohttp import web

from .broadcaster import Broadcaster
from .config import Settings
from .station import Pipeline, Station

STATION = web.AppKey("station", Station)
BROADCASTER = web.AppKey("broadcaster", Broadcaster)
PAGE = (Path(__file__).parent / "web" / "index.html").read_text()


async def index(request: web.Request) -> web.Response:
    return web.Response(text=PAGE, content_type="text/html")


async def stream_mp3(request: web.Request) -> web.StreamResponse:
    broadcaster = request.app[BROADCASTER]
    settings = request.app[STATION].settings
    response = web.StreamResponse(headers={
        "Content-Type": "audio/mpeg",
        "Cache-Control": "no-cache, no-store",
        "icy-name": "latent radio",
        "icy-br": str(settings.bitrate),
    })
    await response.prepare(request)
    listener = broadcaster.subscribe()
    try:
        while True:
            data = await listener.get()
            if not data:
                break
            await response.write(data)
    except ConnectionResetError:
        pass  # the listener went away: normal for a stream
    finally:
        broadcaster.unsubscribe(listener)
    return response


async def healthz(request: web.Request) -> web.Response:
    station = request.app[STATION]
    playing = station.first_audio_at is not None
    body = {
        "status": "ok" if playing and not station.last_error else
                  ("error" if station.last_error else "starting"),
        "uptime_seconds": round(time.monotonic() - station.started_at, 3),
        "first_audio_after_seconds": round(station.first_audio_at - station.started_at, 3) if playing else None,
        "listeners": len(request.app[BROADCASTER].listeners),
        "segments_generated": station.segments_generated,
        "lead_seconds": round(station.lead_seconds, 3),
        "underrun_seconds": round(station.underrun_seconds, 3),
        "last_error": station.last_error,
    }
    return web.json_response(body, status=503 if station.last_error else 200)


async def now(request: web.Request) -> web.Response:
    return web.json_response({"now_playing": request.app[STATION].now_playing})


def create_app(settings: Settings, pipeline_factory=Pipeline) -> web.Application:
    app = web.Application()
    broadcaster = Broadcaster(burst_seconds=settings.burst_seconds)
    station = Station(settings, broadcaster, pipeline_factory)
    app[BROADCASTER] = broadcaster
    app[STATION] = station

    async def run_station(app: web.Application):
        task = asyncio.create_task(station.run())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        broadcaster.close()
        await asyncio.get_running_loop().run_in_executor(None, station.stop)

    app.cleanup_ctx.append(run_station)
    app.router.add_get("/", index)
    app.router.add_get("/stream.mp3", stream_mp3)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/now", now)
    return app
