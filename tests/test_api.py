"""The JSON API on the real station: reads for everyone, changes only with the admin token,
uploads validated before they are kept, and every bad request a clear JSON 4xx."""

import asyncio
import time

import aiohttp
import note_seq
import pytest
from conftest import ADMIN_TOKEN
from prometheus_client.parser import text_string_to_metric_families
from test_server import wait_until_playing

from radio.sound.presets import PRESETS

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def call(base, method, path, **kw):
    """(status, JSON or bytes, headers) of one request."""
    async def main():
        async with aiohttp.ClientSession() as http, http.request(method, base + path, **kw) as r:
            body = await r.read()
            if r.content_type == "application/json":
                import json
                body = json.loads(body)
            return r.status, body, r.headers
    return asyncio.run(main())


def upload(base, set_name, name, data, headers=ADMIN):
    form = aiohttp.FormData()
    form.add_field("file", data, filename=name, content_type="audio/midi")
    return call(base, "POST", f"/api/seeds/{set_name}", data=form, headers=headers)


def test_now_history_and_the_midi_as_played(station):
    wait_until_playing(station)
    deadline = time.monotonic() + 60
    while True:     # past a song's intro (drums and bass only): a section where all three play
        status, now, _ = call(station, "GET", "/api/now")
        assert status == 200 and now["now_playing"] and now["position"] > 0
        if (now["song"] or {}).get("name") != "intro" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    ids = [s["id"] for s in now["segments"]]
    assert now["now_playing"]["id"] in ids and ids == sorted(ids)
    current = next(s for s in now["segments"] if s["id"] == now["now_playing"]["id"])
    assert current["start"] <= now["position"] and len(current["notes"]) > 50
    assert {n[0] for n in current["notes"]} == {0, 1, 2}          # drums, bass and lead all play
    status, history, _ = call(station, "GET", "/api/history")
    assert status == 200 and history["segments"][0]["id"] == current["id"]
    status, midi, headers = call(station, "GET", history["segments"][0]["midi"])
    assert status == 200 and headers["Content-Type"] == "audio/midi"
    ns = note_seq.midi_to_note_sequence(midi)
    assert len(ns.notes) == len(current["notes"])                  # the notes as played…
    assert sorted(round(n.velocity) for n in ns.notes) == sorted(n[4] for n in current["notes"])
    programs = {n.program for n in ns.notes if not n.is_drum}
    assert programs == {current["programs"]["lead"], current["programs"]["bass"]}
    status, err, _ = call(station, "GET", "/api/segments/999999.mid")
    assert status == 404 and "history" in err["error"]


def test_mix_changes_need_the_token_and_are_validated(station):
    wait_until_playing(station)
    status, mix, _ = call(station, "GET", "/api/mix")
    assert status == 200 and set(mix["sets_available"]) >= {"rock", "ska", "swing"}
    change = {"sets": {"rock": 0.5, "ska": 0.5}, "temperature": 0.7, "qpm": 128}
    for headers in ({}, {"Authorization": "Bearer wrong-token-000000"}, {"Authorization": ADMIN_TOKEN}):
        status, err, h = call(station, "PUT", "/api/mix", json=change, headers=headers)
        assert status == 401 and "admin token" in err["error"] and h["WWW-Authenticate"] == "Bearer"
    bad = [({"sets": {"punk": 1}}, "no seed set named 'punk'"),
           ({"sets": {"rock": 0}}, "at least one weight"),
           ({"temperature": 9}, "temperature=9"),
           ({"lead_program": 3.5}, "lead_program: expected an integer"),
           ({"volume": 11}, "unknown field"),
           ([1, 2], "JSON object")]
    for body, message in bad:
        status, err, _ = call(station, "PUT", "/api/mix", json=body, headers=ADMIN)
        assert status == 400 and message in err["error"], (body, err)
    status, err, _ = call(station, "PUT", "/api/mix", data=b"{not json", headers=ADMIN)
    assert status == 400 and "JSON" in err["error"]
    status, mix, _ = call(station, "PUT", "/api/mix", json=change, headers=ADMIN)
    assert status == 200 and mix["label"] == "rock 0.5 × ska 0.5"
    _, now, _ = call(station, "GET", "/api/now")
    assert now["mix"]["sets"] == {"rock": 0.5, "ska": 0.5} and now["mix"]["qpm"] == 128


def test_seed_uploads_are_validated_sanitised_and_deletable(station, song_dir, tmp_path):
    wait_until_playing(station)
    good = sorted(song_dir.glob("*.mid"))[0].read_bytes()
    status, kept, _ = upload(station, "mine", "../../etc/My Song!.mid", good)
    assert status == 201, kept
    assert kept == {"set": "mine", "file": "My_Song.mid", "segments": kept["segments"], "roles": kept["roles"]}
    assert kept["segments"] >= 1
    _, listing, _ = call(station, "GET", "/api/seeds")
    assert [f["name"] for f in listing["sets"]["mine"]] == ["My_Song.mid"]
    assert not list(tmp_path.parents[1].glob("**/etc/My*"))         # nothing written outside

    piano = note_seq.NoteSequence()
    for i in range(64):
        piano.notes.add(pitch=60 + i % 12, start_time=i * 0.5, end_time=i * 0.5 + 0.4, velocity=80)
    piano.total_time = 32
    piano_file = tmp_path / "piano.mid"
    note_seq.sequence_proto_to_midi_file(piano, str(piano_file))
    refused = [("mine", "empty.mid", b"", 422, "empty file"),
               ("mine", "text.mid", b"hello, not a song", 422, "not MIDI"),
               ("mine", "broken.mid", b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\xff\xff", 422, "corrupt"),
               ("mine", "piano.mid", piano_file.read_bytes(), 422, "no drums"),
               ("mine", "again.mid", good, 409, "already kept"),
               ("mine", "huge.mid", b"MThd" + bytes(3 * 1024 * 1024), 413, "limit"),
               ("Bad Name", "x.mid", good, 400, "set name")]
    for set_name, name, data, code, message in refused:
        status, err, _ = upload(station, set_name, name, data)
        assert status == code and message in err["error"], (name, status, err)
    status, err, _ = upload(station, "mine", "x.mid", good, headers={})
    assert status == 401
    status, err, _ = call(station, "POST", "/api/seeds/mine", data=b"raw", headers=ADMIN)
    assert status == 415 and "multipart" in err["error"]
    _, listing, _ = call(station, "GET", "/api/seeds")
    assert [f["name"] for f in listing["sets"]["mine"]] == ["My_Song.mid"]   # nothing bad kept

    status, err, _ = call(station, "DELETE", "/api/seeds/mine/nope.mid", headers=ADMIN)
    assert status == 404
    status, err, _ = call(station, "DELETE", "/api/seeds/mine/My_Song.mid")
    assert status == 401
    status, gone, _ = call(station, "DELETE", "/api/seeds/mine/My_Song.mid", headers=ADMIN)
    assert status == 200 and gone["removed"] == ["mine/My_Song.mid"]
    status, gone, _ = call(station, "DELETE", "/api/seeds/mine", headers=ADMIN)
    assert status == 200
    _, listing, _ = call(station, "GET", "/api/seeds")
    assert "mine" not in listing["sets"] and "rock" in listing["sets"]


@pytest.mark.parametrize("method,path,code", [("GET", "/api/nothing", 404), ("POST", "/api/now", 405),
                                              ("DELETE", "/api/mix", 405), ("GET", "/api/segments/x.mid", 404)])
def test_bad_requests_get_json_errors(station, method, path, code):
    status, err, _ = call(station, method, path)
    assert status == code and isinstance(err, dict) and err["error"]


def test_health_and_prometheus_metrics(station):
    wait_until_playing(station)
    status, health, _ = call(station, "GET", "/healthz")
    assert status == 200 and health["status"] == "ok" and health["lead_seconds"] > 0
    sound = health["sound"]
    assert sound["preset"] in PRESETS and sound["target_lufs"] == -16.0 and sound["missing_soundfonts"] == []
    assert 0 < sound["master_gain_db"] < 20     # the presets sit ~10 dB under the target
    status, text, headers = call(station, "GET", "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    parsed = [s for family in text_string_to_metric_families(text.decode()) for s in family.samples]
    assert parsed and all(s.labels["channel"] == "main" for s in parsed)     # one channel: main
    samples = {(s.name, s.labels.get("format", "")): s.value for s in parsed}
    assert samples[("radio_segments_generated_total", "")] >= 1
    assert samples[("radio_bytes_out_total", "mp3")] >= 0 and ("radio_listeners", "ogg") in samples
    assert samples[("radio_decode_seconds_count", "")] >= 1 and samples[("radio_render_seconds_sum", "")] > 0
    assert ("radio_generator_lead_seconds", "") in samples and ("radio_listeners_dropped_total", "mp3") in samples
    assert abs(samples[("radio_output_loudness_lufs", "")] + 16.0) < 3 and ("radio_master_gain_db", "") in samples


def test_fault_drills_need_the_token_and_a_known_fault(station):
    status, err, _ = call(station, "POST", "/api/drill", json={"fault": "crash"})
    assert status == 401
    for body in ({"fault": "explode"}, {"fault": "stall", "seconds": 9999}, [1], {"seconds": 3}):
        status, err, _ = call(station, "POST", "/api/drill", json=body, headers=ADMIN)
        assert status == 400 and "drill" in err["error"], body


def test_truncated_huge_and_malformed_requests_leave_the_station_playing(station, song_dir):
    import socket
    import time
    wait_until_playing(station)
    good = sorted(song_dir.glob("*.mid"))[1].read_bytes()
    status, err, _ = upload(station, "rock", "cut.mid", good[: len(good) // 2])
    assert status == 422 and ("corrupt" in err["error"] or "too short" in err["error"]), err

    async def huge():                                  # 100 MB, streamed: refused at 2 MB
        async def body():
            for _ in range(100):
                yield b"MThd" + bytes(1024 * 1024 - 4)
        form = aiohttp.FormData()
        form.add_field("file", body(), filename="huge.mid", content_type="audio/midi")
        async with aiohttp.ClientSession() as http:
            t0 = time.monotonic()
            try:
                async with http.post(station + "/api/seeds/rock", data=form, headers=ADMIN) as r:
                    return r.status, await r.json(), time.monotonic() - t0
            except aiohttp.ClientError as e:           # the server may close mid-upload
                return 413, {"error": f"closed: {e}"}, time.monotonic() - t0
    status, err, took = asyncio.run(huge())
    assert status == 413, err

    host, port = station[len("http://"):].split(":")
    for garbage in (b"\x16\x03\x01\x02\x00garbage\r\n\r\n", b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
                    b"PUT /api/mix HTTP/1.1\r\nContent-Length: -5\r\n\r\n"):
        with socket.create_connection((host, int(port)), timeout=5) as s:
            s.sendall(garbage)
            reply = s.recv(200)
        assert reply[:10] in (b"HTTP/1.1 4", b"HTTP/1.0 4") or reply == b"", reply   # refused, no 5xx
    _, listing, _ = call(station, "GET", "/api/seeds")
    assert {"rock", "ska", "swing"} <= set(listing["sets"]) and all(listing["sets"][s] for s in ("rock", "ska"))
    status, health, _ = call(station, "GET", "/healthz")
    assert status == 200 and health["status"] == "ok"
