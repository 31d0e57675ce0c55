#!/usr/bin/env python
"""The learning job beside the music (issue 28, part 3): a real station (`radio serve`, its
own process, a fresh data folder) with freedoom2's odd usable songs imported as set `fd2`
(the likeness bench's split), a few listeners on the MP3 stream, and `POST /api/learn
{"set": "fd2"}`: the job runs at the lowest CPU priority until it stops early. Printed:
the job's time and steps, what the station lost meanwhile (underrun seconds, fill), what
the listeners received against the stream's rate, and the job's CPU share. Then, playing
the set alone (`PUT /api/mix {"sets": {"fd2": 1}}`), the switch to its model.

    .venv/bin/python bench/learn_job.py [--listeners 20] [--limit 1200]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conditions import Conditions  # noqa: E402
from likeness import import_seeds, usable  # noqa: E402
from served import served  # noqa: E402

TOKEN = "bench-admin-token-0123"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


async def listener(http, url: str, until: float, got: list) -> None:
    async with http.get(url) as r:
        while time.monotonic() < until:
            chunk = await r.content.read(16384)
            if not chunk:
                break
            got[0] += len(chunk)


async def health(http, base: str) -> dict:
    async with http.get(base + "/healthz") as r:
        return await r.json()


async def run(base: str, listeners: int, limit: float, server_pid: int, steps: int | None = None) -> None:
    import aiohttp
    import psutil
    # no total timeout: aiohttp's default (5 minutes) ended every listener of a longer job
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                     timeout=aiohttp.ClientTimeout(total=None, sock_read=60)) as http:
        for _ in range(300):                 # until music plays
            try:
                if (await health(http, base))["status"] == "ok":
                    break
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(1)
        got = [0]
        tasks = [asyncio.create_task(listener(http, base + "/stream.mp3", time.monotonic() + limit + 120, got))
                 for _ in range(listeners)]
        await asyncio.sleep(5)
        h0, bytes0, t0 = await health(http, base), got[0], time.monotonic()
        body = {"set": "fd2", **({"steps": steps} if steps else {})}
        async with http.post(base + "/api/learn", json=body, headers=ADMIN) as r:
            job = (await r.json())["job"]
            assert r.status == 202, job
        learner = psutil.Process(job["pid"])
        cpu, tree = 0.0, psutil.Process(server_pid)
        tree0 = sum(sum(p.cpu_times()[:2]) for p in [tree, *tree.children(recursive=True)] if p.pid != job["pid"])
        last = ""
        while time.monotonic() - t0 < limit:
            h = await health(http, base)
            job = h["learn"]
            try:
                cpu = sum(learner.cpu_times()[:2])
            except psutil.NoSuchProcess:
                pass
            line = f"step {job['step']}/{job['steps']}, {job['seconds_left']} s left"
            if line != last and job["step"] is not None and job["step"] % 10 == 0:
                print(f"  {time.monotonic() - t0:5.0f} s: {line}; underrun {h['underrun_seconds']} s; "
                      f"listeners {h['listeners'].get('mp3')}", flush=True)
                last = line
            if job["state"] != "running":
                break
            await asyncio.sleep(2)
        t1, h1, bytes1 = time.monotonic(), await health(http, base), got[0]
        tree1 = sum(sum(p.cpu_times()[:2]) for p in [tree, *tree.children(recursive=True)])
        took = t1 - t0
        print(f"job: {job['state']} after {took:.0f} s, step {job['step']} of at most {job['steps']}: {job['message']}")
        print(f"job CPU: {cpu:.0f} s ({cpu / took:.2f} cores); station tree CPU meanwhile: "
              f"{(tree1 - tree0) / took:.2f} cores")
        print(f"station while it ran: underrun {h1['underrun_seconds'] - h0['underrun_seconds']:.1f} s, "
              f"generator restarts {h1['generator_restarts'] - h0['generator_restarts']}, status {h1['status']}")
        rate = (bytes1 - bytes0) / listeners / took
        print(f"{listeners} listeners received {rate:.0f} B/s each (the MP3 stream is 16000 B/s)")
        if job["state"] == "done":
            async with http.put(base + "/api/mix", json={"sets": {"fd2": 1}}, headers=ADMIN) as r:
                assert r.status == 200, await r.text()
            t2, before = time.monotonic(), (await health(http, base))["underrun_seconds"]
            while time.monotonic() - t2 < 180:
                async with http.get(base + "/api/now") as r:
                    now = (await r.json())["now_playing"]
                if now.get("model") == "fd2":
                    break
                await asyncio.sleep(0.5)
            h = await health(http, base)
            print(f"mix fd2 alone: its model plays {time.monotonic() - t2:.1f} s after the change "
                  f"(the segment playing plays out first); underrun at the switch "
                  f"{h['underrun_seconds'] - before:.1f} s; model {h['model']}")
        for task in tasks:
            task.cancel()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listeners", type=int, default=20)
    ap.add_argument("--limit", type=float, default=1200.0, help="seconds to wait for the job at most")
    ap.add_argument("--steps", type=int, help="the job's step bound (default: radio learn's)")
    args = ap.parse_args()
    with Conditions(), tempfile.TemporaryDirectory() as data:
        fd2_data, fd2, _ = usable("freedoom2")
        names = sorted(fd2)
        import_seeds({n: fd2_data[n] for n in names[0::2]}, Path(data), "fd2")
        print(f"# set fd2: freedoom2's {len(names[0::2])} odd usable songs; {args.listeners} listeners", flush=True)
        with served(data, {"RADIO_ADMIN_TOKEN": TOKEN}) as (base, proc):
            asyncio.run(run(base, args.listeners, args.limit, proc.pid, args.steps))

if __name__ == "__main__":
    main()
