"""Composer stage: an endless latent walk that turns seed encodings into Segments.

How the walk decides:
- It stands on an anchor (the encoding of a seed segment) and picks the next one: a seed
  set is drawn by the mix's weights (times the listeners' vote bias, see votes.py), then
  one of its anchors; with probability `prior` the next anchor is a fresh draw from the
  model's prior N(0, I) instead ("somewhere new"). It starts on an anchor drawn the same
  way, so a mix of one set starts inside that set (a new mix given before the first
  segment is out draws the start again if it lies outside; later ones leave from where
  the walk stands).
- It moves there along the great circle (slerp) in at least `steps_per_leg` steps and in
  as many more as keep each step's angle ≤ `max_step` radians, so neighbouring segments
  are close in latent space however far apart the anchors are.
- Each step's z is decoded into 16 bars; several steps are decoded per model call (a
  batch of 4 costs about what 1 does).
- Modes: `walk` (the above, forever); `interpolate` (back and forth between two given
  seed segments, the seed article's --mode interpolate); `loop` (a phrase of `loop_bars`
  repeated to fill each segment while z drifts at most `drift` radians a segment: the
  "latent loops" idea).
- Seams: a lead or bass note held to the end of a segment whose pitch the next segment
  starts with is tied over (lengthened, and the next segment's onset dropped) rather than
  cut and struck again; the renderer carries its note-off across. A tempo change between
  segments ramps over `ramp_bars` bars instead of jumping.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Iterator, Protocol, Sequence

import note_seq
import numpy as np

from ..contracts import SEGMENT_BARS, RadioError, SeedRef
from .segment import BASS, LEAD, MODEL_QPM, Segment, retime

MODES = ("walk", "interpolate", "loop")
TIE_SECONDS = 0.02          # at the model's 120 qpm: notes this close to the seam are tied


class WalkError(RadioError, ValueError):
    """A walk that cannot go where it was asked (no anchors, an unknown endpoint or mode)."""
    status = 400


class Decoder(Protocol):
    batch_size: int

    def decode(self, z: np.ndarray, temperature: float = 0.5, style=None) -> list: ...


def set_weight(weights: dict[str, float] | None, name: str) -> float:
    """A seed set's weight in a mix: as the mix gives it, 0 for a set it leaves out, and every
    set alike (1) when it names none."""
    return weights.get(name, 0.0) if weights else 1.0


def slerp(p0: np.ndarray, p1: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation, as MusicVAE's own interpolate does; linear when parallel."""
    n0, n1 = np.linalg.norm(p0), np.linalg.norm(p1)
    cos = np.clip(np.dot(p0 / n0, p1 / n1), -1.0, 1.0) if n0 and n1 else 1.0
    omega = np.arccos(cos)
    if omega < 1e-6:
        return (1 - t) * p0 + t * p1
    return (np.sin((1 - t) * omega) * p0 + np.sin(t * omega) * p1) / np.sin(omega)


def angle(p0: np.ndarray, p1: np.ndarray) -> float:
    n0, n1 = np.linalg.norm(p0), np.linalg.norm(p1)
    if not n0 or not n1:
        return 0.0
    return float(np.arccos(np.clip(np.dot(p0, p1) / n0 / n1, -1.0, 1.0)))


def repeat_phrase(seq: note_seq.NoteSequence, phrase_bars: int, bars: int = SEGMENT_BARS,
                  qpm: float = MODEL_QPM) -> note_seq.NoteSequence:
    """The first `phrase_bars` bars of `seq`, played bars // phrase_bars times in a row."""
    phrase_s = phrase_bars * 4 * 60.0 / qpm
    out = note_seq.NoteSequence()
    out.CopyFrom(seq)
    del out.notes[:]
    phrase = [n for n in seq.notes if n.start_time < phrase_s - 1e-6]
    for k in range(bars // phrase_bars):
        for n in phrase:
            m = out.notes.add()
            m.CopyFrom(n)
            m.start_time += k * phrase_s
            m.end_time = min(n.end_time, phrase_s) + k * phrase_s
    out.total_time = bars * 4 * 60.0 / qpm
    return out


def tie_over(prev: note_seq.NoteSequence, nxt: note_seq.NoteSequence,
             seam: float) -> tuple[note_seq.NoteSequence, note_seq.NoteSequence, int]:
    """Ties lead/bass notes held to `seam` (the end of prev, in prev's seconds) into the
    same pitch starting nxt: prev's note is lengthened past the seam, nxt's onset dropped.
    Both sequences at the model's tempo; returns new copies of both (the inputs are left
    alone) and how many notes were tied."""
    prev, nxt = _copy(prev), _copy(nxt)
    held = {(n.instrument, n.pitch): n for n in prev.notes
            if n.instrument in (LEAD, BASS) and not n.is_drum and n.end_time >= seam - TIE_SECONDS}
    tied = []
    for i, n in enumerate(nxt.notes):
        key = (n.instrument, n.pitch)
        if not n.is_drum and key in held and n.start_time <= TIE_SECONDS:
            held.pop(key).end_time = seam + n.end_time
            tied.append(i)
    for i in reversed(tied):
        del nxt.notes[i]
    return prev, nxt, len(tied)


def _copy(seq: note_seq.NoteSequence) -> note_seq.NoteSequence:
    out = note_seq.NoteSequence()
    out.CopyFrom(seq)
    return out


@dataclasses.dataclass
class Anchor:
    z: np.ndarray
    qpm: float
    label: str = ""
    set: str = ""          # the seed set it was encoded from ("prior" for a prior draw)
    moves: np.ndarray | None = None   # its lead's and bass's moves, counted (generator/styles.py)
    arrangement: np.ndarray | None = None   # its file's arrangement, counted (music/arrangement.py)


@dataclasses.dataclass
class WalkStep:
    a: str
    b: str
    t: float
    z: np.ndarray
    qpm: float             # the tempo between the leg's ends; a fixed mix tempo overrides it


class LatentWalk:
    """Endless iterator of Segments (timed at each step's tempo, not yet humanized).

    `weights` (seed set → weight) decide where each leg goes; `bias` (anchor label →
    factor, from listener votes) tilts the draw within bounds set elsewhere. Changing
    anchors, weights or mode with `retarget` starts a new leg from where the walk stands,
    so nothing jumps.
    """

    def __init__(self, model: Decoder, anchors: Sequence[Anchor], steps_per_leg: int = 8,
                 temperature: float = 0.5, qpm: float = 0.0, seed: int = 0,
                 weights: dict[str, float] | None = None, max_step: float = 0.2,
                 mode: str = "walk", endpoints: Sequence[str] = (), prior: float = 0.0,
                 loop_bars: int = 4, drift: float = 0.05, ramp_bars: float = 1.0,
                 qpm_range: tuple[float, float] | None = None):
        if not anchors:
            raise WalkError("the walk needs at least one anchor (an encoded seed segment)")
        self.model = model
        self.anchors = list(anchors)
        self.weights = dict(weights or {})
        self.bias: dict[str, float] = {}
        self.steps_per_leg = steps_per_leg
        self.temperature = temperature
        self.style = None          # the model's (radio/model/style.py): the mix's sets' manner
        self.qpm = qpm
        self.qpm_range = qpm_range
        self.max_step = max_step
        self.prior = prior
        self.loop_bars = loop_bars
        self.drift = drift
        self.ramp_bars = ramp_bars
        self.rng = np.random.default_rng(seed)
        self.mode, self.endpoints = "walk", ()
        self.set_mode(mode, endpoints)
        self.here = self._start_anchor()
        self.next_id = 0
        self.last_qpm = 0.0                       # tempo at the end of the last segment out
        self.ties = 0                             # notes tied over seams so far
        self._plan: list[WalkStep] = []
        self._ready: list[tuple[note_seq.NoteSequence, WalkStep]] = []
        self.position: WalkStep | None = None     # the step of the last segment handed out
        self._head: Anchor | None = None         # the next leg's target, when one was asked for

    def find(self, label: str) -> Anchor:
        """An anchor by label ("set/file@bar"); "set/file" means its first segment."""
        want = SeedRef.try_parse(label)
        for a in self.anchors:
            have = SeedRef.try_parse(a.label)
            if a.label == label or (want and have and want.matches(have)):
                return a
        raise WalkError(f"no seed segment {label!r}; labels look like "
                         f"{self.anchors[0].label!r} (set/file@bar) or set/file")

    def set_mode(self, mode: str, endpoints: Sequence[str] = ()) -> None:
        if mode not in MODES:
            raise WalkError(f"mode {mode!r}: use one of {', '.join(MODES)}")
        if mode == "interpolate":
            if len(endpoints) != 2:
                raise WalkError("interpolate needs two endpoints (set/file or set/file@bar)")
            self.endpoints = tuple(self.find(e) for e in endpoints)
        else:
            self.endpoints = ()
        self.mode = mode

    def set_play(self, temperature: float, qpm: float, prior: float, loop_bars: int,
                 qpm_range: tuple[float, float] | None, ramp_bars: float) -> None:
        """How the walk plays from its next segment on (a mix's fields)."""
        self.temperature, self.qpm, self.prior, self.loop_bars = temperature, qpm, prior, loop_bars
        self.qpm_range, self.ramp_bars = qpm_range, ramp_bars

    def set_bias(self, bias: dict[str, float]) -> None:
        """Listener votes: anchor label → factor on its odds of being the next target."""
        self.bias = dict(bias)

    def ramp_from(self, qpm: float) -> None:
        """The tempo the next segment ramps from (what played last, if not the walk's own)."""
        self.last_qpm = qpm

    def restore(self, z: np.ndarray) -> None:
        """Stands the walk at `z` (a restarted generator goes on where the last one was)."""
        self.here = Anchor(z=np.asarray(z, np.float32), qpm=self.here.qpm, label="restored", set="")

    def head_for(self, anchor: Anchor) -> None:
        """The next leg goes to `anchor` (a click on the map), from where the walk stands;
        after it the draw goes on as before. Call after `retarget`."""
        self._head = anchor
        self._plan.clear()
        self._ready.clear()

    def _weight(self, anchor: Anchor) -> float:
        return set_weight(self.weights, anchor.set) * self.bias.get(anchor.label, 1.0)

    def _next_anchor(self) -> Anchor:
        if self.mode == "interpolate":
            a, b = self.endpoints
            return b if self.here.label == a.label else a
        if self._head is not None:
            head, self._head = self._head, None
            return head
        if self.prior and self.rng.random() < self.prior:
            return Anchor(z=self.rng.normal(size=len(self.here.z)).astype(np.float32),
                          qpm=self.here.qpm, label="prior", set="prior")
        candidates = [a for a in self.anchors if a is not self.here and self._weight(a) > 0]
        if not candidates:
            candidates = [a for a in self.anchors if self._weight(a) > 0] or self.anchors
        return self._draw(candidates)

    def _start_anchor(self) -> Anchor:
        """Where the walk starts: an anchor of the mix, drawn as a leg's target is. (It was
        any anchor, so a one-set mix spent its first leg, ~8 segments, arriving.) When every
        anchor of the mix is as likely, one integer draw, as before: a seeded walk of an
        even mix over all sets starts where it always did."""
        pool = [a for a in self.anchors if self._weight(a) > 0] or self.anchors
        p = self._odds(pool)
        if np.allclose(p, p[0]):
            return pool[int(self.rng.integers(len(pool)))]
        return pool[int(self.rng.choice(len(pool), p=p))]

    def _odds(self, candidates: Sequence[Anchor]) -> np.ndarray:
        # a set's weight is shared by its anchors, so a big set does not outweigh a small one
        per_set: dict[str, int] = {}
        for a in candidates:
            per_set[a.set] = per_set.get(a.set, 0) + 1
        p = np.array([self._weight(a) / per_set[a.set] for a in candidates]) + 1e-12
        return p / p.sum()

    def _draw(self, candidates: Sequence[Anchor]) -> Anchor:
        return candidates[int(self.rng.choice(len(candidates), p=self._odds(candidates)))]

    def _extend_plan(self) -> None:
        a, b = self.here, self._next_anchor()
        limit = self.drift if self.mode == "loop" else self.max_step
        steps = self.steps_per_leg
        if limit > 0:
            steps = max(steps, math.ceil(angle(a.z, b.z) / limit - 1e-9))
        while True:  # between anchors of unequal norm slerp's steps are not quite equal
            zs = [a.z] + [slerp(a.z, b.z, k / steps) for k in range(1, steps + 1)]
            if limit <= 0 or steps >= 1000 or max(angle(u, v) for u, v in zip(zs, zs[1:])) <= limit:
                break
            steps += 1
        for k in range(1, steps + 1):
            t = k / steps
            qpm = (1 - t) * a.qpm + t * b.qpm
            self._plan.append(WalkStep(a.label, b.label, t, zs[k], float(round(qpm))))
        self.here = b

    def retarget(self, anchors: Sequence[Anchor] | None = None,
                 weights: dict[str, float] | None = None) -> None:
        """New anchors and/or weights; steps not yet handed out are dropped (so the change
        is heard soon) and a new leg starts where the walk stands (before the first segment
        is handed out, a start outside the new mix is drawn again from it)."""
        if anchors is not None:
            if not anchors:
                raise WalkError("the walk needs at least one anchor (an encoded seed segment)")
            self.anchors = list(anchors)
            if self.endpoints:
                self.endpoints = tuple(self.find(e.label) for e in self.endpoints)
        odds = self._odds(self.anchors) if self.position is None else None   # the start may move
        if weights is not None:
            self.weights = dict(weights)
        if self.position is not None:
            s = self.position
            self.here = Anchor(z=s.z, qpm=s.qpm, label=f"{s.a}→{s.b}@{s.t:.2f}", set="")
        elif self._weight(self.here) <= 0 or not np.allclose(odds, self._odds(self.anchors)):
            # nothing out yet: start where the new mix would have, not where the old one drew
            # (a song form stays near its start for a whole song, so the start is heard)
            self.here = self._start_anchor()
        self._plan.clear()
        self._ready.clear()

    def advance(self) -> WalkStep:
        """The walk's next step, not decoded (band mode decodes around it); it becomes the
        walk's position."""
        self._ready.clear()
        if not self._plan:
            self._extend_plan()
        self.position = self._plan.pop(0)
        return self.position

    def __iter__(self) -> Iterator[Segment]:
        return self

    def _decode_batch(self) -> None:
        """Decodes the next `model.batch_size` walk steps in one model call."""
        while len(self._plan) < self.model.batch_size:
            self._extend_plan()
        steps, self._plan = self._plan[: self.model.batch_size], self._plan[self.model.batch_size:]
        sequences = self.model.decode(np.stack([s.z for s in steps]), self.temperature, style=self.style)
        for step, seq in zip(steps, sequences):
            if self.mode == "loop":
                seq = repeat_phrase(seq, self.loop_bars)
            self._ready.append((seq, step))

    def tempo(self, step: WalkStep) -> float:
        """The tempo a step plays at: the mix's fixed one, else the step's clamped to the range."""
        qpm = float(self.qpm or step.qpm)
        if self.qpm_range and not self.qpm:
            qpm = float(min(max(qpm, self.qpm_range[0]), self.qpm_range[1]))
        return qpm

    def __next__(self) -> Segment:
        # Two decoded ahead, so a note held over the seam can be tied into the next one.
        while len(self._ready) < 2:
            self._decode_batch()
        seq, self.position = self._ready.pop(0)
        seq, nxt, tied = tie_over(seq, self._ready[0][0], SEGMENT_BARS * 4 * 60.0 / MODEL_QPM)
        self._ready[0] = (nxt, self._ready[0][1])
        self.ties += tied
        qpm = self.tempo(self.position)
        start_qpm = self.last_qpm if self.last_qpm and self.last_qpm != qpm else 0.0
        ramp = 4 * self.ramp_bars if start_qpm else 0.0
        segment = Segment(id=self.next_id, sequence=retime(seq, qpm, MODEL_QPM, start_qpm, ramp),
                          qpm=qpm, bars=SEGMENT_BARS, anchors=(self.position.a, self.position.b),
                          t=self.position.t, start_qpm=start_qpm, ramp_beats=ramp,
                          z=self.position.z)
        self.next_id += 1
        self.last_qpm = qpm
        return segment
