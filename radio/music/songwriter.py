"""Songs from the walk: each song stands on one step of the latent walk (its home) and
plays a form whose sections return.

- Each section letter has its own latent point near the home (A at it, the others a
  fixed angle away in their own directions), decoded once per song in one model call with
  a nearby point per letter for variations: a section that returns plays the same notes.
- Sections are moved into the key of the song's first section; tempo holds within a song.
- Inside a section the drums hold a 1- or 2-bar pattern (one that has a kick) and the
  bass a 2- or 4-bar one, as real parts do, with the section's own last bar (and every
  eighth) as the variation;
  a section that returns varies its last two bars (a fill, a pickup before the change).
- The intro is the first section's drums and bass; the outro its first bars with the lead,
  ending on the song's tonic, a kick and a crash ringing out over the last bar.
- As often as the mix's seed songs do (`arrangement`, radio/music/arrangement.py), one part
  sits a section out, a letter's bass loops one bar and its lead repeats a 2-bar riff.
- Between songs the walk moves on: the next song's home is its next step (drawn by the
  mix and the votes), so tempo and key change only between songs.

Notes are built at the model's 120 qpm and retimed to the song's tempo per section; each
section comes out as one Segment carrying `song` (id, title, form, section, bars).
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

import note_seq
import numpy as np

from ..contracts import BASS, DRUMS, LEAD
from . import arrangement, keys
from .composer import LatentWalk, WalkStep, tie_over
from .groove import KICKS
from .segment import MODEL_QPM, Segment, retime, transposed
from .song import Form, Section, Titles, resolve_form, title_for

BAR_S = 4 * 60.0 / MODEL_QPM          # a bar at the model's tempo, seconds
SECTION_ANGLE = 0.35                  # radians from the home: related, not the same
VARIATION_ANGLE = 0.15                # a letter's variation point, from the letter's
RING_OUT = ((36, 110), (49, 105))     # the last bar: kick and crash cymbal


@dataclasses.dataclass
class Song:
    serial: int                                  # in this songwriter's run (the station re-ids it)
    seed: int
    title: str
    form: Form
    qpm: float
    key: str
    step: WalkStep
    zs: dict[str, np.ndarray]
    sections: list[note_seq.NoteSequence]       # one per form section, at MODEL_QPM, seams tied
    resting: list[str | None] = dataclasses.field(default_factory=list)   # the part sitting each one out

    def info(self, index: int) -> dict:
        section = self.form.sections[index]
        return {"id": self.serial, "title": self.title, "form": self.form.to_dict(), "section": index,
                "name": section.name, "bars": section.bars, "start_bar": sum(s.bars for s in self.form.sections[:index]),
                "song_bars": self.form.bars, "key": self.key, "qpm": self.qpm,
                "resting": self.resting[index] if self.resting else None}


def _orthogonal(z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random direction at a right angle to z, with z's length."""
    d = rng.normal(size=z.shape)
    d -= z * (d @ z) / max(float(z @ z), 1e-12)
    return (d / (np.linalg.norm(d) or 1.0) * np.linalg.norm(z)).astype(np.float32)


def turn(z: np.ndarray, angle: float, rng: np.random.Generator) -> np.ndarray:
    """A point `angle` radians from z, of z's length, in a random direction (a section's
    latent point; offline/echo.py decodes there too)."""
    return (np.cos(angle) * z + np.sin(angle) * _orthogonal(z, rng)).astype(np.float32)


def _empty(like: note_seq.NoteSequence, bars: int) -> note_seq.NoteSequence:
    out = note_seq.NoteSequence()
    out.ticks_per_quarter = like.ticks_per_quarter or 220
    out.tempos.add(qpm=MODEL_QPM)
    out.time_signatures.add(numerator=4, denominator=4)
    out.total_time = bars * BAR_S
    return out


def _starts_in(note, bar: int) -> bool:
    return bar * BAR_S - 1e-6 <= note.start_time < (bar + 1) * BAR_S - 1e-6


def _copy_bar(out, src, from_bar: int, to_bar: int, instrument: int, clip: bool) -> None:
    """The notes of one part starting in `src` bar `from_bar`, moved to bar `to_bar`;
    `clip` cuts them at the bar's end (a pattern bar out of its own place)."""
    hi = (from_bar + 1) * BAR_S
    shift = (to_bar - from_bar) * BAR_S
    for n in src.notes:
        if n.instrument == instrument and _starts_in(n, from_bar):
            m = out.notes.add()
            m.CopyFrom(n)
            m.start_time += shift
            m.end_time = min(n.end_time, hi) + shift if clip else n.end_time + shift
            m.end_time = min(m.end_time, out.total_time)


def _has_kick(seq: note_seq.NoteSequence, bar: int) -> bool:
    return any(n.is_drum and n.pitch in KICKS and _starts_in(n, bar) for n in seq.notes)


def _kicked(own: note_seq.NoteSequence, hold: int) -> note_seq.NoteSequence:
    """`own` with a drum pattern (its first `hold` bars, which a section repeats) that has a
    kick, as band drummers play: the first `hold`-bar stretch of the decoded drums that has
    one moves to the front; where no stretch has, each pattern bar gets a kick on its
    downbeat. (Held for a whole song, a kickless pattern is a song without one.)"""
    if any(_has_kick(own, b) for b in range(hold)):
        return own
    out = note_seq.NoteSequence()
    out.CopyFrom(own)
    bars = int(round(own.total_time / BAR_S))
    found = next((o for o in range(hold, bars - hold + 1, hold)
                  if any(_has_kick(own, b) for b in range(o, o + hold))), None)
    if found is not None:
        keep = [n for n in out.notes if not (n.is_drum and n.start_time < hold * BAR_S - 1e-6)]
        del out.notes[:]
        out.notes.extend(keep)
        for b in range(hold):
            _copy_bar(out, own, found + b, b, DRUMS, clip=True)
        return out
    drums = [n.velocity for n in own.notes if n.is_drum]
    velocity = int(np.median(drums)) if drums else 90
    for b in range(hold):
        if not _has_kick(out, b):
            out.notes.add(pitch=36, velocity=velocity, start_time=b * BAR_S, end_time=b * BAR_S + BAR_S / 16,
                          instrument=DRUMS, is_drum=True)
    return out


def _histogram(seq: note_seq.NoteSequence) -> np.ndarray:
    notes = [n for n in seq.notes if not n.is_drum]
    return keys.histogram([n.pitch for n in notes], [n.end_time - n.start_time for n in notes])


class Songwriter:
    """Endless iterator of Segments, one section each, song after song."""

    def __init__(self, walk: LatentWalk, seed: int = 0, form="song", bass_hold: bool = True):
        self.walk = walk
        self.rng = np.random.default_rng([seed, 25])
        self.form = form
        self.bass_hold = bass_hold
        self.arrangement = arrangement.Arrangement()   # the mix's sets': none until the pipeline sets it
        self.taken = Titles()                 # titles in use (history, this run)
        self.song: Song | None = None
        self.before: Song | None = None       # the song before it, which may still be playing
        self.after: Song | None = None        # a song written ahead, to play after this one
        self.index = 0
        self.songs = 0

    def set_form(self, form) -> None:
        """The mix's form; heard from the next song."""
        self.form = form

    def end_song(self) -> None:
        """The next segment starts a new song (a change to the composition, a restart)."""
        self.song = self.after = None

    def between_songs(self) -> bool:
        """True when the next segment starts a new song."""
        return self.song is None or self.index >= len(self.song.sections)

    def resume_after(self, playing: dict | None) -> None:
        """Sections written ahead were dropped (a mix change) and `playing` (a segment's
        `song`, as written: id is the song's serial) is the one that plays before the next:
        go on with the section after it, so the song plays on. A song ended since, or a
        section that is not one of the last two songs', starts a new song."""
        if playing is None or self.song is None:
            self.end_song()
            return
        for song in (self.song, self.before):
            if song is not None and song.serial == playing["id"]:
                self.index = playing["section"] + 1
                if self.index >= len(song.sections) and song is self.before:
                    self.index = 0                # the next song had begun: it starts again
                elif song is self.before:
                    self.song, self.after = song, self.song   # and the next song follows it
                return
        self.end_song()

    def __iter__(self) -> Iterator[Segment]:
        return self

    def __next__(self) -> Segment:
        if self.song is None or self.index >= len(self.song.sections):
            nxt = self.after or self._write()   # end_song() clears both
            self.before, self.song, self.after, self.index = self.song, nxt, None, 0
        song, i = self.song, self.index
        self.index += 1
        section = song.form.sections[i]
        seq = retime(song.sections[i], song.qpm, MODEL_QPM)
        step = song.step
        return Segment(id=0, sequence=seq, qpm=song.qpm, bars=section.bars, anchors=(step.a, step.b), t=step.t,
                       z=song.zs[song.form.source(section)], song=song.info(i))

    # -- writing a song --------------------------------------------------------------
    def _write(self) -> Song:
        step = self.walk.advance()
        seed = int(self.rng.integers(2**31))
        rng = np.random.default_rng(seed)
        form = resolve_form(self.form, rng)
        letters = form.letters
        zs = {letter: step.z if k == 0 else turn(step.z, SECTION_ANGLE, rng) for k, letter in enumerate(letters)}
        variations = {letter: turn(zs[letter], VARIATION_ANGLE, rng) for letter in letters}
        decoded = self._decode([zs[x] for x in letters] + [variations[x] for x in letters])
        own = dict(zip(letters, decoded[:len(letters)]))
        var = dict(zip(letters, decoded[len(letters):]))
        tonic, mode, _ = keys.best_key(_histogram(own[letters[0]]))
        home = keys.scale(tonic, mode)
        for x in letters:
            shift = keys.shift_into(_histogram(own[x]), home)
            own[x], var[x] = transposed(own[x], shift), transposed(var[x], shift)
        holds = {x: (int(rng.choice((1, 2))), int(rng.choice((2, 4)))) for x in letters}
        own = {x: _kicked(own[x], holds[x][0]) for x in letters}
        # drawn after everything else, so an arrangement of all zeros leaves a song as it was
        arranged = self.arrangement
        resting = [None if s.name in ("intro", "outro") else arranged.resting(rng) for s in form.sections]
        loops = {x: bool(rng.random() < arranged.bass_loop) for x in letters}
        riffs = {x: bool(rng.random() < arranged.lead_riff) for x in letters}
        holds = {x: (holds[x][0], 1 if loops[x] else holds[x][1]) for x in letters}
        pieces, seen = [], {}
        for section, rest in zip(form.sections, resting):
            source = form.source(section)
            if section.name == "intro":
                pieces.append(self._intro(own[source], section.bars, holds[source]))
            elif section.name == "outro":
                pieces.append(self._outro(own[source], section.bars, tonic))
            else:
                k = seen.get(section.name, 0)
                seen[section.name] = k + 1
                pieces.append(self._section(own[section.name], var[section.name], section, k, holds[section.name],
                                            rest, riffs[section.name]))
        for i in range(1, len(pieces)):
            pieces[i - 1], pieces[i], _ = tie_over(pieces[i - 1], pieces[i], form.sections[i - 1].bars * BAR_S)
        self.songs += 1
        title = title_for(seed, self.taken)
        self.taken.add(title)
        return Song(self.songs, seed, title, form, self.walk.tempo(step), keys.key_name(tonic, mode), step, zs, pieces,
                    resting)

    def _decode(self, zs: list[np.ndarray]) -> list[note_seq.NoteSequence]:
        out, size = [], max(1, self.walk.model.batch_size)
        for k in range(0, len(zs), size):
            out += self.walk.model.decode(np.stack(zs[k:k + size]), self.walk.temperature, style=self.walk.style)
        return out

    def _section(self, own, var, section: Section, occurrence: int, holds: tuple[int, int],
                 resting: str | None = None, riff: bool = False):
        drums_bars, bass_bars = holds
        bars = section.bars
        out = _empty(own, bars)
        for b in range(bars):
            varied = occurrence > 0 and b >= bars - 2        # a return changes its way out
            fill = b == bars - 1 or b % 8 == 7
            if resting != "lead":     # a riff repeats the first two bars up to the last
                lead_bar = b % 2 if riff and not varied and b < bars - 1 else b
                _copy_bar(out, var if varied else own, lead_bar, b, LEAD, clip=lead_bar != b)
            drum_bar = b if fill else b % drums_bars
            if resting != "drums":
                _copy_bar(out, var if varied and fill else own, drum_bar, b, DRUMS, clip=drum_bar != b)
            bass_bar = b if (b == bars - 1 or not self.bass_hold) else b % bass_bars
            if resting != "bass":
                _copy_bar(out, own, bass_bar, b, BASS, clip=bass_bar != b)
        return out

    def _intro(self, own, bars: int, holds: tuple[int, int]):
        out = _empty(own, bars)
        for b in range(bars):
            fill = b == bars - 1
            drum_bar = b if fill else b % holds[0]
            _copy_bar(out, own, drum_bar, b, DRUMS, clip=drum_bar != b)
            _copy_bar(out, own, b % holds[1], b, BASS, clip=b % holds[1] != b)
        return out

    def _outro(self, own, bars: int, tonic: int):
        """The section's first bars, then the last bar rings out on the tonic."""
        out = _empty(own, bars)
        for b in range(bars - 1):
            for part in (LEAD, BASS, DRUMS):
                _copy_bar(out, own, b, b, part, clip=b == bars - 2)
        end = (bars - 1) * BAR_S
        for part, fallback in ((LEAD, 72), (BASS, 40)):
            before = [n for n in out.notes if n.instrument == part and not n.is_drum]
            near = before[-1].pitch if before else fallback
            note = out.notes.add()
            if before:
                note.CopyFrom(before[-1])
            note.instrument, note.velocity, note.start_time, note.end_time = part, 90, end, end + BAR_S
            note.pitch = min((p for p in range(near - 12, near + 13) if p % 12 == tonic), key=lambda p: abs(p - near))
        for pitch, velocity in RING_OUT:
            out.notes.add(pitch=pitch, velocity=velocity, start_time=end, end_time=end + BAR_S / 4,
                          instrument=DRUMS, is_drum=True)
        return out
