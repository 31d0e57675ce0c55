"""A song's arrangement, as the mix's seed songs arrange theirs: which parts sit a section
out, and which parts loop.

Real bands do not play every part all the time, nor something new in every bar. In
freedoom2's songs no line above the bass plays in 23 % of the 4-bar windows (only chords
and pads, or nothing), no bass line in 2 %, no drums in 7 %; one bass bar in six nearly
repeats the bar before, and the lead's second two bars nearly repeat its first two in one
4-bar window in nine (a riff). The station's song form used to play all three
parts throughout, a 2- or 4-bar bass pattern and a lead that never repeats inside a section.

So each seed file is counted when its anchors are made (`counts`, kept with them in the
anchor cache), and a song lets one part sit a section out, a letter's bass loop one bar and
its lead repeat a 2-bar riff, as often as the mix's sets do (radio/music/songwriter.py).

Parts are found as the import finds them, over all their candidate tracks (seeds.classify):
the lead sits out where none of the lead candidates that play a line (under MELODIC of their
notes start over another) plays, for the station's lead is one line and it has no chord
part; the bass where no bass candidate plays. The likeness bench's lead is the single highest
track, which sits out half of freedoom2's windows while guitars and pads play on:
silencing the station's only melodic part that often would thin it to bass and drums.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import note_seq
import numpy as np
from note_seq import sequences_lib

from ..contracts import PARTS, SeedRef
from . import seeds
from .composer import Anchor, set_weight

WINDOW_BARS = 4
MIN_ONSETS = 4          # a window with fewer onsets (all parts) is not counted: nothing plays
MAX_OUT = 0.75          # at most this share of sections has a part sitting out: the song is heard
MELODIC = 0.3           # a lead candidate with fewer notes over another plays a line, not chords
SAME = 0.8              # Jaccard of (step, pitch) onsets at which two bars (halves) nearly repeat
# rows of `counts`: [times, could be]
ROWS = ("lead_out", "bass_out", "drums_out", "bass_loop", "lead_riff")


@dataclasses.dataclass(frozen=True)
class Arrangement:
    """Shares of sections: each part sitting out (at most one a section), a bass that loops
    one bar, a lead that repeats a 2-bar riff. All zero: every part plays, as written."""
    out: dict = dataclasses.field(default_factory=dict)     # part → share
    bass_loop: float = 0.0
    lead_riff: float = 0.0

    def resting(self, rng: np.random.Generator) -> str | None:
        """The part that sits one section out, or None: every part plays."""
        r, edge = rng.random(), 0.0
        for part in PARTS:
            edge += self.out.get(part, 0.0)
            if r < edge:
                return part
        return None


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def counts(ns: note_seq.NoteSequence) -> np.ndarray:
    """[len(ROWS), 2] ints, [times, could be], over the file's 4/4 stretches (each from its
    first tempo): of its 4-bar windows with at least MIN_ONSETS onsets, those each part sits
    out; of its pairs of consecutive bars where the bass plays, those where the second nearly
    repeats the first; of its 4-bar windows where the lead plays in both halves, those where
    the second half nearly repeats the first. All zeros for a file the import keeps nothing of."""
    roles = seeds.classify(seeds.describe_parts(ns))
    out = np.zeros((len(ROWS), 2), np.int64)
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
        bar_s = 4 * 60.0 / qpm
        window_s = WINDOW_BARS * bar_s
        bars = int(np.ceil((piece.total_time - start) / bar_s - 1e-6))
        windows = -(-bars // WINDOW_BARS)
        if bars <= 0:
            continue
        onsets = np.zeros(windows, np.int64)
        sounds = np.zeros((len(PARTS), windows), bool)
        struck = {role: [set() for _ in range(bars)] for role in ("lead", "bass")}   # (step, pitch) per bar
        for n in piece.notes:
            role = next((r for r, k in keys.items() if (n.instrument, n.program, n.is_drum) in k), None)
            if role is None or n.end_time <= start:
                continue
            first = int((max(n.start_time, start) - start) / window_s)
            last = int(np.ceil((n.end_time - start) / window_s - 1e-9))
            sounds[PARTS.index(role), first:min(last, windows)] = True
            if n.start_time >= start:
                step = int(round((n.start_time - start) / (bar_s / 16)))
                if step // 16 < bars:
                    onsets[min(step // 64, windows - 1)] += 1
                    if role in struck:
                        struck[role][step // 16].add((step % 16, n.pitch))
        playing = onsets >= MIN_ONSETS
        out[:len(PARTS), 0] += (~sounds[:, playing]).sum(axis=1)
        out[:len(PARTS), 1] += int(playing.sum())
        bass = struck["bass"]
        pairs = [(a, b) for a, b in zip(bass, bass[1:]) if a and b]
        out[3] += (sum(_jaccard(a, b) >= SAME for a, b in pairs), len(pairs))
        lead = struck["lead"]
        for w in range(0, bars - WINDOW_BARS + 1, WINDOW_BARS):
            halves = [{(16 * (b - h) + s, p) for b in (h, h + 1) for s, p in lead[w + b]} for h in (0, 2)]
            if halves[0] and halves[1]:
                out[4] += (_jaccard(*halves) >= SAME, 1)
    return out


def for_mix(anchors: Sequence[Anchor], weights: dict[str, float] | None) -> Arrangement:
    """The arrangement a mix plays: each set's counts over its files (one count per file,
    whatever its segments), the sets weighted as the mix weighs them (every set alike when
    `weights` is empty); the parts sitting out scaled to at most MAX_OUT in all."""
    per_set: dict[str, np.ndarray] = {}
    seen = set()
    for a in anchors:
        if a.arrangement is None:
            continue
        ref = SeedRef.try_parse(a.label)
        file = ref.stem if ref else a.label
        if file in seen:
            continue
        seen.add(file)
        per_set[a.set] = per_set.get(a.set, 0) + np.asarray(a.arrangement, np.int64)
    total, mix = 0.0, np.zeros(len(ROWS))
    for name, c in per_set.items():
        w = set_weight(weights, name)
        if w > 0:
            mix += w * c[:, 0] / np.maximum(c[:, 1], 1)
            total += w
    if total:
        mix /= total
    out = mix[:len(PARTS)]
    if out.sum() > MAX_OUT:
        out = out * MAX_OUT / out.sum()
    return Arrangement(dict(zip(PARTS, (float(x) for x in out))), float(mix[3]), float(mix[4]))
