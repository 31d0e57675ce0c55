"""Issue 15, tried as an attacker would: every finding as real HTTP requests against the
real station. Each bad request is refused with a 4xx and a JSON error that says why,
nothing unauthenticated changes anything, the stream never stops, and the log holds no
traceback for any of these requests (asserted on the captured log of every test)."""

import asyncio
import json
import logging
import shutil
import socket
import threading
import time

import aiohttp
import note_seq
import numpy as np
import pytest
from conftest import ADMIN_TOKEN, FRIEND_ORIGIN, TRUSTED_PROXY
from test_server import wait_until_playing

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
JSON = {"Content-Type": "application/json"}


@pytest.fixture(autouse=True)
def no_tracebacks(caplog):
    """No request of a test may leave a traceback (or an aiohttp error) in the log."""
    caplog.set_level(logging.WARNING)
    yield
    bad = [f"{r.name}: {r.getMessage()}" for r in caplog.records
           if r.exc_info or (r.name.startswith("aiohttp") and r.levelno >= logging.ERROR)]
    assert not bad, bad


def call(base, method, path, source=None, **kw):
    """(status, JSON or bytes, headers) of one request, sent from loopback address `source`."""
    async def main():
        connector = aiohttp.TCPConnector(local_addr=(source, 0)) if source else None
        async with aiohttp.ClientSession(connector=connector) as http, \
                http.request(method, base + path, **kw) as r:
            body = await r.read()
            if r.content_type == "application/json":
                body = json.loads(body)
            return r.status, body, r.headers
    return asyncio.run(main())


def many(base, requests):
    """Sends [(source, method, path, kwargs)] in order; returns their (status, body, headers)."""
    async def main():
        out, sessions = [], {}
        try:
            for source, method, path, kw in requests:
                if source not in sessions:
                    sessions[source] = aiohttp.ClientSession(
                        connector=aiohttp.TCPConnector(local_addr=(source, 0)))
                async with sessions[source].request(method, base + path, **kw) as r:
                    out.append((r.status, await r.json(), r.headers))
        finally:
            for s in sessions.values():
                await s.close()
        return out
    return asyncio.run(main())


def strict_json(raw: bytes):
    def refuse(name):
        raise ValueError(f"{name} in a response")
    return json.loads(raw, parse_constant=refuse)


def _raw_exchange(base, request: bytes, seconds: float = 3.0) -> bytes:
    host, port = base.rsplit("//", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=seconds) as s:
        s.sendall(request)
        data, end = b"", time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
            if data.count(b"HTTP/1.1 ") >= 2 and data.rstrip().endswith(b"}"):
                break
    return data


# -- HEAD on the streams -------------------------------------------------------------
@pytest.mark.parametrize("fmt,kind", [("mp3", "audio/mpeg"), ("ogg", "audio/ogg")])
def test_head_on_a_stream_gets_its_headers_no_body_and_keeps_the_connection(station, fmt, kind):
    wait_until_playing(station)
    # HEAD, then a GET pipelined on the same connection: the GET's answer must follow the
    # HEAD's headers at once (a body in between would put the connection out of step)
    data = _raw_exchange(station, f"HEAD /stream.{fmt} HTTP/1.1\r\nHost: x\r\n\r\n"
                                  f"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), data[:200]
    headers = head.decode().lower()
    assert f"content-type: {kind}" in headers and "icy-name: latent radio" in headers
    assert rest.startswith(b"HTTP/1.1 200"), rest[:100]       # no audio between the two answers
    assert b'"status"' in rest
    status, _, h = call(station, "HEAD", f"/stream.{fmt}")
    assert status == 200 and h["Content-Type"] == kind


# -- bodies and numbers that crashed the handlers -------------------------------------
def test_deeply_nested_json_is_refused_not_a_crash(station):
    wait_until_playing(station)
    status, err, _ = call(station, "POST", "/api/vote", data=b"[" * 100_000, headers=JSON)
    assert status == 413 and "limit" in err["error"]              # the request: over 64 kB
    status, err, _ = call(station, "POST", "/api/vote", data=b"[" * 60_000, headers=JSON)
    assert status == 400 and "nests more than" in err["error"]    # under the size limit: the depth
    status, err, _ = call(station, "PUT", "/api/mix", data=b'{"groove":' * 6_000, headers={**ADMIN, **JSON})
    assert status == 400 and "nests more than" in err["error"]
    status, err, _ = call(station, "PUT", "/api/mix", data=b"[" * 100_000, headers=JSON)
    assert status == 401                              # no token: refused before the body is read


def test_a_5000_digit_segment_id_is_a_404(station):
    status, err, _ = call(station, "GET", f"/api/segments/{'9' * 5000}.mid")
    assert status == 404 and "not in the recent history" in err["error"]
    status, err, _ = call(station, "GET", "/api/segments/٣.mid")   # a non-ASCII digit
    assert status == 404


@pytest.mark.parametrize("body,word", [
    (b'{"transpose": NaN}', "NaN"), (b'{"lead_program": Infinity}', "Infinity"),
    (b'{"ramp_bars": NaN}', "NaN"), (b'{"groove": {"drums": {"base": Infinity}}}', "Infinity"),
    (b'{"temperature": -Infinity}', "-Infinity"), (b'{"qpm": 1e999}', "finite"),
    (b'{"transpose": ' + b"9" * 5000 + b"}", "the limit is"),
])
def test_non_finite_and_huge_numbers_in_a_mix_are_refused(station, body, word):
    wait_until_playing(station)
    _, before, _ = call(station, "GET", "/api/mix")
    status, err, _ = call(station, "PUT", "/api/mix", data=body, headers={**ADMIN, **JSON})
    assert status == 400 and word in err["error"], err
    _, after, _ = call(station, "GET", "/api/mix")
    assert after == before


def test_a_body_over_the_size_limit_is_a_413(station):
    status, err, _ = call(station, "PUT", "/api/mix", headers={**ADMIN, **JSON},
                          data=json.dumps({"endpoints": ["x" * 900_000, "y"]}).encode())
    assert status == 413 and "limit" in err["error"]


# -- mixes validated whole --------------------------------------------------------------
def _seed_files(station):
    """Two seed files (set/file) that give segments: the first of rock and of ska."""
    _, seeds, _ = call(station, "GET", "/api/seeds")
    return [name + "/" + next(f for f in seeds["sets"][name] if f["segments"] > 0)["name"].rsplit(".", 1)[0]
            for name in ("rock", "ska")]


def test_interpolate_endpoints_must_name_an_existing_seed_and_bar(station):
    wait_until_playing(station)
    seed, other = _seed_files(station)
    _, before, _ = call(station, "GET", "/api/mix")
    _, health, _ = call(station, "GET", "/healthz")
    for ends in (["rock/x@99';--", seed], [seed + "@99999", seed], [seed + "\n", seed], [seed + "@1x", seed],
                 ["../rock/" + seed, seed], [seed, "nope/" + seed]):
        status, err, _ = call(station, "PUT", "/api/mix", json={"mode": "interpolate", "endpoints": ends},
                              headers=ADMIN)
        assert status == 400 and "endpoints" in err["error"], (ends, err)
    _, after, _ = call(station, "GET", "/api/mix")
    assert after == before
    status, mix, _ = call(station, "PUT", "/api/mix", json={"mode": "interpolate", "endpoints": [seed, other]},
                          headers=ADMIN)
    assert status == 200 and mix["endpoints"] == [seed, other]
    time.sleep(3)                                     # the generator takes the mix without a restart
    _, now, _ = call(station, "GET", "/api/now")
    _, health_after, _ = call(station, "GET", "/healthz")
    assert now["mix"]["mode"] == "interpolate"
    assert health_after["generator_restarts"] == health["generator_restarts"]
    status, mix, _ = call(station, "PUT", "/api/mix", json={"mode": "walk", "endpoints": []}, headers=ADMIN)
    assert status == 200 and mix["endpoints"] == []


def test_walk_endpoints_are_validated_too_and_now_stays_strict_json(station, caplog):
    wait_until_playing(station)
    for ends, code in ((["a" * 1000, "b"], 400), ([1.5, "x"], 400), ("rock", 400), ([None], 400)):
        status, err, _ = call(station, "PUT", "/api/mix", json={"mode": "walk", "endpoints": ends},
                              headers=ADMIN)
        assert status == code and "endpoints" in err["error"], (ends, err)
        assert len(err["error"]) < 400                   # the message quotes it cut short
    status, err, _ = call(station, "PUT", "/api/mix", data=b'{"endpoints": [NaN, NaN]}', headers=ADMIN)
    assert status == 400 and "NaN" in err["error"]
    async def raw():
        async with aiohttp.ClientSession() as http, http.get(station + "/api/now") as r:
            return await r.read()
    now = strict_json(asyncio.run(raw()))
    assert now["mix"]["endpoints"] == [] or all(len(e) < 200 for e in now["mix"]["endpoints"])


def test_set_names_are_matched_whole(station, song_dir):
    wait_until_playing(station)
    good = sorted(song_dir.glob("*.mid"))[0].read_bytes()
    form = aiohttp.FormData()
    form.add_field("file", good, filename="x.mid", content_type="audio/midi")
    status, err, _ = call(station, "POST", "/api/seeds/rock%0A", data=form, headers=ADMIN)
    assert status == 400 and "set name" in err["error"]
    status, err, _ = call(station, "DELETE", "/api/seeds/rock%0A", headers=ADMIN)
    assert status == 400 and "set name" in err["error"]
    status, err, _ = call(station, "PUT", "/api/mix", json={"sets": {"rock\n": 1}}, headers=ADMIN)
    assert status == 400 and "no seed set named" in err["error"]
    _, seeds, _ = call(station, "GET", "/api/seeds")
    assert all("\n" not in name for name in seeds["sets"])


# -- votes --------------------------------------------------------------------------------
def test_forwarded_for_is_believed_only_from_a_trusted_proxy(station):
    """A spoofed X-Forwarded-For does not give a client new addresses; the trusted proxy's does,
    and only its right-most hop that is not a proxy counts."""
    wait_until_playing(station)
    results = many(station, [("127.0.3.1", "POST", "/api/vote",
                              {"json": {"vote": "like"}, "headers": {"X-Forwarded-For": f"10.9.{i // 250}.{i % 250}"}})
                             for i in range(121)])
    statuses = [r[0] for r in results]
    assert statuses[:120] == [200] * 120                         # all from 127.0.3.1 …
    counted = sum(r[1]["counted"] for r in results[:120])
    assert counted == len({r[1]["segment"] for r in results[:120]})   # … so once per segment
    status, err, headers = results[120]
    assert status == 429 and "one address" in err["error"] and 0 < int(headers["Retry-After"]) <= 3600
    via_proxy = many(station, [
        (TRUSTED_PROXY, "POST", "/api/vote", {"json": {"vote": "like"}, "headers": {"X-Forwarded-For": xff}})
        for xff in ("203.0.113.7", "203.0.113.8", "198.51.100.1, 203.0.113.7", "::ffff:203.0.113.8")])
    assert [r[0] for r in via_proxy] == [200] * 4
    segments = {r[1]["segment"] for r in via_proxy}
    if len(segments) == 1:                       # all on one segment (it may have changed between)
        assert [r[1]["counted"] for r in via_proxy] == [True, True, False, False]


def test_votes_are_limited_per_network(station):
    """One /24 gets 600 votes an hour however many addresses it uses (here 254 loopback ones)."""
    wait_until_playing(station)
    sources = [f"127.0.4.{1 + i % 254}" for i in range(640)]
    t0 = time.monotonic()
    results = many(station, [(s, "POST", "/api/vote", {"json": {"vote": "skip"}}) for s in sources])
    took = time.monotonic() - t0
    statuses = [r[0] for r in results]
    assert 429 in statuses
    first = statuses.index(429)
    # the budget refills evenly over the hour: one more vote per 6 s this took
    assert 600 <= first <= 600 + took / 6 + 1 and set(statuses[:first]) == {200}, (first, took)
    status, err, headers = results[first]
    assert "one network" in err["error"] and int(headers["Retry-After"]) > 0
    status, _, _ = call(station, "POST", "/api/vote", source="127.0.6.1", json={"vote": "skip"})
    assert status == 200                                         # another /24 is not affected


def test_vote_tables_are_bounded():
    """The rate tables keep at most their LRU size of addresses; a segment at most MAX_VOTERS voters.
    (In-process: 100,000 addresses are more than a test should send over HTTP.)"""
    from radio.generator.votes import MAX_VOTERS, VoteError, Votes
    from radio.support.ratelimit import RateLimit
    table = RateLimit(10, 3600.0, max_keys=1000)
    for i in range(5000):
        table.take(f"10.0.{i // 250}.{i % 250}")
    assert len(table) == 1000
    votes = Votes()
    z = np.ones(4, np.float32)
    for i in range(MAX_VOTERS):
        votes.vote(f"2001:db8:{i}::1", 1, z, "like")
    with pytest.raises(VoteError) as e:
        votes.vote("2001:db8:ffff::1", 1, z, "like")
    assert e.value.status == 409
    assert len(votes._tallies[1].voters) == MAX_VOTERS
    assert len(votes._per_address) == MAX_VOTERS + 1          # the refused vote was sent, so it counts


def test_votes_must_be_json_from_our_own_or_a_configured_origin(station):
    wait_until_playing(station)
    _, before, _ = call(station, "GET", "/api/votes")
    src = "127.0.7.1"
    status, err, _ = call(station, "POST", "/api/vote", source=src, data=b'{"vote": "like"}',
                          headers={"Content-Type": "text/plain", "Origin": "https://evil.example"})
    assert status in (403, 415) and err["error"]
    status, err, _ = call(station, "POST", "/api/vote", source=src, data=b'{"vote": "like"}',
                          headers={"Content-Type": "text/plain"})
    assert status == 415 and "application/json" in err["error"]
    for origin in ("https://evil.example", "null", station.replace("127.0.0.1", "localhost")):
        status, err, _ = call(station, "POST", "/api/vote", source=src, json={"vote": "like"},
                              headers={"Origin": origin})
        assert status == 403 and "not allowed" in err["error"], origin
    _, after, _ = call(station, "GET", "/api/votes")
    assert after["likes"] == before["likes"]                     # nothing counted
    for origin in (station, FRIEND_ORIGIN, None):
        status, body, _ = call(station, "POST", "/api/vote", source=src, json={"vote": "like"},
                               headers={"Origin": origin} if origin else {})
        assert status == 200, (origin, body)


def test_votes_while_the_generator_reads_them():
    """The event loop votes while the generator thread computes the bias: no 'mutated during
    iteration', and every vote is counted."""
    from radio.generator.votes import Votes
    from radio.music.composer import Anchor
    votes = Votes(memory=50)
    anchors = [Anchor(z=np.random.default_rng(i).normal(size=16).astype(np.float32), qpm=120,
                      label=f"a{i}", set="s") for i in range(20)]
    errors, stop = [], threading.Event()

    def generator():
        while not stop.is_set():
            try:
                votes.bias(anchors)
                votes.to_dict()
            except Exception as e:  # noqa: BLE001 — the race this test is about
                errors.append(e)
    t = threading.Thread(target=generator)
    t.start()
    for i in range(5000):
        votes.vote(f"10.{i // 60000}.{i // 250 % 240}.{i % 250}", i % 200, anchors[i % 20].z, "like")
    stop.set()
    t.join()
    assert errors == []


def test_the_last_mix_change_is_the_one_the_generator_plays(tmp_path):
    """Mix changes from the control thread while the generator takes them: none is lost in
    the swap, so the last one set is what the pipeline ends up playing."""
    import queue

    from tonepipeline import TonePipeline

    from radio.config import Settings
    from radio.generator.loop import GeneratorLoop
    made, stop = queue.Queue(maxsize=1), threading.Event()
    loop = GeneratorLoop(Settings(data=str(tmp_path)), lambda s, model=None: TonePipeline(), {},
                         made.put, lambda *e: None, stop)

    def drain():                    # the station taking segments as they come
        while not stop.is_set():
            try:
                made.get(timeout=0.1)
            except queue.Empty:
                pass
    threads = [threading.Thread(target=loop.run, daemon=True), threading.Thread(target=drain, daemon=True)]
    for t in threads:
        t.start()
    try:
        assert loop.ready.wait(30)
        rng = np.random.default_rng(0)
        for i in range(60):        # two changes close together, the second while the first is taken
            loop.handle(("mix", 2 * i, {"temperature": 0.5}, None))
            time.sleep(rng.uniform(0, 0.003))
            last = round(0.6 + i / 200, 3)
            loop.handle(("mix", 2 * i + 1, {"temperature": last}, None))
            end = time.monotonic() + 5
            while loop.pipeline.mix.temperature != last and time.monotonic() < end:
                time.sleep(0.002)
            assert loop.pipeline.mix.temperature == last, f"change {i} was lost"
    finally:
        stop.set()
        for t in threads:
            t.join(10)


# -- uploads and manifests --------------------------------------------------------------
def _variants(song_dir, tmp_path, n):
    """n valid trio MIDI files with different bytes (one velocity changed in each)."""
    base = note_seq.midi_file_to_note_sequence(str(sorted(song_dir.glob("*.mid"))[0]))
    files = []
    for i in range(n):
        seq = note_seq.NoteSequence()
        seq.CopyFrom(base)
        seq.notes[0].velocity = 20 + i
        note_seq.sequence_proto_to_midi_file(seq, str(tmp_path / f"v{i}.mid"))
        files.append((tmp_path / f"v{i}.mid").read_bytes())
    return files


def test_twenty_concurrent_uploads_are_all_kept_and_listed(station, song_dir, tmp_path, tmp_path_factory):
    wait_until_playing(station)
    files = _variants(song_dir, tmp_path, 20)
    assert len(set(files)) == 20

    async def main():
        async with aiohttp.ClientSession() as http:
            async def one(i, data):
                form = aiohttp.FormData()
                form.add_field("file", data, filename=f"crowd_{i:02d}.mid", content_type="audio/midi")
                async with http.post(station + "/api/seeds/crowd", data=form, headers=ADMIN) as r:
                    return r.status, await r.json()
            return await asyncio.gather(*(one(i, d) for i, d in enumerate(files)))
    results = asyncio.run(main())
    assert [s for s, _ in results] == [201] * 20, results
    _, listing, _ = call(station, "GET", "/api/seeds")
    names = sorted(f["name"] for f in listing["sets"]["crowd"])
    assert names == [f"crowd_{i:02d}.mid" for i in range(20)]
    manifests = list({p.resolve() for p in tmp_path_factory.getbasetemp().glob(
        "station-data*/seeds/crowd/manifest.json")})
    assert len(manifests) == 1
    assert sorted(json.loads(manifests[0].read_text())["files"]) == names      # none lost

    # the manifest is not a file of the set: the API cannot delete it
    for path in ("/api/seeds/crowd/manifest.json", "/api/seeds/crowd/.lock", "/api/seeds/crowd/..%2Fseeds"):
        status, err, _ = call(station, "DELETE", path, headers=ADMIN)
        assert status in (404, 400) and err["error"], (path, err)
    assert manifests[0].exists()
    status, gone, _ = call(station, "DELETE", "/api/seeds/crowd", headers=ADMIN)
    assert status == 200 and len(gone["removed"]) == 20


def test_manifest_changes_are_locked_across_processes(tmp_path):
    """While another process holds the library's lock, a change here waits for it."""
    import subprocess
    import sys

    from radio.music.seedsets import SeedLibrary
    lib = SeedLibrary(tmp_path / "seeds")
    (tmp_path / "seeds" / "s").mkdir()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, sys, time\n"
        f"f = open({str(tmp_path / 'seeds' / '.lock')!r}, 'a+b'); fcntl.flock(f, fcntl.LOCK_EX)\n"
        "print('held', flush=True); time.sleep(1.5)\n")], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    t0 = time.monotonic()
    with lib.update_manifest("s") as data:
        data["transpose"] = 2
    waited = time.monotonic() - t0
    holder.wait(10)
    assert waited > 0.8 and lib.manifest("s")["transpose"] == 2


# -- the admin token ----------------------------------------------------------------------
def test_wrong_tokens_are_limited_per_address_not_globally(station):
    wait_until_playing(station)
    guesser = "127.0.5.1"
    t0 = time.monotonic()
    results = many(station, [(guesser, "PUT", "/api/mix", {"json": {}, "headers": {"Authorization": f"Bearer guess-{i:06d}"}})
                             for i in range(30)])
    took = time.monotonic() - t0
    statuses = [r[0] for r in results]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429] * 20, statuses
    assert 50 <= int(results[-1][2]["Retry-After"]) <= 60 and "too many wrong" in results[-1][1]["error"]
    status, _, _ = call(station, "PUT", "/api/mix", json={}, headers=ADMIN, source=guesser)
    assert status == 429                                          # that address waits, token or not
    status, _, _ = call(station, "PUT", "/api/mix", json={}, headers=ADMIN)   # the admin elsewhere: fine
    assert status == 200
    status, _, _ = call(station, "PUT", "/api/mix", json={}, source="127.0.5.2",
                        headers={**ADMIN, "X-Forwarded-For": "127.0.5.1"})
    assert status == 200                                          # and no one can lock out others by header
    print(f"30 wrong tokens: {took:.2f} s, 10 checked, 20 refused unchecked")


@pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is not installed")
def test_the_page_keeps_the_token_only_once_the_station_took_it(station):
    from playwright.sync_api import sync_playwright
    wait_until_playing(station)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page()
        page.goto(station + "/")
        page.click("#admin summary")
        page.fill("#token", "a-wrong-token-123")
        page.click("#unlock")
        page.wait_for_function("document.getElementById('admin-status').textContent.startsWith('refused')",
                               timeout=10000)
        assert page.evaluate("localStorage.getItem('radio-token')") is None
        page.fill("#token", ADMIN_TOKEN)
        page.click("#unlock")
        page.wait_for_function("document.getElementById('admin-status').textContent.startsWith('mix:')",
                               timeout=10000)
        assert page.evaluate("localStorage.getItem('radio-token')") == ADMIN_TOKEN
        browser.close()


# -- secrets ------------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["icecast://source:hunter2-secret@host:99999/radio",
                                 "icecast://source:hunter2-secret@host:8000/",
                                 "ftp://source:hunter2-secret@host:8000/radio",
                                 "icecast://source:hunter2-secret@[::1/radio"])
def test_a_bad_icecast_url_never_shows_its_password(url):
    from radio.config import ConfigError, Settings
    with pytest.raises(ConfigError) as e:
        Settings.from_env(env={"RADIO_ICECAST": url})
    assert "hunter2" not in str(e.value) and "***" in str(e.value)


# -- afterwards ----------------------------------------------------------------------------
def test_the_stream_played_on_through_all_of_it(station):
    # (under xdist the tests above may have run on the other worker's station: this one
    # may be starting; a station that broke would never come to play)
    wait_until_playing(station)
    status, health, _ = call(station, "GET", "/healthz")
    # "degraded" is the loop fill covering a late generator (2 busy cores, 20 new seeds to
    # encode): the stream plays on; a generator error would be in last_error
    assert status == 200 and health["status"] in ("ok", "degraded") and health["last_error"] is None, health
    _, a, _ = call(station, "GET", "/api/now")
    time.sleep(1.5)
    _, b, _ = call(station, "GET", "/api/now")
    assert b["position"] > a["position"]


def test_settings_never_show_their_secrets():
    from radio.config import Settings
    settings = Settings(admin_token="a-very-secret-token", icecast="icecast://source:hunter2@host:8000/radio")
    assert "a-very-secret-token" not in repr(settings) and "hunter2" not in repr(settings)


# -- the pieces, in-process -------------------------------------------------------------------
@pytest.mark.parametrize("peer,forwarded,expected", [
    ("203.0.113.5", "198.51.100.1", "203.0.113.5"),              # not a trusted proxy: header ignored
    ("::ffff:203.0.113.5", None, "203.0.113.5"),                 # IPv4-mapped IPv6 is IPv4
    ("127.0.0.9", "198.51.100.1", "198.51.100.1"),               # the trusted proxy's word
    ("::ffff:127.0.0.9", "198.51.100.1", "198.51.100.1"),        # … on a dual-stack socket too
    ("127.0.0.9", "6.6.6.6, 198.51.100.1", "198.51.100.1"),      # a client's own entry is not believed
    ("127.0.0.9", "198.51.100.1, 127.0.0.9", "198.51.100.1"),    # proxies in the chain are skipped
    ("127.0.0.9", "not-an-address", "127.0.0.9"),                # garbage: the last hop we know
    ("127.0.0.9", "::ffff:198.51.100.1", "198.51.100.1"),
    (None, "198.51.100.1", "0.0.0.0"),                           # a Unix socket
])
def test_one_function_decides_the_client_address(peer, forwarded, expected):
    from radio.config import parse_networks
    from radio.support.clients import client_address
    assert str(client_address(peer, forwarded, parse_networks(TRUSTED_PROXY))) == expected


def test_networks_for_the_limits():
    from radio.support.clients import network_of, parse_address
    assert str(network_of(parse_address("203.0.113.77"))) == "203.0.113.0/24"
    assert str(network_of(parse_address("2001:db8:1:2:3:4:5:6"))) == "2001:db8:1:2::/64"
    assert str(network_of(parse_address("::ffff:203.0.113.77"))) == "203.0.113.0/24"


def test_token_lockout_lasts_a_minute_and_forgets():
    from radio.support.ratelimit import Lockout
    now = [0.0]
    lock = Lockout(limit=10, window=60, lock=60, max_keys=100, clock=lambda: now[0])
    for _ in range(9):
        assert lock.failed("a") == 0
    assert lock.failed("a") == 60 and lock.retry_after("b") == 0
    now[0] = 59.5
    assert lock.retry_after("a") == 1
    now[0] = 60.5
    assert lock.retry_after("a") == 0
    for i in range(1000):
        lock.failed(f"k{i}")
    assert len(lock) == 100


def test_a_seed_removed_between_listing_and_encoding_is_skipped(tmp_path, monkeypatch):
    """An upload raced by a DELETE of its set: the generator listed the file, then it was
    gone. The generator goes on (before: FileNotFoundError, a generator restart)."""
    import shutil

    from radio.config import Settings
    from radio.generator import pipeline as pl
    from radio.station.station import prepare_seeds
    settings = Settings(data=str(tmp_path))
    prepare_seeds(settings)
    p = pl.Pipeline(settings)
    before = len(p.anchors)
    src = next(path for _, path in p.library.files())
    racing = src.parent / "racing.mid"
    shutil.copy(src, racing)
    encode = pl.encode_file

    def removed_meanwhile(model, set_name, path, cache=None):
        if path == racing:
            racing.unlink()
        return encode(model, set_name, path, cache)
    monkeypatch.setattr(pl, "encode_file", removed_meanwhile)
    p.sync_seeds()
    assert racing not in p._anchors and len(p.anchors) == before
    assert p.sync_seeds() is False      # and nothing is left to forget


def test_channel_routes_refuse_bad_names_paths_and_changes(station):
    """Channels (issue 29) on the shared one-channel station: nothing here starts one."""
    for path in ("/api/channels/nope/now", "/api/channels/nope", "/nope/stream.mp3", "/nope/hls/live.m3u8"):
        status, err, _ = call(station, "GET", path)
        assert status == 404 and "nope" in err["error"], path
    for path in ("/main/hls/..%2fstate.json", "/main/hls/.hidden.ts", "/main/hls/%2e%2e%2fchannels.json"):
        assert call(station, "GET", path)[0] == 404, path
    for name in ("api", "healthz", "../x", "a" * 5000, "Main", 7, None):
        status, err, _ = call(station, "POST", "/api/channels", json={"name": name}, headers=ADMIN)
        assert status == 400 and "channel name" in err["error"], name
    status, err, _ = call(station, "POST", "/api/channels", json={"name": "evil"})
    assert status == 401
    status, err, _ = call(station, "POST", "/api/channels", json={"name": "evil"},
                          headers={**ADMIN, "Origin": "https://evil.example"})
    assert status == 403
    status, err, _ = call(station, "PUT", "/api/channels/main", json={"title": "x" * 201}, headers=ADMIN)
    assert status == 400 and "channel.main.title" in err["error"]
    status, err, _ = call(station, "PUT", "/api/channels/main", data=b"[" * 30_000, headers={**ADMIN, **JSON})
    assert status == 400 and "deep" in err["error"]
    status, err, _ = call(station, "DELETE", "/api/channels/main", headers=ADMIN)
    assert status == 409 and "cannot be removed" in err["error"]
    _, listed, _ = call(station, "GET", "/api/channels")
    assert [c["name"] for c in listed["channels"]] == ["main"]
