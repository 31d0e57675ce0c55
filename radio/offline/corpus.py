"""Builds the training corpus offline, from human-written music only.

Folk songs, one per tune: every lead is a real 4/4 folk melody from the ABC collections
that ship with music21 (Essen, Aird's Airs, O'Neill's, Nottingham, …), transposed to the
song's key, with its own chord symbols where it has them and chords fitted bar by bar to
the melody where it has none. Debian's `mma` plays that progression in a named groove of
the song's style family; we keep its drums in most songs (human-written patterns from
mma's groove library) and its bass in a quarter of them: the others play a band-style
line written from the chords (radio/offline/bassline.py: mma's lines are sparse and
short). Some songs take their drums from Hydrogen's demo songs (hydrogen-data) instead,
converted to GM drums (radio/offline/hydrogen.py).

Game songs: real multi-instrument MIDI that Debian ships (freedoom1, Planet Blupi),
copied as they are into DIR/game/. freedoom2 and freedink are held out for evaluation
(radio/offline/bandfiles.py) and never enter a corpus.

DIR/manifest.json gives each file its sources and licences. Everything is drawn from the
build's seed (mma's own humanising too, via RndSeed), so a seed writes byte-identical files.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import random
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import note_seq

from ..contracts import RadioError
from . import bassline

# Grooves (4/4, with a bass part) grouped by style family, each as "file:Groove" in mma's
# stdlib: naming the file makes mma load it directly, so a missing or stale groove
# database (`mma -g`) cannot break the build.
GROOVES: dict[str, list[str]] = {
    "ballad": ["popballad:PopBallad", "ballad:Ballad"],
    "blues": ["blues:Blues", "blues:Blues1", "shuffleboggie:ShuffleBoggie"],
    "country": ["countryswing:CountrySwing", "bluegrass:BlueGrass"],
    "funk": ["bvfunk:BVFunk", "dsoul:DSoul", "rb:R&B"],
    "jazz": ["modernjazz:ModernJazz", "bebop:Bebop", "mellowjazz:MellowJazz", "jazzrock:JazzRock"],
    "latin": ["bossanova:BossaNova", "salsa:Salsa", "samba:Samba"],
    "pop": ["bubblerock:BubbleRock", "boneym:BoneyM", "60srock:60sRock", "twist:Twist"],
    "rock": ["rock-128:Rock128", "softrock:SoftRock", "8beat:8Beat", "folkrock:FolkRock",
             "50srock:50sRock", "basicrock:BasicRock"],
    "ska": ["ska:Ska", "ska:Ska1"],
    "swing": ["swing:Swing", "jazzcombo:JazzCombo"],
}
# Tempo range (qpm) per style family.
TEMPI: dict[str, tuple[int, int]] = {
    "ballad": (64, 86), "blues": (76, 112), "country": (104, 144), "funk": (94, 116),
    "jazz": (110, 168), "latin": (96, 136), "pop": (100, 128), "rock": (100, 148),
    "ska": (126, 160), "swing": (112, 168),
}
NOTE_NAMES = ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
MAJOR_SCALE = [0, 2, 4, 5, 7, 9, 11]
CHORD_TONES = {"": [0, 4, 7], "m": [0, 3, 7], "7": [0, 4, 7, 10], "m7": [0, 3, 7, 10],
               "maj7": [0, 4, 7, 11], "6": [0, 4, 7, 9], "m6": [0, 3, 7, 9], "dim": [0, 3, 6],
               "aug": [0, 4, 8], "sus4": [0, 5, 7]}
LEAD_PROGRAMS = [0, 11, 24, 56, 65, 73, 80, 81]  # piano … sax, flute, synth leads

# ABC collections in music21's corpus that hold whole tunes (folders under its corpus path),
# with what the manifest says about each. music21's corpus/license.txt: the encodings
# are distributed with the encoders' permission; the tunes are traditional.
TUNE_COLLECTIONS = {
    "nottingham-dataset": "Nottingham Music Database (ABC by Eric Foxley, tidied by Jay Glanville)",
    "essenFolksong": "Essen Folksong Collection (EsAC, Helmut Schaffrath)",
    "airdsAirs": "Aird's Selection of Scotch, English, Irish and Foreign Airs (1782-1803)",
    "oneills1850": "O'Neill's Music of Ireland, 1850 Melodies (1903; ABC by Norbert Paap)",
    "miscFolk": "music21 miscFolk (American fife tunes and others)",
}
TUNE_LICENSE = ("traditional melody (public domain); encoding from music21's corpus, BSD-3-Clause "
                "software, corpus/license.txt: distributed with the encoders' permission")
BASSLINE_LICENSE = "written by radio/offline/bassline.py from the tune's chords (this project's licence)"
MMA_LICENSE = "GPL-2+ (mma's groove library, used as pattern data; /usr/share/doc/mma/copyright)"
# Hydrogen demo songs whose drums may stand in for a groove's, by the style families they fit.
HYDROGEN_STYLES = {
    "GM_kit_Diddley": ["rock"], "GM_kit_Jazzy": ["jazz", "swing"],
    "GM_kit_demo1": ["rock", "pop"], "GM_kit_demo2": ["rock", "pop"], "GM_kit_demo3": ["pop", "rock"],
    "TR808kit-demo": ["funk", "pop"], "tutorial_georgyporgy": ["funk"],
}
HYDROGEN_SHARE = 0.15  # share of the songs of those families that take Hydrogen drums
# Real band MIDI copied into DIR/game/ (bandfiles sources; the held-out ones never).
GAME_SOURCES = ["freedoom1", "blupi"]
GAME_FOLDER = "game"
# music21 chord kinds → mma chord names; any other kind is played as its triad.
CHORD_KINDS = {"major": "", "minor": "m", "dominant-seventh": "7", "minor-seventh": "m7",
               "major-seventh": "maj7", "major-sixth": "6", "minor-sixth": "m6",
               "diminished": "dim", "augmented": "aug", "suspended-fourth": "sus4"}

Chord = tuple[int, str]  # (root pitch class, quality)


class CorpusError(RadioError, ValueError):
    """A corpus cannot be built as asked: a tool missing, a held-out song, a song too short."""


@dataclasses.dataclass(frozen=True)
class Song:
    """What one folk song file is made of."""
    style: str
    groove: str       # "file:Groove" in mma's stdlib
    key: int          # pitch class of the tonic
    qpm: float
    bars: int
    seed: int
    tune: str         # "collection/file.abc#n" (n-th tune in the file): lead and chords
    drums: str = ""   # "" → the groove's drums; "hydrogen:NAME" → that Hydrogen demo song's
    bass: str = ""    # "" → the groove's bass; else a style of bassline.STYLES, written from the chords

    @property
    def groove_name(self) -> str:
        return self.groove.split(":")[-1]


@dataclasses.dataclass
class Tune:
    """A melody on a 16th grid, in its written key: notes and per-beat chords by bar."""
    name: str
    tonic: int                          # pitch class
    notes: list[tuple[int, int, int]]   # (midi pitch, start step, end step)
    chords: list[list[Chord]]           # 4 chords (one a beat) per bar
    bars: int
    chords_from_tune: bool              # False: fitted to the melody here
    title: str = ""


# --- tune leads ----------------------------------------------------------------------

def _corpus_root() -> Path | None:
    try:
        from music21 import common
    except ImportError:
        return None
    return Path(common.getCorpusFilePath())


def _split_abc(text: str) -> list[str]:
    return [t for t in re.split(r"\n(?=X:)", "\n" + text) if t.startswith("X:")]


def _is_plain_four_four(abc: str) -> bool:
    """One meter, 4/4 (or C), one voice: judged from the text, without parsing."""
    meters = re.findall(r"^M:\s*(\S+)", abc, flags=re.M) + re.findall(r"\[M:\s*([^\]]+)\]", abc)
    return bool(len(meters) == 1 and meters[0].strip() in ("4/4", "C")
                and not re.search(r"^V:", abc, flags=re.M) and re.search(r"^K:", abc, flags=re.M))


@functools.lru_cache(maxsize=1)
def tune_index() -> tuple[str, ...]:
    """Names of the single-meter 4/4 tunes in music21's ABC collections, in a fixed order;
    empty when music21 is not installed."""
    root = _corpus_root()
    if root is None:
        return ()
    names = []
    for collection in TUNE_COLLECTIONS:
        for path in sorted((root / collection).glob("*.abc")):
            rel = path.relative_to(root).as_posix()
            tunes = _split_abc(path.read_text(encoding="utf-8", errors="replace"))
            names += [f"{rel}#{i}" for i, abc in enumerate(tunes) if _is_plain_four_four(abc)]
    return tuple(names)


def _chord_of(symbol) -> Chord | None:
    from music21 import harmony
    try:
        if "/" in symbol.figure:  # slash chord: mma gets the chord, the bass note is dropped
            symbol = harmony.ChordSymbol(symbol.figure.split("/")[0])
        root = symbol.root().pitchClass
    except Exception:  # an annotation music21 could not read as a chord
        return None
    quality = CHORD_KINDS.get(symbol.chordKind)
    if quality is None:
        quality = "m" if (root + 3) % 12 in {p.pitchClass for p in symbol.pitches} else ""
    return root, quality


def _bars_of(part) -> list[list[tuple[float, object]]]:
    """The part's measures as full 4/4 bars, each a list of (offset in bar, element).

    ABC tunes have pickups, first/second endings and phrase-split bars; we play them as
    written, without repeats: a leading pickup is dropped, two short measures that add up
    to a bar are joined, any other short measure is padded with rest.
    """
    from music21 import chord, harmony, note
    measures = []
    for m in list(part.getElementsByClass("Measure")) or [part]:  # some have no bar lines at all
        items = []
        for el in m.recurse().getElementsByClass((harmony.ChordSymbol, note.Note, chord.Chord)):
            if el.duration.isGrace:
                continue
            items.append((float(el.getOffsetInHierarchy(m)), el))
        length = float(m.duration.quarterLength)
        while length > 4 + 1e-6:  # a tune written without bar lines: cut it into bars
            measures.append((4.0, [(o, e) for o, e in items if o < 4 - 1e-6]))
            items = [(o - 4, e) for o, e in items if o >= 4 - 1e-6]
            length -= 4
        measures.append((length, items))
    bars: list[list[tuple[float, object]]] = []
    carry = None
    for i, (length, items) in enumerate(measures):
        if carry is not None:
            c_len, c_items = carry
            carry = None
            if abs(c_len + length - 4) < 1e-6:
                bars.append(c_items + [(o + c_len, e) for o, e in items])
                continue
            bars.append(c_items)
        if length >= 4 - 1e-6:
            bars.append(items)
        elif i > 0 and length > 0:
            carry = (length, items)
    if carry is not None:
        bars.append(carry[1])
    return bars


def _fit_chords(notes: list[tuple[int, int, int]], bars: int, tonic: int,
                scale: list[int], minor: bool) -> list[list[Chord]]:
    """A chord a bar for a melody that has none: the diatonic triad that holds most of the
    bar's notes (weighted by length and beat), leaning to tonic, IV and V."""
    candidates = []
    for degree, root in enumerate(scale):
        third, fifth = scale[(degree + 2) % 7], scale[(degree + 4) % 7]
        quality = {(4, 7): "", (3, 7): "m"}.get(((third - root) % 12, (fifth - root) % 12))
        if quality is not None:
            candidates.append((root, quality))
    if minor:
        candidates.append(((tonic + 7) % 12, ""))  # harmonic minor's major V
    prior = {tonic: 0.6, (tonic + 5) % 12: 0.35, (tonic + 7) % 12: 0.35}
    by_bar: list[list[tuple[int, int, int]]] = [[] for _ in range(bars)]
    for pitch, start, end in notes:
        by_bar[start // 16].append((pitch, start % 16, min(end - start, 16 - start % 16)))
    out: list[list[Chord]] = []
    previous = None
    for bar, bar_notes in enumerate(by_bar):
        def score(chord: Chord) -> float:
            tones = {(chord[0] + t) % 12 for t in CHORD_TONES[chord[1]]}
            s = prior.get(chord[0], 0.0) + (0.3 if chord == previous else 0.0)
            if bar == bars - 1 and chord[0] == tonic:
                s += 2.0  # end on the tonic
            for pitch, onset, length in bar_notes:
                beat = 2.0 if onset == 0 else 1.5 if onset == 8 else 1.0 if onset % 4 == 0 else 0.6
                weight = length * beat
                s += weight if pitch % 12 in tones else -0.4 * weight
            return s
        best = max(candidates, key=score)
        if best[0] == (tonic + 7) % 12 and best[1] == "" and any(
                p % 12 == (best[0] + 10) % 12 for p, _, _ in bar_notes):
            best = (best[0], "7")
        out.append([best] * 4)
        previous = best
    return out


@functools.lru_cache(maxsize=None)
def load_tune(name: str) -> Tune:
    """Parses one tune of the index (music21's ABC parser takes 0.03–0.1 s a tune: hence the
    cache, which a full build fills with every tune, a few MB)."""
    from music21 import converter, harmony, note
    from music21 import key as m21key
    rel, idx = name.rsplit("#", 1)
    root = _corpus_root()
    if root is None:
        raise CorpusError("music21 is not installed: tune leads need it (pip install music21)")
    abc = _split_abc((root / rel).read_text(encoding="utf-8", errors="replace"))[int(idx)]
    score = converter.parseData(abc, format="abc")
    part = score.parts[0] if score.parts else score
    keys = list(part.recurse().getElementsByClass(m21key.KeySignature))
    sig = keys[0] if keys else m21key.KeySignature(0)
    major_tonic = (7 * sig.sharps) % 12
    scale = sorted((major_tonic + d) % 12 for d in MAJOR_SCALE)
    if isinstance(sig, m21key.Key):
        tonic, minor = sig.tonic.pitchClass, sig.mode in ("minor", "aeolian")
    else:
        tonic, minor = major_tonic, False
    scale = scale[scale.index(major_tonic):] + scale[:scale.index(major_tonic)]
    notes: list[list[int]] = []
    symbols: list[tuple[int, Chord]] = []  # (step, chord)
    bars = _bars_of(part)
    for b, items in enumerate(bars):
        for offset, el in sorted(items, key=lambda x: x[0]):
            step = b * 16 + round(offset * 4)
            if isinstance(el, harmony.ChordSymbol):
                chord = _chord_of(el)
                if chord is not None:
                    symbols.append((step, chord))
                continue
            pitch = el.pitch.midi if isinstance(el, note.Note) else max(p.midi for p in el.pitches)
            end = b * 16 + min(16, round((offset + float(el.duration.quarterLength)) * 4))
            tied = el.tie is not None and el.tie.type in ("stop", "continue")
            if tied and notes and notes[-1][0] == pitch and notes[-1][2] >= step:
                notes[-1][2] = max(notes[-1][2], end)
            elif end > step:
                if notes and notes[-1][2] > step:
                    notes[-1][2] = step  # one note at a time
                if notes and notes[-1][1] == step:
                    notes.pop()
                notes.append([pitch, step, end])
    melody = [(p, s, e) for p, s, e in notes if e > s]
    if len(bars) < 4 or len(melody) < 8:
        raise CorpusError(f"tune {name} is too short ({len(bars)} bars)")
    if symbols:
        chords, current, i = [], symbols[0][1], 0
        for b in range(len(bars)):
            beats = []
            for beat in range(4):
                while i < len(symbols) and symbols[i][0] <= b * 16 + beat * 4:
                    current = symbols[i][1]
                    i += 1
                beats.append(current)
            chords.append(beats)
    else:
        chords = _fit_chords(melody, len(bars), tonic, scale, minor)
    title = re.search(r"^T:\s*(.*?)\s*$", abc, flags=re.M)
    return Tune(name, tonic, melody, chords, len(bars), bool(symbols), title.group(1) if title else "")


def _tune_parts(song: Song) -> tuple[list[list[Chord]], list[tuple[int, int, int]]]:
    """The tune's chords and melody transposed to the song's key, looped to song.bars."""
    tune = load_tune(song.tune)
    shift = (song.key - tune.tonic) % 12
    shift -= 12 if shift > 6 else 0
    pitches = [p + shift for p, _, _ in tune.notes]
    mean = sum(pitches) / len(pitches)
    shift += 12 * round((72 - mean) / 12)  # sit around C5, above any bass
    chords = [[((r + shift) % 12, q) for r, q in tune.chords[b % tune.bars]] for b in range(song.bars)]
    notes = []
    for loop in range(-(-song.bars // tune.bars)):
        for p, s, e in tune.notes:
            s, e = s + loop * tune.bars * 16, e + loop * tune.bars * 16
            if s < song.bars * 16:
                notes.append((p + shift, s, min(e, song.bars * 16)))
    return chords, notes


# --- backing and file ----------------------------------------------------------------

def _mma_source(song: Song, chords: list[list[Chord]]) -> str:
    # RndSeed: mma humanises timing and velocity with Python's random, unseeded by default.
    lines = [f"RndSeed {song.seed}", f"Tempo {song.qpm:g}", f"Groove stdlib/{song.groove}"]
    for i, beats in enumerate(chords):
        names = [f"{NOTE_NAMES[r]}{q}" for r, q in beats]
        names = [n if j == 0 or n != names[j - 1] else "/" for j, n in enumerate(names)]
        lines.append(f"{i + 1} {' '.join(names)}")
    return "\n".join(lines) + "\n"


def _bass_notes(backing: note_seq.NoteSequence) -> list:
    """The groove's bass line by role: its bass-program tracks merged (many grooves split
    the line over two), else the lowest-sounding pitched track (some play it on guitar);
    made monophonic, lowest note wins."""
    pitches: dict[int, list] = {}
    for n in backing.notes:
        if not n.is_drum:
            pitches.setdefault(n.instrument, []).append(n)
    means = {i: sum(n.pitch for n in ns) / len(ns) for i, ns in pitches.items()}
    low = sorted((m, i) for i, m in means.items() if m < 52)
    if not low:
        return []
    chosen = [i for _, i in low if all(32 <= n.program <= 39 for n in pitches[i])] or [low[0][1]]
    notes = sorted((n for i in chosen for n in pitches[i]), key=lambda n: (n.start_time, n.pitch))
    line = []
    for n in notes:
        if line and abs(line[-1].start_time - n.start_time) < 1e-3:
            continue
        if line and line[-1].end_time > n.start_time:
            line[-1].end_time = n.start_time
        line.append(n)
    return line


@functools.lru_cache(maxsize=None)
def _hydrogen_part(name: str):
    from . import hydrogen
    part = hydrogen.read_song(hydrogen.DEMO_SONGS / f"{name}.h2song")
    if not part.bars or not part.hits:
        raise CorpusError(f"hydrogen song {name} has no 4/4 drum bars")
    return part


def _hydrogen_drums(song: Song) -> list[tuple[int, float, float, int]]:
    """(pitch, start s, end s, velocity) of the song's Hydrogen drums, looped to song.bars
    from a bar of the pattern sequence drawn from the song's seed."""
    from .hydrogen import BAR_TICKS, TICKS_PER_QUARTER
    part = _hydrogen_part(song.drums.split(":", 1)[1])
    first = random.Random(song.seed + 1).randrange(part.bars)
    tick_s = 60.0 / song.qpm / TICKS_PER_QUARTER
    by_bar: dict[int, list] = {}
    for pitch, tick, velocity in part.hits:
        by_bar.setdefault(tick // BAR_TICKS, []).append((pitch, tick % BAR_TICKS, velocity))
    out = []
    for bar in range(song.bars):
        for pitch, tick, velocity in by_bar.get((first + bar) % part.bars, []):
            start = (bar * BAR_TICKS + tick) * tick_s
            out.append((pitch, start, start + 6 * tick_s, velocity))  # a 32nd: drums ring out anyway
    return out


def make_song(song: Song, out_path: Path) -> Path:
    """Writes one trio MIDI file (drums ch. 10, bass, lead) for `song`."""
    if shutil.which("mma") is None:
        raise CorpusError("`mma` not found: install it with `apt-get install mma`.")
    if not song.tune:
        raise CorpusError("every song's lead is a folk tune: Song.tune is empty")
    rng = random.Random(song.seed)
    chords, lead = _tune_parts(song)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "song.mma"
        src.write_text(_mma_source(song, chords))
        proc = subprocess.run(["mma", "-f", str(Path(tmp) / "song.mid"), str(src)],
                              capture_output=True, text=True)
        midi = Path(tmp) / "song.mid"
        if proc.returncode != 0 or not midi.exists():
            raise CorpusError(f"mma failed for {song}: {proc.stdout[-400:]}{proc.stderr[-400:]}")
        backing = note_seq.midi_file_to_note_sequence(str(midi))
    ns = note_seq.NoteSequence(ticks_per_quarter=220)
    ns.tempos.add(qpm=song.qpm)
    ns.time_signatures.add(numerator=4, denominator=4)
    if song.drums:
        drum_instrument = max([n.instrument for n in backing.notes] + [0]) + 1
        for pitch, start, end, velocity in _hydrogen_drums(song):
            ns.notes.add(pitch=pitch, start_time=start, end_time=end, velocity=velocity,
                         instrument=drum_instrument, is_drum=True)
    else:
        for n in backing.notes:
            if n.is_drum:
                ns.notes.append(n)
    bass = _bass_notes(backing)
    if not bass:
        raise CorpusError(f"groove {song.groove} has no bass line")
    bass_program = bass[0].program if 32 <= bass[0].program <= 39 else 33
    step = 60.0 / song.qpm / 4
    if song.bass:
        for pitch, start, end in bassline.line(chords, song.bass, song.seed + 2):
            ns.notes.add(pitch=pitch, start_time=start * step, end_time=end * step,
                         velocity=100 if start % 4 == 0 else 88, instrument=bass[0].instrument,
                         program=bass_program)
    else:
        for n in bass:
            b = ns.notes.add()
            b.CopyFrom(n)
            b.instrument, b.program = bass[0].instrument, bass_program
    program = rng.choice(LEAD_PROGRAMS)
    lead_instrument = max([n.instrument for n in ns.notes] + [0]) + 1
    for pitch, start, end in lead:
        ns.notes.add(pitch=pitch, start_time=start * step, end_time=end * step,
                     velocity=90, instrument=lead_instrument, program=program)
    ns.total_time = max(n.end_time for n in ns.notes)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    note_seq.sequence_proto_to_midi_file(ns, str(out_path))
    return out_path


def _melody_key(tune: Tune) -> tuple:
    """The melody up to transposition: two collections holding one tune give one key."""
    first = tune.notes[0][0]
    return tuple((p - first, s, e) for p, s, e in tune.notes)


def distinct_tunes(order: list[str], n: int = 0, progress: bool = False) -> list[str]:
    """The tunes of `order` that parse into a melody (a few in the collections do not), each
    melody once, in that order; the first `n` of them (n = 0: all)."""
    from tqdm import tqdm
    out, seen = [], set()
    for name in tqdm(order, desc="tunes", unit="tune", disable=not progress):
        try:
            key = _melody_key(load_tune(name))
        except Exception:
            continue
        if key in seen:
            continue
        seen.add(key)
        out.append(name)
        if n and len(out) == n:
            break
    return out


def songs(n: int = 0, seed: int = 0, styles: list[str] | None = None, bars: int = 32,
          progress: bool = False) -> list[Song]:
    """A reproducible list of songs, each led by a folk tune; n = 0: one song per distinct
    tune (all of them, ~2,650). Tunes come in an order shuffled by `seed` and take the style
    families in turn; when `n` asks for more songs than there are tunes, the tunes come round
    again, each in another family, so a tune plays at most once per style until every
    family has had it. A song is the tune played through as often as it takes to fill at
    least `bars` bars. In the families a Hydrogen demo song fits, about HYDROGEN_SHARE of
    the songs take their drums from it (when hydrogen-data is installed)."""
    from . import hydrogen
    index = tune_index()
    if not index:
        raise CorpusError("music21 is not installed: every corpus song's lead is a folk tune "
                           "from its corpus (pip install music21)")
    rng = random.Random(seed)
    order = list(index)
    rng.shuffle(order)
    tunes = distinct_tunes(order, n, progress)
    if not tunes:
        raise CorpusError("no tune in music21's corpus could be read")
    styles = styles or sorted(GROOVES)
    installed = {p.stem for p in hydrogen.demo_songs()}
    out = []
    for i in range(n or len(tunes)):
        rounds, j = divmod(i, len(tunes))
        style = styles[(j + rounds) % len(styles)]
        tune = load_tune(tunes[j])
        lo, hi = TEMPI[style]
        song = Song(style=style, groove=rng.choice(GROOVES[style]), key=rng.randrange(12),
                    qpm=float(rng.randrange(lo, hi + 1, 2)),
                    bars=tune.bars * max(1, math.ceil(bars / tune.bars)),
                    seed=rng.randrange(2**31), tune=tunes[j])
        # drawn for every song, so the list does not depend on what is installed
        share, pick = rng.random(), rng.random()
        fits = [h for h, fam in HYDROGEN_STYLES.items() if style in fam]
        if fits and share < HYDROGEN_SHARE and fits[int(pick * len(fits))] in installed:
            song = dataclasses.replace(song, drums=f"hydrogen:{fits[int(pick * len(fits))]}")
        out.append(dataclasses.replace(song, bass=bassline.pick(style, song.seed)))
    return out


def file_name(i: int, song: Song) -> str:
    groove = re.sub(r"[^a-z0-9]", "", song.groove_name.lower())
    rel, idx = song.tune.rsplit("#", 1)
    tune = re.sub(r"[^a-z0-9]", "", Path(rel).stem.lower())
    drums = "_h2" if song.drums else ""
    return f"{song.style}_{i:04d}_{groove}{drums}_{tune}-{idx}.mid"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def song_entry(song: Song, path: Path) -> dict:
    """The manifest's record of one folk song: every part's source and licence."""
    tune = load_tune(song.tune)
    collection = song.tune.split("/")[0]
    lead = {"source": "music21 corpus", "package": "music21 (PyPI)", "tune": song.tune,
            "title": tune.title, "collection": TUNE_COLLECTIONS.get(collection, collection),
            "chords": "from the tune" if tune.chords_from_tune else "fitted to the melody",
            "licence": TUNE_LICENSE}
    groove = {"source": "mma groove", "package": "mma (Debian)", "groove": song.groove,
              "licence": MMA_LICENSE}
    bass = {"source": "radio/offline/bassline.py", "style": song.bass, "licence": BASSLINE_LICENSE,
            "from": "the tune's chords"} if song.bass else groove
    if song.drums:
        from . import hydrogen
        part = _hydrogen_part(song.drums.split(":", 1)[1])
        drums = {"source": "hydrogen demo song", "package": hydrogen.PACKAGE,
                 "song": f"{part.name}.h2song", "title": part.title, "author": part.author,
                 "licence": f"{hydrogen.LICENSE} ({hydrogen.COPYRIGHT}; the song file itself "
                            "says 'Unknown license')"}
    else:
        drums = dict(groove)
    licences = sorted({lead["licence"], bass["licence"], drums["licence"]})
    return {
        "kind": "folk", "style": song.style, "source": f"music21:{song.tune} + mma:{song.groove}"
        + (f" + {song.drums}" if song.drums else "") + (f" + bassline:{song.bass}" if song.bass else ""),
        "package": "music21, mma" + (", hydrogen-data" if song.drums else ""),
        "licence": "; ".join(licences), "tune": song.tune, "title": tune.title,
        "groove": song.groove, "drums": song.drums or "mma", "bass": song.bass or "mma", "key": NOTE_NAMES[song.key],
        "qpm": song.qpm, "bars": song.bars, "seed": song.seed,
        "parts": {"lead": lead, "bass": bass, "drums": drums}, "sha256": _sha256(path),
    }


def copy_game_songs(out_dir: Path) -> dict[str, dict]:
    """Copies the real band MIDI of GAME_SOURCES into out_dir/game/; returns manifest entries.
    Held-out sources (freedoom2, freedink) are refused; a file with the bytes of one already
    copied is left out (freedoom1 ships one tune under two lump names)."""
    from . import bandfiles
    entries, seen = {}, set()
    for name in GAME_SOURCES:
        source = bandfiles.by_name(name)
        if source.held_out:
            raise CorpusError(f"{name} is held out for evaluation: it never enters a corpus")
        for song, body in bandfiles.midi_items(source).items():
            if hashlib.sha256(body).digest() in seen:
                continue
            seen.add(hashlib.sha256(body).digest())
            rel = f"{GAME_FOLDER}/{source.name}_{song.lower()}.mid"
            path = Path(out_dir) / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
            entries[rel] = {"kind": "band", "style": GAME_FOLDER, "source": f"{source.name}:{song}",
                            "package": source.package, "licence": source.license,
                            "copyright": source.copyright, "title": song,
                            "sha256": hashlib.sha256(body).hexdigest()}
    return entries


def build(out_dir: Path, n: int = 0, seed: int = 0, bars: int = 32, progress: bool = True,
          game: bool = True) -> list[Path]:
    """Writes the folk songs under out_dir/<style>/ (n = 0: one per distinct tune), the game
    songs under out_dir/game/ and out_dir/manifest.json; returns the MIDI files' paths."""
    from tqdm import tqdm
    out_dir = Path(out_dir)
    entries: dict[str, dict] = {}
    paths = []
    for i, song in enumerate(tqdm(songs(n, seed, bars=bars, progress=progress),
                                  desc="corpus", unit="song", disable=not progress)):
        path = make_song(song, out_dir / song.style / file_name(i, song))
        entries[path.relative_to(out_dir).as_posix()] = song_entry(song, path)
        paths.append(path)
    if game:
        found = copy_game_songs(out_dir)
        entries.update(found)
        paths += [out_dir / rel for rel in found]
    manifest = {"seed": seed, "songs": n, "bars": bars,
                "tunes": len({e["tune"] for e in entries.values() if e["kind"] == "folk"}),
                "files": entries}
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return paths
