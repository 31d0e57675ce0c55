"""Playing style: how a set's own lead and bass move, carried into decoding as logit offsets.

A decoder trained mostly on folk tunes plays every set in its corpus' manner: a lead that
strikes its held note again and wanders over two octaves, a bass that rests where a band's
drives. What a set's songs do is counted on their tokens (`counts`), as is what the model
plays from the set's own encodings; the offset for each move is the difference of the two
log-odds (`fit`), since adding b to some classes' logits multiplies their odds against the
rest by e^b at every step they are open. The moves (MOVES):
- `even`, `odd`: striking the sounding pitch again on an eighth step, or between (a
  driving bass strikes on the eighths; a band's lead holds);
- `wide`: a note that stretches the pitches struck over the last four bars past an octave;
- `start`: a note while the part is silent; `stop`: a note-off while it sounds;
- `match`, `early`: a note ending (a note-off or the next note) once it is as long as the
  note before it, or before that (a band keeps one note length through a passage; the
  model mixes them within bars).

Melodic parts only (lead and bass: 0 no event, 1 note off, 2 + pitch); drums are left as
the model plays them. Decoding with a style follows each part's notes across bars
(`Tracker`), so the offsets see what a listener hears.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .trio import FIRST_NOTE_ON

WIDTH = 12         # semitones: a note that stretches the last four bars' span past an octave is wide
WINDOW = 64        # steps: four bars
LIMIT = 4.0        # largest offset, either way: e^4 ≈ 55 times the odds
MOVES = ("even", "odd", "wide", "start", "stop", "match", "early")
MELODIC = (0, 1)   # lead, bass (the trio's parts)


@dataclasses.dataclass(frozen=True)
class PartStyle:
    even: float = 0.0    # added to the logit of striking the sounding pitch again on an eighth step
    odd: float = 0.0     # the same between eighths
    wide: float = 0.0    # added to every note that would stretch the last 4 bars past WIDTH
    start: float = 0.0   # added to every note while the part is silent
    stop: float = 0.0    # added to the note-off while a note sounds
    match: float = 0.0   # added to ending a note (taken from holding it) as long as the one before
    early: float = 0.0   # the same while it is shorter than the one before

    @property
    def neutral(self) -> bool:
        return not any(getattr(self, m) for m in MOVES)


@dataclasses.dataclass(frozen=True)
class Style:
    lead: PartStyle = PartStyle()
    bass: PartStyle = PartStyle()

    def part(self, p: int) -> PartStyle | None:
        """The style of trio part p, or None where it plays as the model does."""
        style = (self.lead, self.bass)[p] if p in MELODIC else None
        return None if style is None or style.neutral else style

    @property
    def neutral(self) -> bool:
        return self.lead.neutral and self.bass.neutral

    def to_dict(self) -> dict:
        return {name: {m: round(getattr(getattr(self, name), m), 3) for m in MOVES} for name in ("lead", "bass")}

    @classmethod
    def from_dict(cls, data: dict) -> "Style":
        return cls(**{name: PartStyle(**data.get(name, {})) for name in ("lead", "bass")})

    def plus(self, other: "Style | None") -> "Style":
        """Both styles' offsets added, within ±LIMIT (a model's own style and a mix's)."""
        if other is None:
            return self
        return Style(*(PartStyle(**{m: float(np.clip(getattr(a, m) + getattr(b, m), -LIMIT, LIMIT)) for m in MOVES})
                       for a, b in ((self.lead, other.lead), (self.bass, other.bass))))

    def scaled(self, k: float) -> "Style":
        """Every offset times k (0: the model's own manner)."""
        return Style(*(PartStyle(**{m: getattr(part, m) * k for m in MOVES}) for part in (self.lead, self.bass)))

    @classmethod
    def blend(cls, weighted: list[tuple["Style", float]]) -> "Style":
        """The weighted mean of styles' offsets (a mix of sets plays their average)."""
        total = sum(w for _, w in weighted if w > 0)
        if not total:
            return cls()
        parts = {}
        for name in ("lead", "bass"):
            parts[name] = PartStyle(**{m: sum(getattr(getattr(s, name), m) * w for s, w in weighted if w > 0) / total
                                       for m in MOVES})
        return cls(**parts)


class Tracker:
    """Per row, a melodic part's state: the pitch last struck (-1: none yet), whether it
    still sounds, when it was struck, how long the note before it lasted (-1: none yet), and
    the pitches struck over the last WINDOW steps."""

    def __init__(self, n: int):
        self.last = np.full(n, -1)
        self.sounding = np.zeros(n, bool)
        self.onset = np.full(n, -1)
        self.before = np.full(n, -1)
        self.recent = np.full((n, WINDOW), np.nan, np.float32)   # a ring, one column a step
        self.t = 0

    def wide(self, pitches: np.ndarray) -> np.ndarray:
        """[N, P]: whether striking each of `pitches` would stretch a row's window past
        WIDTH (never for a row that struck nothing in it)."""
        lo, hi = np.fmin.reduce(self.recent, axis=1), np.fmax.reduce(self.recent, axis=1)   # NaN: none
        return (np.maximum(hi[:, None], pitches) - np.minimum(lo[:, None], pitches)) > WIDTH

    def offsets(self, logits: np.ndarray, style: PartStyle, step: int) -> np.ndarray:
        """`logits` [N, 90] with the style's offsets for the rows' state at `step`."""
        out = np.array(logits, np.float32)
        notes = out[:, FIRST_NOTE_ON:]
        if style.wide:
            notes += np.where(self.wide(np.arange(notes.shape[1])), np.float32(style.wide), np.float32(0))
        if style.start:
            notes[~self.sounding] += np.float32(style.start)
        rows = np.nonzero(self.sounding)[0]
        again = style.even if step % 2 == 0 else style.odd
        if again and len(rows):
            out[rows, FIRST_NOTE_ON + self.last[rows]] += np.float32(again)
        if style.stop and len(rows):
            out[rows, 1] += np.float32(style.stop)
        if (style.match or style.early) and len(rows):
            age, before = self.t - self.onset[rows], self.before[rows]
            known = before >= 1
            # ending is every token but "hold": taking b from the hold adds b to all the others
            out[rows[known & (age == before)], 0] -= np.float32(style.match)
            out[rows[known & (age < before)], 0] -= np.float32(style.early)
        return out

    def update(self, tokens: np.ndarray) -> None:
        struck = tokens >= FIRST_NOTE_ON
        ended = self.sounding & (tokens != 0)
        self.before = np.where(ended, self.t - self.onset, self.before)
        self.onset = np.where(struck, self.t, self.onset)
        self.last = np.where(struck, tokens - FIRST_NOTE_ON, self.last)
        self.sounding = np.where(struck, True, np.where(tokens == 1, False, self.sounding))
        self.recent[:, self.t % WINDOW] = np.where(struck, tokens - FIRST_NOTE_ON, np.nan)
        self.t += 1


def counts(ids: np.ndarray) -> np.ndarray:
    """For one melodic part's tokens [N, T] (step 0 on an eighth), per move of MOVES:
    [times it was made, times it could be] (shape [len(MOVES), 2]): a strike again at the
    steps a note sounds; a wide note among the notes struck; a start at the steps the part is
    silent; a stop at the steps a note sounds; an ending at the steps a note sounds as long
    as the one before it (match), or shorter (early). The states a Tracker would pass through,
    for all steps at once (a seed file's segments are counted when it is imported)."""
    ids = np.asarray(ids).reshape(-1, np.shape(ids)[-1])
    n, steps = ids.shape
    t = np.arange(steps)
    struck = ids >= FIRST_NOTE_ON
    pitch = ids - FIRST_NOTE_ON

    def before(mask):
        """Per step, the index of the last step before it where `mask` held (-1: none)."""
        last = np.maximum.accumulate(np.where(mask, t, -1), axis=1)
        return np.concatenate([np.full((n, 1), -1), last[:, :-1]], axis=1)

    rows = np.arange(n)[:, None]
    hit, event = before(struck), before(ids != 0)        # a note-on; any note-on or note-off
    last = np.where(hit >= 0, pitch[rows, np.maximum(hit, 0)], -1)
    sounding = (event >= 0) & (ids[rows, np.maximum(event, 0)] >= FIRST_NOTE_ON)
    silent = ~sounding
    again = sounding & (ids == FIRST_NOTE_ON + last)
    # the pitches struck over the WINDOW steps before each step: lowest and highest
    pad = lambda x, fill: np.concatenate([np.full((n, WINDOW), fill, np.float32), x[:, :-1]], axis=1)
    windows = lambda x: np.lib.stride_tricks.sliding_window_view(x, WINDOW, axis=1)[:, :steps]
    lo = windows(pad(np.where(struck, pitch, np.inf).astype(np.float32), np.inf)).min(axis=2)
    hi = windows(pad(np.where(struck, pitch, -np.inf).astype(np.float32), -np.inf)).max(axis=2)
    with np.errstate(invalid="ignore"):
        wide = struck & np.isfinite(hi) & ((np.maximum(hi, pitch) - np.minimum(lo, pitch)) > WIDTH)
    # the note before the sounding one: struck at the last onset before this note's onset,
    # it lasted until the first event after it
    events = np.where(ids != 0, t, steps)
    after = np.concatenate([np.minimum.accumulate(events[:, ::-1], axis=1)[:, ::-1][:, 1:],
                            np.full((n, 1), steps)], axis=1)           # first event after each step
    first = hit[rows, np.maximum(hit, 0)]                              # onset before the sounding note's
    before = np.where((hit >= 0) & (first >= 0), after[rows, np.maximum(first, 0)] - first, -1)
    age = t - hit
    known = sounding & (before >= 1)
    ends = ids != 0
    match, early = known & (age == before), known & (age < before)
    even = t % 2 == 0
    return np.array([[(again & even).sum(), (sounding & even).sum()],
                     [(again & ~even).sum(), (sounding & ~even).sum()],
                     [wide.sum(), struck.sum()],
                     [(struck & silent).sum(), silent.sum()],
                     [(sounding & (ids == 1)).sum(), sounding.sum()],
                     [(match & ends).sum(), match.sum()],
                     [(early & ends).sum(), early.sum()]], np.int64)


def _log_odds(made: float, could: float) -> float:
    p = (made + 0.5) / (could + 1.0)          # a half-count each way: no infinite odds
    return math.log(p / (1 - p))


def fit(seeds: np.ndarray, played: np.ndarray) -> Style:
    """The style that moves what the model played (`played`: counts [parts 2, 3, 2] of its
    decoding of the set's own encodings) toward what the set's songs do (`seeds`, the same
    shape): per move, the difference of log-odds, within ±LIMIT."""
    parts = []
    for p in MELODIC:
        parts.append(PartStyle(**{
            m: float(np.clip(_log_odds(*seeds[p][k]) - _log_odds(*played[p][k]), -LIMIT, LIMIT))
            for k, m in enumerate(MOVES)}))
    return Style(*parts)
