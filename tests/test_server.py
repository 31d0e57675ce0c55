"""Server: the real app on a loopback port, the real chain behind it, audio decoded by ffmpeg."""

import asyncio
import socket
import time

import aiohttp
from aiohttp import web

from radio.audiostats import decode_with_ffmpeg, longest_silence, sounding_seconds
from radio.config import Settings
from radio.server import create_app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _serve_and_listen(settings: Settings, seconds: float):
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", settings.port)
    await site.start()
    base = f"http://127.0.0.1:{settings.port}"
    t0 = time.monotonic()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(base + "/healthz") as r:
                first = await r.json()
            health = first
            while health["status"] != "ok" and time.monotonic() - t0 < 240:
                assert health["status"] == "starting", health
                await asyncio.sleep(0.5)
                async with http.get(base + "/healthz") as r:
                    health = await r.json()
            async with http.get(base + "/") as r:
                page = await r.text()
            data = bytearray()
            async with http.get(base + "/stream.mp3") as r:
                headers = r.headers
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    try:
                        chunk = await asyncio.wait_for(r.content.readany(), end - time.monotonic())
                    except asyncio.TimeoutError:
                        break
                    data += chunk
            async with http.get(base + "/api/now") as r:
                now = await r.json()
        return first, health, page, headers, bytes(data), now
    finally:
        await runner.cleanup()


def test_station_streams_music(artifacts):
    """/healthz answers at once; after start-up an 8 s read of /stream.mp3 holds ≥ 6 s of music."""
    settings = Settings.from_env(port=_free_port())
    first, health, page, headers, data, now = asyncio.run(_serve_and_listen(settings, 8.0))
    assert first["status"] == "starting" and health["status"] == "ok", health
    assert '<audio' in page and 'src="/stream.mp3"' in page
    assert headers["Content-Type"] == "audio/mpeg"
    (artifacts / "stream-8s.mp3").write_bytes(data)
    pcm = decode_with_ffmpeg(data)
    seconds = pcm.shape[1] / 44100
    print(f"first audio after {health['first_audio_after_seconds']} s; read {seconds:.1f} s of audio, "
          f"{sounding_seconds(pcm):.1f} s sounding, longest silence {longest_silence(pcm):.2f} s")
    assert seconds >= 8.0
    assert sounding_seconds(pcm) >= 6.0
    assert now["now_playing"]["bars"] == 16 and now["now_playing"]["humanized"]
