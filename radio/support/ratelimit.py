"""Rate limits with bounded memory: what an endless stream of new addresses cannot grow.

`RateLimit`: at most `limit` events per `window` seconds per key (a token bucket: the
budget refills evenly over the window). `Lockout`: after `limit` failures within `window`
seconds a key is refused for `lock` seconds. Both keep at most `max_keys` keys, dropping
the least recently used (a dropped key starts afresh, which only ever errs towards a
client that has been quiet the longest). Both take a `clock` (seconds) for tests, and a
lock, so the event loop and worker threads may share one.
"""

from __future__ import annotations

import collections
import math
import threading
import time

MAX_KEYS = 100_000


class RateLimit:
    def __init__(self, limit: int, window: float, max_keys: int = MAX_KEYS, clock=time.monotonic):
        self.limit, self.window, self.max_keys = limit, window, max_keys
        self._rate = limit / window                      # tokens per second
        self._clock = clock
        self._buckets: collections.OrderedDict = collections.OrderedDict()   # key → (tokens, when)
        self._lock = threading.Lock()

    def _tokens(self, key, now: float) -> float:
        tokens, when = self._buckets.get(key, (self.limit, now))
        return min(self.limit, tokens + (now - when) * self._rate)

    def retry_after(self, key) -> int:
        """0 if `key` may act now, else the whole seconds until it may."""
        with self._lock:
            tokens = self._tokens(key, self._clock())
        return 0 if tokens >= 1 else max(1, math.ceil((1 - tokens) / self._rate))

    def take(self, key) -> None:
        """Counts one event of `key` (check retry_after first)."""
        with self._lock:
            now = self._clock()
            self._buckets[key] = (self._tokens(key, now) - 1, now)
            self._buckets.move_to_end(key)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)

    def __len__(self) -> int:
        return len(self._buckets)


class Lockout:
    def __init__(self, limit: int = 10, window: float = 60.0, lock: float = 60.0,
                 max_keys: int = MAX_KEYS, clock=time.monotonic):
        self.limit, self.window, self.lock, self.max_keys = limit, window, lock, max_keys
        self._clock = clock
        self._keys: collections.OrderedDict = collections.OrderedDict()  # key → [failures, since, until]
        self._mutex = threading.Lock()

    def retry_after(self, key) -> int:
        """0 if `key` is not locked out, else the whole seconds until it is let in again."""
        with self._mutex:
            entry = self._keys.get(key)
            left = entry[2] - self._clock() if entry else 0
        return max(1, math.ceil(left)) if left > 0 else 0

    def failed(self, key) -> int:
        """Counts a failure; returns retry_after(key) after it."""
        with self._mutex:
            now = self._clock()
            failures, since, until = self._keys.pop(key, (0, now, 0.0))
            if now - since > self.window:
                failures, since = 0, now
            failures += 1
            if failures >= self.limit:
                failures, since, until = 0, now, now + self.lock
            self._keys[key] = (failures, since, until)
            while len(self._keys) > self.max_keys:
                self._keys.popitem(last=False)
        return self.retry_after(key)

    def __len__(self) -> int:
        return len(self._keys)
