"""The JSON API: what is playing, what was played (as MIDI), the style mix, the seed sets.

Reads are open to every listener; every change needs the admin token (`Authorization:
Bearer …`, compared in constant time; 10 wrong tokens a minute from one address and that
address waits a minute). Every refusal is a 4xx with a JSON `error` that says why, and
nothing a request does can stop the music. JSON bodies are read by jsonbody.py (size,
depth, strict numbers), client addresses decided by clients.py, and the whole API is
described by openapi.py, served at /api/openapi.json.
"""

from __future__ import annotations

import hmac

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from ..contracts import MAX_UPLOAD_BYTES
from ..generator.loop import RequestError
from ..generator.supervisor import GeneratorDown
from ..support import clients
from ..support.ratelimit import Lockout
from . import jsonbody, openapi
from .appkeys import STATION

TOKEN_FAILURES = web.AppKey("token_failures", Lockout)   # wrong admin tokens, per address
PROXIES = web.AppKey("trusted_proxies", tuple)            # Settings.proxy_networks()
MAX_SEGMENT_DIGITS = 18                                   # ids are counters: 10^18 is never reached


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.headers = dict(headers or {})
        if status == 401:
            self.headers["WWW-Authenticate"] = "Bearer"


@web.middleware
async def json_errors(request: web.Request, handler):
    """API refusals and aiohttp's own (404, 405, 413 …) as JSON on /api/ paths."""
    try:
        return await handler(request)
    except jsonbody.BodyError as e:
        return web.json_response({"error": str(e)}, status=e.status)
    except ApiError as e:
        return web.json_response({"error": str(e)}, status=e.status, headers=e.headers or None)
    except web.HTTPException as e:
        if request.path.startswith("/api/") and e.status >= 400:
            return web.json_response({"error": e.reason}, status=e.status)
        raise


def station_of(request: web.Request):
    return request.app[STATION]


def ready_station(request: web.Request):
    station = station_of(request)
    if not station.ready:
        raise ApiError(503, "the station is still starting; try again in a few seconds")
    return station


async def ask(call):
    """The generator's answer to a request, its refusals as API errors."""
    try:
        return await call
    except RequestError as e:
        raise ApiError(e.status, str(e)) from None
    except GeneratorDown as e:
        raise ApiError(503, str(e)) from None


def client_of(request: web.Request) -> clients.Address:
    """The request's client address (clients.py: the peer, or X-Forwarded-For from a trusted proxy)."""
    return clients.of_request(request, request.app[PROXIES])


def require_admin(request: web.Request, token: str | None = None) -> None:
    """Passes with the admin token (the station's unless given). Wrong tokens are counted
    per client address, so a guesser is slowed down without locking the admin out from
    anywhere else."""
    token = station_of(request).settings.admin_token if token is None else token
    if not token:
        raise ApiError(403, "the admin API is off: set RADIO_ADMIN_TOKEN (12+ characters) and restart")
    who, failures = client_of(request), request.app[TOKEN_FAILURES]
    wait = failures.retry_after(who)
    if wait:
        raise ApiError(429, f"too many wrong admin tokens from {who}; try again in {wait} s",
                       {"Retry-After": str(wait)})
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode("utf-8", "surrogateescape"), token.encode()):
        failures.failed(who)
        raise ApiError(401, "this change needs the admin token: send `Authorization: Bearer <token>`")


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
        raise ApiError(403, f"requests from the web page at {origin[:100]!r} are not allowed here "
                            f"(the station's operator can add it to the `origins` setting)")


async def now(request: web.Request) -> web.Response:
    station = station_of(request)
    played = ([station.history[-2]] if len(station.history) > 1 else []) + \
             ([station.current] if station.current else []) + station.upcoming()[:2]
    return web.json_response({
        "position": round(station.position, 3),
        "mix": station.mix,
        "now_playing": station.current.to_json() if station.current else None,
        "segments": [p.to_json(notes=True) for p in played],
        "listeners": {name: len(s.listeners) for name, s in station.streams.items()},
    })


async def history(request: web.Request) -> web.Response:
    return web.json_response({"segments": [
        {**p.to_json(), "midi": f"/api/segments/{p.segment.id}.mid"}
        for p in reversed(station_of(request).history)]})


async def segment_midi(request: web.Request) -> web.Response:
    text = request.match_info["id"]
    # checked before int(): Python refuses to convert 4,300+ digits (a ValueError, a 500)
    played = station_of(request).find(int(text)) if len(text) <= MAX_SEGMENT_DIGITS else None
    if played is None:
        raise ApiError(404, f"segment {text[:MAX_SEGMENT_DIGITS + 2]} is not in the recent history "
                            f"(see /api/history)")
    return web.Response(body=played.midi, content_type="audio/midi", headers={
        "Content-Disposition": f'attachment; filename="latent-radio-{played.segment.id}.mid"'})


async def get_mix(request: web.Request) -> web.Response:
    station = ready_station(request)
    from ..sound.presets import PRESETS
    return web.json_response({**station.mix,
                              "sets_available": sorted(station.sets),
                              "sound_presets": sorted(PRESETS)})


async def put_mix(request: web.Request) -> web.Response:
    require_admin(request)
    station = ready_station(request)
    changes = await jsonbody.read(request, example='{"sets": {"rock": 1}}')
    return web.json_response(await ask(station.set_mix(changes)))


async def post_vote(request: web.Request) -> web.Response:
    """A listener's like or skip: {"vote": "like" | "skip", "segment": id (default: now)}."""
    from ..generator.votes import VoteError
    check_origin(request)
    # JSON only: a form or text/plain body is what another site's page can send unasked
    body = await jsonbody.read(request, example='{"vote": "like"}', require_type=True)
    station = ready_station(request)
    if not isinstance(body, dict) or set(body) - {"vote", "segment"}:
        raise ApiError(400, "send {\"vote\": \"like\" | \"skip\", \"segment\": id (optional)}")
    segment = body.get("segment")
    if segment is not None and (isinstance(segment, bool) or not isinstance(segment, int)):
        raise ApiError(400, f"segment: expected an integer id, got {segment!r:.60}")
    try:
        result = station.vote(str(client_of(request)), body.get("vote"), segment)
    except VoteError as e:
        raise ApiError(e.status, str(e), {"Retry-After": str(e.retry_after)} if e.retry_after else None) from None
    return web.json_response(result)


async def get_votes(request: web.Request) -> web.Response:
    station = ready_station(request)
    return web.json_response({**station.votes.summary(), "bounds": [station.votes.low, station.votes.high],
                              "anchors": station.anchor_bias})


async def list_seeds(request: web.Request) -> web.Response:
    return web.json_response({"sets": ready_station(request).sets})


async def _read_upload(request: web.Request) -> tuple[str, bytes]:
    """The first file of a multipart body, read with the size limit enforced as it streams."""
    if not request.content_type.startswith("multipart/"):
        raise ApiError(415, "upload a MIDI file as multipart/form-data (field `file`)")
    try:
        reader = await request.multipart()
        async for part in reader:
            if not getattr(part, "filename", None):
                continue
            data = bytearray()
            while chunk := await part.read_chunk(65536):
                data += chunk
                if len(data) > MAX_UPLOAD_BYTES:
                    raise ApiError(413, f"file is over the {MAX_UPLOAD_BYTES}-byte limit")
            return part.filename, bytes(data)
    except (ValueError, HttpProcessingError) as e:   # aiohttp's words for malformed multipart
        raise ApiError(400, f"the upload is not well-formed multipart/form-data ({str(e)[:100]})") from None
    raise ApiError(400, "no file in the upload (send it as the multipart field `file`)")


async def upload_seed(request: web.Request) -> web.Response:
    require_admin(request)
    station = ready_station(request)
    name, data = await _read_upload(request)
    # validated with the model's converter in the generator process, never on the event loop
    added = await ask(station.add_seed(request.match_info["set"], name, data))
    return web.json_response(added, status=201)


async def delete_seed(request: web.Request) -> web.Response:
    require_admin(request)
    station = ready_station(request)
    set_name, file_name = request.match_info["set"], request.match_info.get("file")
    removed = await ask(station.remove_seed(set_name, file_name))
    return web.json_response({"removed": removed})


async def drill(request: web.Request) -> web.Response:
    """POST {"fault": "crash" | "stall" | "kill" | "pacer", "seconds": N}: a fault drill (admin)."""
    require_admin(request)
    station = station_of(request)
    body = await jsonbody.read(request, example='{"fault": "crash"}')
    usage = '; send {"fault": "crash"} or {"fault": "stall", "seconds": 60}'
    if not isinstance(body, dict) or set(body) - {"fault", "seconds"}:
        raise ApiError(400, "drill: expected an object with `fault` and `seconds`" + usage)
    seconds = body.get("seconds", 0)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= 600:
        raise ApiError(400, f"drill: seconds={seconds!r:.30}: use a number 0–600" + usage)
    try:
        station.drill(body.get("fault"), float(seconds))
    except ValueError as e:
        raise ApiError(400, f"drill: {str(e)[:100]}" + usage) from None
    return web.json_response({"drill": body["fault"], "seconds": float(seconds)}, status=202)


async def openapi_document(request: web.Request) -> web.Response:
    return web.json_response(openapi.DOCUMENT)


def add_guards(app: web.Application, settings) -> None:
    """The state the admin and address checks keep, once per app."""
    if TOKEN_FAILURES not in app:
        app[PROXIES] = settings.proxy_networks()
        app[TOKEN_FAILURES] = Lockout(limit=10, window=60.0, lock=60.0)


def add_routes(app: web.Application) -> None:
    """The API's routes (each in openapi.DOCUMENT) and the state its checks keep."""
    add_guards(app, app[STATION].settings)
    app.router.add_get("/api/openapi.json", openapi_document)
    app.router.add_get("/api/now", now)
    app.router.add_get("/api/history", history)
    app.router.add_get(r"/api/segments/{id:[0-9]+}.mid", segment_midi)
    app.router.add_get("/api/mix", get_mix)
    app.router.add_put("/api/mix", put_mix)
    app.router.add_post("/api/vote", post_vote)
    app.router.add_get("/api/votes", get_votes)
    app.router.add_get("/api/seeds", list_seeds)
    app.router.add_post("/api/seeds/{set}", upload_seed)
    app.router.add_delete("/api/seeds/{set}", delete_seed)
    app.router.add_delete("/api/seeds/{set}/{file}", delete_seed)
    app.router.add_post("/api/drill", drill)
