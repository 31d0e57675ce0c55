"""Performer stage: humanize a Segment — dynamics and timing a drummer would recognise.

The model writes every note on a sixteenth grid at one velocity (the shared article's
complaint). Here velocity follows the metre (downbeats strongest, sixteenths softest,
backbeat snare accented), arcs over four-bar phrases and varies a little at random within
per-part ranges; onsets move by a bounded jitter in milliseconds, with the bass sitting a
touch behind the beat. Seeded: the same segment and seed always give the same performance.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import note_seq

from .segment import Segment, part_of

SNARES = {37, 38, 39, 40}
HATS = {42, 44, 46}


@dataclasses.dataclass(frozen=True)
class PartFeel:
    base: int            # velocity of an unaccented eighth note
    low: int             # velocity range
    high: int
    jitter_ms: float     # standard deviation of onset jitter
    offset_ms: float     # constant push (<0) or lay-back (>0)


@dataclasses.dataclass(frozen=True)
class Groove:
    lead: PartFeel = PartFeel(base=82, low=50, high=120, jitter_ms=9.0, offset_ms=0.0)
    bass: PartFeel = PartFeel(base=88, low=55, high=118, jitter_ms=6.0, offset_ms=6.0)
    drums: PartFeel = PartFeel(base=86, low=35, high=127, jitter_ms=4.0, offset_ms=0.0)
    max_shift_ms: float = 20.0    # no onset moves further than this
    velocity_noise: float = 5.0   # standard deviation, in MIDI velocity
    phrase_bars: int = 4          # length of the dynamic arc
    phrase_depth: float = 6.0     # velocity added at the arc's peak

    def feel(self, part: str) -> PartFeel:
        return getattr(self, part)


# Velocity added by position in the bar, in sixteenth steps (4/4).
METRIC_ACCENT = np.array([14, -10, -2, -10, 4, -10, -2, -10, 8, -10, -2, -10, 4, -10, -2, -10])


def humanize(segment: Segment, groove: Groove = Groove(), seed: int = 0) -> Segment:
    """A new Segment with humanized velocities and timing; the input is left alone."""
    rng = np.random.default_rng([seed, segment.id])
    step_s = 60.0 / segment.qpm / 4
    bar_steps = 16
    seq = note_seq.NoteSequence()
    seq.CopyFrom(segment.sequence)
    for n in seq.notes:
        part = part_of(n)
        feel = groove.feel(part)
        step = int(round(n.start_time / step_s))
        accent = METRIC_ACCENT[step % bar_steps]
        if part == "drums" and n.pitch in SNARES and step % 8 == 4:
            accent += 10  # backbeat
        if part == "drums" and n.pitch in HATS:
            accent -= 8   # hats sit under the kit
        phrase_pos = (step / bar_steps % groove.phrase_bars) / groove.phrase_bars
        arc = groove.phrase_depth * np.sin(np.pi * phrase_pos)
        velocity = feel.base + accent + arc + rng.normal(0, groove.velocity_noise)
        n.velocity = int(np.clip(round(velocity), feel.low, feel.high))
        shift_ms = np.clip(feel.offset_ms + rng.normal(0, feel.jitter_ms),
                           -groove.max_shift_ms, groove.max_shift_ms)
        length = n.end_time - n.start_time
        n.start_time = max(0.0, n.start_time + shift_ms / 1000.0)
        # Articulate: short notes keep their length, long ones breathe a little.
        n.end_time = n.start_time + (length if length <= 2 * step_s else length - 0.25 * step_s)
    return dataclasses.replace(segment, sequence=seq, humanized=True)
