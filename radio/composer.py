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
    set: str = ""          # the seed set it was encoded from


@dataclasses.dataclass
class WalkStep:
    a: str
    b: str
    t: float
    z: np.ndarray
    qpm: float             # the tempo between the leg's ends; a fixed mix tempo overrides it


class LatentWalk:
    """Endless iterator of Segments (timed at each step's tempo, not yet humanized).

    `weights` (seed set → weight) decide where each leg goes: a set is drawn by weight,
    then one of its anchors. Changing anchors or weights with `retarget` starts a new leg
    from where the walk stands, so nothing jumps.
    """

    def __init__(self, model: Decoder, anchors: Sequence[Anchor], steps_per_leg: int = 8,
                 temperature: float = 0.5, qpm: float = 0.0, seed: int = 0,
                 weights: dict[str, float] | None = None):
        if not anchors:
            raise ValueError("the walk needs at least one anchor (an encoded seed segment)")
        self.model = model
        self.anchors = list(anchors)
        self.weights = dict(weights or {})
        self.steps_per_leg = steps_per_leg
        self.temperature = temperature
        self.qpm = qpm
        self.rng = np.random.default_rng(seed)
        self.here = self.anchors[int(self.rng.integers(len(self.anchors)))]
        self.next_id = 0
        self._plan: list[WalkStep] = []
        self._ready: list[tuple[Segment, WalkStep]] = []
        self.position: WalkStep | None = None     # the step of the last segment handed out

    def _weight(self, anchor: Anchor) -> float:
        return self.weights.get(anchor.set, 0.0) if self.weights else 1.0

    def _next_anchor(self) -> Anchor:
        candidates = [a for a in self.anchors if a is not self.here and self._weight(a) > 0]
        if not candidates:
            candidates = [a for a in self.anchors if self._weight(a) > 0] or self.anchors
        # a set's weight is shared by its anchors, so a big set does not outweigh a small one
        per_set: dict[str, int] = {}
        for a in candidates:
            per_set[a.set] = per_set.get(a.set, 0) + 1
        p = np.array([self._weight(a) / per_set[a.set] for a in candidates])
        return candidates[int(self.rng.choice(len(candidates), p=p / p.sum()))]

    def _extend_plan(self) -> None:
        a, b = self.here, self._next_anchor()
        for k in range(1, self.steps_per_leg + 1):
            t = k / self.steps_per_leg
            qpm = (1 - t) * a.qpm + t * b.qpm
            self._plan.append(WalkStep(a.label, b.label, t, slerp(a.z, b.z, t), float(round(qpm))))
        self.here = b

    def retarget(self, anchors: Sequence[Anchor] | None = None,
                 weights: dict[str, float] | None = None) -> None:
        """New anchors and/or weights; steps not yet handed out are dropped (so the change
        is heard soon) and a new leg starts where the walk stands."""
        if anchors is not None:
            if not anchors:
                raise ValueError("the walk needs at least one anchor (an encoded seed segment)")
            self.anchors = list(anchors)
        if weights is not None:
            self.weights = dict(weights)
        if self.position is not None:
            s = self.position
            self.here = Anchor(z=s.z, qpm=s.qpm, label=f"{s.a}→{s.b}@{s.t:.2f}", set="")
        self._plan.clear()
        self._ready.clear()

    def __iter__(self) -> Iterator[Segment]:
        return self

    def next_batch(self) -> list[tuple[Segment, WalkStep]]:
        """Decodes the next `model.batch_size` walk steps in one model call."""
        while len(self._plan) < self.model.batch_size:
            self._extend_plan()
        steps, self._plan = self._plan[: self.model.batch_size], self._plan[self.model.batch_size:]
        sequences = self.model.decode(np.stack([s.z for s in steps]), self.temperature)
        out = []
        for step, seq in zip(steps, sequences):
            qpm = float(self.qpm or step.qpm)
            out.append((Segment(id=self.next_id, sequence=retime(seq, qpm, MODEL_QPM),
                               qpm=qpm, bars=SEGMENT_BARS, anchors=(step.a, step.b), t=step.t),
                        step))
            self.next_id += 1
        return out

    def __next__(self) -> Segment:
        if not self._ready:
            self._ready = self.next_batch()
        segment, self.position = self._ready.pop(0)
        return segment
