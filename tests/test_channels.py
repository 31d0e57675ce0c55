"""Channels: several stations in one server. The book's rules on their own, then one real
server with two channels from the settings and one added at run time: each plays its own
mix to its own listeners, answers on its own URLs, and stays up when another's generator
is killed; a removed channel lets its listeners go and its URLs answer 404."""

import asyncio
import json
import shutil
import time

import aiohttp
import pytest
from conftest import ADMIN_TOKEN, running_station
from test_server import _read

from radio.config import Settings
from radio.offline.audiostats import decode_with_ffmpeg, sounding_seconds
from radio.station.channels import ChannelBook, ChannelError, ChannelSpec, capacity, settings_for

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
NIGHT = {"title": "Night", "description": "jazz after dark", "mix": {"sets": {"jazz": 1}, "temperature": 0.8}}


def book(tmp_path, **kw) -> ChannelBook:
    return ChannelBook(Settings(data=str(tmp_path), **kw))


def test_the_book_checks_names_fields_and_the_cap(tmp_path):
    assert list(book(tmp_path).specs()) == ["main"]                  # no table: one channel, main
    specs = book(tmp_path, channels={"night": NIGHT}, name="radio x").specs()
    assert list(specs) == ["main", "night"] and specs["night"].title == "Night" and specs["main"].title == "radio x"
    for name, why in (("api", "path the server uses"), ("Night", "a-z 0-9"), ("-x", "a-z 0-9"), ("a" * 33, "1–32")):
        with pytest.raises(ChannelError, match=why):
            book(tmp_path, channels={name: {}})
    with pytest.raises(ChannelError, match=r"channels\.night\.tempo: unknown field"):
        book(tmp_path, channels={"night": {"tempo": 90}})
    with pytest.raises(ChannelError, match=r"channels\.night\.mix: expected a table"):
        book(tmp_path, channels={"night": {"mix": "jazz"}})
    with pytest.raises(ChannelError, match="over max_channels=2"):
        book(tmp_path, channels={"a": {}, "b": {}}, max_channels=2)


def test_api_entries_override_the_toml_until_removed(tmp_path):
    first = book(tmp_path, channels={"night": NIGHT, "day": {}})
    first.put(ChannelSpec("night", "Late night", "d", {}))
    first.remove("day")
    again = book(tmp_path, channels={"night": NIGHT, "day": {}})      # the next start, same TOML
    assert list(again.specs()) == ["main", "night"] and again.specs()["night"].title == "Late night"
    assert again.sources() == {"main": "settings", "night": "api", "day": "api (removed)"}
    assert json.loads((tmp_path / "channels.json").read_text())["day"] is None


def test_a_channel_plays_from_its_own_folder_and_mount(tmp_path):
    base = Settings(data=str(tmp_path), icecast="icecast://source:pw@127.0.0.1:8000/radio", channels={"night": NIGHT})
    night = settings_for(base, ChannelBook(base).specs()["night"])
    assert night.data == str(tmp_path / "channels" / "night") and night.seeds == str(tmp_path / "seeds")
    assert night.icecast.endswith("127.0.0.1:8000/radio-night") and night.name == "Night"
    assert night.mix == NIGHT["mix"] and night.description == "jazz after dark"


def test_the_capacity_estimate_names_what_runs_out_first():
    assert capacity(cores=2, available_mb=24000) == (53, "CPU")
    assert capacity(cores=16, available_mb=2000) == (4, "memory")
    assert capacity(cores=1, available_mb=100)[0] == 0


async def _json(http, url, method="GET", **kw):
    async with http.request(method, url, **kw) as r:
        return r.status, await r.json()


async def _until_all_play(http, base, limit=240.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        status, health = await _json(http, base + "/healthz")
        if status == 200 and health["status"] == "ok":
            return health
        assert status == 503 or health["status"] == "degraded", health   # never 200 "ok" with a channel down
        await asyncio.sleep(0.5)
    raise AssertionError(f"not every channel plays after {limit} s: {health}")


def test_channels_play_their_own_mix_and_come_and_go(tmp_path):
    with running_station(data=str(tmp_path), admin_token=ADMIN_TOKEN, channels={"night": NIGHT},
                         max_channels=3) as base:
        async def main():
            async with aiohttp.ClientSession() as http:
                health = await _until_all_play(http, base)
                assert set(health["channels"]) == {"main", "night"}
                _, listed = await _json(http, base + "/api/channels")
                (main_hdr, main_mp3), (night_hdr, night_mp3), (_, night_ogg) = await asyncio.gather(
                    _read(http, base + "/stream.mp3", 5), _read(http, base + "/night/stream.mp3", 5),
                    _read(http, base + "/night/stream.ogg", 5))
                _, now = await _json(http, base + "/api/channels/night/now")
                in_use = await _json(http, base + "/api/seeds/jazz", "DELETE", headers=ADMIN)
                _, main_now = await _json(http, base + "/api/now")
                async with http.get(base + "/night/hls/live.m3u8") as r:
                    hls = r.status, await r.text()
                async with http.get(base + "/metrics") as r:
                    metrics = await r.text()
                # at run time: refused without the token, with a reserved name or a bad mix
                refused = [(await _json(http, base + "/api/channels", "POST", json=body, headers=h))
                           for body, h in (({"name": "late"}, {}), ({"name": "api"}, ADMIN),
                                           ({"name": "late", "mix": {"sets": {"nope": 1}}}, ADMIN),
                                           ({"name": "late", "colour": "red"}, ADMIN))]
                added = await _json(http, base + "/api/channels", "POST", json={"name": "late", "title": "Late"},
                                    headers=ADMIN)
                over = await _json(http, base + "/api/channels", "POST", json={"name": "more"}, headers=ADMIN)
                await _until_all_play(http, base)
                # one channel's generator killed: the others play on, it comes back
                before = (await _json(http, base + "/healthz"))[1]["channels"]
                await _json(http, base + "/api/channels/night/drill", "POST", json={"fault": "kill"}, headers=ADMIN)
                _, main_during = await _read(http, base + "/stream.mp3", 4)
                after = await _until_all_play(http, base)
                # a removed channel lets its listener go, and its URLs answer 404
                async with http.get(base + "/late/stream.mp3") as r:
                    removal = asyncio.create_task(_json(http, base + "/api/channels/late", "DELETE", headers=ADMIN))
                    got = bytearray()
                    async for chunk in r.content.iter_any():      # ends when the server lets go
                        got += chunk
                removed = await removal
                gone = [(await http.get(base + p)).status for p in ("/late/stream.mp3", "/api/channels/late/now")]
                main_kept = await _json(http, base + "/api/channels/main", "DELETE", headers=ADMIN)
                return (in_use, health, listed, main_hdr, main_mp3, night_hdr, night_mp3, night_ogg, now, main_now, hls,
                        metrics, refused, added, over, before, main_during, after, got, removed, gone, main_kept)
        (in_use, health, listed, main_hdr, main_mp3, night_hdr, night_mp3, night_ogg, now, main_now, hls, metrics, refused,
         added, over, before, main_during, after, got, removed, gone, main_kept) = asyncio.run(main())
        book_file = json.loads((tmp_path / "channels.json").read_text())
        folders = sorted(p.name for p in (tmp_path / "channels").iterdir())
        page = _switch_in_the_page(base) if shutil.which("chromium") else None

    names = [c["name"] for c in listed["channels"]]
    assert names == ["main", "night"] and listed["channels"][1]["title"] == "Night"
    assert listed["channels"][1]["urls"]["mp3"] == "/night/stream.mp3"
    # each channel its own stream, own name, own music
    assert main_hdr["icy-name"] == "latent radio" and night_hdr["icy-name"] == "Night"
    for data in (main_mp3, night_mp3, night_ogg):
        pcm = decode_with_ffmpeg(data)
        assert pcm.shape[1] >= 5 * 44100 and sounding_seconds(pcm) >= 4.0
    assert now["mix"]["sets"] == {"jazz": 1.0} and now["mix"]["temperature"] == 0.8
    assert in_use[0] == 409 and "channel(s) night" in in_use[1]["error"]     # night's music stays
    assert main_now["mix"]["sets"] != now["mix"]["sets"]
    assert hls[0] == 200 and "#EXTM3U" in hls[1]
    assert 'radio_segments_generated_total{channel="night"}' in metrics
    assert 'radio_listeners{channel="main",format="mp3"}' in metrics
    assert [s for s, _ in refused] == [401, 400, 400, 400]
    assert "nope" in refused[2][1]["error"] and "colour" in refused[3][1]["error"]
    assert added[0] == 201 and added[1]["title"] == "Late" and over[0] == 409 and "max_channels" in over[1]["error"]
    # the kill: night's generator restarted; main never fell to the loop fill
    assert after["channels"]["night"]["generator"]["process_restarts"] == \
        before["night"]["generator"]["process_restarts"] + 1
    assert after["channels"]["main"]["underrun_seconds"] == before["main"]["underrun_seconds"]
    assert sounding_seconds(decode_with_ffmpeg(main_during)) >= 3.0
    # the removal: the listener's stream ended, the URLs are gone, the book remembers
    assert removed == (200, {"removed": ["late"]}) and len(got) > 0 and gone == [404, 404]
    assert main_kept[0] == 409 and book_file["late"] is None and folders == ["night"]
    if page is not None:        # the page: the list, each with what it plays; a switch, no reload
        assert page["buttons"] == ["latent radio", "Night"] and all(page["playing"]), page
        assert page["src"].endswith("/night/stream.mp3") and page["same_page"] and page["sets"] == ["jazz"], page
        assert page["advanced"] > 1.0, page                                  # the audio plays on


def _switch_in_the_page(base) -> dict:
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=[
            "--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required"])
        page = browser.new_page()
        page.goto(base + "/")
        page.wait_for_selector("#channels button")
        page.evaluate("window.notReloaded = true; document.getElementById('player').play()")
        buttons = page.eval_on_selector_all("#channels b", "bs => bs.map(b => b.textContent)")
        playing = page.eval_on_selector_all("#channels small", "ss => ss.map(s => s.textContent)")
        page.click("#channels button[data-channel=night]")
        page.wait_for_function("state && state.mix && state.mix.sets.jazz", timeout=20000)
        page.wait_for_function("document.getElementById('player').currentTime > 0.5", timeout=30000)
        t0 = page.evaluate("document.getElementById('player').currentTime")
        time.sleep(2)
        out = {"buttons": buttons, "playing": playing, "src": page.evaluate("document.getElementById('player').src"),
               "same_page": page.evaluate("window.notReloaded === true"),
               "sets": page.evaluate("Object.keys(state.mix.sets)"),
               "advanced": page.evaluate("document.getElementById('player').currentTime") - t0}
        browser.close()
        return out


def test_doctor_says_which_definition_applies(tmp_path):
    import subprocess
    import sys
    config = tmp_path / "radio.toml"
    config.write_text('[channels.night]\ntitle = "Night"\n[channels.day]\ntitle = "Day"\n')
    (tmp_path / "channels.json").write_text(json.dumps({"day": None, "late": {"title": "Late"}}))
    r = subprocess.run([sys.executable, "-m", "radio", "doctor", "--config", str(config)], capture_output=True,
                       text=True, env={**__import__("os").environ, "RADIO_DATA": str(tmp_path)}, timeout=120)
    line = next(x for x in r.stdout.splitlines() if "channels:" in x)
    assert line.startswith("ok    channels: 3 of max_channels=4: main (settings), night (toml), late (api); "
                           "removed through the API: day; this machine holds about"), line
