"""Composer stage: an endless latent walk that turns seed encodings into Segments.

The walk stands on an anchor (the encoding of a seed segment), picks another anchor, and
moves towards it along the great circle (slerp) in K steps; each step's z is decoded into
16 bars. At the end of a leg it picks a new anchor and goes on, forever. Neighbouring
steps are close in latent space, so neighbouring segments sound related. Several steps
are decoded per model call: a batch of 4 costs about what 1 does.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator, Protocol, Sequence

import numpy as np

from .segment import MODEL_QPM, Segment, retime

SEGMENT_BARS = 16


class Decoder(Protocol):
    batch_size: int

    def decode(self, z: np.ndarray, temperature: float = 0.5) -> list: ...


def slerp(p0: np.ndarray, p1: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation, as MusicVAE's own interpolate does; linear when parallel."""
    n0, n1 = np.linalg.norm(p0), np.linalg.norm(p1)
    cos = np.clip(np.dot(p0 / n0, p1 / n1), -1.0, 1.0) if n0 and n1 else 1.0
    omega = np.arccos(cos)
    if omega < 1e-6:
        return (1 - t) * p0 + t * p1
    return (np.sin((1 - t) * omega) * p0 + np.sin(t * omega) * p1) / np.sin(omega)


@dataclasses.dataclass
class Anchor:
    z: np.ndarray
    qpm: float
    label: str = ""


@dataclasses.dataclass
class WalkStep:
    a: int
    b: int
    t: float
    z: np.ndarray
    qpm: float


class LatentWalk:
    """Endless iterator of Segments (timed at each step's tempo, not yet humanized)."""

    def __init__(self, model: Decoder, anchors: Sequence[Anchor], steps_per_leg: int = 8,
                 temperature: float = 0.5, qpm: float = 0.0, seed: int = 0):
        if not anchors:
            raise ValueError("the walk needs at least one anchor (an encoded seed segment)")
        self.model = model
        self.anchors = list(anchors)
        self.steps_per_leg = steps_per_leg
        self.temperature = temperature
        self.qpm = qpm
        self.rng = np.random.default_rng(seed)
        self.current = int(self.rng.integers(len(self.anchors)))
        self.next_id = 0
        self._plan: list[WalkStep] = []
        self._ready: list[Segment] = []

    def _next_anchor(self) -> int:
        if len(self.anchors) == 1:
            return self.current
        choices = [i for i in range(len(self.anchors)) if i != self.current]
        return int(self.rng.choice(choices))

    def _extend_plan(self) -> None:
        a, b = self.current, self._next_anchor()
        za, zb = self.anchors[a].z, self.anchors[b].z
        for k in range(1, self.steps_per_leg + 1):
            t = k / self.steps_per_leg
            qpm = self.qpm or (1 - t) * self.anchors[a].qpm + t * self.anchors[b].qpm
            self._plan.append(WalkStep(a, b, t, slerp(za, zb, t), float(round(qpm))))
        self.current = b

    def __iter__(self) -> Iterator[Segment]:
        return self

    def next_batch(self) -> list[Segment]:
        """Decodes the next `model.batch_size` walk steps in one model call."""
        while len(self._plan) < self.model.batch_size:
            self._extend_plan()
        steps, self._plan = self._plan[: self.model.batch_size], self._plan[self.model.batch_size:]
        sequences = self.model.decode(np.stack([s.z for s in steps]), self.temperature)
        out = []
        for step, seq in zip(steps, sequences):
            out.append(Segment(id=self.next_id, sequence=retime(seq, step.qpm, MODEL_QPM),
                               qpm=step.qpm, bars=SEGMENT_BARS, anchors=(step.a, step.b), t=step.t))
            self.next_id += 1
        return out

    def __next__(self) -> Segment:
        if not self._ready:
            self._ready = self.next_batch()
        return self._ready.pop(0)
