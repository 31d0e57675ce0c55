"""Tokens: the trio model's one-hot classes, read off a kept part on the beat grid."""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from ..contracts import PARTS, STEPS_PER_QUARTER
from ..model.trio import DEPTHS, DRUM_CLASS, MAX_PITCH, MIN_PITCH
from ..music import seeds
from .parts import TempoMap

MELODY_NO_EVENT, MELODY_NOTE_OFF = 0, 1    # the melody one-hot's first two classes
MELODY_LOW, MELODY_HIGH = MIN_PITCH, MAX_PITCH   # the converter's pitch range (class = pitch - 19)


@dataclasses.dataclass
class _Beat:
    start: float
    end: float
    pitch: int
    velocity: int = 0
    part: int = 0


def _fold(pitch: int) -> int:
    while pitch < MELODY_LOW:
        pitch += 12
    while pitch > MELODY_HIGH:
        pitch -= 12
    return pitch


def part_tokens(notes: Sequence, role: str, tempo: TempoMap, start_step: int, steps: int) -> np.ndarray:
    """(steps,) class ids of `role` from `start_step` on: for lead and bass one line (the
    skyline from above or below, as the import makes it), 0 hold/rest, 1 note-off,
    pitch − 19 an onset; for drums the bit set of the 9 drum classes struck at each step."""
    tok = np.zeros(steps, np.int64)
    beats = [_Beat(tempo.beats(n.start_time), tempo.beats(n.end_time), n.pitch) for n in notes]
    if role == "drums":
        for n in beats:
            s = round(n.start * STEPS_PER_QUARTER) - start_step
            if 0 <= s < steps and n.pitch in DRUM_CLASS:
                tok[s] |= 1 << DRUM_CLASS[n.pitch]
        return tok
    line = seeds.skyline(beats, top=(role == "lead"), legato_s=0.5)  # an eighth of a bar
    onsets, offs = {}, set()
    for n in line:
        s = round(n.start * STEPS_PER_QUARTER) - start_step
        e = max(s + 1, round(n.end * STEPS_PER_QUARTER) - start_step)
        if s < steps and e > 0:
            if s >= 0:
                onsets[s] = _fold(n.pitch) - MELODY_LOW + 2
            if e < steps:
                offs.add(e)
    for e in offs:
        tok[e] = MELODY_NOTE_OFF
    for s, c in onsets.items():
        tok[s] = c
    return tok


def trio_tensor(tokens: dict[str, np.ndarray], depths=DEPTHS, steps: int = 256) -> np.ndarray:
    """The converter's (steps, 692) one-hot input; parts not given are empty (rests)."""
    x = np.zeros((steps, sum(depths)), np.float32)
    offset = 0
    for role, depth in zip(PARTS, depths):
        tok = np.zeros(steps, np.int64)
        if role in tokens:
            tok[:len(tokens[role])] = tokens[role]
        x[np.arange(steps), offset + tok] = 1.0
        offset += depth
    return x
