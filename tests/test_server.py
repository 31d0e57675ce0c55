"""Server: the real app on a loopback port, the real chain behind it, audio decoded by ffmpeg,
the page played in real headless Chromium."""

import asyncio
import shutil
import socket
import threading
import time

import aiohttp
import pytest
from aiohttp import web

from radio.audiostats import decode_with_ffmpeg, longest_silence, sounding_seconds
from radio.config import Settings
from radio.server import create_app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def station():
    """A station serving from its own thread and event loop; yields (base URL, first /healthz)."""
    settings = Settings.from_env(port=_free_port())
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(create_app(settings))
    ready = threading.Event()

    def serve():
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", settings.port).start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(30)
    base = f"http://127.0.0.1:{settings.port}"
    yield base
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


async def _get_json(http, url):
    async with http.get(url) as r:
        return r.status, await r.json()


async def _wait_until_playing(http, base, limit=240.0):
    t0 = time.monotonic()
    status, health = await _get_json(http, base + "/healthz")
    first = health
    while health["status"] != "ok" and time.monotonic() - t0 < limit:
        assert health["status"] == "starting" and status == 200, health
        await asyncio.sleep(0.5)
        status, health = await _get_json(http, base + "/healthz")
    return first, health


async def _listen(base: str, seconds: float):
    async with aiohttp.ClientSession() as http:
        first, health = await _wait_until_playing(http, base)
        async with http.get(base + "/") as r:
            page = await r.text()
        data = bytearray()
        async with http.get(base + "/stream.mp3") as r:
            headers = r.headers
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                try:
                    data += await asyncio.wait_for(r.content.readany(), end - time.monotonic())
                except asyncio.TimeoutError:
                    break
        _, now = await _get_json(http, base + "/api/now")
        for _ in range(20):  # the server notices a gone listener at its next write (≤ 0.25 s)
            _, after = await _get_json(http, base + "/healthz")
            if after["listeners"] == 0:
                break
            await asyncio.sleep(0.1)
    return first, health, page, headers, bytes(data), now, after


def test_station_streams_music(station, artifacts):
    """/healthz answers at once; once playing, an 8 s read of /stream.mp3 holds ≥ 6 s of music."""
    first, health, page, headers, data, now, after = asyncio.run(_listen(station, 8.0))
    assert health["status"] == "ok", health
    assert '<audio' in page and 'src="/stream.mp3"' in page
    assert headers["Content-Type"] == "audio/mpeg"
    (artifacts / "stream-8s.mp3").write_bytes(data)
    pcm = decode_with_ffmpeg(data)
    seconds = pcm.shape[1] / 44100
    print(f"\nfirst /healthz: {first['status']}; first audio after {health['first_audio_after_seconds']} s; "
          f"read {seconds:.1f} s of audio, {sounding_seconds(pcm):.1f} s sounding, "
          f"longest silence {longest_silence(pcm):.2f} s")
    assert seconds >= 8.0
    assert sounding_seconds(pcm) >= 6.0
    assert now["now_playing"]["bars"] == 16 and now["now_playing"]["humanized"]
    assert after["listeners"] == 0  # the listener who left was let go


@pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is not installed")
def test_page_plays_in_chromium(station, artifacts):
    """In real headless Chromium the page's audio element plays the stream: currentTime advances."""
    from playwright.sync_api import sync_playwright
    asyncio.run(_wait_until_playing_only(station))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=[
            "--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        page = browser.new_page()
        page.goto(station + "/")
        page.evaluate("document.getElementById('player').play()")
        page.wait_for_function("document.getElementById('player').currentTime > 3", timeout=60000)
        page.wait_for_function("document.getElementById('now').textContent.startsWith('segment')",
                               timeout=10000)
        page.screenshot(path=str(artifacts / "page.png"))
        assert page.evaluate("document.getElementById('player').error") is None
        browser.close()


async def _wait_until_playing_only(base):
    async with aiohttp.ClientSession() as http:
        await _wait_until_playing(http, base)
