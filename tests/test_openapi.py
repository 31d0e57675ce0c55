"""The OpenAPI document stays true: every route of the app is in it, every documented route
exists, and real responses of the running station match their schemas."""

import pytest
import requests
import schemathesis
from conftest import ADMIN_TOKEN
from test_server import wait_until_playing

from radio.server import openapi

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def app_routes(app) -> set[tuple[str, str]]:
    """(method, OpenAPI path) of every route of an aiohttp app; HEAD (added to every GET)
    left out, a static folder as `<prefix>/{file}`."""
    from aiohttp import web
    out = set()
    for resource in app.router.resources():
        path = resource.canonical
        if isinstance(resource, web.StaticResource):
            path = path.rstrip("/") + "/{file}"
        for route in resource:
            if route.method != "HEAD":
                out.add((route.method.lower(), path))
    return out


def documented() -> set[tuple[str, str]]:
    return {(method, path) for path, item in openapi.DOCUMENT["paths"].items()
            for method in item if method in ("get", "put", "post", "delete", "patch")}


def test_every_route_is_documented_and_every_documented_route_exists(tmp_path):
    from radio.config import Settings
    from radio.server.app import create_app
    app = create_app(Settings.from_env(data=str(tmp_path), admin_token=ADMIN_TOKEN))
    routes = app_routes(app)
    assert routes - documented() == set(), "routes missing from radio/server/openapi.py"
    assert documented() - routes == set(), "documented routes the app does not have"


@pytest.fixture(scope="module")
def schema(station):
    wait_until_playing(station)
    return schemathesis.openapi.from_url(station + "/api/openapi.json")


def test_the_served_document_is_the_module_and_loads(station, schema):
    assert requests.get(station + "/api/openapi.json", timeout=10).json() == openapi.DOCUMENT
    operations = [r.ok() for r in schema.get_all_operations()]      # Err if any did not resolve
    loaded = {(op.method.lower(), op.path) for op in operations}
    # schemathesis leaves out the document's own URL (it was loaded from there)
    assert loaded | {("get", "/api/openapi.json")} == documented()


def _check(schema, method, path, response):
    schema[path][method.upper()].validate_response(response)
    return response


@pytest.mark.parametrize("method,path,url,kw,status", [
    ("get", "/api/now", "/api/now", {}, 200),
    ("get", "/api/history", "/api/history", {}, 200),
    ("get", "/api/mix", "/api/mix", {}, 200),
    ("put", "/api/mix", "/api/mix", {"json": {}, "headers": ADMIN}, 200),
    ("put", "/api/mix", "/api/mix", {"json": {"temperature": 9}, "headers": ADMIN}, 400),
    ("put", "/api/mix", "/api/mix", {"json": {}}, 401),
    ("get", "/api/votes", "/api/votes", {}, 200),
    ("post", "/api/vote", "/api/vote", {"json": {"vote": "meh"}}, 400),
    ("post", "/api/vote", "/api/vote", {"data": "like"}, 415),
    ("get", "/api/seeds", "/api/seeds", {}, 200),
    ("delete", "/api/seeds/{set}", "/api/seeds/nothing-here", {"headers": ADMIN}, 404),
    ("delete", "/api/seeds/{set}/{file}", "/api/seeds/rock/manifest.json", {"headers": ADMIN}, 404),
    ("post", "/api/seeds/{set}", "/api/seeds/rock", {"data": b"x", "headers": ADMIN}, 415),
    ("get", "/api/segments/{id}.mid", "/api/segments/99999999.mid", {}, 404),
    ("post", "/api/drill", "/api/drill", {"json": {"fault": "flood"}, "headers": ADMIN}, 400),
    ("post", "/api/drill", "/api/drill", {"json": {"fault": "stall", "seconds": 0}, "headers": ADMIN}, 202),
    ("get", "/healthz", "/healthz", {}, 200),
    ("get", "/metrics", "/metrics", {}, 200),
    ("get", "/listen.{kind}", "/listen.m3u", {}, 200),
    ("get", "/", "/", {}, 200),
    ("get", "/static/{file}", "/static/radio.js", {}, 200),
    ("get", "/api/openapi.json", "/api/openapi.json", {}, 200),
])
def test_responses_match_the_document(station, schema, method, path, url, kw, status):
    response = requests.request(method, station + url, timeout=30, **kw)
    assert response.status_code == status, response.text[:300]
    _check(schema, method, path, response)


def test_a_played_segment_and_its_midi_match_the_document(station, schema):
    wait_until_playing(station)
    history = _check(schema, "get", "/api/history", requests.get(station + "/api/history", timeout=10)).json()
    midi = requests.get(station + history["segments"][0]["midi"], timeout=10)
    assert midi.status_code == 200
    _check(schema, "get", "/api/segments/{id}.mid", midi)
