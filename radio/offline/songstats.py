"""Measurements of song structure, to compare the station's songs with real band music.

A song is more than a string of segments: real songs bring phrases back (a chorus, a
riff), keep a groove from bar to bar and stay in a key. These figures put numbers on
that, over whole songs: how often a 4-bar lead phrase comes back nearly note for note,
how alike consecutive bars' rhythms are, how well the lead fits one scale.

Everything works on notes on a 16th-step grid: a part is a list of `(step, pitch)` with
`step` the global sixteenth from the song's start (4/4, bar = step // 16). `from_sequence`
and `from_midi_file` make those lists from a station NoteSequence and a real MIDI file.
Offline tooling (benches, tests): the station never imports it.
"""

from __future__ import annotations

import statistics
from typing import Iterable, Sequence

from ..band.parts import CompleteError, TempoMap, find_parts, read_input
from ..contracts import PARTS, STEPS_PER_BAR, part_of
from ..music import keys

Notes = list[tuple[int, int]]           # (global sixteenth step, pitch)



def _jaccard(a: set, b: set) -> float:
    union = a | b
    return len(a & b) / len(union) if union else 1.0


# -- repetition of phrases ------------------------------------------------------------
def windows(lead: Iterable[tuple[int, int]], window_bars: int = 4) -> list[set[tuple[int, int]]]:
    """The lead cut into windows of `window_bars` bars, one starting every `window_bars`
    bars: each the set of (step within the window, pitch) of the notes starting in it."""
    size = window_bars * STEPS_PER_BAR
    out: list[set[tuple[int, int]]] = []
    for step, pitch in lead:
        if step < 0:
            continue
        i = step // size
        out.extend(set() for _ in range(i + 1 - len(out)))
        out[i].add((step - i * size, pitch))
    return out


def near_copy_share(lead: Sequence[tuple[int, int]], window_bars: int = 4, threshold: float = 0.8,
                    min_notes: int = 4) -> float | None:
    """Share of the lead's windows (those with ≥ `min_notes` notes) that another window of
    the song copies nearly: Jaccard ≥ `threshold` on (step, pitch), so a transposed copy
    does not count. Windows start every `window_bars` bars, so no two overlap. None when
    fewer than two windows are kept."""
    kept = [w for w in windows(lead, window_bars) if len(w) >= min_notes]
    if len(kept) < 2:
        return None
    copied = sum(any(_jaccard(w, v) >= threshold for j, v in enumerate(kept) if j != i)
                 for i, w in enumerate(kept))
    return copied / len(kept)


# -- groove from bar to bar ------------------------------------------------------------
def bar_similarity(part: Sequence[tuple[int, int]]) -> list[float]:
    """Jaccard of consecutive bars' onset steps (0..15, pitch ignored), for each pair of
    bars where at least one of the two plays."""
    bars: list[set[int]] = []
    for step, _ in part:
        if step < 0:
            continue
        b = step // STEPS_PER_BAR
        bars.extend(set() for _ in range(b + 1 - len(bars)))
        bars[b].add(step % STEPS_PER_BAR)
    return [_jaccard(a, b) for a, b in zip(bars, bars[1:]) if a or b]


def median_bar_similarity(part: Sequence[tuple[int, int]]) -> float | None:
    sims = bar_similarity(part)
    return statistics.median(sims) if sims else None


# -- key ------------------------------------------------------------------------------
def key_fit(lead: Sequence[tuple[int, int]]) -> tuple[float, str]:
    """The share of lead notes in the best-fitting major or natural-minor scale (24 keys,
    music/keys.py) and that key's name ("A minor"). An empty lead gives (0.0, "")."""
    if not lead:
        return 0.0, ""
    tonic, mode, fit = keys.best_key(keys.histogram(pitch for _, pitch in lead))
    return fit, keys.key_name(tonic, mode)


# -- notes from sequences and files ---------------------------------------------------
def _sorted_parts(parts: dict[str, Notes]) -> dict[str, Notes]:
    return {role: sorted(notes) for role, notes in parts.items()}


def from_sequence(ns, qpm: float | None = None) -> dict[str, Notes]:
    """A station NoteSequence (instrument 0 lead, 1 bass, drums on 9) at a constant tempo
    (default: its first tempo, else 120 qpm) as {part: [(step, pitch)]}, all three parts."""
    if qpm is None:
        qpm = ns.tempos[0].qpm if ns.tempos else 120.0
    out: dict[str, Notes] = {p: [] for p in PARTS}
    for n in ns.notes:
        out[part_of(n)].append((round(n.start_time * qpm / 15.0), n.pitch))
    return _sorted_parts(out)


def _read(data: bytes):
    """(NoteSequence, TempoMap) of a MIDI file; None if it is not 4/4, empty or unreadable."""
    try:
        ns = read_input(data)
    except CompleteError:
        return None
    return ns, TempoMap(ns.tempos)


def from_midi_file(data: bytes) -> dict[str, Notes] | None:
    """A real MIDI file's parts, found by role as band completion finds them, on the grid
    through its tempo map. Only the roles the file has; None if it is not 4/4, empty or
    unreadable."""
    read = _read(data)
    if read is None:
        return None
    ns, tempo = read
    out: dict[str, Notes] = {}
    for role in PARTS:
        try:
            kept = find_parts(ns, [role])[role]
        except CompleteError:
            continue
        out[role] = [(round(tempo.beats(n.start_time) * 4), n.pitch) for n in kept.notes]
    return _sorted_parts(out)


def grid_share(data: bytes, tolerance: float = 0.15) -> float | None:
    """Share of a MIDI file's note onsets within `tolerance` sixteenths of the grid its tempo
    map gives (None as from_midi_file). Near 0.3 means the grid is not the music's: files
    converted from Doom's MUS keep real-time ticks under a nominal tempo, so a 16th there is
    14, 17 or 21 ticks, not the 89 / 4 that the marked 95 qpm implies."""
    read = _read(data)
    if read is None:
        return None
    ns, tempo = read
    offs = [abs(b - round(b)) for b in (tempo.beats(n.start_time) * 4 for n in ns.notes)]
    return sum(o <= tolerance for o in offs) / len(offs)
