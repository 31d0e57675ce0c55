"""Channels on one box (issue 29): a real `radio serve`, channels added through the API one
by one, then listeners on every channel at once, a generator killed, and (--sweep) more
channels until one underruns.

It prints, with the conditions:
- the whole process tree's RSS and PSS as each channel is added (what a channel costs);
- per channel: listeners at full rate (≥ 95 % of 128 kbps over the window), underrun
  seconds in the window, and the CPU of its generator process; the server's CPU;
- the drill: one channel's generator gets SIGKILL; the longest gap between chunks each
  other channel's listener saw, their underrun, and how long the killed one took to play again;
- --sweep N: channels added up to N, each step held --hold seconds; the largest count with
  0 underrun, and whether CPU or memory ran out first (one listener on each channel, so
  every channel encodes).

    .venv/bin/python bench/channels.py                                 # 4 channels, 1000 each, 300 s
    .venv/bin/python bench/channels.py --listeners 200 --seconds 30 --sweep 12 --hold 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import signal
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).parent))
from conditions import Conditions  # noqa: E402
from load import BITRATE, _worker  # noqa: E402
from served import served  # noqa: E402

TOKEN = "bench-channels-token-0123"
SETS = ("rock", "jazz", "funk", "latin", "blues", "ska", "pop", "country", "swing", "ballad")


def call(base, method, path, body=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def health(base) -> dict:
    return call(base, "GET", "/healthz")[1]


def wait_all_ok(base, limit=300.0) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        try:
            if health(base)["status"] == "ok":
                return time.monotonic() - t0
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"not every channel plays after {limit} s: {health(base)}")


def tree_memory(pid: int) -> tuple[float, float]:
    """(RSS, PSS) of the server and all its children, MB."""
    rss = pss = 0
    for p in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]:
        try:
            full = p.memory_full_info()
            rss, pss = rss + full.rss, pss + full.pss
        except psutil.NoSuchProcess:
            pass
    return rss / 1e6, pss / 1e6


def path_of(name: str) -> str:
    return "/stream.mp3" if name == "main" else f"/{name}/stream.mp3"


def add(base, name: str, i: int) -> None:
    status, body = call(base, "POST", "/api/channels",
                        {"name": name, "title": name, "mix": {"sets": {SETS[i % len(SETS)]: 1}}})
    if status != 201:
        raise SystemExit(f"adding {name}: {status} {body}")


def _run_worker(name, args, out):
    out.put((name, asyncio.run(_worker(*args))))


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    out = {}
    for name, pid in pids.items():
        try:
            out[name] = sum(psutil.Process(pid).cpu_times()[:2])
        except (psutil.NoSuchProcess, TypeError):
            out[name] = float("nan")
    return out


def load_phase(base, server_pid, names, listeners, seconds, rate) -> None:
    host, port = base.split("//")[1].split(":")
    start = time.time() + 1.0
    window = (start + listeners / rate + 3.0, start + listeners / rate + 3.0 + seconds)
    out, procs = mp.Queue(), []
    for name in names:     # one client process per channel, all ramping at once
        p = mp.Process(target=_run_worker, args=(name, (host, int(port), path_of(name), listeners, start, rate,
                                                        0, 1, window), out))
        p.start()
        procs.append(p)
    time.sleep(max(0.0, window[0] - time.time()))
    h0 = health(base)["channels"]
    pids = {"server": server_pid, **{n: h0[n]["generator"]["pid"] for n in names}}
    c0 = cpu_seconds(pids)
    time.sleep(max(0.0, window[1] - time.time()))
    c1, h1 = cpu_seconds(pids), health(base)["channels"]
    rss, pss = tree_memory(server_pid)
    results = dict(out.get(timeout=seconds + listeners / rate + 120) for _ in procs)
    for p in procs:
        p.join(10)
    print(f"load: {len(names)} channels × {listeners} listeners, {seconds:.0f} s window; "
          f"server CPU {(c1['server'] - c0['server']) / seconds:.3f} of a core; tree RSS {rss:.0f} MB, PSS {pss:.0f} MB")
    for n in names:
        r = results[n]
        full = sum(1 for b in r["window_bytes"] if b >= 0.95 * BITRATE * seconds)
        under = h1[n]["underrun_seconds"] - h0[n]["underrun_seconds"]
        print(f"  {n:8s} full rate {full}/{listeners} (failed {r['failed']})   underrun {under:5.2f} s   "
              f"generator CPU {(c1[n] - c0[n]) / seconds:.3f} of a core   listeners {sum(h1[n]['listeners'].values())}")


async def _gaps(url: str, seconds: float) -> float:
    import aiohttp
    longest, last = 0.0, None
    async with aiohttp.ClientSession() as http, http.get(url) as r:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                await asyncio.wait_for(r.content.readany(), end - time.monotonic())
            except asyncio.TimeoutError:
                break
            now = time.monotonic()
            if last is not None:
                longest = max(longest, now - last)
            last = now
    return longest


def drill(base, names, seconds=40.0) -> None:
    victim = names[1]
    h0 = health(base)["channels"]
    others = [n for n in names if n != victim]

    async def listen_and_kill():
        tasks = [asyncio.create_task(_gaps(base + path_of(n), seconds)) for n in others]
        await asyncio.sleep(3)
        os.kill(h0[victim]["generator"]["pid"], signal.SIGKILL)
        killed = time.monotonic()
        back = None
        while time.monotonic() - killed < seconds - 4:
            ch = (await asyncio.to_thread(health, base))["channels"][victim]
            if back is None and ch["generator"]["process_restarts"] > h0[victim]["generator"]["process_restarts"] \
                    and ch["generator"]["running"]:
                back = time.monotonic() - killed
            await asyncio.sleep(0.5)
        return await asyncio.gather(*tasks), back
    gaps, back = asyncio.run(listen_and_kill())
    h1 = health(base)["channels"]
    print(f"drill: {victim}'s generator killed (SIGKILL); its generator ran again after "
          f"{'%.1f s' % back if back is not None else 'NOT within the window'}; its underrun "
          f"{h1[victim]['underrun_seconds'] - h0[victim]['underrun_seconds']:.2f} s (the loop fill covers it)")
    for n, g in zip(others, gaps):
        print(f"  {n:8s} longest gap between chunks {g:.2f} s   underrun "
              f"{h1[n]['underrun_seconds'] - h0[n]['underrun_seconds']:.2f} s")


def cpu_busy(seconds: float) -> float:
    """Share of all cores busy over `seconds` (the whole box, clients included)."""
    return psutil.cpu_percent(interval=seconds) / 100


def _drain(url: str, stop) -> None:
    """One listener that reads and drops the stream until `stop` (so the channel encodes)."""
    with urllib.request.urlopen(url, timeout=30) as r:
        while not stop.is_set() and r.read(16384):
            pass


def sweep(base, server_pid, names, up_to, hold, step=1) -> None:
    import threading
    best, stop = len(names), threading.Event()
    for n in names:
        threading.Thread(target=_drain, args=(base + path_of(n), stop), daemon=True).start()
    while len(names) < up_to:
        for _ in range(min(step, up_to - len(names))):
            name = f"c{len(names) + 1}"
            add(base, name, len(names))
            names.append(name)
            threading.Thread(target=_drain, args=(base + path_of(name), stop), daemon=True).start()
            wait_all_ok(base)
        wait_all_ok(base)
        h0 = health(base)["channels"]
        busy = cpu_busy(hold)
        h1 = health(base)["channels"]
        under = {n: h1[n]["underrun_seconds"] - h0[n]["underrun_seconds"] for n in names}
        rss, pss = tree_memory(server_pid)
        avail = psutil.virtual_memory().available / 1e6
        print(f"sweep: {len(names):2d} channels  CPU busy {100 * busy:5.1f} %  tree RSS {rss:6.0f} MB  "
              f"PSS {pss:6.0f} MB  memory available {avail:6.0f} MB  underrun in {hold:.0f} s: "
              f"{max(under.values()):.2f} s (worst)", flush=True)
        if max(under.values()) > 0:
            print(f"largest count with no underrun: {best}; limit: "
                  f"{'CPU' if busy > 0.9 else 'memory' if avail < 1000 else 'CPU (generators late)'}")
            return
        best = len(names)
        if avail < 1000:
            print(f"largest count with no underrun: {best}; limit: memory ({avail:.0f} MB left)")
            return
    print(f"no underrun up to {best} channels (the sweep's end)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--channels", type=int, default=4)
    ap.add_argument("--listeners", type=int, default=1000, help="per channel")
    ap.add_argument("--seconds", type=float, default=300.0, help="the load window")
    ap.add_argument("--rate", type=float, default=100.0, help="connections per second per channel")
    ap.add_argument("--sweep", type=int, default=0, help="then add channels up to this count")
    ap.add_argument("--hold", type=float, default=60.0, help="seconds each sweep step is held")
    ap.add_argument("--no-drill", dest="drill", action="store_false", help="skip the SIGKILL drill")
    ap.add_argument("--step", type=int, default=1, help="channels added per sweep step")
    args = ap.parse_args()
    with Conditions(), tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "radio.toml"
        config.write_text(f"max_channels = {max(args.channels, args.sweep, 1)}\n")
        env = {"RADIO_CONFIG": str(config), "RADIO_ADMIN_TOKEN": TOKEN}
        with served(Path(tmp) / "data", env) as (base, proc):
            took = wait_all_ok(base)
            names = ["main"]
            rss, pss = tree_memory(proc.pid)
            print(f"1 channel: plays after {took:.1f} s; tree RSS {rss:.0f} MB, PSS {pss:.0f} MB", flush=True)
            for i in range(1, args.channels):
                name = f"c{i + 1}"
                t0 = time.monotonic()
                add(base, name, i)
                wait_all_ok(base)
                took = time.monotonic() - t0
                time.sleep(10 if args.channels <= 8 else 2)
                before = rss, pss
                rss, pss = tree_memory(proc.pid)
                names.append(name)
                print(f"{len(names)} channels: {name} plays {took:.1f} s after its POST; tree RSS {rss:.0f} MB "
                      f"(+{rss - before[0]:.0f}), PSS {pss:.0f} MB (+{pss - before[1]:.0f})", flush=True)
            if args.listeners:
                load_phase(base, proc.pid, names, args.listeners, args.seconds, args.rate)
            if len(names) > 1 and args.drill:
                drill(base, names)
            if args.sweep:
                sweep(base, proc.pid, names, args.sweep, args.hold, args.step)


if __name__ == "__main__":
    main()
