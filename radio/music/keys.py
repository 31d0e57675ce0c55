"""Keys as scales: which major or natural-minor scale fits a set of pitches best.

A song holds its key: its sections, decoded from different latent points, are moved to
the key of its first section (songwriter.py), and bench/songs.py measures how well the
lead fits one scale over a whole song.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)


def scale(tonic: int, mode: str) -> frozenset[int]:
    return frozenset((tonic + step) % 12 for step in (MAJOR if mode == "major" else MINOR))


def histogram(pitches: Iterable[int], weights: Iterable[float] | None = None) -> np.ndarray:
    h = np.zeros(12)
    for p, w in zip(pitches, weights if weights is not None else iter(lambda: 1.0, None)):
        h[p % 12] += w
    return h


def best_key(h: np.ndarray) -> tuple[int, str, float]:
    """(tonic 0–11, "major" | "minor", share of the weight in its scale) for a pitch-class
    histogram. Relative keys share a scale: the tie goes to the key whose tonic weighs
    most, then to major and the lower tonic."""
    total = float(h.sum()) or 1.0
    best, score = (0, "major", 0.0), (-1.0, -1.0)
    for mode in ("major", "minor"):
        for tonic in range(12):
            here = (round(sum(h[pc] for pc in scale(tonic, mode)), 9), float(h[tonic]))
            if here > score:
                best, score = (tonic, mode, here[0] / total), here
    return best


def key_name(tonic: int, mode: str) -> str:
    return f"{NAMES[tonic]} {mode}"


def shift_into(h: np.ndarray, target: frozenset[int]) -> int:
    """The transposition (−5…+6 semitones, smallest first on ties) that puts most of the
    histogram's weight into the `target` scale."""
    shifts = sorted(range(-5, 7), key=abs)
    return max(shifts, key=lambda s: (sum(h[(pc - s) % 12] for pc in target), -abs(s)))
