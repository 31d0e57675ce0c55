"""The station under drills, served for real on a loopback port with a stand-in generator
(tonepipeline.py) in its own process: the stream starts at once and never stops, a failing
output is reported and recovers, a hung or killed generator is restarted, a pacer that
raises is restarted, and the server process never loads TensorFlow."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}
MP3_BYTES_PER_SECOND = 128 * 1000 / 8


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """A station served from its own thread and event loop; `base` is its URL."""

    def __init__(self, data: Path, factory: str, **settings):
        from aiohttp import web

        from radio.config import Settings
        from radio.server.app import create_app
        from radio.server.appkeys import STATION
        port = _free_port()
        self.settings = Settings(port=port, data=str(data), admin_token=ADMIN_TOKEN, **settings)
        self.app = create_app(self.settings, pipeline_factory=factory)
        self.station = self.app[STATION]
        self.base = f"http://127.0.0.1:{port}"
        self.loop = asyncio.new_event_loop()
        self.runner = web.AppRunner(self.app)
        ready = threading.Event()

        def serve():
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self.runner.setup())
            self.loop.run_until_complete(web.TCPSite(self.runner, "127.0.0.1", port).start())
            ready.set()
            self.loop.run_forever()
        self.thread = threading.Thread(target=serve, daemon=True)
        self.started = time.monotonic()
        self.thread.start()
        assert ready.wait(30)

    def health(self) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(self.base + "/healthz", timeout=5) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def post(self, path: str, body: dict) -> int:
        req = urllib.request.Request(self.base + path, json.dumps(body).encode(), ADMIN, method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status

    def wait(self, predicate, limit: float, step: float = 0.1):
        """Polls /healthz until predicate(code, health) holds; returns (code, health)."""
        end = time.monotonic() + limit
        while True:
            code, health = self.health()
            if predicate(code, health):
                return code, health
            assert time.monotonic() < end, health
            time.sleep(step)

    def close(self):
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


class Recorder:
    """A listener reading /stream.mp3 in a thread, noting when each read arrived."""

    def __init__(self, url: str):
        self.reads: list[tuple[float, int]] = []
        self.t0 = time.monotonic()
        self._stop = False
        self.thread = threading.Thread(target=self._run, args=(url,), daemon=True)
        self.thread.start()

    def _run(self, url):
        with urllib.request.urlopen(url, timeout=30) as r:
            while not self._stop:
                data = r.read1(65536)
                if not data:
                    return
                self.reads.append((time.monotonic(), len(data)))

    def stop(self):
        self._stop = True
        self.thread.join(35)

    def first_byte_after(self) -> float:
        return self.reads[0][0] - self.t0

    def bytes_between(self, start: float, end: float) -> int:
        return sum(n for t, n in self.reads if start <= t < end)

    def longest_gap(self, start: float) -> float:
        times = [start] + [t for t, _ in self.reads if t >= start] + [time.monotonic()]
        return max(b - a for a, b in zip(times, times[1:]))


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    s = Served(tmp_path_factory.mktemp("drills"), "tonepipeline:SlowTonePipeline", watchdog_seconds=5.0)
    yield s
    s.close()


def test_an_early_listener_gets_audio_at_once_and_health_waits_for_music(served):
    """Bytes within 1 s of the start, before any segment exists (silence); /healthz is 503
    `starting` until music plays, then 200 `ok`."""
    listener = Recorder(served.base + "/stream.mp3")
    code, health = served.health()
    assert code == 503 and health["status"] == "starting", health
    served.wait(lambda c, h: c == 200 and h["status"] == "ok", 60)
    listener.stop()
    assert listener.first_byte_after() < 1.0
    assert served.station.first_audio_at is not None


def test_a_failing_hls_output_is_named_retried_and_recovers(served):
    """With the HLS folder replaced by a file the MP3 stream runs on at full rate, health
    names the output; once the folder can be made again HLS writes segments again."""
    import shutil
    served.wait(lambda c, h: h["status"] == "ok", 60)
    hls = Path(served.settings.data) / "hls"
    listener = Recorder(served.base + "/stream.mp3")
    time.sleep(2.0)
    shutil.rmtree(hls)
    hls.write_text("not a folder")                      # every write there now fails
    t_broken = time.monotonic()
    code, health = served.wait(lambda c, h: h["failing_outputs"] == ["hls"], 20)
    assert code == 200 and health["status"] == "degraded" and not health["outputs"]["hls"]["ok"]
    assert health["outputs"]["mp3"]["ok"] and health["outputs"]["hls"]["last_error"]
    with urllib.request.urlopen(served.base + "/metrics", timeout=5) as r:
        assert 'radio_output_failures_total{channel="main",output="hls"}' in r.read().decode()
    time.sleep(4.0)
    hls.unlink()                                        # the disk is back
    served.wait(lambda c, h: h["failing_outputs"] == [] and h["status"] == "ok", 40)
    served.wait(lambda c, h: any(hls.glob("seg-*.ts")) and (hls / "live.m3u8").exists(), 20)
    t_end = time.monotonic()
    listener.stop()
    rate = listener.bytes_between(t_broken, t_end) / (t_end - t_broken)
    assert rate > 0.95 * MP3_BYTES_PER_SECOND, rate     # full rate while HLS was down
    assert listener.longest_gap(t_broken) < 1.0


def test_a_pacer_exception_is_503_then_the_pacer_is_restarted(served):
    served.wait(lambda c, h: h["status"] == "ok", 60)
    before = served.health()[1]["pacer"]["restarts"]
    assert served.post("/api/drill", {"fault": "pacer", "seconds": 2}) == 202
    code, health = served.wait(lambda c, h: c == 503, 10, step=0.05)
    assert health["status"] == "error" and not health["pacer"]["running"]
    assert "pacer" in health["pacer"]["last_error"]
    code, health = served.wait(lambda c, h: c == 200, 30)
    assert health["pacer"]["restarts"] > before and health["pacer"]["running"]
    listener = Recorder(served.base + "/stream.mp3")     # and the stream flows again
    time.sleep(3.0)
    listener.stop()
    assert listener.bytes_between(listener.t0, time.monotonic()) > 2 * MP3_BYTES_PER_SECOND


def test_a_hung_generator_is_killed_and_restarted_and_music_follows(served):
    """A stall past the watchdog (5 s here; 3× the median segment time, at least
    watchdog_seconds) kills the process; a new one makes music; the stream never stops."""
    served.wait(lambda c, h: h["status"] == "ok", 60)
    _, health = served.health()
    pid, restarts = health["generator"]["pid"], health["generator"]["process_restarts"]
    listener = Recorder(served.base + "/stream.mp3")
    assert served.post("/api/drill", {"fault": "stall", "seconds": 600}) == 202
    t_hang = time.monotonic()
    code, health = served.wait(lambda c, h: h["generator"]["process_restarts"] > restarts, 90)
    killed_after = time.monotonic() - t_hang
    assert killed_after < 90 and "hung" in (health["last_error"] or ""), health
    made = health["segments_generated"]
    code, health = served.wait(lambda c, h: h["generator"]["running"] and h["generator"]["pid"] != pid
                               and h["segments_generated"] > made, 60)
    served.wait(lambda c, h: h["status"] == "ok", 30)
    t_end = time.monotonic()
    listener.stop()
    assert listener.longest_gap(t_hang) < 1.0                 # the stream never stopped
    assert listener.bytes_between(t_hang, t_end) / (t_end - t_hang) > 0.95 * MP3_BYTES_PER_SECOND


def test_a_generator_killed_with_sigkill_is_restarted(served):
    served.wait(lambda c, h: h["status"] == "ok", 60)
    _, health = served.health()
    pid, restarts, made = health["generator"]["pid"], health["generator"]["process_restarts"], \
        health["segments_generated"]
    os.kill(pid, signal.SIGKILL)
    code, health = served.wait(lambda c, h: h["generator"]["process_restarts"] > restarts, 10)
    assert "exited" in health["last_error"]
    served.wait(lambda c, h: h["generator"]["running"] and h["segments_generated"] > made + 1, 60)


SERVER_PROBE = r"""
import json, os, signal, sys, threading, time, urllib.error, urllib.request
from radio import cli

def watch(port):
    t0, music = time.monotonic(), None
    while time.monotonic() - t0 < 240:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                music = json.load(r)["first_audio_after_seconds"]
                break
        except OSError:
            time.sleep(0.2)
    time.sleep(3)
    with open("/proc/self/status") as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) / 1024
    heavy = sorted({m.split(".")[0] for m in sys.modules} & {"tensorflow", "magenta", "note_seq", "pretty_midi"})
    # the generator process (a child): TensorFlow's native libraries mapped there or not
    children = []
    for task in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{task}/children") as f:
            children += f.read().split()
    generator_tf = []
    for pid in children:
        try:
            with open(f"/proc/{pid}/maps") as f:
                generator_tf += sorted({l.split()[-1] for l in f if "tensorflow" in l})
        except OSError:
            pass
    print(json.dumps({"music_after": music, "rss_mb": rss, "heavy": heavy, "children": len(children),
                      "generator_tf": generator_tf[:3]}), flush=True)
    os.kill(os.getpid(), signal.SIGINT)          # run_app shuts down, the generator with it

if __name__ == "__main__":
    port, data = int(sys.argv[1]), sys.argv[2]
    threading.Thread(target=watch, args=(port,), daemon=True).start()
    cli.main(["serve", "--port", sys.argv[1], "--data", data])
"""


def test_the_server_process_never_loads_tensorflow_and_stays_small(tmp_path):
    """`radio serve` with the real model generating: the server process holds no TensorFlow,
    magenta or note_seq module and stays under 250 MB, the generator process maps no
    TensorFlow library; music plays (the figures: bench/startup.py)."""
    script = tmp_path / "probe.py"
    script.write_text(SERVER_PROBE)
    proc = subprocess.run([sys.executable, str(script), str(_free_port()), str(tmp_path / "data")],
                          capture_output=True, text=True, timeout=400,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)})
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["heavy"] == [], report
    # the generator runs the numpy engine (the default): no TensorFlow in that process either
    assert report["children"] >= 1 and report["generator_tf"] == [], report
    assert report["music_after"] is not None and report["music_after"] < 180, report
    assert report["rss_mb"] < 250, report


def test_both_pipelines_keep_the_loops_contract(tmp_path):
    """The real pipeline (on the small pinned model of the golden check) and the tests'
    stand-in both provide what the generator loop uses (loop.PipelineLike)."""
    import golden_cases
    from tonepipeline import TonePipeline

    from radio.config import Settings
    from radio.generator.loop import PipelineLike
    from radio.generator.pipeline import Pipeline
    assert isinstance(TonePipeline(), PipelineLike)
    real = Pipeline(Settings(model=str(golden_cases.MODEL), data=str(tmp_path)))
    try:
        assert isinstance(real, PipelineLike)
    finally:
        real.close()


def test_the_station_keeps_the_wiring_and_its_parts_own_their_state(tmp_path):
    """Votes, history, the generator's reports and the pacer's restarts live in the parts
    that own them (ballot, history, gen, pacer); the station holds the parts."""
    from radio.config import Settings
    from radio.station.station import Station
    station = Station(Settings(data=str(tmp_path)), "tonepipeline:TonePipeline")
    try:
        parts = set(vars(station))
        assert {"ballot", "history", "gen", "pacer"} <= parts
        assert not parts & {"votes", "anchors", "mix", "sets", "timings", "pacer_restarts", "segments_generated"}
        assert len(parts) <= 19, sorted(parts)          # 19: the map (latentmap.py)
    finally:
        station.stop()
