"""The map of the music: the projection, /api/map, steering the walk from it and liking a
region of it, and the page drawing it in real Chromium at phone and desktop widths."""

import gzip
import json
import shutil
import time
import types
from pathlib import Path

import numpy as np
import pytest
from test_api import ADMIN, call
from test_server import wait_until_playing

from radio.generator.mix import MixError, StyleMix
from radio.station.latentmap import LatentMap, Projection, neighbours_kept


def _clusters(n=200, dims=64, groups=8, seed=0):
    """Anchors as seed sets lie: a few styles, each a cloud of songs, each song a few
    segments close together."""
    rng = np.random.default_rng(seed)
    songs = (rng.normal(size=(groups, dims)) * 3).repeat(n // groups // 4, axis=0)
    songs += rng.normal(size=songs.shape) * 1.5
    return (songs.repeat(4, axis=0) + rng.normal(size=(len(songs) * 4, dims)) * 0.5).astype(np.float32)


def test_pca_keeps_neighbours_better_than_a_random_projection():
    zs = _clusters()
    pca = neighbours_kept(zs, Projection.fit(zs)(zs))
    rng = np.random.default_rng(1)
    random = np.median([neighbours_kept(zs, zs @ rng.normal(size=(zs.shape[1], 2))) for _ in range(3)])
    assert pca >= 0.5 and pca > random + 0.1, (pca, random)


def test_the_map_is_fitted_once_new_anchors_are_projected_and_a_new_model_refits():
    zs = _clusters()
    m = LatentMap()
    m.set_anchors([(f"s{i % 8}/f{i}@0", z) for i, z in enumerate(zs[:100])])
    before = m.projection(zs[:100])
    assert before.min() >= 0.05 - 1e-9 and before.max() <= 0.95 + 1e-9      # the anchors fill the square
    m.set_anchors([(f"s{i % 8}/f{i}@0", z) for i, z in enumerate(zs)])    # an upload: more anchors
    assert np.allclose(m.projection(zs[:100]), before) and m.fitted_on == 100   # no dot moved
    version = m.version
    m.refit()                                                               # an admin asks
    assert m.fitted_on == len(zs) and m.version == version + 1
    assert not np.allclose(m.projection(zs[:100]), before)
    m.set_anchors([("s0/x@0", np.ones(16, np.float32)), ("s1/y@0", np.zeros(16, np.float32))])
    assert m.projection.dims == 16                                          # another model: fitted anew
    assert m.point(np.ones(3)) is None                                     # a z of the old size


def _played(i, z, start, song=None):
    return types.SimpleNamespace(segment=types.SimpleNamespace(id=i, z=z, duration=30.0), start=start,
                                 meta=types.SimpleNamespace(song=song, model=""))


def test_the_document_is_cached_by_what_it_shows_and_stays_small():
    """1,024 anchors with long labels, a full trail and heat: ≤ 30 kB gzipped; built
    again (a new ETag) only when the trail or the votes change."""
    zs = _clusters(1024, 128)
    m = LatentMap()
    m.set_anchors([(f"set{i % 12}/some_long_seed_file_name_{i:04d}@{16 * (i % 5)}", z) for i, z in enumerate(zs)])
    trail = [_played(i, zs[i], 30.0 * i, {"id": i // 8, "title": f"Song {i // 8}"}) for i in range(40)]
    heat = [(zs[i], (-1) ** i * (i % 4)) for i in range(200)]
    body, gz, etag = m.document(trail, heat, 7)
    doc = json.loads(body)
    assert len(doc["dots"]) == 1024 and len(doc["trail"]) == 40 and len(doc["songs"]) == 5
    assert len(gz) <= 30_000 and gzip.decompress(gz) == body, len(gz)
    assert doc["trail"][3]["at"] == m.point(zs[3]) and doc["sets"][doc["dots"][5][1]] == "set5"
    assert m.document(trail, heat, 7)[2] == etag                             # nothing changed
    assert m.document(trail + [_played(40, zs[40], 1200.0)], heat, 7)[2] != etag
    assert m.document(trail, heat + [(zs[500], 2)], 8)[2] != etag                # a new vote


def test_a_mix_head_is_a_known_seed_segment_once_per_change():
    mix = StyleMix(sets={"rock": 1.0})
    labels = ["rock/a@0", "rock/a@16"]
    headed = mix.updated({"head": "rock/a@16"}, {"rock": []}, labels)
    assert headed.head == "rock/a@16" and mix.new_song(headed)            # heading there starts a song
    after = headed.updated({"temperature": 0.5}, {"rock": []}, labels)
    assert after.head == "" and not headed.new_song(dataclasses_replace(after, temperature=1.0))
    for bad in ("rock/b@0", "nope", 3):
        with pytest.raises(MixError, match="head: "):
            mix.updated({"head": bad}, {"rock": []}, labels)
    with pytest.raises(MixError, match="head: interpolate goes between"):    # it would wait, unseen
        mix.updated({"head": "rock/a@16", "mode": "interpolate", "endpoints": ["rock/a@0", "rock/a@16"]},
                    {"rock": [Path("rock/a.mid")]}, labels)


def dataclasses_replace(mix, **changes):
    import dataclasses
    return dataclasses.replace(mix, **changes)


def _map(station, headers=None):
    return call(station, "GET", "/api/map", headers=headers or {})


def test_api_map_steering_and_region_votes(station):
    wait_until_playing(station)
    _, seeds, _ = call(station, "GET", "/api/seeds")
    anchors = sum(f["segments"] for files in seeds["sets"].values() for f in files)
    deadline = time.monotonic() + 30
    while True:
        status, doc, headers = _map(station)
        if doc["trail"] or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert status == 200 and len(doc["dots"]) == anchors and doc["fitted_on"] == anchors
    assert all(0 <= x <= 1 and 0 <= y <= 1 for _, _, x, y in doc["dots"]) and doc["trail"]
    etag = headers["ETag"]
    status, _, _ = _map(station, {"If-None-Match": etag})
    assert status in (304, 200)           # 200 only if a segment started in between
    gz, encoding = _gzipped(station + "/api/map")
    assert encoding == "gzip" and len(gz) <= 30_000 and json.loads(gzip.decompress(gz))["dots"]
    # the admin heads the walk for a dot: the next segment made goes there
    label = doc["dots"][-1][0]
    status, mix, _ = call(station, "PUT", "/api/mix", json={"head": label}, headers=ADMIN)
    assert status == 200 and mix["head"] == label
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        _, now, _ = call(station, "GET", "/api/now")
        if any(s["anchors"][1] == label for s in now["segments"] if s["start"] > now["position"]):
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"no segment headed for {label}: {[s['anchors'] for s in now['segments']]}")
    status, err, _ = call(station, "PUT", "/api/mix", json={"head": "rock/not-a-file@0"}, headers=ADMIN)
    assert status == 400 and err["error"].startswith("head: ")
    status, _, _ = call(station, "PUT", "/api/mix", json={"head": label})
    assert status == 401                                                   # steering is the admin's
    # a listener's click: a like aimed at the region, once per address
    _, before, _ = call(station, "GET", "/api/votes")
    status, vote, _ = call(station, "POST", "/api/vote", json={"vote": "like", "anchor": doc["dots"][0][0]})
    assert status == 200 and vote["counted"] and vote["anchor"] == doc["dots"][0][0]
    status, again, _ = call(station, "POST", "/api/vote", json={"vote": "like", "anchor": doc["dots"][0][0]})
    assert status == 200 and not again["counted"]
    _, after, _ = call(station, "GET", "/api/votes")
    assert after["likes"] == before["likes"] + 1
    for body, code in (({"vote": "skip", "anchor": label}, 400), ({"vote": "like", "anchor": "x/y@0"}, 404),
                       ({"vote": "like", "anchor": label, "segment": 1}, 400)):
        status, err, _ = call(station, "POST", "/api/vote", json=body)
        assert status == code and err["error"], (body, status, err)
    _, doc, _ = _map(station)
    assert any(net > 0 for _, _, net in doc["heat"])                       # the like shows as heat
    assert call(station, "POST", "/api/map/refit")[0] == 401
    status, fit, _ = call(station, "POST", "/api/map/refit", headers=ADMIN)
    assert status == 200 and fit["fitted_on"] == anchors and fit["version"] == doc["version"] + 1


def _gzipped(url):
    import asyncio

    import aiohttp

    async def main():
        async with aiohttp.ClientSession(auto_decompress=False) as http, \
                http.get(url, headers={"Accept-Encoding": "gzip"}) as r:
            return await r.read(), r.headers.get("Content-Encoding")
    return asyncio.run(main())


def _near_polyline(point, line) -> float:
    p, best = np.asarray(point), np.inf
    for a, b in zip(line, line[1:] or line):
        a, b = np.asarray(a), np.asarray(b)
        t = 0.0 if np.allclose(a, b) else float(np.clip((p - a) @ (b - a) / ((b - a) @ (b - a)), 0, 1))
        best = min(best, float(np.linalg.norm(p - (a + t * (b - a)))))
    return best


@pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is not installed")
def test_page_draws_the_map_the_point_moves_and_clicks_vote_or_steer(station, artifacts):
    from conftest import ADMIN_TOKEN
    from playwright.sync_api import sync_playwright
    wait_until_playing(station)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=[
            "--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required"])
        for width in (360, 1280):
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(station + "/")
            page.evaluate("document.getElementById('player').play()")
            page.wait_for_function("window.radio.map && window.radio.map.trail > 1", timeout=30000)
            # the point playing now lies on the trail and moves on with the music (heard(): in step
            # with this listener's audio, as the piano roll is)…
            seen = []
            for _ in range(2):
                seen.append(page.evaluate("() => ({here: window.radio.map, trail: mapDoc.trail.map(s => s.at)})"))
                time.sleep(3)
            for s in seen:
                assert _near_polyline((s["here"]["x"], s["here"]["y"]), s["trail"]) < 1e-3, s
            a, b = (s["here"] for s in seen)
            assert (b["id"], b["along"]) > (a["id"], a["along"]), (a, b)
            # …and it glides from each segment's point to the next's as the segment plays (a
            # fresh station's trail may still be one song's intro and A, at one point: the
            # glide is checked on a trail of three points given to the page's own pointAt)
            glide = page.evaluate("""() => { const saved = mapDoc; mapDoc = {...saved, trail: [
                {id: 1, start: 0, seconds: 10, at: [0.1, 0.1]}, {id: 2, start: 10, seconds: 10, at: [0.9, 0.5]},
                {id: 3, start: 20, seconds: 10, at: [0.5, 0.9]}]};
                const out = [0, 5, 10, 15, 25].map((t) => { const p = pointAt(t); return [p.x, p.y]; });
                mapDoc = saved; return out; }""")
            assert np.allclose(glide, [[0.1, 0.1], [0.5, 0.3], [0.9, 0.5], [0.7, 0.7], [0.5, 0.9]]), glide
            box = page.eval_on_selector("#map", "c => { const r = c.getBoundingClientRect(); "
                                                 "return [r.width, r.height]; }")
            assert box[0] <= width and box[1] >= 200                          # it fits a phone
            lit = page.evaluate("""() => { const c = document.getElementById('map'), d = c.getContext('2d')
                .getImageData(0, 0, c.width, c.height).data; let n = 0;
                for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }""")
            assert lit > 2000                                                  # dots, trail and ring drawn
            assert page.eval_on_selector_all("#map-legend span", "s => s.length") == \
                len(page.evaluate("mapDoc.sets"))
            page.screenshot(path=str(artifacts / f"map-{width}.png"), full_page=True)

            def click_dot(index):
                page.eval_on_selector("#map", "c => c.scrollIntoView({block: 'center'})")
                x, y, label = page.evaluate(f"""() => {{ const [l, , x, y] = mapDoc.dots[{index}];
                    const [px, py] = mapScale()([x, y]); return [px / devicePixelRatio, py / devicePixelRatio, l]; }}""")
                r = page.eval_on_selector("#map", "c => { const r = c.getBoundingClientRect(); return [r.x, r.y]; }")
                page.mouse.click(r[0] + x, r[1] + y)
                return label
            if width == 360:        # a listener: a like aimed at that region
                label = click_dot(1)
                page.wait_for_function("/liked the region|already liked/.test("
                                       "document.getElementById('map-status').textContent)", timeout=10000)
                assert label in page.text_content("#map-status")
            else:                   # the admin: the walk heads there next
                page.click("#admin summary")
                page.fill("#token", ADMIN_TOKEN)
                page.click("#unlock")
                page.wait_for_selector("#sets input")
                label = click_dot(2)
                page.wait_for_function("document.getElementById('map-status').textContent.startsWith('the walk heads')",
                                       timeout=10000)
                assert label in page.text_content("#admin-status")
                headed = label
            page.close()
        browser.close()
    _, mix, _ = call(station, "GET", "/api/mix")
    assert mix["head"] == headed
