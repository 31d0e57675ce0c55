"""Listener feedback: like / skip votes tilt where the latent walk goes, within bounds.

A vote is about one played segment, which came from a point z of latent space. Each
segment's tally (likes − skips, one vote per listener address) becomes a bump of at most
±`step` in log-weight, spread to the anchors near that z (a Gaussian in angle, width
`width` radians): liking a passage makes the walk head for that region more often,
skipping it less often. Bounds keep the station out of any one listener's hands:
- one vote per address per segment; at most `per_hour` votes (repeats included) per
  address an hour and `per_network_hour` per /24 (IPv6 /64), then 429 with the seconds
  to wait;
- the tables are bounded: addresses in an LRU of `ratelimit.MAX_KEYS`, at most
  `MAX_VOTERS` voters per segment (a segment's bump saturates long before);
- tanh saturates a segment's bump: a thousand likes move it no more than a handful do;
- every anchor's factor stays within [`low`, `high`] (default 0.5–2), and only the last
  `memory` segments count, so old votes fade as new music plays.

The tallies survive a restart (`to_dict` / `from_dict`, kept by the station in
`<data>/votes.json`); listener addresses are kept only as salted hashes. The event loop votes while the
generator thread reads `bias`: one lock keeps them apart.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import math
import os
import threading
import time

import numpy as np

from ..contracts import RadioError
from ..support import clients
from ..support.ratelimit import RateLimit

KINDS = ("like", "skip")
MAX_VOTERS = 1000     # per segment; tanh has saturated its bump long before (see Tally.bump)


class VoteError(RadioError, ValueError):
    """A vote refused; a 429 says in `headers` when to try again."""
    status = 400

    def __init__(self, message: str, status: int = 400, retry_after: int = 0):
        super().__init__(message, status)
        self.retry_after = retry_after      # seconds, for a 429
        self.headers = {"Retry-After": str(retry_after)} if retry_after else {}


@dataclasses.dataclass
class Tally:
    z: np.ndarray
    likes: int = 0
    skips: int = 0
    voters: set = dataclasses.field(default_factory=set)
    model: str = ""           # the model whose latent space z is in (generator/models.py)

    def bump(self, step: float) -> float:
        return step * math.tanh((self.likes - self.skips) / 3.0)


class Votes:
    def __init__(self, step: float = 0.25, width: float = 0.5, low: float = 0.5, high: float = 2.0,
                 memory: int = 500, per_hour: int = 120, per_network_hour: int = 600,
                 clock=time.monotonic):
        self.step, self.width, self.low, self.high = step, width, low, high
        self.per_hour, self.per_network_hour = per_hour, per_network_hour
        self._per_address = RateLimit(per_hour, 3600.0, clock=clock)
        self._per_network = RateLimit(per_network_hour, 3600.0, clock=clock)
        self._lock = threading.Lock()
        self._tallies: collections.OrderedDict[int, Tally] = collections.OrderedDict()
        self._memory = memory
        self._salt = os.urandom(16).hex()
        self.version = 0  # bumped on every counted vote, so readers know to recompute

    def _voter(self, client: str) -> str:
        """What is kept of an address: enough to refuse a second vote, not to name anyone."""
        return hashlib.sha256((self._salt + client).encode()).hexdigest()[:16]

    def to_dict(self) -> dict:
        with self._lock:
            return {"salt": self._salt, "segments": [
                {"id": sid, "z": [round(float(x), 5) for x in t.z], "likes": t.likes, "skips": t.skips,
                 "voters": sorted(t.voters), **({"model": t.model} if t.model else {})}
                for sid, t in self._tallies.items()]}

    def load(self, data: dict) -> None:
        """Tallies saved by to_dict; anything malformed is skipped, never fatal."""
        self._salt = str(data.get("salt") or self._salt)
        for entry in data.get("segments", [])[-self._memory:]:
            try:
                self._tallies[int(entry["id"])] = Tally(np.asarray(entry["z"], np.float32), int(entry["likes"]),
                                                        int(entry["skips"]), set(map(str, entry["voters"][:MAX_VOTERS])),
                                                        str(entry.get("model") or ""))
            except (KeyError, TypeError, ValueError):
                continue
        self.version += 1

    def vote(self, client: str, segment_id: int, z: np.ndarray, kind: str, model: str = "") -> dict:
        """Counts one vote of the listener at address `client` (an IP address; anything
        else is limited as one address of its own); returns the segment's tally and
        whether this vote counted."""
        if kind not in KINDS:
            raise VoteError(f"vote: {kind!r:.60}; use \"like\" or \"skip\"")
        addr = clients.parse_address(client)
        network = clients.network_of(addr) if addr is not None else None
        voter = self._voter(str(addr) if addr is not None else client)
        limits = [(self._per_address, voter, self.per_hour, "one address")]
        if network is not None:
            limits.append((self._per_network, network, self.per_network_hour, "one network (/24 or /64)"))
        with self._lock:
            for table, key, limit, who in limits:   # every vote sent counts, a repeat too
                wait = table.retry_after(key)
                if wait:
                    raise VoteError(f"at most {limit} votes an hour from {who}; "
                                    f"try again in {wait} s", 429, wait)
            for table, key, _, _ in limits:
                table.take(key)
            tally = self._tallies.get(segment_id)
            if tally is not None and voter in tally.voters:
                return {"segment": segment_id, "counted": False, "likes": tally.likes, "skips": tally.skips}
            if tally is not None and len(tally.voters) >= MAX_VOTERS:
                raise VoteError(f"segment {segment_id} has its fill of {MAX_VOTERS} votes; "
                                f"vote on the next one", 409)
            if tally is None:
                tally = self._tallies[segment_id] = Tally(np.asarray(z, np.float32), model=model)
                while len(self._tallies) > self._memory:
                    self._tallies.popitem(last=False)
            tally.voters.add(voter)
            if kind == "like":
                tally.likes += 1
            else:
                tally.skips += 1
            self.version += 1
            return {"segment": segment_id, "counted": True, "likes": tally.likes, "skips": tally.skips}

    def bias(self, anchors, model: str = "") -> dict[str, float]:
        """label → weight factor for each anchor the votes reach (others are 1), counting the
        votes cast under `model` (a point of one latent space says nothing in another)."""
        with self._lock:   # a snapshot: the event loop may vote while the generator reads
            tallies = [t for t in self._tallies.values() if t.model == model]
            bumps = np.array([t.bump(self.step) for t in tallies])
        if not tallies or not anchors:
            return {}
        Z = np.stack([a.z for a in anchors]).astype(np.float64)
        Zn = Z / np.maximum(np.linalg.norm(Z, axis=1, keepdims=True), 1e-9)
        S = np.stack([t.z for t in tallies]).astype(np.float64)
        Sn = S / np.maximum(np.linalg.norm(S, axis=1, keepdims=True), 1e-9)
        angles = np.arccos(np.clip(Zn @ Sn.T, -1.0, 1.0))            # anchors × segments
        log_w = (np.exp(-(angles / self.width) ** 2) * bumps).sum(axis=1)
        factors = np.clip(np.exp(log_w), self.low, self.high)
        return {a.label: float(f) for a, f in zip(anchors, factors) if abs(f - 1.0) > 1e-6}

    def points(self, model: str = "") -> list[tuple[np.ndarray, int]]:
        """Each tally's z and likes − skips (the map's heat), of the votes cast under `model`."""
        with self._lock:
            return [(t.z, t.likes - t.skips) for t in self._tallies.values() if t.model == model]

    def summary(self) -> dict:
        with self._lock:
            tallies = list(self._tallies.values())
        return {"segments": len(tallies), "likes": sum(t.likes for t in tallies),
                "skips": sum(t.skips for t in tallies)}
