"""Scale-out through Icecast: the station pushes both formats to Debian's icecast2 on
loopback, a listener reads them from Icecast and ffmpeg decodes music; titles arrive; when
Icecast restarts the push reconnects by itself. Past one machine: a relay configured as
deploy/scale-out/icecast-relay.xml serves what the station pushed to the master."""

import asyncio
import contextlib
import json
import shutil
import socket
import tempfile
import time
from pathlib import Path

import aiohttp
import numpy as np
import pytest
from icecast_server import run_local_server, run_relay
from test_server import _read

from radio.config import ConfigError, Settings
from radio.offline.audiostats import decode_with_ffmpeg
from radio.station.station import Station

pytestmark = pytest.mark.skipif(not shutil.which("icecast2"), reason="Debian's icecast2 is not installed")
PASSWORD = "icecast-test-pw"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def _running(station):
    """The station runs for the block; then it is closed and stopped."""
    tasks = [asyncio.create_task(station.run())]
    try:
        yield
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        station.close()
        station.stop()


async def _until(predicate, limit):
    end = time.monotonic() + limit
    while not predicate():
        assert time.monotonic() < end, "timed out"
        await asyncio.sleep(0.1)


def _icecast_answering(ice, port: int, limit: float = 30.0) -> bool:
    """Whether Icecast answers HTTP on `port` within `limit` (False: it exited, e.g. the
    port was taken between _free_port and its bind, or it never answered)."""
    import urllib.request
    end = time.monotonic() + limit
    while time.monotonic() < end and ice.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/status-json.xsl", timeout=2):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def _start_icecast(logs: Path, start=lambda port, logs: run_local_server(port, logs, PASSWORD)):
    """Icecast on a free port, answering before the push starts (its start-up, as nobody,
    can take seconds on a loaded machine); a start that fails is tried on another port."""
    for _ in range(3):
        port = _free_port()
        ice = start(port, logs)
        if _icecast_answering(ice, port):
            return ice, port
        ice.terminate()
        ice.wait(10)
    pytest.fail(f"icecast2 did not start in 3 tries; its log: {logs}")


def test_push_to_icecast_listen_there_and_reconnect(tmp_path):
    # Icecast drops root for nobody, who cannot enter pytest's 0700 tmp folders
    logs = Path(tempfile.mkdtemp(prefix="radio-icecast-"))
    ice, port = _start_icecast(logs)
    station = Station(Settings(data=str(tmp_path / "data"), icecast=f"icecast://source:{PASSWORD}@127.0.0.1:{port}/radio"),
                      pipeline_factory="tonepipeline:TonePipeline")
    push = station.icecast               # an output like the broadcasters and HLS, run by the station

    async def main():
        nonlocal ice
        async with _running(station):
            await _until(lambda: all(push.connected.values()), 30)
            # silence plays until the first segment; Icecast's burst (4 s) then holds music
            await _until(lambda: station.first_audio_at is not None, 60)
            await asyncio.sleep(5)
            base = f"http://127.0.0.1:{port}"
            async with aiohttp.ClientSession() as http:
                (_, mp3), (_, ogg) = await asyncio.gather(_read(http, base + "/radio.mp3", 4.0),
                                                          _read(http, base + "/radio.ogg", 4.0))
                async with http.get(base + "/status-json.xsl") as r:
                    status = json.loads(await r.text())
            ice.terminate()                                  # Icecast goes away and comes back
            ice.wait(10)
            await _until(lambda: not any(push.connected.values()), 10)
            await _until(lambda: "icecast" in station.outputs.failing, 10)   # named while it is down
            ice = run_local_server(port, logs, PASSWORD)
            await _until(lambda: all(push.connected.values()), 40)
            async with aiohttp.ClientSession() as http:
                _, again = await _read(http, base + "/radio.mp3", 3.0)
            return mp3, ogg, status, again

    try:
        mp3, ogg, status, again = asyncio.run(main())
    finally:
        ice.terminate()
        ice.wait(10)
        shutil.rmtree(logs, ignore_errors=True)
    for data in (mp3, ogg, again):
        pcm = decode_with_ffmpeg(data)
        assert pcm.shape[1] / 44100 >= 2.5                  # Icecast's burst + live
        hz = np.argmax(np.abs(np.fft.rfft(pcm[0, :44100])))  # 1 Hz bins over one second
        assert 190 < hz < 510                                # one of the stand-in's tones
    sources = status["icestats"]["source"]
    mounts = {s["listenurl"].rsplit("/", 1)[1]: s for s in (sources if isinstance(sources, list) else [sources])}
    assert set(mounts) == {"radio.mp3", "radio.ogg"}
    assert mounts["radio.mp3"]["title"].startswith("tones 1 · segment ")   # title pushed
    assert push.reconnects >= 1


def test_bad_icecast_url_is_refused_with_the_fix():
    for url in ("icecast://127.0.0.1:8000/radio", "icecast://source:pw@host:8000/", "ftp://x"):
        with pytest.raises(ConfigError, match="icecast"):
            Settings(icecast=url).check()


def _tone_hz(data: bytes, seconds: float) -> float:
    pcm = decode_with_ffmpeg(data)
    assert pcm.shape[1] / 44100 >= seconds
    return float(np.argmax(np.abs(np.fft.rfft(pcm[0, -44100:]))))  # the last (live) second: 1 Hz bins


def test_a_listener_on_a_relay_hears_what_a_station_pushed_to_the_master(tmp_path):
    """Two real icecast2 on loopback: the master, and a relay run from the shipped relay
    example, which asks the master for its mounts; a listener on the relay gets the
    station's audio in both formats."""
    logs = [Path(tempfile.mkdtemp(prefix="radio-icecast-")) for _ in range(2)]
    master, port = _start_icecast(logs[0])
    station = Station(Settings(data=str(tmp_path / "data"), hls=False,
                               icecast=f"icecast://source:{PASSWORD}@127.0.0.1:{port}/rock"),
                      pipeline_factory="tonepipeline:TonePipeline")
    relay = None

    async def main():
        nonlocal relay
        async with _running(station):
            await _until(lambda: all(station.icecast.connected.values()), 30)
            await _until(lambda: station.first_audio_at is not None, 60)
            relay, relay_port = _start_icecast(logs[1], lambda p, lg: run_relay(p, lg, port, PASSWORD))
            base = f"http://127.0.0.1:{relay_port}"
            async with aiohttp.ClientSession() as http:
                for _ in range(100):              # the relay fetches the master's mount list at start
                    async with http.get(base + "/rock.mp3") as r:
                        if r.status == 200:
                            break
                    await asyncio.sleep(0.2)
                (_, mp3), (_, ogg) = await asyncio.gather(_read(http, base + "/rock.mp3", 4.0),
                                                          _read(http, base + "/rock.ogg", 4.0))
            return mp3, ogg

    try:
        mp3, ogg = asyncio.run(main())
    finally:
        for ice in (master, relay):
            if ice is not None:
                ice.terminate()
                ice.wait(10)
        for folder in logs:
            shutil.rmtree(folder, ignore_errors=True)
    for data in (mp3, ogg):
        assert 190 < _tone_hz(data, 2.5) < 510            # one of the stand-in's tones, through two Icecasts


def test_each_channel_pushes_to_its_own_mount(tmp_path):
    """Two channels with one Icecast push setting: main on /radio, night on /radio-night,
    each listened to on the real icecast2, each with its own name."""
    from radio.station.lineup import Lineup
    logs = Path(tempfile.mkdtemp(prefix="radio-icecast-"))
    ice, port = _start_icecast(logs)
    lineup = Lineup(Settings(data=str(tmp_path / "data"), hls=False,
                             icecast=f"icecast://source:{PASSWORD}@127.0.0.1:{port}/radio",
                             channels={"night": {"title": "Night"}}), "tonepipeline:TonePipeline")

    async def main():
        lineup.start()
        try:
            for station in lineup.stations.values():
                await _until(lambda: all(station.icecast.connected.values()), 30)
                await _until(lambda: station.first_audio_at is not None, 60)
            base = f"http://127.0.0.1:{port}"
            async with aiohttp.ClientSession() as http:
                return await asyncio.gather(_read(http, base + "/radio.mp3", 3.0),
                                            _read(http, base + "/radio-night.mp3", 3.0))
        finally:
            await lineup.stop_all()

    try:
        (main_headers, main_mp3), (night_headers, night_mp3) = asyncio.run(main())
    finally:
        ice.terminate()
        ice.wait(10)
        shutil.rmtree(logs, ignore_errors=True)
    assert main_headers["icy-name"] == "latent radio" and night_headers["icy-name"] == "Night"
    for data in (main_mp3, night_mp3):
        assert 190 < _tone_hz(data, 2.0) < 510
