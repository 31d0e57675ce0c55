"""The performer's settings: a `Groove` (how the band plays) built from plain data, and its
presets; performer.py plays a segment with one.

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
Presets (GROOVE_PRESETS): default, straight, swing, laid-back, tight.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from ..contracts import STEPS_PER_BAR, RadioError
from ..support.checks import number


class GrooveError(RadioError, ValueError):
    """A groove setting that cannot be played; the message names the key and what is allowed."""
    status = 400


KICKS = {35, 36}
SNARES = {37, 38, 39, 40}
HATS = {42, 44, 46}
DRUM_FAMILIES = ("kick", "snare", "hats", "other")
VOICES = ("lead", "bass") + DRUM_FAMILIES
# Velocity added by position in the bar, in sixteenth steps (4/4).
METRIC_ACCENT = (14, -10, -2, -10, 4, -10, -2, -10, 8, -10, -2, -10, 4, -10, -2, -10)
BACKBEAT_ACCENT = tuple(a + 10 if i in (4, 12) else a for i, a in enumerate(METRIC_ACCENT))


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
            if not isinstance(name, str) or name not in GROOVE_PRESETS:
                raise GrooveError(f"preset={name!r}: allowed: {sorted(GROOVE_PRESETS)}")
            base = GROOVE_PRESETS[name]
        values = base.to_dict()
        for key, v in data.items():
            if key in ("preset", "drums"):
                continue
            if key not in values:
                raise GrooveError(f"unknown groove key {key!r}; allowed: "
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
        raise GrooveError(f"{key}: expected a table of settings, got {v!r}")
    return dict(v)


def _merge(into: dict, changes: dict, key: str) -> None:
    feel = LineFeel if key in ("lead", "bass") else PartFeel
    allowed = [f.name for f in dataclasses.fields(feel)]
    for k, v in changes.items():
        if k not in allowed:
            raise GrooveError(f"unknown groove key '{key}.{k}'; allowed: {allowed}")
        into[k] = v


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
                raise GrooveError(f"{key}={v!r}: allowed values are {list(choices)}")
            kwargs[f.name] = choices[choices.index(v)]  # 16.0 → 16
        elif f.name == "accent":
            if not isinstance(v, (list, tuple)) or not v or STEPS_PER_BAR % len(v):
                raise GrooveError(f"{key}: expected a list of 1, 2, 4, 8 or 16 velocities "
                                 f"(per sixteenth of the bar, repeated), got {v!r}")
            vals = [number(a, f"{key}[{i}]", lo, hi, True, GrooveError) for i, a in enumerate(v)]
            kwargs[f.name] = tuple(vals * (STEPS_PER_BAR // len(vals)))
        elif f.name == "ghost_velocity":
            if not isinstance(v, (list, tuple)) or len(v) != 2:
                raise GrooveError(f"{key}: expected [low, high] within {lo}–{hi}, got {v!r}")
            pair = tuple(number(a, key, lo, hi, True, GrooveError) for a in v)
            if pair[0] > pair[1]:
                raise GrooveError(f"{key}={list(v)}: low must not exceed high")
            kwargs[f.name] = pair
        else:
            kwargs[f.name] = number(v, key, lo, hi, f.type in ("int", int), GrooveError)
    if "low" in kwargs and kwargs["low"] > kwargs["high"]:
        raise GrooveError(f"{prefix}low={kwargs['low']}: "
                         f"must not exceed {prefix}high={kwargs['high']}")
    return cls(**kwargs)


GROOVE_PRESETS: dict[str, Groove] = {name: Groove.from_dict(settings) for name, settings in {
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
