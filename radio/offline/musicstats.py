"""Statistics of trio NoteSequences, for comparing a model's output with its data.

All take sequences at the model's grid (16 bars, 16 steps a bar) and, unless `qpm` says
otherwise, 120 qpm (what the converter and the model write).
"""

from __future__ import annotations

import numpy as np

from ..contracts import BASS, CHANNEL, LEAD, part_of
from ..model.trio import DRUM_CLASS  # the trio's 9 drum classes

BARS, STEPS = 16, 16


def _step_s(qpm: float) -> float:
    return 60.0 / qpm / 4


def parts(ns) -> set[str]:
    return {part_of(n) for n in ns.notes}


def pitches_per_bar(ns, instrument: int, qpm: float = 120.0) -> list[int]:
    """Distinct pitches each bar of one part starts."""
    bar_s = 16 * _step_s(qpm)
    out = [set() for _ in range(BARS)]
    for n in ns.notes:
        if not n.is_drum and n.instrument == instrument:
            bar = int(n.start_time / bar_s + 1e-6)
            if 0 <= bar < BARS:
                out[bar].add(n.pitch)
    return [len(s) for s in out]


def drum_eighths_share(ns, qpm: float = 120.0) -> float:
    """Share of drum onsets on the eighth-note grid (grooves sit mostly there; noise spreads
    evenly over the sixteenths, so it scores about 0.5)."""
    steps = [round(n.start_time / _step_s(qpm)) for n in ns.notes if n.is_drum]
    return float(np.mean([s % 2 == 0 for s in steps])) if steps else float("nan")


def summary(sequences, qpm: float = 120.0) -> dict[str, float]:
    """Means over sequences: all three parts sounding, drum onsets on eighths, distinct
    pitches per bar (lead, bass), share of lead/bass bars with ≤ 1 pitch, notes per bar."""
    sequences = list(sequences)
    lead = [pitches_per_bar(ns, LEAD, qpm) for ns in sequences]
    bass = [pitches_per_bar(ns, BASS, qpm) for ns in sequences]
    single = [c <= 1 for rows in (lead, bass) for row in rows for c in row]
    drums = [drum_eighths_share(ns, qpm) for ns in sequences]
    counts = {p: np.mean([sum(1 for n in ns.notes if part_of(n) == p)
                          for ns in sequences]) / BARS for p in ("lead", "bass", "drums")}
    return {
        "all three parts": float(np.mean([parts(ns) == {"lead", "bass", "drums"} for ns in sequences])),
        "drum onsets on eighths": float(np.nanmean(drums)) if not np.all(np.isnan(drums)) else float("nan"),
        "lead pitches/bar": float(np.mean(lead)),
        "bass pitches/bar": float(np.mean(bass)),
        "bars with ≤1 pitch": float(np.mean(single)),
        "lead notes/bar": float(counts["lead"]),
        "bass notes/bar": float(counts["bass"]),
        "drum notes/bar": float(counts["drums"]),
    }


# ── Band statistics: the station beside real band music ─────────────────────────────────
# Each takes a trio NoteSequence (lead = instrument 0, bass 1, drums is_drum) timed at
# `qpm` with `bars` bars of 4/4 (default: as many as its notes reach). Times are read on
# the sixteenth-note grid (nearest step), so humanized output is binned like the score.

KICKS = {35, 36}
MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
SCALES = [frozenset((root + d) % 12 for d in steps) for steps in (MAJOR, MINOR) for root in range(12)]


def _steps(n, qpm: float) -> tuple[int, int]:
    s = round(n.start_time / _step_s(qpm))
    return s, max(s + 1, round(n.end_time / _step_s(qpm)))


def bar_count(ns, qpm: float = 120.0, bars: int | None = None) -> int:
    if bars is not None:
        return bars
    return int(np.ceil(max((_steps(n, qpm)[1] for n in ns.notes), default=0) / STEPS - 1e-9))


def lead_pitch_sets(ns, qpm: float = 120.0, bars: int | None = None) -> list[set[int]]:
    """Per bar, the lead pitches sounding in it (held over from before counts); empty where
    the lead is silent."""
    bars = bar_count(ns, qpm, bars)
    out = [set() for _ in range(bars)]
    for n in ns.notes:
        if n.is_drum or n.instrument != LEAD:
            continue
        s, e = _steps(n, qpm)
        for b in range(max(0, s // STEPS), min(bars, (e - 1) // STEPS + 1)):
            out[b].add(n.pitch)
    return out


def lead_onsets(ns, qpm: float = 120.0) -> list[tuple[int, int]]:
    """(step, pitch) of the lead's onsets in time order (the higher first at one step)."""
    return sorted(((_steps(n, qpm)[0], n.pitch) for n in ns.notes
                   if not n.is_drum and n.instrument == LEAD), key=lambda x: (x[0], -x[1]))


def drum_bar_sets(ns, qpm: float = 120.0, bars: int | None = None) -> list[set[int]]:
    """Per bar, the drum pitches struck in it (raw GM numbers); empty where drums are silent."""
    bars = bar_count(ns, qpm, bars)
    out = [set() for _ in range(bars)]
    for n in ns.notes:
        if n.is_drum:
            b = _steps(n, qpm)[0] // STEPS
            if 0 <= b < bars:
                out[b].add(n.pitch)
    return out


def scale_fit_counts(ns, qpm: float = 120.0, bars: int | None = None,
                     window: int = 16) -> tuple[int, int]:
    """(lead notes in the best-fitting of the 24 major/minor scales, lead notes), summed
    over `window`-bar windows, each window with its own best scale."""
    bars = bar_count(ns, qpm, bars)
    hits = total = 0
    for w in range(0, max(bars, 1), window):
        pcs = [p % 12 for s, p in lead_onsets(ns, qpm) if w * STEPS <= s < (w + window) * STEPS]
        if pcs:
            hits += max(sum(pc in scale for pc in pcs) for scale in SCALES)
            total += len(pcs)
    return hits, total


def band_stats(sequences, qpm: float = 120.0, bars: int | None = None) -> dict[str, float]:
    """The station-versus-real-music table, pooled over `sequences` (every bar of every
    sequence counts once; medians over bars where the part sounds)."""
    lead_sets, drum_sets, repeats, silent, fit = [], [], [], [], [0, 0]
    for ns in sequences:
        sets = lead_pitch_sets(ns, qpm, bars)
        lead_sets += [s for s in sets if s]
        silent += [not s for s in sets]
        drum_sets += [s for s in drum_bar_sets(ns, qpm, bars) if s]
        pitches = [p for _, p in lead_onsets(ns, qpm)]
        repeats += [a == b for a, b in zip(pitches, pitches[1:])]
        h, t = scale_fit_counts(ns, qpm, bars)
        fit[0] += h
        fit[1] += t

    def share(xs):
        return float(np.mean(xs)) if len(xs) else float("nan")

    return {
        "lead one-pitch bars": share([len(s) <= 1 for s in lead_sets]),
        "lead repeated notes": share(repeats),
        "lead distinct pitches/bar (median)": float(np.median([len(s) for s in lead_sets])) if lead_sets else float("nan"),
        "bars with a kick": share([bool(s & KICKS) for s in drum_sets]),
        "drum sounds/bar (median)": float(np.median([len({DRUM_CLASS[p] for p in s if p in DRUM_CLASS})
                                                     for s in drum_sets])) if drum_sets else float("nan"),
        "lead silent bars": share(silent),
        "lead scale fit": fit[0] / fit[1] if fit[1] else float("nan"),
    }


# Goals (issue 13): the range each row of band_stats should fall in.
GOALS = {
    "lead one-pitch bars": (0.05, 0.25),
    "lead repeated notes": (0.08, 0.30),
    "lead distinct pitches/bar (median)": (3, 5),
    "bars with a kick": (0.60, 0.95),
    "drum sounds/bar (median)": (4, 7),
    "lead silent bars": (0.0, 0.25),
    "lead scale fit": (0.85, 1.0),
}


# A mix of one band's set is judged against that band's own figures (issue 26): freedoom2
# has kicks in 95 % of bars and 3 drum sounds a bar, outside the default mix's GOALS.
OWN_TOLERANCE = {"share": 0.15, "median": 1.0}


def goals_like(band: dict[str, float]) -> dict[str, tuple[float, float]]:
    """Goal ranges around a band's own band_stats: a share within ±0.15 (kept in 0…1), a
    median within ±1; a figure the band lacks (NaN) sets no goal."""
    out = {}
    for stat, value in band.items():
        if np.isnan(value):
            continue
        if "median" in stat:
            out[stat] = (value - OWN_TOLERANCE["median"], value + OWN_TOLERANCE["median"])
        else:
            out[stat] = (max(0.0, value - OWN_TOLERANCE["share"]), min(1.0, value + OWN_TOLERANCE["share"]))
    return out


def meets(stat: str, value: float, goals: dict | None = None) -> bool:
    lo, hi = (GOALS if goals is None else goals)[stat]
    return bool(lo <= value <= hi)


def joined(segments):
    """Consecutive station segments (`.sequence`, `.bars`, `.beat_at`) as one NoteSequence at
    120 qpm, parts on their trio instruments (lead, bass, drums): what band_stats reads."""
    import note_seq
    ns, offset = note_seq.NoteSequence(), 0.0
    ns.tempos.add(qpm=120)
    for seg in segments:
        for n in seg.sequence.notes:
            m = ns.notes.add()
            m.CopyFrom(n)
            m.instrument = CHANNEL[part_of(n)]
            m.start_time = (offset + seg.beat_at(n.start_time)) * 0.5
            m.end_time = (offset + seg.beat_at(n.end_time)) * 0.5
        offset += seg.bars * 4
    return ns
