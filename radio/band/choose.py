"""Choosing among sampled completions: the one whose new parts fit the kept part best."""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from ..contracts import PARTS, STEPS_PER_BAR
from .tokens import MELODY_LOW, MELODY_NOTE_OFF

# The hierdec decoder samples its parts independently given z, so a lead drawn from a z
# that explains the bass line still meets it only through z: measured on held-out bass
# lines, its onsets over the bass land on a consonant interval about as often as a
# random lead's (0.51–0.55, see bench/complete.py). So several completions are sampled
# from the best few z and the one that fits the kept part best is played: the attribute
# constraints of Engel et al. (there a learned critic on z; here measured on the samples).

CONSONANT = frozenset({0, 3, 4, 7, 8, 9})   # interval classes: unison/octave, thirds, fifth, sixths


@dataclasses.dataclass
class Choose:
    """Samples drawn per window and how the fit weighs them. Every number is a choice, made
    on bench/complete.py's held-out bass lines (the bench's excerpts, so it measures what
    was tuned on; see its results for the rows before and after)."""
    samples: int = 8              # per z, from each of the search's keep_best z (32 in all)
    consonance: float = 2.0       # weight of lead onsets over the bass on a consonant interval
    unison: float = 0.35          # share of lead onsets on the bass's pitch class tolerated ...
    one_pitch: float = 0.10       # ... of lead bars holding one pitch ...
    repeated: float = 0.15        # ... of lead notes repeating the previous one
    penalty: float = 1.5          # fit lost per unit over those allowances
    drums_on_bass: float = 0.5    # weight of bass onsets met by a drum onset (up to 0.9)
    presence: float = 0.5         # weight of bars where each new part plays (up to 0.8)


def _sounding(tokens: np.ndarray) -> np.ndarray:
    """The pitch sounding at each step of a melody token line (-1: none)."""
    out = np.full(len(tokens), -1)
    current = -1
    for i, t in enumerate(tokens):
        if t >= 2:
            current = t - 2 + MELODY_LOW
        elif t == MELODY_NOTE_OFF:
            current = -1
        out[i] = current
    return out


def fit(parts: dict[str, np.ndarray], new: Sequence[str], choose: Choose = Choose()) -> float:
    """How well one completion's parts (token lines of equal length, kept and new) play
    together: the lead's onsets over the bass on consonant intervals, minus what exceeds
    the unison, one-pitch-bar and repeated-note allowances; bass onsets met by drums; bars
    where the new parts play."""
    lead, bass, drums = parts["lead"], parts["bass"], parts["drums"]
    bars = max(1, len(lead) // STEPS_PER_BAR)
    score = 0.0
    under = _sounding(bass)
    onsets = np.flatnonzero(lead >= 2)
    pitches = lead[onsets] - 2 + MELODY_LOW
    over = under[onsets] >= 0
    if over.any():
        ic = (pitches[over] - under[onsets][over]) % 12
        score += choose.consonance * float(np.mean([i in CONSONANT for i in ic]))
        score -= choose.penalty * max(0.0, float(np.mean(ic == 0)) - choose.unison)
    if "lead" in new and len(pitches):
        sounding = _sounding(lead)     # a note held into a bar sounds in it, as musicstats counts
        bar_sets = [set(sounding[b * STEPS_PER_BAR:(b + 1) * STEPS_PER_BAR]) - {-1} for b in range(bars)]
        played = [x for x in bar_sets if x]
        score -= choose.penalty * max(0.0, float(np.mean([len(x) <= 1 for x in played])) - choose.one_pitch)
        if len(pitches) > 1:
            score -= choose.penalty * max(0.0, float(np.mean(pitches[1:] == pitches[:-1])) - choose.repeated)
    bass_onsets = np.flatnonzero(bass >= 2)
    if len(bass_onsets) and ("drums" in new or "bass" in new):
        score += choose.drums_on_bass * min(0.9, float(np.mean(drums[bass_onsets] > 0)))
    for role in new:
        line = parts[role]
        sounding = line > 0 if role == "drums" else line >= 2
        score += choose.presence * min(0.8, float(np.mean(sounding.reshape(bars, -1).any(axis=1))))
    return score


def choose_sample(model, zs: np.ndarray, tokens: dict[str, np.ndarray], missing: Sequence[str],
                  temperature: float, steps: int, choose: Choose = Choose()) -> tuple[np.ndarray, float]:
    """Samples `choose.samples` completions from each row of zs and returns the token ids
    [3, 1, steps] of the best fitting one (kept parts as given) and its fit.

    Given z the decoder samples each part on its own, so the lead (and bass) of one sample
    and the drums of another sample of the same z are as much a draw from the model as
    either sample: per z the pitched parts are chosen first, then the drums that fit them
    best, from all of that z's samples."""
    n = choose.samples
    z = np.repeat(np.asarray(zs, np.float32), n, axis=0)
    ids = model.decode_ids(z, temperature, steps)                  # [3, len(zs) * n, steps]
    drums = PARTS.index("drums")

    def parts(pitched: int, drum: int) -> dict[str, np.ndarray]:
        return {r: tokens[r] if r in tokens else ids[k, drum if k == drums else pitched]
                for k, r in enumerate(PARTS)}

    best, best_fit = (0, 0), -np.inf
    for group in range(len(zs)):
        members = range(group * n, (group + 1) * n)
        pitched = max(members, key=lambda i: fit(parts(i, i), missing, choose))
        drum = max(members, key=lambda j: fit(parts(pitched, j), missing, choose)) \
            if "drums" in missing else pitched
        f = fit(parts(pitched, drum), missing, choose)
        if f > best_fit:
            best, best_fit = (pitched, drum), f
    out = ids[:, best[0]:best[0] + 1].copy()
    out[drums] = ids[drums, best[1]:best[1] + 1]
    return out, best_fit
