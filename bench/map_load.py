#!/usr/bin/env python
"""What the page's map costs the server: a real station (`radio serve`, its own process, a
fresh data folder) answers N pages polling /api/map as the page does (every 2 s, with
If-None-Match), for a while; printed: the server process's CPU seconds per listener-hour
(the generator process not counted) and the bytes per listener-second the map adds,
beside the MP3 stream's 16,000 B/s.

    .venv/bin/python bench/map_load.py [--pages 500] [--seconds 60]
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
from served import served  # noqa: E402


async def page(http, url: str, until: float, counts: dict) -> None:
    tag = ""
    while time.monotonic() < until:
        async with http.get(url, headers={"If-None-Match": tag} if tag else {}) as r:
            body = await r.read()          # as sent: gzipped
            counts[r.status] = counts.get(r.status, 0) + 1
            counts["bytes"] += len(body) + sum(len(k) + len(v) + 4 for k, v in r.raw_headers) + 17
            tag = r.headers.get("ETag", tag)
        await asyncio.sleep(2.0)


async def run(base: str, pages: int, seconds: float, pid: int) -> None:
    import aiohttp
    import psutil
    server = psutil.Process(pid)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), auto_decompress=False) as http:
        for _ in range(120):                 # until music plays
            try:
                async with http.get(base + "/healthz") as r:
                    if r.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(1)
        await asyncio.sleep(5)
        idle0, t0 = server.cpu_times(), time.monotonic()
        await asyncio.sleep(seconds)
        idle = (sum(server.cpu_times()[:2]) - sum(idle0[:2])) / (time.monotonic() - t0)
        counts = {"bytes": 0}
        busy0, t0 = server.cpu_times(), time.monotonic()
        await asyncio.gather(*(page(http, base + "/api/map", t0 + seconds, counts) for _ in range(pages)))
        elapsed = time.monotonic() - t0
        busy = (sum(server.cpu_times()[:2]) - sum(busy0[:2])) / elapsed
    per_page = (busy - idle) / pages
    print(f"{pages} pages polling /api/map every 2 s for {elapsed:.0f} s: {counts.get(200, 0)} full answers, "
          f"{counts.get(304, 0)} 304s")
    print(f"server CPU: {idle:.4f} s/s without the pages, {busy:.4f} s/s with them: "
          f"{per_page * 1e3:.3f} ms per page-second, {per_page * 3600:.2f} CPU s per listener-hour")
    print(f"bytes: {counts['bytes'] / pages / elapsed:.0f} B/s per page (headers included), "
          f"against the MP3 stream's 16000 B/s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, default=500)
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    with Conditions(), tempfile.TemporaryDirectory() as data, served(data) as (base, proc):
        asyncio.run(run(base, args.pages, args.seconds, proc.pid))

if __name__ == "__main__":
    main()
