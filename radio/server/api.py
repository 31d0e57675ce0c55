"""The JSON API: what is playing, what was played (as MIDI), the style mix, the seed sets.

Reads are open to every listener; every change needs the admin token (`Authorization:
Bearer …`, compared in constant time; 10 wrong tokens a minute from one address and that
address waits a minute). Every refusal is a 4xx with a JSON `error` that says why, and
nothing a request does can stop the music. JSON bodies are read by jsonbody.py (size,
depth, strict numbers), client addresses decided by clients.py, and the whole API is
described by openapi.py, served at /api/openapi.json.
"""

from __future__ import annotations

import asyncio
import hmac

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from ..contracts import MAX_UPLOAD_BYTES, RadioError
from ..station import channels, songs
from ..support import clients
from ..support.ratelimit import Lockout
from . import jsonbody, openapi
from .appkeys import CHANNELS, LEARNER, PROXIES, STATION, TOKEN_FAILURES

MAX_SEGMENT_DIGITS = 18                                   # ids are counters: 10^18 is never reached
MAX_FIELD_BYTES = 1024                                    # a form field beside an upload (keep=bass …)


class ApiError(RadioError):
    """A request the API refuses: the message, the HTTP status and any headers to send."""
    status = 400

    def __init__(self, message: str, status: int = 400, headers: dict | None = None):
        super().__init__(message, status)
        self.headers = dict(headers or {})
        if status == 401:
            self.headers["WWW-Authenticate"] = "Bearer"


@web.middleware
async def json_errors(request: web.Request, handler):
    """API refusals and aiohttp's own (404, 405, 413 …) as JSON on /api/ paths."""
    try:
        return await handler(request)
    except RadioError as e:     # ours, from any stage: its status, and its headers if it has some
        return web.json_response({"error": str(e)}, status=e.status, headers=getattr(e, "headers", None) or None)
    except web.HTTPException as e:
        if request.path.startswith("/api/") and e.status >= 400:
            return web.json_response({"error": e.reason}, status=e.status)
        raise


def station_of(request: web.Request):
    """The station a request is for: its path's channel, or main on the old URLs."""
    name = request.match_info.get("channel")
    if name is None:
        return request.app[STATION]
    station = request.app[CHANNELS].get(name)
    if station is None:
        raise ApiError(f"no channel {name[:40]!r} (see /api/channels)", 404)
    return station


def ready_station(request: web.Request):
    station = station_of(request)
    if not station.ready:
        raise ApiError("the station is still starting; try again in a few seconds", 503)
    return station


def client_of(request: web.Request) -> clients.Address:
    """The request's client address (clients.py: the peer, or X-Forwarded-For from a trusted proxy)."""
    return clients.of_request(request, request.app[PROXIES])


def require_admin(request: web.Request, token: str | None = None) -> None:
    """Passes with the admin token (the station's unless given). Wrong tokens are counted
    per client address, so a guesser is slowed down without locking the admin out from
    anywhere else."""
    token = station_of(request).settings.admin_token if token is None else token
    if not token:
        raise ApiError("the admin API is off: set RADIO_ADMIN_TOKEN (12+ characters) and restart", 403)
    who, failures = client_of(request), request.app[TOKEN_FAILURES]
    wait = failures.retry_after(who)
    if wait:
        raise ApiError(f"too many wrong admin tokens from {who}; try again in {wait} s", 429,
                       {"Retry-After": str(wait)})
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode("utf-8", "surrogateescape"), token.encode()):
        failures.failed(who)
        raise ApiError("this change needs the admin token: send `Authorization: Bearer <token>`", 401)


def check_origin(request: web.Request) -> None:
    """A browser's cross-site request carries an Origin: it must be this station's own or
    one of the `origins` setting, so no other web page can make its visitors act here.
    No Origin (players, scripts, curl) is fine."""
    origin = request.headers.get("Origin")
    if origin is None:
        return
    allowed = {f"{request.scheme}://{request.host}".lower(),
               *(o.lower() for o in station_of(request).settings.origin_list())}
    if origin.strip().lower() not in allowed:
        raise ApiError(f"requests from the web page at {origin[:100]!r} are not allowed here "
                            f"(the station's operator can add it to the `origins` setting)", 403)


async def now(request: web.Request) -> web.Response:
    station = station_of(request)
    played = ([station.history[-2]] if len(station.history) > 1 else []) + \
             ([station.current] if station.current else []) + station.upcoming()[:2]
    return web.json_response({
        "position": round(station.position, 3),
        "mix": station.gen.mix,
        "now_playing": station.current.to_json() if station.current else None,
        "song": song_now(station.current, station.position) if station.current else None,
        "segments": [p.to_json(notes=True) for p in played],
        "listeners": {name: len(s.listeners) for name, s in station.streams.items()},
    })


def song_now(played, position: float) -> dict | None:
    """The song playing: id, title, form, the section and its bar, when it started and how
    long it is (stream seconds; a song holds its tempo)."""
    song = played.meta.song
    if song is None:
        return None
    bar_s = 240.0 / song["qpm"]
    bar = min(song["bars"] - 1, max(0, int((position - played.start) / bar_s)))
    return {"id": song["id"], "title": song["title"], "form": song["form"], "key": song["key"],
            "section": song["section"], "name": song["name"], "bar": bar,
            "started": round(played.start - song["start_bar"] * bar_s, 3),
            "seconds": round(song["song_bars"] * bar_s, 3), "resting": song.get("resting")}


async def history(request: web.Request) -> web.Response:
    """The recent segments, newest first, and the songs they belong to (newest first, each
    with its sections in order)."""
    played = list(station_of(request).history)
    grouped = songs.group(played)
    return web.json_response({
        "segments": [{**p.to_json(), "midi": f"/api/segments/{p.segment.id}.mid"} for p in reversed(played)],
        "songs": [songs.summary(g, newest=i == len(grouped) - 1) for i, g in reversed(list(enumerate(grouped)))]})


def path_id(request: web.Request) -> tuple[str, int | None]:
    """The {id} of a MIDI download, and its number (None when it has too many digits to be
    one we kept: checked before int(), which refuses 4,300+ digits with a ValueError, a 500)."""
    text = request.match_info["id"]
    return text, int(text) if len(text) <= MAX_SEGMENT_DIGITS else None


async def song_midi(request: web.Request) -> web.Response:
    text, number = path_id(request)
    found = None if number is None else songs.find(list(station_of(request).history), number)
    if found is None:
        raise ApiError(f"song {text[:MAX_SEGMENT_DIGITS + 2]} is not in the recent history (see /api/history)", 404)
    body = await asyncio.get_running_loop().run_in_executor(None, songs.song_midi, found)
    return web.Response(body=body, content_type="audio/midi", headers={
        "Content-Disposition": f'attachment; filename="latent-radio-song-{text}.mid"'})


async def segment_midi(request: web.Request) -> web.Response:
    text, number = path_id(request)
    played = None if number is None else station_of(request).history.find(number)
    if played is None:
        raise ApiError(f"segment {text[:MAX_SEGMENT_DIGITS + 2]} is not in the recent history "
                            f"(see /api/history)", 404)
    return web.Response(body=played.midi, content_type="audio/midi", headers={
        "Content-Disposition": f'attachment; filename="latent-radio-{played.segment.id}.mid"'})


async def get_mix(request: web.Request) -> web.Response:
    station = ready_station(request)
    from ..sound.presets import PRESETS
    return web.json_response({**station.gen.mix,
                              "sets_available": sorted(station.gen.sets),
                              "sound_presets": sorted(PRESETS)})


async def put_mix(request: web.Request) -> web.Response:
    require_admin(request)
    station = ready_station(request)
    changes = await jsonbody.read(request, example='{"sets": {"rock": 1}}')
    return web.json_response(await station.set_mix(changes))


async def post_vote(request: web.Request) -> web.Response:
    """A listener's like or skip: {"vote": "like" | "skip", "segment": id (default: now)};
    or a like aimed at a region of the map: {"vote": "like", "anchor": label}."""
    check_origin(request)
    # JSON only: a form or text/plain body is what another site's page can send unasked
    body = await jsonbody.read(request, example='{"vote": "like"}', require_type=True)
    station = ready_station(request)
    if not isinstance(body, dict) or set(body) - {"vote", "segment", "anchor"}:
        raise ApiError("send {\"vote\": \"like\" | \"skip\", \"segment\": id (optional)}, or "
                       "{\"vote\": \"like\", \"anchor\": a seed segment of /api/map}", 400)
    if "anchor" in body:     # a click on the map: a like aimed at that region
        if body.get("vote") != "like" or "segment" in body:
            raise ApiError("anchor: a click on the map is a like: send {\"vote\": \"like\", \"anchor\": label}", 400)
        return web.json_response(station.vote_region(str(client_of(request)), body["anchor"]))
    segment = body.get("segment")
    if segment is not None and (isinstance(segment, bool) or not isinstance(segment, int)):
        raise ApiError(f"segment: expected an integer id, got {segment!r:.60}", 400)
    return web.json_response(station.vote(str(client_of(request)), body.get("vote"), segment))


async def get_map(request: web.Request) -> web.Response:
    """The map of the music (station/latentmap.py): built once per change, sent gzipped to
    clients that take it, and 304 to a page that has it already."""
    body, gzipped, etag = station_of(request).map_document()
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    if etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        return web.Response(body=gzipped, content_type="application/json",
                            headers={**headers, "Content-Encoding": "gzip"})
    return web.Response(body=body, content_type="application/json", headers=headers)


async def refit_map(request: web.Request) -> web.Response:
    """POST (admin, no body): fit the map again on the anchors there are now (after many
    uploads the first fit may no longer spread them well); every dot may move."""
    require_admin(request)
    check_origin(request)
    station = ready_station(request)
    station.map.refit()
    return web.json_response({"fitted_on": station.map.fitted_on, "version": station.map.version})


async def get_votes(request: web.Request) -> web.Response:
    station = ready_station(request)
    votes = station.ballot.votes
    return web.json_response({**votes.summary(), "bounds": [votes.low, votes.high], "anchors": station.ballot.bias()})


async def list_seeds(request: web.Request) -> web.Response:
    return web.json_response({"sets": ready_station(request).gen.sets, "learn": request.app[LEARNER].status()})


async def read_upload(request: web.Request, raw: bool = False) -> tuple[str, bytes, dict[str, str]]:
    """An uploaded file: (its name, its bytes, the other fields). The file is the multipart
    field `file` or the first part with a file name; the fields are the query's, then the
    form's. With `raw`, a body that is not multipart is the file itself. The size limit is
    enforced as the body streams in."""
    fields, data, name = dict(request.query), bytearray(), None
    if not request.content_type.startswith("multipart/"):
        if not raw:
            raise ApiError("upload a MIDI file as multipart/form-data (field `file`)", 415)
        while chunk := await request.content.read(65536):
            data += chunk
            _check_size(data)
        return "", bytes(data), fields
    try:
        async for part in await request.multipart():
            if name is None and (part.filename or part.name == "file"):
                name = part.filename or ""
                while chunk := await part.read_chunk(65536):
                    data += chunk
                    _check_size(data)
            elif part.name:         # a form field: short text, read with a bound like the file
                value = bytearray()
                while chunk := await part.read_chunk(1024):
                    value += chunk
                    if len(value) > MAX_FIELD_BYTES:
                        raise ApiError(f"form field {part.name[:40]!r} is over {MAX_FIELD_BYTES} bytes", 413)
                fields[part.name] = value.decode("utf-8", "replace")[:100]
    except (ValueError, HttpProcessingError) as e:   # aiohttp's words for malformed multipart
        raise ApiError(f"the upload is not well-formed multipart/form-data ({str(e)[:100]})", 400) from None
    if name is None:
        raise ApiError("no file in the upload: send the MIDI file as the multipart field `file`", 400)
    return name, bytes(data), fields


def _check_size(data: bytearray) -> None:
    if len(data) > MAX_UPLOAD_BYTES:
        raise ApiError(f"the MIDI file is over the {MAX_UPLOAD_BYTES}-byte limit", 413)


async def upload_seed(request: web.Request) -> web.Response:
    require_admin(request)
    station = ready_station(request)
    name, data, _ = await read_upload(request)
    # validated with the model's converter in the generator process, never on the event loop
    added = await station.add_seed(request.match_info["set"], name, data)
    return web.json_response(added, status=201)


async def delete_seed(request: web.Request) -> web.Response:
    require_admin(request)
    station = ready_station(request)
    set_name, file_name = request.match_info["set"], request.match_info.get("file")
    files = station.gen.sets.get(set_name, [])
    if file_name is None or [f.get("name") for f in files] == [file_name]:     # the set goes
        others = request.app[CHANNELS].playing(set_name)
        if others:
            raise ApiError(f"set {set_name!r} plays in the mix of channel(s) {', '.join(others)}; change their "
                           f"mix first (PUT /api/channels/<name>/mix)", 409)
    removed = await station.remove_seed(set_name, file_name)
    return web.json_response({"removed": removed})


async def drill(request: web.Request) -> web.Response:
    """POST {"fault": "crash" | "stall" | "kill" | "pacer", "seconds": N}: a fault drill (admin)."""
    require_admin(request)
    station = station_of(request)
    body = await jsonbody.read(request, example='{"fault": "crash"}')
    usage = '; send {"fault": "crash"} or {"fault": "stall", "seconds": 60}'
    if not isinstance(body, dict) or set(body) - {"fault", "seconds"}:
        raise ApiError("drill: expected an object with `fault` and `seconds`" + usage, 400)
    seconds = body.get("seconds", 0)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= 600:
        raise ApiError(f"drill: seconds={seconds!r:.30}: use a number 0–600" + usage, 400)
    try:
        station.drill(body.get("fault"), float(seconds))
    except ValueError as e:
        raise ApiError(f"drill: {str(e)[:100]}" + usage, 400) from None
    return web.json_response({"drill": body["fault"], "seconds": float(seconds)}, status=202)


async def openapi_document(request: web.Request) -> web.Response:
    return web.json_response(openapi.DOCUMENT)


def add_guards(app: web.Application, settings) -> None:
    """The state the admin and address checks keep, once per app."""
    if TOKEN_FAILURES not in app:
        app[PROXIES] = settings.proxy_networks()
        app[TOKEN_FAILURES] = Lockout(limit=10, window=60.0, lock=60.0)


# what a channel has of its own: at /api/… for main, and at /api/channels/<name>/… for each
CHANNEL_ROUTES = (("GET", "/now", now), ("GET", "/history", history),
                  ("GET", r"/segments/{id:[0-9]+}.mid", segment_midi), ("GET", r"/songs/{id:[0-9]+}.mid", song_midi),
                  ("GET", "/mix", get_mix), ("PUT", "/mix", put_mix), ("POST", "/vote", post_vote),
                  ("GET", "/votes", get_votes), ("GET", "/map", get_map), ("POST", "/map/refit", refit_map),
                  ("POST", "/drill", drill))
CHANNEL = f"{{channel:{channels.NAME.pattern}}}"       # a channel's name as a route segment
CHANNEL_PREFIX = f"/api/channels/{CHANNEL}"


def add_routes(app: web.Application) -> None:
    """The API's routes (each in openapi.DOCUMENT) and the state its checks keep."""
    add_guards(app, app[STATION].settings)
    app.router.add_get("/api/openapi.json", openapi_document)
    for prefix in ("/api", CHANNEL_PREFIX):
        for method, path, handler in CHANNEL_ROUTES:
            app.router.add_route(method, prefix + path, handler)
    app.router.add_get("/api/seeds", list_seeds)
    app.router.add_post("/api/seeds/{set}", upload_seed)
    app.router.add_delete("/api/seeds/{set}", delete_seed)
    app.router.add_delete("/api/seeds/{set}/{file}", delete_seed)
