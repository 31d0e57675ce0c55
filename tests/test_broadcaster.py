"""Broadcaster: fan-out, burst on connect, slow listeners dropped without slowing others."""

import asyncio

from radio.broadcaster import Broadcaster


def test_fan_out_and_burst():
    async def main():
        b = Broadcaster(burst_seconds=2.0)
        early = b.subscribe()
        for i in range(12):
            b.publish(bytes([i]) * 10, 0.25)
        assert await early.get() == b"".join(bytes([i]) * 10 for i in range(12))
        late = b.subscribe()
        burst = await late.get()
        assert burst == b"".join(bytes([i]) * 10 for i in range(4, 12))  # the last 2 s
        b.publish(b"x", 0.25)
        assert await late.get() == b"x" and await early.get() == b"x"
    asyncio.run(main())


def test_slow_listener_dropped_others_unaffected():
    async def main():
        b = Broadcaster(burst_seconds=1.0, max_lag_seconds=3.0)
        slow, fast = b.subscribe(), b.subscribe()
        for i in range(20):
            b.publish(b"a" * 100, 0.25)
            assert await fast.get() == b"a" * 100
        assert slow.closed and slow not in b.listeners and b.dropped == 1
        assert fast in b.listeners and await slow.get() == b""
    asyncio.run(main())
