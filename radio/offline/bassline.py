"""Band-style bass lines from a song's chords, for the corpus.

mma's grooves play their bass sparse and short: 2–4.5 notes a bar, silent 35–75 % of the
time (measured on the 2026 corpus), where real band MIDI (freedoom2, held out) plays 6–8
notes a bar and is silent 2 %. A model trained on mma's lines decodes a band's driving bass
into a sparse one (docs/likeness.md). So most corpus songs take a line written here the way
bass players play under a tune: roots in eighths with fifths, octaves and approach notes
into a chord change; walking quarters in jazz and swing. Notes are legato, in 16th steps.
"""

from __future__ import annotations

import random

from ..contracts import RadioError

Chord = tuple[int, str]          # (root pitch class, quality) as in corpus.py
Note = tuple[int, int, int]      # (MIDI pitch, start step, end step)

STYLES = ("eighths", "root-fifth", "walking")
# The line each style family takes; the others keep mma's (see `pick`).
FAMILY_STYLES = {
    "ballad": ("root-fifth",), "blues": ("walking", "eighths"), "country": ("root-fifth", "eighths"),
    "funk": ("eighths",), "jazz": ("walking",), "latin": ("root-fifth",), "pop": ("eighths", "root-fifth"),
    "rock": ("eighths",), "ska": ("eighths", "walking"), "swing": ("walking",),
}
SHARE = 0.75                     # of the songs play a line from here; the rest keep mma's
LOW, HIGH = 28, 50               # E1 … D3: where the line's roots sit
MINOR_THIRD = {"m", "m7", "m6", "dim"}


class BassStyleError(RadioError, ValueError):
    """A bass style this module does not write."""


def pick(style: str, seed: int) -> str:
    """The bass a song of family `style` plays: one of STYLES, or "" for its groove's own.
    Drawn from the song's seed alone, so adding it changes nothing else in a corpus."""
    rng = random.Random(seed ^ 0x6261_7373)       # "bass"
    if rng.random() >= SHARE:
        return ""
    options = FAMILY_STYLES.get(style, ("eighths",))
    return options[int(rng.random() * len(options))]


def _near(pc: int, previous: int) -> int:
    """Pitch class `pc` in the octave nearest `previous`, kept within LOW…HIGH."""
    pitch = previous + ((pc - previous + 6) % 12) - 6
    while pitch < LOW:
        pitch += 12
    while pitch > HIGH:
        pitch -= 12
    return pitch


def _third(quality: str) -> int:
    return 3 if quality in MINOR_THIRD else 4


def _fifth(quality: str) -> int:
    return 6 if quality == "dim" else 8 if quality == "aug" else 7


def _approach(target: int, rng: random.Random) -> int:
    """A note leading into `target`: a semitone or a whole tone below or above."""
    return target + rng.choice((-1, 1, -2, 2))


def line(chords: list[list[Chord]], style: str, seed: int) -> list[Note]:
    """The bass line of `style` under `chords` (per bar, one chord a beat), in 16th steps."""
    if style not in STYLES:
        raise BassStyleError(f"unknown bass style {style!r}: one of {', '.join(STYLES)}")
    rng = random.Random(seed)
    flat = [c for bar in chords for c in bar]                  # one chord a beat
    beats = len(flat)
    if not beats:
        return []
    step = 4 if style == "walking" else 2                      # a quarter or an eighth
    per_beat = 4 // step
    notes: list[Note] = []
    root = _near(flat[0][0], 36)
    for b, (pc, quality) in enumerate(flat):
        fresh = b == 0 or flat[b - 1][0] != pc               # the chord changed on this beat
        if fresh and b:
            root = _near(pc, root)
        changes = b + 1 < beats and flat[b + 1][0] != pc     # …or changes on the next
        nxt = _near(flat[b + 1][0], root) if b + 1 < beats else root
        beat_in_bar = b % 4
        for k in range(per_beat):
            last = k == per_beat - 1
            if style == "walking":
                if beat_in_bar == 0 or fresh:
                    pitch = root
                elif changes or (beat_in_bar == 3 and b + 1 < beats):
                    pitch = _approach(nxt, rng)
                else:
                    pitch = root + rng.choice((_third(quality), _fifth(quality)))
            else:
                pitch = root
                if style == "root-fifth" and beat_in_bar == 2 and not fresh:
                    pitch = root + _fifth(quality)
                elif style == "eighths" and k == 1 and beat_in_bar in (1, 3) and rng.random() < 0.15:
                    pitch = root + 12
                if last and changes and rng.random() < (0.5 if style == "root-fifth" else 0.4):
                    pitch = _approach(nxt, rng)
            start = (b * per_beat + k) * step
            notes.append((pitch, start, start + step))
    return notes
