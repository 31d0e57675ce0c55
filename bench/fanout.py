"""How long one chunk's fan-out holds the event loop: N real loopback sockets subscribed to a
Broadcaster (a client process drains them), 40 chunks of 4,000 bytes 0.25 s apart; prints
the publish() call's median, the loop's lag (a 1 ms sleeper's lateness) and CPU.

    .venv/bin/python bench/fanout.py [REPO] [N] [aio|uv]     # REPO: whose radio/ to import
"""
import asyncio
import multiprocessing as mp
import selectors
import socket
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).resolve().parent.parent))
from radio.station.broadcaster import Broadcaster  # noqa: E402

N = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
LOOP = sys.argv[3] if len(sys.argv) > 3 else "uv"

def clients(port, n, stop):
    sel = selectors.DefaultSelector(); socks = []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port)); s.setblocking(False)
        sel.register(s, selectors.EVENT_READ); socks.append(s)
    while not stop.is_set():
        for key, _ in sel.select(0.1):
            try: key.fileobj.recv(65536)
            except BlockingIOError: pass

async def main():
    loop = asyncio.get_running_loop()
    b = Broadcaster("mp3", burst_seconds=0.5)
    transports = []
    class P(asyncio.Protocol):
        def connection_made(self, t): transports.append(t)
    server = await loop.create_server(P, "127.0.0.1", 0, backlog=8192)
    port = server.sockets[0].getsockname()[1]
    stop = mp.Event()
    proc = mp.Process(target=clients, args=(port, N, stop)); proc.start()
    while len(transports) < N: await asyncio.sleep(0.05)
    for t in transports: b.subscribe(t)
    lags = []; done = False
    async def probe():
        while not done:
            t = loop.time(); await asyncio.sleep(0.001); lags.append(loop.time() - t - 0.001)
    pr = asyncio.create_task(probe())
    chunk = b"x" * 4000
    cpu0 = time.process_time(); blocks = []
    for k in range(40):
        t = time.perf_counter(); b.publish(chunk, 0.25); blocks.append(time.perf_counter() - t)
        await asyncio.sleep(0.25)
    cpu = time.process_time() - cpu0
    done = True; await pr; stop.set(); proc.join()
    lags.sort()
    print(f"N={N} {LOOP:3}: publish() call median {1000*statistics.median(blocks):.1f} ms; "
          f"loop lag p50 {1000*statistics.median(lags):.2f} p99 {1000*lags[int(.99*len(lags))]:.1f} max {1000*lags[-1]:.1f} ms; CPU {cpu:.2f} s / 40 chunks")
if __name__ == "__main__":
    if LOOP == "uv":
        import uvloop
        uvloop.install()
    asyncio.run(main())
