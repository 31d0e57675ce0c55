"""Start-up and the server process: `radio serve` (as `make run` starts it, with the default
per-user data folder under a temporary XDG_DATA_HOME) started twice, cold (no anchor
cache) and warm (cache filled by the first run). For each: when /healthz first answers and
with what, when an early listener gets its first byte, when music plays (/healthz 200),
and the server process's RSS (the generator process apart) over `--seconds` of playing.

    python bench/startup.py [--seconds 60]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def health(base: str):
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def run_once(xdg: Path, seconds: float) -> dict:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "RADIO_DATA"}
    env.update(XDG_DATA_HOME=str(xdg), RADIO_LOG_FORMAT="json", PYTHONPATH=str(ROOT))
    t0 = time.monotonic()
    log = open(xdg / f"serve-{port}.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "radio", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    out: dict = {}
    try:
        while True:
            try:
                code, h = health(base)
                out["healthz_first"] = {"after_s": round(time.monotonic() - t0, 2), "code": code,
                                        "status": h["status"]}
                break
            except OSError:
                if time.monotonic() - t0 > 120 or proc.poll() is not None:
                    raise SystemExit(f"no answer; see {log.name}")
                time.sleep(0.05)
        first_byte = {}

        def listen():
            t = time.monotonic()
            with urllib.request.urlopen(base + "/stream.mp3", timeout=30) as r:
                r.read(1)
                first_byte["after_connect_s"] = round(time.monotonic() - t, 3)
                first_byte["after_start_s"] = round(time.monotonic() - t0, 2)
        threading.Thread(target=listen, daemon=True).start()
        while True:
            code, h = health(base)
            if code == 200:
                out["music_after_s"] = round(time.monotonic() - t0, 2)
                out["first_audio_after_seconds"] = h["first_audio_after_seconds"]
                break
            if time.monotonic() - t0 > 600:
                raise SystemExit("no music in 600 s")
            time.sleep(0.1)
        out["early_listener_first_byte"] = first_byte
        server = psutil.Process(proc.pid)
        rss = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            kids = server.children(recursive=True)
            rss.append((server.memory_info().rss / 2**20, sum(k.memory_info().rss for k in kids) / 2**20))
            time.sleep(1.0)
        out["server_rss_mib"] = {"first": round(rss[0][0], 1), "max": round(max(r for r, _ in rss), 1),
                                 "last": round(rss[-1][0], 1)}
        out["generator_rss_mib_last"] = round(rss[-1][1], 1)
        out["modules_check"] = "see tests/test_station.py (sys.modules of the server process)"
    finally:
        proc.terminate()
        proc.wait(60)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0, help="seconds of playing to watch RSS over")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="radio-startup-") as tmp:
        xdg = Path(tmp)
        for name in ("cold (no anchor cache)", "warm (anchor cache from the first run)"):
            result = run_once(xdg, args.seconds)
            print(name, json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
