"""Likeness: can a classifier tell the station's music from a real band's, window by window?

A listener hears "not that band" from composition before sound: how busy the bass is, how
far the lead wanders, how regular the drums are. This module puts ~34 such figures on each
4-bar window of trio music (lead, bass, drums found by ROLE, not channel) so bench/likeness.py
can train a classifier on station windows against real ones: an out-of-fold ROC AUC near the
real set's own split-half floor means hard to tell apart, near 1.0 easy.

Only composition counts: notes on the 16th grid, pitches, lengths in steps; velocity,
micro-timing, tempo and programs are left out on purpose. A part the source lacks gives NaN
for its figures, as does a figure undefined in a window (an interval needs two notes);
HistGradientBoostingClassifier takes NaN as it is. Notes are `(start step, end step, pitch)`,
steps global sixteenths (4/4, bar = step // 16). Offline tooling: the station never imports it.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Iterable, Sequence

import numpy as np

from ..band.parts import CompleteError, TempoMap, find_parts, read_input
from ..contracts import PARTS, STEPS_PER_BAR, part_of
from ..music import keys

Note = tuple[int, int, int]                 # (start step, end step, pitch)
Parts = dict[str, list[Note]]               # role → notes; a role the source lacks is absent
WINDOW_BARS = 4
MIN_ONSETS = 4                              # a window with fewer onsets (all parts) is dropped
KICKS, SNARES, HATS = {35, 36}, {38, 40}, {42, 44, 46}
NAN = float("nan")

FEATURES = (
    "bass_notes_per_bar", "bass_silence", "bass_interval", "bass_on_beats", "bass_range",
    "bass_pitch_classes", "bass_repeats", "bass_length", "bass_bar_jaccard",
    "lead_notes_per_bar", "lead_range", "lead_length_variety", "lead_interval", "lead_repeats",
    "lead_silence", "lead_pitch_classes", "lead_chords", "lead_steps", "lead_leaps",
    "lead_on_beats", "lead_length", "lead_half_repeat", "lead_key_fit",
    "kicks_per_bar", "snares_per_bar", "hats_per_bar", "drum_sounds_per_bar",
    "drum_onsets_per_bar", "drum_on_eighths", "drum_bar_jaccard", "snare_backbeat",
    "lead_bass_coincidence", "kick_bass_coincidence", "lead_bass_distance",
)


# -- notes from files and station segments ------------------------------------------------
def parts_from_midi(data: bytes) -> Parts | None:
    """A real MIDI file's parts, found by role as band completion finds them, on the 16th
    grid through its tempo map; only the roles it has. None if not 4/4, empty or unreadable."""
    try:
        ns = read_input(data)
    except CompleteError:
        return None
    tempo = TempoMap(ns.tempos)
    out: Parts = {}
    for role in PARTS:
        try:
            kept = find_parts(ns, [role])[role]
        except CompleteError:
            continue
        notes = []
        for n in kept.notes:
            start = round(tempo.beats(n.start_time) * 4)
            notes.append((start, max(start + 1, round(tempo.beats(n.end_time) * 4)), n.pitch))
        out[role] = sorted(notes)
    return out


def parts_from_segments(segments: Iterable) -> Parts:
    """Consecutive station segments (`.sequence`, `.qpm`, `.bars`; instrument 0 lead, 1 bass,
    drums on 9) as one run's parts, all three roles. Seconds go to steps at the segment's
    tempo (through its ramp where it has `beat_at`), each segment `bars` after the last."""
    out: Parts = {p: [] for p in PARTS}
    offset = 0
    for seg in segments:
        to_steps = (lambda t, s=seg: 4 * s.beat_at(t)) if hasattr(seg, "beat_at") \
            else (lambda t, q=seg.qpm: t * q / 15.0)
        for n in seg.sequence.notes:
            start = offset + round(to_steps(n.start_time))
            end = max(start + 1, offset + round(to_steps(n.end_time)))
            out[part_of(n)].append((start, end, n.pitch))
        offset += seg.bars * STEPS_PER_BAR
    return {role: sorted(notes) for role, notes in out.items()}


def cut(parts: Parts, window_bars: int = WINDOW_BARS) -> list[Parts]:
    """The parts in windows of `window_bars` bars, one every `window_bars` bars from step 0,
    steps relative to the window. A window holds the notes sounding in it: a note carried
    in from before starts below 0 (it counts as sound, not as an onset); ends are clipped."""
    size = window_bars * STEPS_PER_BAR
    last = max((e for notes in parts.values() for _, e, _ in notes), default=0)
    out: list[Parts] = [{role: [] for role in parts} for _ in range(math.ceil(last / size))]
    for role, notes in parts.items():
        for s, e, p in notes:
            if e <= 0:
                continue
            for i in range(max(0, s) // size, min(len(out), math.ceil(e / size))):
                out[i][role].append((s - i * size, min(e - i * size, size), p))
    return out


# -- figures of one window ----------------------------------------------------------------
def _onsets(notes: Sequence[Note]) -> list[Note]:
    return [n for n in notes if n[0] >= 0]


def one_line(notes: Sequence[Note], top: bool) -> list[Note]:
    """One note per onset step: the highest (a lead's melody) or the lowest (a bass line)."""
    by_step: dict[int, Note] = {}
    for n in _onsets(notes):
        kept = by_step.get(n[0])
        if kept is None or (n[2] > kept[2] if top else n[2] < kept[2]):
            by_step[n[0]] = n
    return [by_step[s] for s in sorted(by_step)]


def _silence(notes: Sequence[Note], size: int) -> float:
    sounding = np.zeros(size, bool)
    for s, e, _ in notes:
        sounding[max(0, s):max(0, e)] = True
    return 1.0 - float(sounding.mean())


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else NAN


def _mean(values: Sequence[float]) -> float:
    values = [v for v in values if not math.isnan(v)]
    return float(np.mean(values)) if values else NAN


def _bar_jaccard(notes: Sequence[Note], bars: int, pitched: bool) -> float:
    """Mean Jaccard of consecutive bars' onsets ((step in bar, pitch) or step in bar)."""
    sets = [set() for _ in range(bars)]
    for s, _, p in _onsets(notes):
        sets[s // STEPS_PER_BAR].add((s % STEPS_PER_BAR, p) if pitched else s % STEPS_PER_BAR)
    return _mean([_jaccard(a, b) for a, b in zip(sets, sets[1:])])


def _entropy(values: Iterable) -> float:
    counts = np.array(list(Counter(values).values()), float)
    if not counts.size:
        return NAN
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum()) + 0.0


def _line_figures(prefix: str, notes: Sequence[Note], bars: int, top: bool) -> dict[str, float]:
    line = one_line(notes, top)
    pitches = [p for _, _, p in line]
    steps = [abs(b - a) for a, b in zip(pitches, pitches[1:])]
    lengths = [e - s for s, e, _ in line]
    one = bool(line)
    return {
        f"{prefix}_notes_per_bar": len(line) / bars,
        f"{prefix}_silence": _silence(notes, bars * STEPS_PER_BAR),
        f"{prefix}_interval": _mean(steps),
        f"{prefix}_repeats": _mean([float(s == 0) for s in steps]),
        f"{prefix}_range": float(max(pitches) - min(pitches)) if one else NAN,
        f"{prefix}_pitch_classes": float(len({p % 12 for p in pitches})) if one else NAN,
        f"{prefix}_on_beats": _mean([float(s % 4 == 0) for s, _, _ in line]),
        f"{prefix}_length": _mean(lengths),
        f"{prefix}_length_variety": _entropy(round(math.log2(n)) for n in lengths) if one else NAN,
        f"{prefix}_steps": _mean([float(1 <= s <= 2) for s in steps]),
        f"{prefix}_leaps": _mean([float(s > 7) for s in steps]),
    }


def _drum_figures(notes: Sequence[Note], bars: int) -> dict[str, float]:
    hits = _onsets(notes)
    steps = {s for s, _, _ in hits}
    snares = [s for s, _, p in hits if p in SNARES]
    return {
        "kicks_per_bar": sum(p in KICKS for _, _, p in hits) / bars,
        "snares_per_bar": len(snares) / bars,
        "hats_per_bar": sum(p in HATS for _, _, p in hits) / bars,
        "drum_sounds_per_bar": _mean([float(len({p for s, _, p in hits if s // STEPS_PER_BAR == b}))
                                      for b in range(bars)]),
        "drum_onsets_per_bar": len(steps) / bars,
        "drum_on_eighths": _mean([float(s % 2 == 0) for s in steps]),
        "drum_bar_jaccard": _bar_jaccard(hits, bars, pitched=False),
        "snare_backbeat": _mean([float(s % STEPS_PER_BAR in (4, 12)) for s in snares]),
    }


def features(window: Parts, bars: int = WINDOW_BARS) -> dict[str, float]:
    """The figures (FEATURES) of one window from `cut`; NaN for a part the window's source
    lacks, and where a figure is undefined (no notes, or one note for an interval)."""
    out = dict.fromkeys(FEATURES, NAN)
    lead, bass, drums = (window.get(role) for role in PARTS)
    if bass is not None:
        fig = _line_figures("bass", bass, bars, top=False)
        out.update({k: v for k, v in fig.items() if k in out})
        out["bass_bar_jaccard"] = _bar_jaccard(one_line(bass, top=False), bars, pitched=True)
    if lead is not None:
        fig = _line_figures("lead", lead, bars, top=True)
        out.update({k: v for k, v in fig.items() if k in out})
        onsets = Counter(s for s, _, _ in _onsets(lead))
        out["lead_chords"] = _mean([float(c > 1) for c in onsets.values()])
        halves = [{(s % (bars * 8), p) for s, _, p in one_line(lead, True) if (s >= bars * 8) == h}
                  for h in (False, True)]
        out["lead_half_repeat"] = _jaccard(*halves)
        if onsets:
            out["lead_key_fit"] = keys.best_key(keys.histogram(p for _, _, p in _onsets(lead)))[2]
    if drums is not None:
        out.update(_drum_figures(drums, bars))
    if lead is not None and bass is not None:
        lead_steps = {s for s, _, _ in _onsets(lead)}
        out["lead_bass_coincidence"] = _mean([float(s in lead_steps) for s, _, _ in one_line(bass, False)])
        lp, bp = [p for _, _, p in _onsets(lead)], [p for _, _, p in _onsets(bass)]
        out["lead_bass_distance"] = float(np.mean(lp) - np.mean(bp)) if lp and bp else NAN
    if drums is not None and bass is not None:
        kicks = {s for s, _, p in _onsets(drums) if p in KICKS}
        out["kick_bass_coincidence"] = _mean([float(s in kicks) for s, _, _ in one_line(bass, top=False)])
    return out


def window_rows(parts: Parts, min_onsets: int = MIN_ONSETS) -> np.ndarray:
    """One row of FEATURES per 4-bar window of `parts` with at least `min_onsets` onsets."""
    rows = [list(features(w).values()) for w in cut(parts)
            if sum(len(_onsets(notes)) for notes in w.values()) >= min_onsets]
    return np.array(rows, float).reshape(-1, len(FEATURES))


# -- classifying ----------------------------------------------------------------------------
def out_of_fold(X: np.ndarray, y: np.ndarray, groups: Sequence, seed: int = 0) -> np.ndarray:
    """Out-of-fold class probabilities (n × classes) of a gradient-boosted classifier, 5 folds
    never splitting a group (file, station run); one thread (a busy CPU made more 30× slower)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedGroupKFold
    from threadpoolctl import threadpool_limits
    classes, proba = np.unique(y), np.zeros((len(y), len(np.unique(y))))
    with threadpool_limits(1, "openmp"):
        for train, test in StratifiedGroupKFold(5, shuffle=True, random_state=seed).split(X, y, groups):
            model = HistGradientBoostingClassifier(random_state=seed).fit(X[train], y[train])
            proba[np.ix_(test, np.searchsorted(classes, model.classes_))] = model.predict_proba(X[test])
    return proba


def likeness_auc(a: np.ndarray, b: np.ndarray, groups_a: Sequence, groups_b: Sequence,
                 seeds: Sequence[int] = (0, 1, 2)) -> list[float]:
    """Out-of-fold ROC AUC of telling windows `b` from windows `a`, one per fold seed:
    0.5 means indistinguishable, 1.0 perfectly told apart."""
    from sklearn.metrics import roc_auc_score
    X, y = np.vstack([a, b]), np.r_[np.zeros(len(a), int), np.ones(len(b), int)]
    groups = [f"a:{g}" for g in groups_a] + [f"b:{g}" for g in groups_b]
    return [float(roc_auc_score(y, out_of_fold(X, y, groups, s)[:, 1])) for s in seeds]

