"""Listener load on loopback: N concurrent listeners for a fixed window, against the station
and, in the same run, against Debian's Icecast 2 fed the same MP3.

For each N it reports the share of listeners that received ≥ 95 % of the bitrate during
the window, time to first byte (median, p99) while they connect at --rate per second, and
the server's CPU (share of one core) and RSS over the window. The station generates music
all the while; Icecast is measured after the station has stopped, alone on the machine.
Clients run in several processes, since they share the machine's cores with the server.

    .venv/bin/python bench/load.py                       # N = 100 … 5000, 60 s each, both servers
    .venv/bin/python bench/load.py --listeners 100 500 --seconds 20 --targets radio
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
BITRATE = 128_000 // 8          # bytes per second of the MP3 stream
# --batch: each client pauses reading after a read and resumes every 0.5 s (cheaper for
# the client). Icecast 2.4.4 starves most such listeners at 5,000 here (bench notes in the
# README), so the default reads continuously, which is fair to both servers.
BATCH = False


# -- client side (one process per worker) ----------------------------------------------
class Listen(asyncio.Protocol):
    """Counts body bytes; with --batch pauses itself after each read (resumed every 0.5 s)."""

    def __init__(self, started: float):
        self.started, self.ttfb, self.head, self.body = started, None, b"", 0
        self.transport = None
        self.closed = False

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        if self.ttfb is None:
            self.ttfb = time.time() - self.started
        if self.head is not None:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            data, self.head = self.head[end + 4:], None
        self.body += len(data)
        if BATCH:
            self.transport.pause_reading()

    def connection_lost(self, exc):
        self.closed = True


async def _worker(host, port, path, n, start, rate, offset, workers, window):
    loop = asyncio.get_running_loop()
    conns, failed = [], 0

    async def resume_all():
        while True:
            await asyncio.sleep(0.5)
            for c in conns:
                if c.transport and not c.closed:
                    c.transport.resume_reading()
    resumer = asyncio.create_task(resume_all())
    for k in range(n):
        at = start + (k * workers + offset) / rate
        await asyncio.sleep(max(0.0, at - time.time()))
        started = time.time()
        try:
            _, proto = await loop.create_connection(lambda: Listen(started), host, port)
            proto.transport.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            conns.append(proto)
        except OSError:
            failed += 1
    await asyncio.sleep(max(0.0, window[0] - time.time()))
    before = [c.body for c in conns]
    await asyncio.sleep(max(0.0, window[1] - time.time()))
    after = [c.body if not c.closed else -1 for c in conns]
    resumer.cancel()
    for c in conns:
        c.transport.abort()
    return {"ttfb": [c.ttfb for c in conns if c.ttfb is not None],
            "window_bytes": [a - b if a >= 0 else 0 for a, b in zip(after, before)],
            "failed": failed + sum(1 for c in conns if c.ttfb is None)}


def _run_worker(args, out):
    out.put(asyncio.run(_worker(*args)))


def measure(host, port, path, n, rate, seconds, server_pid, workers=3) -> dict:
    start = time.time() + 1.0
    ramp_end = start + n / rate
    window = (ramp_end + 2.0, ramp_end + 2.0 + seconds)
    out = mp.Queue()
    procs = []
    for i in range(workers):
        count = n // workers + (1 if i < n % workers else 0)
        p = mp.Process(target=_run_worker, args=((host, port, path, count, start, rate, i, workers,
                                                  window), out))
        p.start()
        procs.append(p)
    server = psutil.Process(server_pid)
    time.sleep(max(0.0, window[0] - time.time()))
    cpu0 = sum(server.cpu_times()[:2])
    time.sleep(max(0.0, window[1] - time.time()))
    cpu = (sum(server.cpu_times()[:2]) - cpu0) / seconds
    rss = server.memory_info().rss
    results = [out.get(timeout=seconds + n / rate + 60) for _ in procs]
    for p in procs:
        p.join(10)
    ttfb = sorted(t for r in results for t in r["ttfb"])
    got = [b for r in results for b in r["window_bytes"]]
    full = sum(1 for b in got if b >= 0.95 * BITRATE * seconds)
    return {"n": n, "full_rate": full / n, "failed": sum(r["failed"] for r in results),
            "ttfb_median_ms": 1000 * statistics.median(ttfb) if ttfb else None,
            "ttfb_p99_ms": 1000 * ttfb[min(len(ttfb) - 1, int(0.99 * len(ttfb)))] if ttfb else None,
            "cpu_core_share": cpu, "rss_mb": rss / 1e6}


# -- servers ---------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_station(data_dir: Path) -> tuple[subprocess.Popen, int]:
    import json
    import urllib.request
    port = free_port()
    env = {**os.environ, "RADIO_DATA": str(data_dir), "RADIO_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, "-m", "radio", "serve"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if json.load(r)["status"] == "ok":
                    return proc, port
        except OSError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise SystemExit("the station did not start playing within 180 s")


def record(port: int, seconds: float, path: Path) -> None:
    import urllib.request
    data = bytearray()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stream.mp3", timeout=10) as r:
        end = time.time() + seconds
        while time.time() < end:
            data += r.read(4096)
    path.write_bytes(bytes(data))


def start_icecast(tmp: Path, mp3: Path) -> tuple[list[subprocess.Popen], int]:
    if not shutil.which("icecast2"):
        raise SystemExit("icecast2 is not installed: sudo apt-get install icecast2 (or --targets radio)")
    sys.path.insert(0, str(ROOT / "tests"))
    from icecast_server import run_local_server
    port = free_port()
    ice = run_local_server(port, tmp, "benchpass")
    time.sleep(1.5)
    source = subprocess.Popen(["ffmpeg", "-v", "error", "-re", "-stream_loop", "-1", "-i", str(mp3),
                               "-c:a", "copy", "-content_type", "audio/mpeg", "-f", "mp3",
                               f"icecast://source:benchpass@127.0.0.1:{port}/radio.mp3"])
    time.sleep(3.0)
    if ice.poll() is not None or source.poll() is not None:
        raise SystemExit(f"icecast did not start; see {tmp}/error.log")
    return [source, ice], port


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


def report(name: str, r: dict) -> None:
    print(f"{name:8s} N={r['n']:5d}  full rate {100 * r['full_rate']:5.1f} %  failed {r['failed']:4d}  "
          f"first byte median {r['ttfb_median_ms']:7.1f} ms p99 {r['ttfb_p99_ms']:7.1f} ms  "
          f"server CPU {100 * r['cpu_core_share']:5.1f} % of a core  RSS {r['rss_mb']:6.1f} MB",
          flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--listeners", type=int, nargs="+", default=[100, 500, 1000, 2000, 5000])
    ap.add_argument("--seconds", type=float, default=60.0, help="measurement window per N")
    ap.add_argument("--rate", type=float, default=100.0, help="new connections per second")
    ap.add_argument("--workers", type=int, default=3, help="client processes")
    ap.add_argument("--batch", action="store_true", help="clients read in 0.5 s batches")
    ap.add_argument("--targets", nargs="+", default=["radio", "icecast"], choices=["radio", "icecast"])
    args = ap.parse_args()
    global BATCH
    BATCH = args.batch
    tmp = Path(tempfile.mkdtemp(prefix="radio-load-"))
    station, port = start_station(tmp / "data")
    mp3 = tmp / "same.mp3"
    try:
        if "icecast" in args.targets:
            record(port, 20.0, mp3)     # Icecast gets the station's own MP3, looped
        if "radio" in args.targets:
            for n in args.listeners:
                report("radio", measure("127.0.0.1", port, "/stream.mp3", n, args.rate,
                                        args.seconds, station.pid, args.workers))
                if station.poll() is not None:
                    raise SystemExit("the station died")
            import json
            import urllib.request
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                h = json.load(r)
            print(f"station while loaded: {h['segments_generated']} segments generated, "
                  f"{h['underrun_seconds']} s of fill (generator late), last error {h['last_error']}")
    finally:
        stop(station)
    if "icecast" in args.targets:      # measured alone, with the station stopped
        procs, ice_port = start_icecast(tmp, mp3)
        try:
            for n in args.listeners:
                report("icecast", measure("127.0.0.1", ice_port, "/radio.mp3", n, args.rate,
                                          args.seconds, procs[1].pid, args.workers))
        finally:
            for p in procs:
                stop(p)
    print(f"\n{args.seconds:g} s window per N, {args.rate:g} connections/s, {args.workers} client "
          f"processes, {os.cpu_count()} cores; ≥ 95 % of {BITRATE * 8 // 1000} kbps counts as full rate")


if __name__ == "__main__":
    main()
