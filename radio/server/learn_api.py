"""/api/learn: `radio learn SET` as a background job (station/learnjob.py), from the admin API.

    curl -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
         -d '{"set": "band"}' http://localhost:8000/api/learn
    curl http://localhost:8000/api/learn                     # step, steps, seconds left, state
    curl -X DELETE -H "Authorization: Bearer $TOKEN" http://localhost:8000/api/learn

POST starts it (202; 409 while one runs or without the `train` extra, naming the command
that adds it); DELETE cancels it (Ctrl-C: the next job on the set resumes). The job also
shows in /healthz and /api/seeds.
"""

from __future__ import annotations

from aiohttp import web

from ..config import Settings
from ..station.learnjob import Learner, LearnJobError
from . import api, jsonbody
from .appkeys import LEARNER

LIMITS = {"steps": (1, 10000), "patience": (1, 100)}


async def get_learn(request: web.Request) -> web.Response:
    return web.json_response({"job": request.app[LEARNER].status()})


async def post_learn(request: web.Request) -> web.Response:
    api.require_admin(request)
    body = await jsonbody.read(request, example='{"set": "band"}', require_type=True)
    if not isinstance(body, dict) or "set" not in body or set(body) - {"set", *LIMITS}:
        raise LearnJobError('expected {"set": NAME} with, if wanted, "steps" (1–10000) and "patience" (1–100)')
    for key, (lo, hi) in LIMITS.items():
        value = body.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi):
            raise LearnJobError(f"{key}: {value!r:.30}: use a whole number {lo}–{hi}")
    job = await request.app[LEARNER].start(body["set"], body.get("steps"), body.get("patience"))
    return web.json_response({"job": job}, status=202)


async def delete_learn(request: web.Request) -> web.Response:
    api.require_admin(request)
    return web.json_response({"job": await request.app[LEARNER].cancel()})


def setup(app: web.Application, settings: Settings, learner: Learner | None = None) -> None:
    """Adds the routes, and cancelling a running job to the app's cleanup."""
    app[LEARNER] = learner or Learner(settings)

    async def stop_job(app: web.Application):
        yield
        await app[LEARNER].close()

    app.cleanup_ctx.append(stop_job)
    app.router.add_get("/api/learn", get_learn)
    app.router.add_post("/api/learn", post_learn)
    app.router.add_delete("/api/learn", delete_learn)
