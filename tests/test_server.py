"""Server: the real app on a loopback port, the real chain behind it; both streams decoded
by ffmpeg, ICY metadata from the live station, playlists, and the page in real Chromium."""

import asyncio
import shutil
import time

import aiohttp
import pytest
from conftest import ADMIN_TOKEN

from radio.offline.audiostats import decode_with_ffmpeg, longest_silence, sounding_seconds
from radio.sound.loudness import integrated_lufs
from radio.sound.presets import PRESETS
from radio.station.broadcaster import ICY_METAINT


async def _get_json(http, url):
    async with http.get(url) as r:
        return r.status, await r.json()


async def _wait_until_playing(http, base, limit=240.0):
    t0 = time.monotonic()
    status, health = await _get_json(http, base + "/healthz")
    first = health
    while health["status"] != "ok" and time.monotonic() - t0 < limit:
        if health.get("first_audio_after_seconds") is None:
            assert health["status"] == "starting" and status == 503, health   # a balancer waits
        else:   # music played already (the station is shared): late or failing, never down
            assert health["status"] == "degraded" and status == 200, health
        await asyncio.sleep(0.5)
        status, health = await _get_json(http, base + "/healthz")
    return first, health


def wait_until_playing(base):
    async def main():
        async with aiohttp.ClientSession() as http:
            return await _wait_until_playing(http, base)
    return asyncio.run(main())


async def _read(http, url, seconds, headers=None):
    data = bytearray()
    async with http.get(url, headers=headers or {}) as r:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                data += await asyncio.wait_for(r.content.readany(), end - time.monotonic())
            except asyncio.TimeoutError:
                break
        return r.headers, bytes(data)


def test_both_streams_play_music(station, artifacts):
    """Once playing, 8 s reads of /stream.mp3 and /stream.ogg each decode to ≥ 8 s of music."""
    async def main():
        async with aiohttp.ClientSession() as http:
            first, health = await _wait_until_playing(http, station)
            mp3, ogg = await asyncio.gather(_read(http, station + "/stream.mp3", 8.0),
                                            _read(http, station + "/stream.ogg", 8.0))
            # a gone listener is let go at the next chunk it would get (0.25 s apart); up to
            # 5 s here, for a loaded 2-core box (a CI run once saw 2 s pass)
            for _ in range(50):
                _, after = await _get_json(http, station + "/healthz")
                if sum(after["listeners"].values()) == 0:
                    break
                await asyncio.sleep(0.1)
            return first, health, mp3, ogg, after
    first, health, (mp3_headers, mp3), (ogg_headers, ogg), after = asyncio.run(main())
    assert first["status"] in ("starting", "ok") and health["status"] == "ok", health
    assert mp3_headers["Content-Type"] == "audio/mpeg" and mp3_headers["icy-br"] == "128"
    assert ogg_headers["Content-Type"] == "audio/ogg" and ogg.startswith(b"OggS")
    for name, data in (("mp3", mp3), ("ogg", ogg)):
        (artifacts / f"stream-8s.{name}").write_bytes(data)
        pcm = decode_with_ffmpeg(data)
        seconds = pcm.shape[1] / 44100
        print(f"\n{name}: first audio after {health['first_audio_after_seconds']} s; read "
              f"{seconds:.1f} s, {sounding_seconds(pcm):.1f} s sounding, longest silence "
              f"{longest_silence(pcm):.2f} s")
        assert seconds >= 8.0, name                     # 8 s live + the 2 s burst
        assert sounding_seconds(pcm) >= 6.0, name
    assert sum(after["listeners"].values()) == 0        # listeners who left were let go


def test_both_streams_land_at_the_target_loudness(station):
    """After the stream's first 30 s, 20 s of the live MP3 and of the live Opus stream
    each measure within ±2 LU of loudness_lufs (−16 LUFS, BS.1770 integrated)."""
    async def main():
        async with aiohttp.ClientSession() as http:
            await _wait_until_playing(http, station)
            while (await _get_json(http, station + "/api/now"))[1]["position"] < 32:
                await asyncio.sleep(1)
            return await asyncio.gather(_read(http, station + "/stream.mp3", 20.0),
                                        _read(http, station + "/stream.ogg", 20.0))
    for name, (_, data) in zip(("mp3", "ogg"), asyncio.run(main())):
        pcm = decode_with_ffmpeg(data)
        level = integrated_lufs(pcm)
        print(f"\n{name}: {pcm.shape[1] / 44100:.1f} s at {level:.2f} LUFS")
        assert pcm.shape[1] >= 20 * 44100 and abs(level + 16.0) <= 2.0, (name, level)


def test_icy_title_names_the_song_and_the_mix(station):
    wait_until_playing(station)

    async def main():
        async with aiohttp.ClientSession() as http:
            _, before = await _get_json(http, station + "/api/now")
            headers, raw = await _read(http, station + "/stream.mp3", 3.0, {"Icy-MetaData": "1"})
            _, now = await _get_json(http, station + "/api/now")
            return headers, raw, before, now
    headers, raw, before, now = asyncio.run(main())
    assert headers["icy-metaint"] == str(ICY_METAINT) and headers["icy-name"] == "latent radio"
    n = raw[ICY_METAINT] * 16
    title = raw[ICY_METAINT + 1: ICY_METAINT + 1 + n].rstrip(b"\0").decode()
    assert title.startswith("StreamTitle='") and title.endswith("';")
    # the song playing when the read began, or the next one if a boundary fell inside it
    assert any(n["song"]["title"] in title and n["now_playing"]["mix"] in title for n in (before, now)), title


def test_playlists_point_at_the_streams(station):
    async def main():
        async with aiohttp.ClientSession() as http:
            out = {}
            for kind in ("m3u", "pls"):
                async with http.get(station + f"/listen.{kind}") as r:
                    out[kind] = (r.content_type, await r.text())
            return out
    out = asyncio.run(main())
    assert out["m3u"][0] == "audio/x-mpegurl"
    assert out["m3u"][1].splitlines()[0] == "#EXTM3U" and f"{station}/stream.mp3" in out["m3u"][1]
    assert out["pls"][0] == "audio/x-scpls"
    assert f"File1={station}/stream.mp3" in out["pls"][1] and f"File2={station}/stream.ogg" in out["pls"][1]


@pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is not installed")
def test_page_plays_draws_and_admin_changes_the_mix(station, artifacts):
    """Real headless Chromium: the audio plays, the piano roll draws notes, and moving a
    style slider as admin changes the mix that /api/now reports."""
    from playwright.sync_api import sync_playwright
    wait_until_playing(station)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=[
            "--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        page.goto(station + "/")
        page.evaluate("document.getElementById('player').play()")
        page.wait_for_function("document.getElementById('player').currentTime > 3", timeout=60000)
        page.wait_for_function("window.radio.drawn > 10", timeout=10000)
        lit = page.evaluate("""() => {
            const c = document.getElementById('roll'), d = c.getContext('2d')
                .getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }""")
        assert lit > 500                                   # notes really painted on the canvas
        assert "segment" in page.text_content("#now")
        page.wait_for_function("document.getElementById('sound').textContent !== '–'", timeout=10000)
        shown = page.text_content("#sound")                 # the sound preset playing
        assert shown.split()[0] in PRESETS and "kit" in shown, shown
        assert page.get_attribute("#midi", "href").startswith("/api/segments/")
        # the song: its title, and its form with the section playing lit
        page.wait_for_function("!document.getElementById('song-title').hidden", timeout=10000)
        assert page.text_content("#song-title").strip()
        assert page.eval_on_selector_all("#form li.lit", "els => els.length") == 1
        # a section a part sits out names it (the shipped sets rest no part: the page is fed one)
        rests = page.evaluate("""async () => {
            const s = (await (await fetch('/api/now')).json()).segments.find((x) => x.song);
            showSong({...s.song, resting: 'bass'});
            return [...document.querySelectorAll('#form li')].map((li) => [li.className, li.textContent]); }""")
        assert [text for lit, text in rests if text.endswith(" · no bass")] == [text for lit, text in rests if lit]
        assert sum(text.endswith(" · no bass") for _, text in rests) == 1
        assert page.get_attribute("#song-midi", "href").startswith("/api/songs/")
        page.click("#like")                                 # a listener's vote, on what they hear
        page.wait_for_function("/liked .*segment \\d+|already voted/.test("
                               "document.getElementById('vote-status').textContent)", timeout=10000)

        page.click("#admin summary")
        page.fill("#token", ADMIN_TOKEN)
        page.click("#unlock")
        page.wait_for_selector("#sets input[name=rock]")
        for name in page.eval_on_selector_all("#sets input", "els => els.map(e => e.name)"):
            page.fill(f"#sets input[name={name}]", "0")     # range inputs take fill()
        page.fill("#sets input[name=rock]", "1")
        assert page.input_value("#style") == "0"            # the mix's playing style, as the station has it
        page.fill("#style", "0.5")
        page.eval_on_selector("#mix-form", "f => f.dispatchEvent(new Event('change'))")
        page.wait_for_function("document.getElementById('admin-status').textContent.startsWith('mix: rock 1')",
                               timeout=10000)
        page.select_option("#sound-preset", "jazz")         # pin one sound preset for every set
        # this change's reply names the preset: an earlier change's late reply cannot satisfy the wait
        page.wait_for_function("document.getElementById('admin-status').textContent"
                               ".startsWith('mix: rock 1, sound jazz')", timeout=10000)
        page.screenshot(path=str(artifacts / "page.png"))
        page.select_option("#format", "ogg")                # the Opus stream plays too
        page.wait_for_function("""() => { const p = document.getElementById('player');
            return p.src.endsWith('/stream.ogg') && p.currentTime > 2; }""", timeout=30000)
        assert page.evaluate("document.getElementById('player').error") is None
        browser.close()

    async def mix_now():
        async with aiohttp.ClientSession() as http:
            return (await _get_json(http, station + "/api/now"))[1]["mix"]
    mix = asyncio.run(mix_now())
    assert mix["label"] == "rock 1" and mix["sets"]["rock"] == 1.0
    assert mix["sound"] == {"preset": "jazz"} and mix["lead_program"] is None   # empty box: the preset's
    assert mix["style"] == 0.5


def test_hls_playlist_is_served_and_plays(station):
    """/hls/live.m3u8 from the live station decodes in ffmpeg (a CDN would serve the same files)."""
    import subprocess
    wait_until_playing(station)

    async def playlist():
        async with aiohttp.ClientSession() as http:
            for _ in range(80):                              # the first segment takes 6 s
                async with http.get(station + "/hls/live.m3u8") as r:
                    if r.status == 200:
                        return r.headers["Content-Type"], await r.text()
                await asyncio.sleep(0.25)
    content_type, text = asyncio.run(playlist())
    assert content_type == "application/vnd.apple.mpegurl" and text.startswith("#EXTM3U")
    proc = subprocess.run(["ffmpeg", "-v", "error", "-live_start_index", "0", "-i",
                           station + "/hls/live.m3u8", "-t", "5", "-f", "s16le", "-ac", "2",
                           "-ar", "44100", "-"], capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()[-400:]
    assert len(proc.stdout) / 4 / 44100 >= 4.9
