"""Broadcaster behind the real stream handler on a loopback port: burst on connect, ICY
framing parsed back, slow listeners dropped without slowing others, leavers let go.

The station here is built but never started: the test publishes MP3 frames itself, so it
controls exactly what each listener must receive.
"""

import asyncio
import contextlib
import socket

import aiohttp
import numpy as np
from aiohttp import web

from radio.config import Settings
from radio.server.app import stream
from radio.server.appkeys import STATION
from radio.station.broadcaster import ICY_METAINT, SLICE
from radio.station.encoder import Mp3Encoder
from radio.station.station import Station


def _frames(seconds: float):
    t = np.arange(int(seconds * 44100)) / 44100
    pcm = np.stack([0.3 * np.sin(2 * np.pi * 440 * t)] * 2).astype(np.float32)
    return Mp3Encoder(128).encode(pcm)


@contextlib.asynccontextmanager
async def serving(tmp_path, **settings):
    """(station, base URL) of the stream handler on a free port; lets listeners go after."""
    station = Station(Settings(data=str(tmp_path), **settings))
    app = web.Application()
    app[STATION] = station
    app.router.add_get("/stream.{format:mp3|ogg}", stream)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        yield station, f"http://127.0.0.1:{port}"
    finally:
        station.close()
        await runner.cleanup()


def run(tmp_path, main, **settings):
    """Runs `main(station, base)` against a served station; returns what it returns."""
    async def go():
        async with serving(tmp_path, **settings) as (station, base):
            return await main(station, base)
    return asyncio.run(go())


def _publish(broadcaster, frames):
    for f in frames:
        broadcaster.publish(f.data, f.seconds)


def test_burst_on_connect_then_live_chunks(tmp_path):
    async def main(station, base):
        mp3 = station.streams["mp3"]
        frames = _frames(5.0)
        _publish(mp3, frames[:130])                      # ≈ 3.4 s before anyone listens
        kept = [f for f in frames[:130] if any(f.data is d for d, _ in mp3._history)]
        burst = b"".join(f.data for f in kept)
        async with aiohttp.ClientSession() as http, http.get(base + "/stream.mp3") as r:
            assert r.headers["icy-br"] == "128" and "icy-metaint" not in r.headers
            first = await asyncio.wait_for(r.content.readexactly(len(burst)), 1)
            _publish(mp3, frames[130:])
            live = b"".join(f.data for f in frames[130:])
            rest = await asyncio.wait_for(r.content.readexactly(len(live)), 2)
        assert first == burst and rest == live             # the newest audio, then live, in order
        assert 2.0 <= sum(f.seconds for f in kept) < 2.1    # ≥ 2 s at once, not the whole history
    run(tmp_path, main, burst_seconds=2.0)


def test_icy_metadata_parses_back(tmp_path):
    async def main(station, base):
        mp3 = station.streams["mp3"]
        frames = _frames(12.0)
        mp3.title = "first title"
        _publish(mp3, frames[:40])
        sent = b"".join(f.data for f in frames[:40])
        async with aiohttp.ClientSession() as http, \
                http.get(base + "/stream.mp3", headers={"Icy-MetaData": "1"}) as r:
            assert int(r.headers["icy-metaint"]) == ICY_METAINT
            assert r.headers["icy-name"] == "latent radio"
            mp3.title = "it's the second"
            _publish(mp3, frames[40:])
            sent += b"".join(f.data for f in frames[40:])
            raw = await _read_for(r, 1.0)
        audio, titles = bytearray(), []
        pos = 0
        while pos + ICY_METAINT < len(raw):
            audio += raw[pos:pos + ICY_METAINT]
            n = raw[pos + ICY_METAINT] * 16
            titles.append(raw[pos + ICY_METAINT + 1: pos + ICY_METAINT + 1 + n].rstrip(b"\0").decode())
            pos += ICY_METAINT + 1 + n
        audio += raw[pos:]
        assert bytes(audio) == sent                      # no byte of audio lost or added
        assert len(titles) == len(sent) // ICY_METAINT and len(titles) >= 8
        assert titles[0] == "StreamTitle='first title';"
        assert titles[-1] == "StreamTitle='it\u2019s the second';"
    run(tmp_path, main)


async def _read_for(response, seconds: float) -> bytes:
    data = bytearray()
    while True:
        try:
            data += await asyncio.wait_for(response.content.readany(), seconds)
        except asyncio.TimeoutError:
            return bytes(data)


def test_slow_listener_dropped_fast_one_served(tmp_path):
    async def main(station, base):
        mp3 = station.streams["mp3"]
        mp3.max_lag_seconds = 1.0
        port = int(base.rsplit(":", 1)[1])
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect(("127.0.0.1", port))
        slow.sendall(b"GET /stream.mp3 HTTP/1.1\r\nHost: x\r\n\r\n")   # and never reads
        async with aiohttp.ClientSession() as http, http.get(base + "/stream.mp3") as r:
            while len(mp3.listeners) < 2:
                await asyncio.sleep(0.01)
            chunk = bytes(range(256)) * 256                  # 64 KB, declared as 0.1 s
            received = bytearray()

            async def read():
                while len(received) < 300 * len(chunk):
                    received.extend(await r.content.readany())
            reader = asyncio.create_task(read())
            for _ in range(300):                             # 19 MB at ~640 KB per "second"
                mp3.publish(chunk, 0.1)
                await asyncio.sleep(0.004)
            await asyncio.wait_for(reader, 20)
        assert mp3.dropped == 1                              # the one that never read
        assert received == chunk * 300                       # the reader got every byte
        await asyncio.sleep(0.05)
        mp3.publish(chunk, 0.1)                              # both gone now
        assert not mp3.listeners
        slow.close()
    run(tmp_path, main, burst_seconds=0.5)


def test_ogg_listener_gets_headers_first(tmp_path):
    async def main(station, base):
        ogg = station.streams["ogg"]
        async with aiohttp.ClientSession() as http, http.get(base + "/stream.ogg") as r:
            assert r.headers["Content-Type"] == "audio/ogg"
            head = await asyncio.wait_for(r.content.readexactly(len(ogg.header)), 2)
        assert head == ogg.header and b"OpusHead" in head and b"OpusTags" in head
    run(tmp_path, main)


def test_http10_listener_gets_the_raw_stream(tmp_path):
    """An HTTP/1.0 player (no chunked encoding) gets plain MP3 bytes until the server closes."""
    async def main(station, base):
        mp3 = station.streams["mp3"]
        frames = _frames(3.0)
        host, port = base[len("http://"):].split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"GET /stream.mp3 HTTP/1.0\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
        while not mp3.listeners:
            await asyncio.sleep(0.01)
        _publish(mp3, frames)
        station.close()                                   # ends the response
        body = await asyncio.wait_for(reader.read(), 2)
        writer.close()
        return head, body, b"".join(f.data for f in frames)
    head, body, sent = run(tmp_path, main, burst_seconds=0.5)
    assert head.startswith(b"HTTP/1.0 200") and b"chunked" not in head.lower()
    assert body == sent


def test_fan_out_yields_to_the_loop_and_keeps_order(tmp_path):
    """Over SLICE listeners, publish() writes a slice per loop turn, so a connecting listener
    is not held behind thousands of sends; every listener still gets every chunk, in order."""
    n = SLICE * 2 + 17

    async def main(station, base):
        mp3 = station.streams["mp3"]
        host, port = base[len("http://"):].split(":")
        conns = []
        for _ in range(n):
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(b"GET /stream.mp3 HTTP/1.0\r\n\r\n")
            conns.append((reader, writer))
        for reader, _ in conns:
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        while len(mp3.listeners) < n:
            await asyncio.sleep(0.01)
        chunks = [bytes([k]) * 1000 for k in range(1, 4)]
        written = []
        asyncio.get_running_loop().call_soon(lambda: written.append(mp3.bytes_out))
        for c in chunks:             # back to back: each finishes the fan-out before it
            mp3.publish(c, 0.1)
        first_turn = mp3.bytes_out
        await asyncio.sleep(0.1)
        bodies = [await asyncio.wait_for(reader.readexactly(3000), 5) for reader, _ in conns]
        for _, writer in conns:
            writer.close()
        return first_turn, written[0], mp3.bytes_out, bodies, b"".join(chunks)
    first_turn, at_next_turn, total, bodies, sent = run(tmp_path, main)
    assert total == 3 * 1000 * n
    assert first_turn == (2 * n + SLICE) * 1000        # two whole chunks, the third's first slice
    assert at_next_turn < total                        # the loop ran before the fan-out ended
    assert all(body == sent for body in bodies)
