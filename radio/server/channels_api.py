"""Channels over HTTP: /api/channels (list; an admin adds, changes and removes channels at
run time) and each channel's streams, playlists and HLS under /<name>/. A channel's own
API (now, history, mix, votes, map …) is api.py's, at /api/channels/<name>/…"""

from __future__ import annotations

import re

from aiohttp import web

from ..station import health
from ..station.channels import MAIN
from . import jsonbody
from .api import CHANNEL, ApiError, check_origin, require_admin, station_of
from .appkeys import CHANNELS

HLS_FILE = re.compile(r"[a-z0-9-]+\.(ts|m3u8)")


def urls(name: str, station) -> dict:
    base = "" if name == MAIN else f"/{name}"
    out = {"mp3": f"{base}/stream.mp3", "ogg": f"{base}/stream.ogg", "m3u": f"{base}/listen.m3u",
           "api": "/api" if name == MAIN else f"/api/channels/{name}"}
    if station.hls is not None:
        out["hls"] = f"{base}/hls/live.m3u8"
    return out


def describe(name: str, lineup) -> dict:
    station, spec = lineup.stations[name], lineup.specs[name]
    state, _ = health.status(station)
    return {**spec.to_json(), "status": state, "urls": urls(name, station),
            "listeners": {fmt: len(s.listeners) for fmt, s in station.streams.items()},
            "now_playing": station.current.meta.title() if station.current else None}


def _lineup(request: web.Request):
    return request.app[CHANNELS]


async def list_channels(request: web.Request) -> web.Response:
    lineup = _lineup(request)
    return web.json_response({"channels": [describe(n, lineup) for n in list(lineup.stations)],
                              "max_channels": lineup.settings.max_channels})


async def get_channel(request: web.Request) -> web.Response:
    station_of(request)             # 404 for a channel that is not there
    return web.json_response(describe(request.match_info["channel"], _lineup(request)))


async def _fields(request: web.Request, example: str) -> dict:
    body = await jsonbody.read(request, example=example)
    if not isinstance(body, dict):
        raise ApiError(f"send a JSON object, e.g. {example}", 400)
    return body


async def add_channel(request: web.Request) -> web.Response:
    require_admin(request)
    check_origin(request)
    body = await _fields(request, '{"name": "night", "title": "Night", "mix": {"sets": {"jazz": 1}}}')
    name = body.pop("name", None)
    spec = await _lineup(request).add(name, body)
    return web.json_response(describe(spec.name, _lineup(request)), status=201)


async def change_channel(request: web.Request) -> web.Response:
    require_admin(request)
    check_origin(request)
    station_of(request)
    body = await _fields(request, '{"title": "Night", "mix": {"temperature": 0.8}}')
    spec = await _lineup(request).change(request.match_info["channel"], body)
    return web.json_response(describe(spec.name, _lineup(request)))


async def remove_channel(request: web.Request) -> web.Response:
    require_admin(request)
    check_origin(request)
    station_of(request)
    name = request.match_info["channel"]
    await _lineup(request).remove(name)
    return web.json_response({"removed": [name]})


async def hls_file(request: web.Request) -> web.FileResponse:
    """A channel's HLS playlist and segments (main's are the static /hls/)."""
    station, file = station_of(request), request.match_info["file"]
    path = station.hls.folder / file if station.hls is not None and HLS_FILE.fullmatch(file) else None
    if path is None or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path)


def add_routes(app: web.Application, stream, playlist) -> None:
    """/api/channels and the channels' own stream URLs (`stream`, `playlist`: app.py's handlers)."""
    app.router.add_get("/api/channels", list_channels)
    app.router.add_post("/api/channels", add_channel)
    app.router.add_get(f"/api/channels/{CHANNEL}", get_channel)
    app.router.add_put(f"/api/channels/{CHANNEL}", change_channel)
    app.router.add_delete(f"/api/channels/{CHANNEL}", remove_channel)
    app.router.add_get(f"/{CHANNEL}/stream.{{format:mp3|ogg}}", stream)
    app.router.add_get(f"/{CHANNEL}/listen.{{kind:m3u|pls}}", playlist)
    app.router.add_get(f"/{CHANNEL}/hls/{{file}}", hls_file)
