"""Builds trio seed MIDI offline: Debian's `mma` plays drums and bass, we write the lead.

mma turns a chord progression and a named groove into a full backing band. We keep its
drum and bass tracks only (its comping tracks would confuse the trio extractor) and add a
lead line written here from the same chords: chord tones on strong beats, scale steps in
between, phrases of four bars that repeat with variation, as folk and pop tunes do.
"""

from __future__ import annotations

import dataclasses
import random
import shutil
import subprocess
import tempfile
from pathlib import Path

import note_seq

# Grooves (4/4, with a bass part) grouped by style family; names as `mma -G` lists them.
GROOVES: dict[str, list[str]] = {
    "rock": ["Rock128", "SoftRock", "8Beat", "FolkRock", "50sRock", "BasicRock"],
    "ska": ["Ska", "Ska1"],
    "country": ["CountrySwing", "BlueGrass"],
    "latin": ["BossaNova", "Salsa", "Samba"],
    "swing": ["Swing", "JazzCombo"],
    "ballad": ["PopBallad", "Ballad"],
}

NOTE_NAMES = ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
MAJOR_SCALE = [0, 2, 4, 5, 7, 9, 11]
# Progressions as (scale degree offset in semitones, quality); four bars each.
PROGRESSIONS = [
    [(0, ""), (9, "m"), (5, ""), (7, "7")],
    [(0, ""), (7, ""), (9, "m"), (5, "")],
    [(0, ""), (5, ""), (0, ""), (7, "7")],
    [(2, "m7"), (7, "7"), (0, "maj7"), (0, "maj7")],
    [(0, ""), (0, ""), (5, ""), (7, "")],
    [(9, "m"), (5, ""), (0, ""), (7, "")],
]
CHORD_TONES = {"": [0, 4, 7], "m": [0, 3, 7], "7": [0, 4, 7, 10], "m7": [0, 3, 7, 10],
               "maj7": [0, 4, 7, 11]}
# One-bar rhythms for the lead, in sixteenth steps: (onset, length).
RHYTHMS = [
    [(0, 4), (4, 4), (8, 4), (12, 4)],
    [(0, 2), (2, 2), (4, 4), (8, 2), (10, 2), (12, 4)],
    [(0, 6), (6, 2), (8, 8)],
    [(0, 3), (3, 3), (6, 2), (8, 4), (12, 2), (14, 2)],
    [(0, 8), (8, 4), (12, 4)],
    [(2, 2), (4, 2), (6, 2), (8, 4), (12, 4)],
    [(0, 4), (6, 2), (8, 2), (10, 2), (12, 4)],
]
LEAD_PROGRAMS = [0, 11, 24, 56, 65, 73, 80, 81]  # piano … sax, flute, synth leads


@dataclasses.dataclass(frozen=True)
class Song:
    """What one generated file is made of."""
    style: str
    groove: str
    key: int          # pitch class of the tonic
    qpm: float
    bars: int
    seed: int


def _chords(song: Song, rng: random.Random) -> list[tuple[int, str]]:
    progression = rng.choice(PROGRESSIONS)
    return [((song.key + off) % 12, q) for off, q in progression] * (song.bars // 4)


def _mma_source(song: Song, chords: list[tuple[int, str]]) -> str:
    lines = [f"Tempo {song.qpm:g}", f"Groove {song.groove}"]
    lines += [f"{i + 1} {NOTE_NAMES[r]}{q}" for i, (r, q) in enumerate(chords)]
    return "\n".join(lines) + "\n"


def _lead(song: Song, chords: list[tuple[int, str]], rng: random.Random) -> list[tuple]:
    """Returns (pitch, start_step, end_step) notes for the lead line."""
    scale = sorted({(song.key + d) % 12 for d in MAJOR_SCALE})
    pitch = 67 + (song.key % 12 - 6) // 2
    notes = []
    motif = [rng.choice(RHYTHMS) for _ in range(2)]
    for bar, (root, quality) in enumerate(chords):
        phrase_bar = bar % 4
        rhythm = motif[phrase_bar % 2] if phrase_bar < 3 else [(0, 8)]
        if phrase_bar == 2 and rng.random() < 0.5:
            rhythm = rng.choice(RHYTHMS)
        tones = [(root + t) % 12 for t in CHORD_TONES[quality]]
        for onset, length in rhythm:
            strong = onset % 8 == 0
            pool = tones if strong else scale
            candidates = [p for p in range(55, 86) if p % 12 in pool and abs(p - pitch) <= 5]
            candidates = candidates or [p for p in range(55, 86) if p % 12 in pool]
            pitch = min(candidates, key=lambda p: abs(p - pitch) + rng.random() * 4)
            if rng.random() < 0.08 and not strong:
                continue  # a breath
            start = bar * 16 + onset
            notes.append((pitch, start, start + max(1, length - (1 if rng.random() < 0.5 else 0))))
    return notes


def _bass_instrument(backing: note_seq.NoteSequence) -> int | None:
    """The groove's bass by role: the lowest-sounding pitched track (some grooves play
    their bass line on a guitar program)."""
    pitches: dict[int, list[int]] = {}
    for n in backing.notes:
        if not n.is_drum:
            pitches.setdefault(n.instrument, []).append(n.pitch)
    low = [(sum(p) / len(p), i) for i, p in pitches.items() if sum(p) / len(p) < 52]
    return min(low)[1] if low else None


def make_song(song: Song, out_path: Path) -> Path:
    """Writes one trio MIDI file (drums ch. 10, bass, lead) for `song`."""
    if shutil.which("mma") is None:
        raise RuntimeError("`mma` not found: install it with `apt-get install mma`.")
    rng = random.Random(song.seed)
    chords = _chords(song, rng)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "song.mma"
        src.write_text(_mma_source(song, chords))
        proc = subprocess.run(["mma", "-f", str(Path(tmp) / "song.mid"), str(src)],
                              capture_output=True, text=True)
        midi = Path(tmp) / "song.mid"
        if proc.returncode != 0 or not midi.exists():
            raise RuntimeError(f"mma failed for {song}: {proc.stdout[-400:]}{proc.stderr[-400:]}")
        backing = note_seq.midi_file_to_note_sequence(str(midi))
    ns = note_seq.NoteSequence(ticks_per_quarter=220)
    ns.tempos.add(qpm=song.qpm)
    ns.time_signatures.add(numerator=4, denominator=4)
    bass_instrument = _bass_instrument(backing)
    for n in backing.notes:
        if n.is_drum:
            ns.notes.append(n)
        elif n.instrument == bass_instrument:
            bass = ns.notes.add()
            bass.CopyFrom(n)
            bass.program = n.program if 32 <= n.program <= 39 else 33
    step = 60.0 / song.qpm / 4
    program = rng.choice(LEAD_PROGRAMS)
    lead_instrument = max([n.instrument for n in ns.notes] + [0]) + 1
    for pitch, start, end in _lead(song, chords, rng):
        ns.notes.add(pitch=pitch, start_time=start * step, end_time=end * step,
                     velocity=90, instrument=lead_instrument, program=program)
    ns.total_time = max(n.end_time for n in ns.notes)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    note_seq.sequence_proto_to_midi_file(ns, str(out_path))
    return out_path


def songs(n: int, seed: int = 0, styles: list[str] | None = None, bars: int = 32) -> list[Song]:
    """A reproducible list of `n` songs spread over the style families."""
    rng = random.Random(seed)
    styles = styles or sorted(GROOVES)
    out = []
    for i in range(n):
        style = styles[i % len(styles)]
        out.append(Song(style=style, groove=rng.choice(GROOVES[style]), key=rng.randrange(12),
                        qpm=float(rng.randrange(90, 150, 2)), bars=bars, seed=rng.randrange(2**31)))
    return out


def build(out_dir: Path, n: int, seed: int = 0, bars: int = 32, progress: bool = True) -> list[Path]:
    """Writes `n` songs under out_dir/<style>/; returns their paths."""
    from tqdm import tqdm
    paths = []
    for i, song in enumerate(tqdm(songs(n, seed, bars=bars), desc="corpus", unit="song",
                                  disable=not progress)):
        name = f"{song.style}_{i:04d}_{song.groove.lower()}.mid"
        paths.append(make_song(song, out_dir / song.style / name))
    return paths
