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

Defaults, Groove():
    swing 0.0 on sixteenths, ghost_notes 0.1 at velocity 20–40, max_shift_ms 20,
    velocity_noise 5, phrase arc +6 at the middle of each 4 bars, min_length_ms 30.

    voice  base  range    jitter_ms  offset_ms  articulation  accent
    lead    82   50–120     9          0          0.9         METRIC_ACCENT
    bass    88   55–118     6         +6          0.95        METRIC_ACCENT
    kick    86   35–127     3          0           –          METRIC_ACCENT
    snare   86   35–127     4         +3           –          METRIC_ACCENT, +10 on 2 and 4
    hats    78   35–127     4         -3           –          METRIC_ACCENT
    other   86   35–127     5          0           –          METRIC_ACCENT

    METRIC_ACCENT, by sixteenth: 14 -10 -2 -10 4 -10 -2 -10 8 -10 -2 -10 4 -10 -2 -10.
    Each voice may also set its own `swing` (absent: the groove's).

`Groove.from_dict` builds a groove from plain data (TOML/JSON), e.g. {"preset": "swing",
"ghost_notes": 0.3, "bass": {"offset_ms": 8}, "drums": {"jitter_ms": 2}}: "drums" sets all
four drum families before their own tables; unknown keys and out-of-range values raise
ValueError naming the key and what is allowed. `Groove.to_dict` gives the same shape back.
Presets (PRESETS): default, straight, swing, laid-back, tight.

`humanization_stats` measures a segment per part (velocity spread, distance from the grid),
for comparing before and after.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Mapping

import numpy as np
import note_seq

from .segment import Segment, part_of

KICKS = {35, 36}
SNARES = {37, 38, 39, 40}
HATS = {42, 44, 46}
DRUM_FAMILIES = ("kick", "snare", "hats", "other")
VOICES = ("lead", "bass") + DRUM_FAMILIES
BAR_STEPS = 16
# Velocity added by position in the bar, in sixteenth steps (4/4).
METRIC_ACCENT = (14, -10, -2, -10, 4, -10, -2, -10, 8, -10, -2, -10, 4, -10, -2, -10)
BACKBEAT_ACCENT = tuple(a + 10 if i in (4, 12) else a for i, a in enumerate(METRIC_ACCENT))
GHOST_STEPS = (2, 3, 5, 6, 10, 11, 13, 14)  # one or two sixteenths from a backbeat


def _setting(default, lo=None, hi=None, choices=None, doc=""):
    return dataclasses.field(default=default, metadata={"range": (lo, hi), "choices": choices,
                                                        "doc": doc})


@dataclasses.dataclass(frozen=True)
class PartFeel:
    """How one voice plays: velocity, accents, timing."""
    base: int = _setting(86, 1, 127, doc="velocity of an unaccented eighth note")
    low: int = _setting(35, 1, 127, doc="lowest velocity")
    high: int = _setting(127, 1, 127, doc="highest velocity")
    jitter_ms: float = _setting(4.0, 0.0, 30.0, doc="standard deviation of onset jitter")
    offset_ms: float = _setting(0.0, -50.0, 50.0, doc="constant push (<0) or lay-back (>0)")
    accent: tuple[int, ...] = _setting(METRIC_ACCENT, -64, 64,
                                       doc="velocity added per sixteenth of the bar")
    swing: float | None = _setting(None, 0.0, 0.5, doc="own swing; None: the groove's")


@dataclasses.dataclass(frozen=True)
class LineFeel(PartFeel):
    """A pitched, monophonic part (lead, bass): a PartFeel with articulation."""
    articulation: float = _setting(0.9, 0.1, 1.0,
                                   doc="share of the written length / gap to the next onset")


@dataclasses.dataclass(frozen=True)
class Groove:
    """How the band plays a segment; build one from plain data with from_dict."""
    swing: float = _setting(0.0, 0.0, 0.5, doc="delay of off-beats, in units of swing_unit")
    swing_unit: int = _setting(16, choices=(8, 16), doc="swing sixteenths (16) or eighths (8)")
    ghost_notes: float = _setting(0.1, 0.0, 1.0, doc="chance of a ghost snare per candidate")
    ghost_velocity: tuple[int, int] = _setting((20, 40), 1, 127, doc="ghost velocity, low–high")
    max_shift_ms: float = _setting(20.0, 0.0, 50.0, doc="bound on push/pull plus jitter")
    velocity_noise: float = _setting(5.0, 0.0, 20.0, doc="standard deviation, in velocity")
    phrase_bars: int = _setting(4, 1, 16, doc="length of the dynamic arc")
    phrase_depth: float = _setting(6.0, 0.0, 30.0, doc="velocity added at the arc's peak")
    min_length_ms: float = _setting(30.0, 5.0, 200.0, doc="shortest note length")
    lead: LineFeel = LineFeel(base=82, low=50, high=120, jitter_ms=9.0, articulation=0.9)
    bass: LineFeel = LineFeel(base=88, low=55, high=118, jitter_ms=6.0, offset_ms=6.0,
                              articulation=0.95)
    kick: PartFeel = PartFeel(jitter_ms=3.0)
    snare: PartFeel = PartFeel(jitter_ms=4.0, offset_ms=3.0, accent=BACKBEAT_ACCENT)
    hats: PartFeel = PartFeel(base=78, jitter_ms=4.0, offset_ms=-3.0)
    other: PartFeel = PartFeel(jitter_ms=5.0)

    def feel(self, voice: str) -> PartFeel:
        return getattr(self, voice)

    def to_dict(self) -> dict:
        """Plain data (lists, numbers) that from_dict reads back to an equal Groove."""
        return _plain(self)

    @classmethod
    def from_dict(cls, data: Mapping) -> "Groove":
        """A Groove from plain data: any subset of to_dict's keys, plus "preset" (the base,
        else the defaults) and "drums" (applied to every drum family before its own table)."""
        data = _table(data, "groove")
        base = cls()
        if "preset" in data:
            name = data["preset"]
            if not isinstance(name, str) or name not in PRESETS:
                raise ValueError(f"preset={name!r}: allowed: {sorted(PRESETS)}")
            base = PRESETS[name]
        values = base.to_dict()
        for key, v in data.items():
            if key in ("preset", "drums"):
                continue
            if key not in values:
                raise ValueError(f"unknown groove key {key!r}; allowed: "
                                 f"{sorted([*values, 'preset', 'drums'])}")
            if key in VOICES:
                _merge(values[key], _table(v, key), key)
            else:
                values[key] = v
        if "drums" in data:
            drums = _table(data["drums"], "drums")
            for family in DRUM_FAMILIES:
                _merge(values[family], drums, "drums")
                _merge(values[family], data.get(family, {}), family)
        return _build(cls, values, "")

    @classmethod
    def preset(cls, name: str) -> "Groove":
        return cls.from_dict({"preset": name})


def _plain(obj):
    out = {}
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        if v is None:
            continue  # "not set": absent, as TOML has no null
        if dataclasses.is_dataclass(v):
            v = _plain(v)
        out[f.name] = list(v) if isinstance(v, tuple) else v
    return out


def _table(v, key: str) -> dict:
    if not isinstance(v, Mapping):
        raise ValueError(f"{key}: expected a table of settings, got {v!r}")
    return dict(v)


def _merge(into: dict, changes: dict, key: str) -> None:
    feel = LineFeel if key in ("lead", "bass") else PartFeel
    allowed = [f.name for f in dataclasses.fields(feel)]
    for k, v in changes.items():
        if k not in allowed:
            raise ValueError(f"unknown groove key '{key}.{k}'; allowed: {allowed}")
        into[k] = v


def _number(v, key: str, lo, hi, integer: bool):
    # finite first: int() of an infinity raises OverflowError, and NaN passes every range
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
            or (integer and v != int(v)):
        raise ValueError(f"{key}: expected {'an integer' if integer else 'a number'}, got {v!r:.60}")
    if not (lo <= v <= hi):
        raise ValueError(f"{key}={v}: allowed range is {lo}–{hi}")
    return int(v) if integer else float(v)


def _build(cls, values: dict, prefix: str):
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in values:
            continue  # None-able setting left unset
        key, v = prefix + f.name, values[f.name]
        lo, hi = f.metadata.get("range", (None, None))
        choices = f.metadata.get("choices")
        if f.name in VOICES:
            kwargs[f.name] = _build(type(f.default), v, key + ".")
        elif v is None and f.default is None:
            kwargs[f.name] = None
        elif choices:
            if isinstance(v, bool) or v not in choices:
                raise ValueError(f"{key}={v!r}: allowed values are {list(choices)}")
            kwargs[f.name] = choices[choices.index(v)]  # 16.0 → 16
        elif f.name == "accent":
            if not isinstance(v, (list, tuple)) or not v or BAR_STEPS % len(v):
                raise ValueError(f"{key}: expected a list of 1, 2, 4, 8 or 16 velocities "
                                 f"(per sixteenth of the bar, repeated), got {v!r}")
            vals = [_number(a, f"{key}[{i}]", lo, hi, True) for i, a in enumerate(v)]
            kwargs[f.name] = tuple(vals * (BAR_STEPS // len(vals)))
        elif f.name == "ghost_velocity":
            if not isinstance(v, (list, tuple)) or len(v) != 2:
                raise ValueError(f"{key}: expected [low, high] within {lo}–{hi}, got {v!r}")
            pair = tuple(_number(a, key, lo, hi, True) for a in v)
            if pair[0] > pair[1]:
                raise ValueError(f"{key}={list(v)}: low must not exceed high")
            kwargs[f.name] = pair
        else:
            kwargs[f.name] = _number(v, key, lo, hi, f.type in ("int", int))
    if "low" in kwargs and kwargs["low"] > kwargs["high"]:
        raise ValueError(f"{prefix}low={kwargs['low']}: "
                         f"must not exceed {prefix}high={kwargs['high']}")
    return cls(**kwargs)


PRESETS: dict[str, Groove] = {name: Groove.from_dict(settings) for name, settings in {
    "default": {},
    # On the grid in time, still dynamic: no swing, no ghosts, no push/pull, little jitter.
    "straight": {"swing": 0.0, "ghost_notes": 0.0,
                 "lead": {"offset_ms": 0, "jitter_ms": 5}, "bass": {"offset_ms": 0, "jitter_ms": 4},
                 "drums": {"offset_ms": 0, "jitter_ms": 3}},
    # Triplet eighths (MPC 66 %), busy ghosts, a lighter lead.
    "swing": {"swing": 0.33, "swing_unit": 8, "ghost_notes": 0.25,
              "lead": {"articulation": 0.8}, "bass": {"offset_ms": 4}, "hats": {"offset_ms": -2}},
    # Behind the beat: bass and snare late, long notes, a hint of sixteenth swing.
    "laid-back": {"swing": 0.08, "ghost_notes": 0.15, "max_shift_ms": 25, "phrase_depth": 8,
                  "lead": {"offset_ms": 10, "jitter_ms": 10, "articulation": 1.0},
                  "bass": {"offset_ms": 12, "articulation": 1.0},
                  "kick": {"offset_ms": 4}, "snare": {"offset_ms": 10}, "hats": {"offset_ms": 2}},
    # Close to the grid, even dynamics, short notes.
    "tight": {"swing": 0.0, "ghost_notes": 0.05, "velocity_noise": 3, "max_shift_ms": 10,
              "lead": {"jitter_ms": 4, "articulation": 0.8},
              "bass": {"offset_ms": 2, "jitter_ms": 3, "articulation": 0.85},
              "drums": {"jitter_ms": 2}, "hats": {"offset_ms": -2}, "snare": {"offset_ms": 1}},
}.items()}


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
        phrase_pos = (step / BAR_STEPS % groove.phrase_bars) / groove.phrase_bars
        velocity = (feel.base + feel.accent[step % BAR_STEPS]
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
            bar_snares.setdefault(step // BAR_STEPS, []).append(n)
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
            step = bar * BAR_STEPS + pos
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
