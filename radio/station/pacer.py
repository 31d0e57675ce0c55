"""The pacer: takes 0.25 s of PCM from the playout at real-time pace and hands it on to be
mastered, encoded and published, about 1 s ahead of the wall clock.

Supervised: an exception is logged, the station's health says error, and the pacer is
restarted after 1 s (doubling to 30 s); the stream clock runs on, so it catches up. The
`pacer` fault drill makes it raise, and again after each restart for some seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import numpy as np

from ..contracts import SAMPLE_RATE, FaultDrill
from .playout import Fallback

log = logging.getLogger("radio.station")


class Pacer:
    CHUNK_SECONDS = 0.25    # PCM is encoded and published in chunks of this length
    AHEAD_SECONDS = 1.0     # published this far ahead of the wall clock

    def __init__(self, playout: Fallback, publish: Callable[[np.ndarray], None]):
        self._playout = playout
        self._publish = publish
        self.restarts = 0
        self.error: str | None = None
        self.down = False
        self._fail_until = 0.0
        self._fail_once = False
        self._clock: float | None = None     # loop time at which stream time 0 plays

    def fail(self, seconds: float) -> None:
        """The fault drill: raise at the next chunk, and after each restart for `seconds`."""
        self._fail_until = time.monotonic() + float(seconds)
        self._fail_once = True

    def health(self) -> dict:
        return {"running": not self.down, "restarts": self.restarts, "last_error": self.error}

    async def _pace(self) -> None:
        loop = asyncio.get_running_loop()
        chunk = int(self.CHUNK_SECONDS * SAMPLE_RATE)
        if self._clock is None:
            self._clock = loop.time() - self._playout.position
        while True:
            ahead = self._playout.position - (loop.time() - self._clock)
            if ahead > self.AHEAD_SECONDS:
                await asyncio.sleep(ahead - self.AHEAD_SECONDS + 0.005)
                continue
            if self._fail_once or time.monotonic() < self._fail_until:
                self._fail_once = False
                raise FaultDrill("fault drill: pacer exception")
            self._publish(self._playout.take(chunk))
            self.down = False
            await asyncio.sleep(0)  # catching up after a stall must not starve requests

    async def run(self) -> None:
        backoff = 1.0
        while True:
            started = time.monotonic()
            try:
                await self._pace()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001  restarted, never silently dead
                self.down = True
                self.restarts += 1
                self.error = f"{type(e).__name__}: {e}"
                if time.monotonic() - started > 60:
                    backoff = 1.0
                log.exception("the pacer failed; restarting it in %.0f s", backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
