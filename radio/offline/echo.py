"""Echo: how much of what a model plays is its training songs played back.

A model fine-tuned on one band's few songs plays more like the band the longer it trains,
while its held-out reconstruction loss rises, and part of that likeness is the set's own
phrases coming back (issue 28; docs/training.md). This measures the second: the model
decodes points where the station's walk stands near the set's encodings (a step of the way
from one segment's encoding towards another's, and a song section's turn away from there),
and each 4-bar window it plays is set against every 4-bar window of the training songs by
the Jaccard index of their lead and bass onsets (role, step in the window, pitch), in any
key: the songs' windows are also moved up and down by up to `KEYS` semitones, since a phrase
played back a tone higher is still played back (the station moves a song's sections into
its key, and a set learned with --transpose has heard its songs in several). The echo
is the median of those nearest indices: how much of a typical window is a training window's.
Over a set it moves smoothly with training, where the share of phrases played back (windows
at or above `NEAR`, four onsets in five shared) jumps window by window. On freedoom2's odd
songs (bench/results/learn-echo-2026-12-06-xeon.txt): 0.14 for the shipped model; the
station played none of their phrases back up to an echo of 0.34, and did from 0.49.
"""

from __future__ import annotations

import types
from typing import Iterable, Sequence

import numpy as np

from ..contracts import STEPS_PER_BAR
from ..model import trio
from ..music.composer import slerp
from ..music.segment import MODEL_QPM
from ..music.songwriter import SECTION_ANGLE, turn
from . import likeness

NEAR = 0.8
KEYS = 6
PITCHED = ("lead", "bass")
WINDOW = likeness.WINDOW_BARS * STEPS_PER_BAR
Onsets = frozenset      # of (role, step in the window, pitch)


def onsets(window: likeness.Parts) -> Onsets:
    """(role, step, pitch) of the lead's and bass's onsets in one window (a note carried in
    from the window before is sound, not an onset)."""
    return frozenset((role, s, p) for role in PITCHED for s, _, p in window.get(role, ()) if s >= 0)


def _parts(sequence) -> likeness.Parts:
    """A 16-bar sequence at the converter's tempo as parts on the 16th grid."""
    return likeness.parts_from_segments([types.SimpleNamespace(sequence=sequence, qpm=MODEL_QPM, bars=16)])


def song_windows(sequences: Iterable) -> list[Onsets]:
    """Every 4-bar window (each start bar) of 16-bar training sequences, with enough onsets."""
    out = []
    for seq in sequences:
        notes = onsets(_parts(seq))
        for start in range(0, (16 - likeness.WINDOW_BARS + 1) * STEPS_PER_BAR, STEPS_PER_BAR):
            found = frozenset((r, s - start, p) for r, s, p in notes if start <= s < start + WINDOW)
            if len(found) >= likeness.MIN_ONSETS:
                out.append(found)
    return out


def in_every_key(windows: Sequence[Onsets], keys: int = KEYS) -> list[Onsets]:
    """The windows as they are and moved by ±1…±`keys` semitones, lead and bass together."""
    return [frozenset((r, s, p + k) for r, s, p in w) for k in range(-keys, keys + 1) for w in windows]


def played_windows(parts: likeness.Parts) -> list[Onsets]:
    """The 4-bar windows of played music, one every 4 bars, as a listener hears them."""
    return [found for w in likeness.cut(parts) if len(found := onsets(w)) >= likeness.MIN_ONSETS]


def nearest(windows: Sequence[Onsets], songs: Sequence[Onsets]) -> np.ndarray:
    """Each window's highest Jaccard index against the songs' windows (shared onsets counted
    as one sparse product: pairs of sets in Python took seconds a judgement)."""
    if not windows or not songs:
        return np.zeros(len(windows))
    from scipy.sparse import csr_matrix
    columns: dict = {}
    rows = []
    for group in (windows, songs):
        r, c = zip(*[(i, columns.setdefault(o, len(columns))) for i, w in enumerate(group) for o in w])
        rows.append((r, c, len(group)))
    a, b = (csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=(n, len(columns))) for r, c, n in rows)
    shared = (a @ b.T).toarray()
    sizes_a, sizes_b = np.array([len(w) for w in windows]), np.array([len(s) for s in songs])
    return (shared / (sizes_a[:, None] + sizes_b[None, :] - shared)).max(axis=1)


def share(best: np.ndarray, at: float = NEAR) -> float:
    return float(np.mean(best >= at)) if len(best) else 0.0


def walk_points(z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Where the station's song form stands among these encodings, taken in pairs: a song's
    home a step of the way (up to a quarter) from one towards the other, and a section
    turned away from it."""
    out = []
    for i in range(0, len(z) - 1, 2):
        home = slerp(z[i], z[i + 1], float(rng.uniform(0.0, 0.25)))
        out += [home, turn(home, SECTION_ANGLE, rng)]
    return np.asarray(out, np.float32)


class EchoJudge:
    """The echo of a model on a set's training segments: `judge(model)` decodes `points`
    walk points (two sequences each) at `temperature` from a fixed seed, so two judgements
    differ by the weights alone (48 points: ±0.03 between seeds, 3-6 s on 2 cores)."""

    def __init__(self, segments: Sequence, points: int = 48, temperature: float = 1.0, seed: int = 0):
        kept = [s for s in segments if not getattr(s, "transpose", 0)]   # copies are not songs
        self.tensors = [s.tensor for s in kept]
        self.songs = in_every_key(song_windows(s.sequence for s in kept))
        self.points, self.temperature, self.seed = points, temperature, seed

    def judge(self, model) -> float:
        """The median over the model's windows of the nearest training window's Jaccard index."""
        rng = np.random.default_rng(self.seed)
        pick = rng.choice(len(self.tensors), 2 * self.points, replace=len(self.tensors) < 2 * self.points)
        z = walk_points(model.encode([self.tensors[i] for i in pick]), rng)
        played = [w for seq in trio.to_sequences(model.decode_ids(z, self.temperature, rng=rng))
                  for w in played_windows(_parts(seq))]
        return round(float(np.median(nearest(played, self.songs))), 3) if played else 0.0
