"""Soak: the real station for a long stretch with N listeners, while fault drills hit it at
intervals, in turn: the generator's pipeline crashes, its process gets SIGKILL, it stalls
90 s, the pacer raises, the HLS folder is deleted. Two extra listeners record everything they receive;
ffmpeg decodes it and the script reports gaps (silence runs ≥ 1 s, decoder errors),
listeners below 95 % of the bitrate, RSS over time (the server process, and the whole tree
with the generator), generator restarts and fill seconds.

    .venv/bin/python bench/soak.py                                  # 1 h, 500 listeners
    .venv/bin/python bench/soak.py --minutes 2 --listeners 50       # what the tests run

Exit status 0 when there were no gaps, every listener got ≥ 95 % of the bitrate and the
drills happened; the last line is a JSON summary.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import load  # noqa: E402  (bench/load.py: the listener workers)

from radio.offline.audiostats import window_dbfs  # noqa: E402

TOKEN = "soak-admin-token-000"
# in turn; a 2-minute run gets the first three, and its stall (last) must outlast the lead
DRILLS = ("crash", "kill", "stall", "pacer", "hls")


def tree_rss(proc: psutil.Process) -> tuple[float, dict]:
    """RSS of the server and its children (the generator, its FluidSynth), MB, and each
    process's share ("pid name": MB)."""
    each = {}
    for p in [proc, *proc.children(recursive=True)]:
        try:
            each[f"{p.pid} {' '.join(p.cmdline()[-2:])[-60:]}"] = round(p.memory_info().rss / 1e6, 1)
        except psutil.Error:
            pass
    return sum(each.values()), each


def call(base: str, path: str, body: dict | None = None) -> dict:
    req = urllib.request.Request(base + path, data=json.dumps(body).encode() if body else None,
                                 headers={"Authorization": f"Bearer {TOKEN}"},
                                 method="POST" if body else "GET")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def record(base: str, seconds: float, path: Path) -> None:
    with urllib.request.urlopen(base + "/stream.mp3", timeout=30) as r, open(path, "wb") as f:
        end = time.time() + seconds
        while time.time() < end:
            f.write(r.read1(65536))


def gaps(mp3: Path) -> dict:
    proc = subprocess.run(["ffmpeg", "-v", "error", "-i", str(mp3), "-f", "s16le", "-ac", "2",
                           "-ar", "44100", "-"], capture_output=True)
    pcm = np.frombuffer(proc.stdout, "<i2").reshape(-1, 2).T.astype(np.float32) / 32768
    quiet = window_dbfs(pcm) < -60.0                       # 50 ms windows
    runs, run = [], 0
    for q in quiet:
        run = run + 1 if q else 0
        if run == 20:                                      # ≥ 1 s of silence
            runs.append(1)
    return {"seconds": round(pcm.shape[1] / 44100, 1), "silences_1s": len(runs),
            "decoder_errors": len([l for l in proc.stderr.decode().splitlines() if l.strip()])}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--listeners", type=int, default=500)
    ap.add_argument("--drill-every", type=float, default=0.0,
                    help="seconds between drills, in turn (default: 10 min, "
                         "or 1/8 of a run under 20 min)")
    ap.add_argument("--trace-memory", action="store_true", help="print the tree's RSS every second")
    args = ap.parse_args()
    seconds = args.minutes * 60
    tmp = Path(tempfile.mkdtemp(prefix="radio-soak-"))
    port = load.free_port()
    env = {**os.environ, "RADIO_DATA": str(tmp / "data"), "RADIO_PORT": str(port),
           "RADIO_ADMIN_TOKEN": TOKEN, "RADIO_LEAD_SEGMENTS": "1", "RADIO_LOG_FORMAT": "json"}
    if seconds < 1200:
        # a short run plays at 240 bpm (16 s segments) so a stall outlasts the generator's
        # lead (the queued segment and the playing one) well inside the run
        env["RADIO_QPM"] = "240"
    log = open(tmp / "station.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "radio", "serve"], cwd=load.ROOT, env=env,
                            stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 180
        while True:
            try:
                if call(base, "/healthz")["status"] == "ok":
                    break
            except OSError:
                pass
            if time.time() > deadline or proc.poll() is not None:
                raise SystemExit(f"the station did not start; see {tmp}/station.log")
            time.sleep(0.5)
        t0 = time.time()
        every = args.drill_every or (600.0 if seconds >= 1200 else seconds / 8)
        # stalls (90 s) outlast the generator's lead (≤ 2 segments), so the fill must play
        drills = [(t, DRILLS[i % len(DRILLS)]) for i, t in
                  enumerate(np.arange(seconds / 8, seconds - 60, every))]
        rss, health, done, peak = [], {}, [], (0.0, 0, {})
        recorders = [threading.Thread(target=record, args=(base, seconds, tmp / f"rec{i}.mp3"))
                     for i in range(2)]
        for r in recorders:
            r.start()
        out = mp.Queue()
        n, workers, rate = args.listeners, 3, 100.0
        window = (t0 + n / rate + 3, t0 + seconds - 2)
        procs = [mp.Process(target=load._run_worker, args=(("127.0.0.1", port, "/stream.mp3",
                 n // workers + (i < n % workers), t0 + 1, rate, i, workers, window), out))
                 for i in range(workers)]
        for p in procs:
            p.start()
        server = psutil.Process(proc.pid)
        while time.time() < t0 + seconds:
            now = time.time() - t0
            while drills and drills[0][0] <= now:
                _, fault = drills.pop(0)
                if fault == "hls":
                    shutil.rmtree(tmp / "data" / "hls", ignore_errors=True)
                else:
                    call(base, "/api/drill", {"fault": fault, "seconds": 90 if fault == "stall" else 0})
                done.append(fault)
                print(f"{now:6.0f} s  drill: {fault}", flush=True)
            total, each = tree_rss(server)
            rss.append((round(now), server.memory_info().rss / 1e6, total))
            if total >= peak[0]:
                peak = (total, round(now), each)
            if args.trace_memory:
                print(f"{now:6.0f} s  tree {total:.0f} MB", flush=True)
            time.sleep(1)
        # a stall's watchdog kill lands ~15 s before the end of a 2-minute run: give the
        # restarted generator up to 20 s more to be back (reported as settle_seconds)
        end = time.time()
        while (health := call(base, "/healthz"))["status"] != "ok" and time.time() < end + 20:
            time.sleep(0.5)
        settle = round(time.time() - end, 1)
        results = [out.get(timeout=120) for _ in procs]
        for r in recorders:
            r.join(30)
    finally:
        proc.terminate()
        proc.wait(30)
    got = [b for r in results for b in r["window_bytes"]]
    full = sum(b >= 0.95 * load.BITRATE * (window[1] - window[0]) for b in got) / max(1, n)
    recs = [gaps(tmp / f"rec{i}.mp3") for i in range(2)]
    def memory(col: int) -> dict:
        """col 1: the server process; col 2: the whole tree. Slope over the samples after warm-up."""
        warm = [(x[0], x[col]) for x in rss if x[0] >= min(120, seconds / 4)]
        slope = np.polyfit(*zip(*warm), 1)[0] * 3600 if len(warm) > 2 else 0.0
        return {"first": round(rss[0][col], 1), "after_warmup": round(warm[0][1], 1) if warm else None,
                "last": round(rss[-1][col], 1), "max": round(max(x[col] for x in rss), 1),
                "slope_mb_per_hour": round(float(slope), 1)}

    summary = {"minutes": args.minutes, "listeners": n, "full_rate_share": round(full, 4),
               "failed_connections": sum(r["failed"] for r in results), "recordings": recs,
               "drills": done, "generator_restarts": health.get("generator_restarts"),
               "fill_seconds": health.get("underrun_seconds"),
               "health_at_end": {k: health.get(k) for k in ("status", "failing_outputs", "pacer")},
               "settle_seconds": settle,
               "rss_mb": memory(1), "tree_rss_mb": memory(2),
               "tree_peak": {"at_s": peak[1], "processes": peak[2]},
               "log": str(tmp / "station.log")}
    ok = (all(r["silences_1s"] == 0 and r["decoder_errors"] == 0 for r in recs)
          and full >= 0.99 and (health.get("generator_restarts") or 0) >= 1
          and health.get("status") == "ok" and not health.get("failing_outputs"))
    print(json.dumps(summary))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
