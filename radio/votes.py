"""Listener feedback: like / skip votes tilt where the latent walk goes, within bounds.

A vote is about one played segment, which came from a point z of latent space. Each
segment's tally (likes − skips, one vote per listener address) becomes a bump of at most
±`step` in log-weight, spread to the anchors near that z (a Gaussian in angle, width
`width` radians): liking a passage makes the walk head for that region more often,
skipping it less often. Bounds keep the station out of any one listener's hands:
- one vote per address per segment, at most `per_hour` votes per address an hour;
- tanh saturates a segment's bump: a thousand likes move it no more than a handful do;
- every anchor's factor stays within [`low`, `high`] (default 0.5–2), and only the last
  `memory` segments count, so old votes fade as new music plays.

The tallies survive a restart (`to_dict` / `from_dict`, kept by the station in
`<data>/votes.json`); listener addresses are kept only as salted hashes.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import math
import os
import time

import numpy as np

KINDS = ("like", "skip")


class VoteError(ValueError):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclasses.dataclass
class Tally:
    z: np.ndarray
    likes: int = 0
    skips: int = 0
    voters: set = dataclasses.field(default_factory=set)

    def bump(self, step: float) -> float:
        return step * math.tanh((self.likes - self.skips) / 3.0)


class Votes:
    def __init__(self, step: float = 0.25, width: float = 0.5, low: float = 0.5, high: float = 2.0,
                 memory: int = 500, per_hour: int = 120, clock=time.monotonic):
        self.step, self.width, self.low, self.high = step, width, low, high
        self.per_hour = per_hour
        self._clock = clock
        self._tallies: collections.OrderedDict[int, Tally] = collections.OrderedDict()
        self._memory = memory
        self._recent: dict[str, collections.deque] = {}
        self._salt = os.urandom(16).hex()
        self.version = 0  # bumped on every counted vote, so readers know to recompute

    def _voter(self, client: str) -> str:
        """What is kept of an address: enough to refuse a second vote, not to name anyone."""
        return hashlib.sha256((self._salt + client).encode()).hexdigest()[:16]

    def to_dict(self) -> dict:
        return {"salt": self._salt, "segments": [
            {"id": sid, "z": [round(float(x), 5) for x in t.z], "likes": t.likes, "skips": t.skips,
             "voters": sorted(t.voters)} for sid, t in self._tallies.items()]}

    def load(self, data: dict) -> None:
        """Tallies saved by to_dict; anything malformed is skipped, never fatal."""
        self._salt = str(data.get("salt") or self._salt)
        for entry in data.get("segments", [])[-self._memory:]:
            try:
                self._tallies[int(entry["id"])] = Tally(np.asarray(entry["z"], np.float32), int(entry["likes"]),
                                                        int(entry["skips"]), set(map(str, entry["voters"])))
            except (KeyError, TypeError, ValueError):
                continue
        self.version += 1

    def vote(self, client: str, segment_id: int, z: np.ndarray, kind: str) -> dict:
        """Counts one vote; returns the segment's tally and whether this vote counted."""
        if kind not in KINDS:
            raise VoteError(f"vote: {kind!r}; use \"like\" or \"skip\"")
        now = self._clock()
        recent = self._recent.setdefault(client, collections.deque())
        while recent and recent[0] < now - 3600:
            recent.popleft()
        if len(recent) >= self.per_hour:
            raise VoteError(f"at most {self.per_hour} votes an hour from one address", 429)
        tally = self._tallies.get(segment_id)
        if tally is None:
            tally = self._tallies[segment_id] = Tally(np.asarray(z, np.float32))
            while len(self._tallies) > self._memory:
                self._tallies.popitem(last=False)
        voter = self._voter(client)
        counted = voter not in tally.voters
        if counted:
            tally.voters.add(voter)
            recent.append(now)
            if kind == "like":
                tally.likes += 1
            else:
                tally.skips += 1
            self.version += 1
        return {"segment": segment_id, "counted": counted, "likes": tally.likes, "skips": tally.skips}

    def bias(self, anchors) -> dict[str, float]:
        """label → weight factor for each anchor the votes reach (others are 1)."""
        if not self._tallies or not anchors:
            return {}
        Z = np.stack([a.z for a in anchors]).astype(np.float64)
        Zn = Z / np.maximum(np.linalg.norm(Z, axis=1, keepdims=True), 1e-9)
        S = np.stack([t.z for t in self._tallies.values()]).astype(np.float64)
        Sn = S / np.maximum(np.linalg.norm(S, axis=1, keepdims=True), 1e-9)
        bumps = np.array([t.bump(self.step) for t in self._tallies.values()])
        angles = np.arccos(np.clip(Zn @ Sn.T, -1.0, 1.0))            # anchors × segments
        log_w = (np.exp(-(angles / self.width) ** 2) * bumps).sum(axis=1)
        factors = np.clip(np.exp(log_w), self.low, self.high)
        return {a.label: float(f) for a, f in zip(anchors, factors) if abs(f - 1.0) > 1e-6}

    def summary(self) -> dict:
        return {"segments": len(self._tallies),
                "likes": sum(t.likes for t in self._tallies.values()),
                "skips": sum(t.skips for t in self._tallies.values())}
