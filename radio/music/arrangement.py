"""Which parts a band leaves out, and for how long: a song's arrangement.

Real bands do not play every part all the time: in freedoom2's songs no line above the
bass plays in 23 % of the 4-bar windows (only chords and pads, or nothing), no bass line in
2 %, no drums in 7 %; the station's song form used to play all three throughout (only its
4-bar intro has no lead). So a seed file's arrangement is counted when its anchors are
made: of its 4-bar windows where something plays, in how many each part sits out. A song
then lets one part sit out a section with the mix's sets' rates (radio/music/songwriter.py).

Each part is counted as the import finds it, over all its candidate tracks (seeds.classify):
the lead sits out where none of the lead candidates that play a line (under MELODIC of
their notes start over another) plays, for the station's lead is one line and it has no
chord part; the bass where no bass candidate plays. The likeness bench's lead is the single
highest track, which sits out half of freedoom2's windows while guitars and pads play on:
silencing the station's only melodic part that often would thin it to bass and drums.
"""

from __future__ import annotations

from typing import Sequence

import note_seq
import numpy as np
from note_seq import sequences_lib

from ..contracts import PARTS, SeedRef
from . import seeds
from .composer import Anchor

WINDOW_BARS = 4
MIN_ONSETS = 4          # a window with fewer onsets (all parts) is not counted: nothing plays
MAX_OUT = 0.75          # at most this share of sections has a part sitting out: the song is heard
MELODIC = 0.3           # a lead candidate with fewer notes over another plays a line, not chords


def sitting_out(ns: note_seq.NoteSequence) -> np.ndarray:
    """[lead, bass, drums, windows] (int): of the file's 4-bar windows (4/4 stretches, from
    each stretch's first tempo) with at least MIN_ONSETS onsets, how many each part sits out.
    All zeros for a file without all three parts (the import keeps none of it)."""
    roles = seeds.classify(seeds.describe_parts(ns))
    out = np.zeros(len(PARTS) + 1, np.int64)
    if not (roles.lead and roles.bass and roles.drums):
        return out
    lines = [p for p in roles.leads if p.polyphony < MELODIC]
    tracks = {"lead": lines or roles.leads, "bass": roles.basses, "drums": roles.drums}
    keys = {role: {(p.instrument, p.program, p.is_drum) for p in parts} for role, parts in tracks.items()}
    for piece in sequences_lib.split_note_sequence_on_time_changes(ns):
        if any((ts.numerator, ts.denominator) != (4, 4) for ts in piece.time_signatures):
            continue
        qpm = piece.tempos[0].qpm if piece.tempos else 120.0
        start = piece.tempos[0].time if piece.tempos else 0.0
        window_s = WINDOW_BARS * 4 * 60.0 / qpm
        count = int(np.ceil((piece.total_time - start) / window_s - 1e-6))
        if count <= 0:
            continue
        onsets = np.zeros(count, np.int64)
        sounds = np.zeros((len(PARTS), count), bool)
        for n in piece.notes:
            role = next((r for r, k in keys.items() if (n.instrument, n.program, n.is_drum) in k), None)
            if role is None or n.end_time <= start:
                continue
            first = int((max(n.start_time, start) - start) / window_s)
            last = int(np.ceil((n.end_time - start) / window_s - 1e-9))
            if n.start_time >= start and first < count:
                onsets[first] += 1
            sounds[PARTS.index(role), first:min(last, count)] = True
        playing = onsets >= MIN_ONSETS
        out[:len(PARTS)] += (~sounds[:, playing]).sum(axis=1)
        out[len(PARTS)] += int(playing.sum())
    return out


def rates(anchors: Sequence[Anchor], weights: dict[str, float] | None) -> dict[str, float]:
    """The share of sections in which each part sits out for a mix: each set's counts over
    its files (one count per file, whatever its segments), the sets weighted as the mix
    weighs them (every set alike when `weights` is empty), scaled to at most MAX_OUT in all."""
    per_set: dict[str, np.ndarray] = {}
    seen = set()
    for a in anchors:
        if a.sits_out is None:
            continue
        ref = SeedRef.try_parse(a.label)
        file = ref.stem if ref else a.label
        if file in seen:
            continue
        seen.add(file)
        per_set[a.set] = per_set.get(a.set, 0) + np.asarray(a.sits_out, np.int64)
    total, mix = 0.0, np.zeros(len(PARTS))
    for name, counts in per_set.items():
        w = weights.get(name, 0.0) if weights else 1.0
        if w > 0 and counts[-1] > 0:
            mix += w * counts[:-1] / counts[-1]
            total += w
    if total:
        mix /= total
    if mix.sum() > MAX_OUT:
        mix *= MAX_OUT / mix.sum()
    return dict(zip(PARTS, (float(x) for x in mix)))


def draw(rates: dict[str, float], rng: np.random.Generator) -> str | None:
    """The part that sits out one section (at most one), or None: every part plays."""
    r, edge = rng.random(), 0.0
    for part in PARTS:
        edge += rates.get(part, 0.0)
        if r < edge:
            return part
    return None
