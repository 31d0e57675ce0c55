#!/usr/bin/env python
"""What the encoders cost the server process, by who listens (issue 31: encode only the
formats somebody takes). A real station (`radio serve`, its own process, fresh data folder,
HLS on as by default) is measured in three conditions, in turn, for `--seconds` each, over
`--rounds` rounds: no listener, one MP3 listener, one MP3 and one Ogg listener. Printed:
the server process's CPU seconds per audio second (the generator process not counted),
median of the rounds with the spread, and the encoders the station runs (/healthz).

    .venv/bin/python bench/encode_heard.py [--seconds 30] [--rounds 3] [--repo DIR]

`--repo` runs the station of another checkout (e.g. a worktree of the commit before), so
the same bench measures before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conditions import Conditions  # noqa: E402
from served import served  # noqa: E402

CONDITIONS = (("no listener", ()), ("one MP3 listener", ("mp3",)), ("MP3 + Ogg listeners", ("mp3", "ogg")))


async def listen(http, url: str, stop: asyncio.Event) -> None:
    async with http.get(url) as r:
        while not stop.is_set():
            if not await r.content.read(16384):
                break


async def run(base: str, seconds: float, rounds: int, pid: int) -> None:
    import aiohttp
    import psutil
    server = psutil.Process(pid)
    figures: dict[str, list[float]] = {name: [] for name, _ in CONDITIONS}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        for _ in range(300):
            try:
                async with http.get(base + "/healthz") as r:
                    if (await r.json())["status"] == "ok":
                        break
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(1)
        for rnd in range(rounds):
            for name, formats in CONDITIONS:
                stop = asyncio.Event()
                tasks = [asyncio.create_task(listen(http, f"{base}/stream.{fmt}", stop)) for fmt in formats]
                await asyncio.sleep(12)          # past the encoders' linger after the last condition
                c0, t0 = sum(server.cpu_times()[:2]), time.monotonic()
                await asyncio.sleep(seconds)
                cpu = (sum(server.cpu_times()[:2]) - c0) / (time.monotonic() - t0)
                async with http.get(base + "/healthz") as r:
                    encoding = (await r.json()).get("encoding")
                stop.set()
                for task in tasks:
                    task.cancel()
                figures[name].append(cpu)
                print(f"  round {rnd + 1}, {name}: {cpu:.4f} CPU s per audio s; encoding {encoding}", flush=True)
    for name, values in figures.items():
        print(f"{name}: {statistics.median(values):.4f} CPU s per audio s "
              f"({min(values):.4f}–{max(values):.4f}, {len(values)} rounds)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repo", default=str(Path(__file__).resolve().parent.parent))
    args = ap.parse_args()
    with Conditions(), tempfile.TemporaryDirectory() as data:
        print(f"# station from {args.repo}", flush=True)
        with served(data, repo=args.repo) as (base, proc):
            asyncio.run(run(base, args.seconds, args.rounds, proc.pid))

if __name__ == "__main__":
    main()
