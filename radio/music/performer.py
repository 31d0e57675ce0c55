"""Performer stage: humanize a Segment — dynamics, timing and feel a drummer would recognise.

The model writes every note on a sixteenth grid at one velocity. `humanize` plays it with a
`Groove`, seeded (same segment, groove and seed: same performance), on a copy:

* Velocity = the voice's base + its accent map at the note's sixteenth in the bar + a sine
  arc over each phrase + seeded noise, clipped to the voice's range. Voices are the lead,
  the bass and the drum families kick (35, 36), snare (37–40), hats (42, 44, 46) and other.
* Swing delays the off-beat sixteenths (`swing_unit` 16) or eighths (8) by `swing` of that
  unit, warping time linearly within each pair: 0.33 is a triplet feel (MPC 66 %), 0.5 a
  dotted one (MPC 75 %). With eighths, the sixteenths between move along (by `swing` steps).
* Push/pull: each voice has a constant `offset_ms` (> 0 behind the beat) plus seeded
  `jitter_ms`, bounded together by `max_shift_ms`; the swing delay comes on top. A chord in
  the lead or bass moves as one, and their jitter never exceeds a quarter of the gap to the
  neighbouring onsets, so lines keep their order.
* Ghost notes: on the sixteenths one or two steps from a backbeat (2 and 4) that have no
  snare, in bars where the snare plays, a soft hit of that bar's snare (velocity
  `ghost_velocity`) with probability `ghost_notes` each, timed like the snare. They are
  appended after the original notes, which keep their order.
* Articulation: a lead or bass note sounds `articulation` × the shorter of its written length
  and the gap to its part's next onset, at least `min_length_ms`, and always ends by that
  next onset (no overlaps; that wins when the next note comes sooner than the minimum).
  Drums keep their written length (the renderer plays them as one-shots).
* Nothing starts before 0 s; no length is below `min_length_ms` except as said above.

The groove's fields, defaults and presets: groove.py.

`humanization_stats` measures a segment per part (velocity spread, distance from the grid),
for comparing before and after.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter

import note_seq
import numpy as np

from ..contracts import STEPS_PER_BAR
from .groove import HATS, KICKS, SNARES, Groove, PartFeel
from .segment import Segment, part_of

GHOST_STEPS = (2, 3, 5, 6, 10, 11, 13, 14)  # one or two sixteenths from a backbeat


def voice_of(note) -> str:
    part = part_of(note)
    if part != "drums":
        return part
    for family, pitches in (("kick", KICKS), ("snare", SNARES), ("hats", HATS)):
        if note.pitch in pitches:
            return family
    return "other"


def _clip(x: float, bound: float) -> float:
    return min(max(float(x), -bound), bound)


def _warp(steps: float, swing: float, unit: int) -> float:
    """Grid position (in sixteenths) → swung position: the pair's second unit starts later."""
    if swing <= 0:
        return steps
    pair = 2 * unit
    start = math.floor(steps / pair + 1e-9) * pair
    x = steps - start
    return start + (x * (1 + swing) if x <= unit else unit * (1 + swing) + (x - unit) * (1 - swing))


def _grid(segment: Segment):
    """(seconds → sixteenth steps, steps → seconds) at the segment's tempo: the one place
    that knows how the segment is timed."""
    # through the segment's tempo ramp, if it has one (a beat is 4 steps)
    return (lambda t: 4 * segment.beat_at(t)), (lambda steps: segment.seconds_at(steps / 4))


def humanize(segment: Segment, groove: Groove = Groove(), seed: int = 0) -> Segment:
    """A new Segment with humanized velocities, timing and lengths; the input is left alone."""
    rng = np.random.default_rng([seed, segment.id])
    to_steps, to_seconds = _grid(segment)
    unit = 1 if groove.swing_unit == 16 else 2
    max_shift = groove.max_shift_ms / 1000.0
    min_len = groove.min_length_ms / 1000.0
    seq = note_seq.NoteSequence()
    seq.CopyFrom(segment.sequence)
    notes = list(seq.notes)
    noise = rng.normal(0.0, 1.0, len(notes))
    jitter = rng.normal(0.0, 1.0, len(notes))
    voices = [voice_of(n) for n in notes]

    def swung(t: float, feel: PartFeel) -> float:
        swing = groove.swing if feel.swing is None else feel.swing
        return to_seconds(_warp(to_steps(t), swing, unit))

    def shifted(t: float, feel: PartFeel, z: float, cap: float = math.inf) -> float:
        """Swung onset + push/pull + jitter (at most `cap` s) within ±max_shift, never < 0."""
        j = _clip(z * feel.jitter_ms / 1000.0, cap)
        return max(0.0, swung(t, feel) + _clip(feel.offset_ms / 1000.0 + j, max_shift))

    # Velocity: metre, phrase arc, noise.
    for n, voice, z in zip(notes, voices, noise):
        feel = groove.feel(voice)
        step = round(to_steps(n.start_time))
        phrase_pos = (step / STEPS_PER_BAR % groove.phrase_bars) / groove.phrase_bars
        velocity = (feel.base + feel.accent[step % STEPS_PER_BAR]
                    + groove.phrase_depth * math.sin(math.pi * phrase_pos)
                    + z * groove.velocity_noise)
        n.velocity = min(max(round(velocity), feel.low), feel.high)

    # Timing and length, drums: each hit on its own.
    for i, n in enumerate(notes):
        if part_of(n) == "drums":
            feel = groove.feel(voices[i])
            written = swung(n.end_time, feel) - swung(n.start_time, feel)
            n.start_time = shifted(n.start_time, feel, jitter[i])
            n.end_time = n.start_time + max(min_len, written)

    # Lead and bass: onsets (chords move as one) keep their order, notes never overlap.
    for part in ("lead", "bass"):
        feel = groove.feel(part)
        groups: dict[float, list[int]] = {}
        for i, n in enumerate(notes):
            if voices[i] == part:
                groups.setdefault(n.start_time, []).append(i)
        onsets = sorted(groups)
        grid = [swung(t, feel) for t in onsets]
        starts = []
        for k, t in enumerate(onsets):
            gaps = [grid[k] - grid[k - 1]] if k else []
            gaps += [grid[k + 1] - grid[k]] if k + 1 < len(onsets) else []
            start = shifted(t, feel, jitter[groups[t][0]], cap=0.25 * min(gaps, default=math.inf))
            if starts and start <= starts[-1]:  # only at 0 s with extreme settings
                start = starts[-1] + 0.5 * (grid[k] - grid[k - 1])
            starts.append(start)
        for k, t in enumerate(onsets):
            nxt = starts[k + 1] if k + 1 < len(starts) else math.inf
            for i in groups[t]:
                n = notes[i]
                written = swung(n.end_time, feel) - grid[k]
                length = max(min_len, feel.articulation * min(written, nxt - starts[k]))
                n.start_time = starts[k]
                n.end_time = min(starts[k] + length, nxt)

    _add_ghost_notes(seq, segment, groove, np.random.default_rng([seed, segment.id, 1]),
                     notes, lambda t, z: shifted(t, groove.snare, z))
    seq.total_time = max([seq.total_time] + [n.end_time for n in seq.notes])
    return dataclasses.replace(segment, sequence=seq, humanized=True)


def _add_ghost_notes(seq, segment: Segment, groove: Groove, rng, played, onset):
    """Soft snare hits near the backbeats of bars where the snare plays, appended to seq.

    `played` are the original notes, already humanized, in the order of segment.sequence.
    """
    to_steps, to_seconds = _grid(segment)
    bar_snares: dict[int, list] = {}
    taken = set()
    for original, n in zip(segment.sequence.notes, played):
        if original.is_drum and original.pitch in SNARES:
            step = round(to_steps(original.start_time))
            bar_snares.setdefault(step // STEPS_PER_BAR, []).append(n)
            taken.add(step)
    templates = {}  # per bar, a copy of its commonest snare (copied before seq grows)
    for bar, snares in bar_snares.items():
        pitch = Counter(n.pitch for n in snares).most_common(1)[0][0]
        templates[bar] = note_seq.NoteSequence.Note()
        templates[bar].CopyFrom(next(n for n in snares if n.pitch == pitch))
    lo, hi = groove.ghost_velocity
    for bar in range(segment.bars):
        for pos in GHOST_STEPS:
            # Every candidate draws the same numbers, so a higher probability adds ghosts and
            # keeps the ones a lower one placed.
            u, velocity, z = rng.random(), int(rng.integers(lo, hi + 1)), rng.normal()
            step = bar * STEPS_PER_BAR + pos
            if u >= groove.ghost_notes or bar not in templates or step in taken:
                continue
            ghost = seq.notes.add()
            ghost.CopyFrom(templates[bar])
            ghost.velocity = velocity
            ghost.start_time = onset(to_seconds(step), z)
            length = to_seconds(step + 0.5) - to_seconds(step)  # a thirty-second
            ghost.end_time = ghost.start_time + max(groove.min_length_ms / 1000.0, length)


def humanization_stats(segment: Segment) -> dict:
    """Per part: note count, velocity standard deviation and the mean absolute distance of
    onsets from the sixteenth grid in ms (0 and 0 for the model's raw output)."""
    to_steps, to_seconds = _grid(segment)
    stats = {}
    for part in ("lead", "bass", "drums"):
        notes = [n for n in segment.sequence.notes if part_of(n) == part]
        velocity = np.array([n.velocity for n in notes], dtype=float)
        onset = np.array([to_steps(n.start_time) for n in notes])
        grid = np.array([to_seconds(s) for s in np.round(onset)])
        deviation = np.abs(np.array([n.start_time for n in notes]) - grid) * 1000.0
        stats[part] = {"notes": len(notes),
                       "velocity_std": round(float(velocity.std()), 2) if notes else 0.0,
                       "onset_deviation_ms": round(float(deviation.mean()), 2) if notes else 0.0}
    return stats
