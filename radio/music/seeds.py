"""Seeds stage: MIDI files → trio segments (drums, bass, lead), with a report per file.

Real files put the lead and the bass on any program, while magenta's TrioConverter decides
parts by program number (melody 0–31, bass 32–39). So we decide each part by its role
first and hand the converter a sequence whose programs say so:
- drums: every drum-channel track, merged into one kit;
- bass: the tracks on a bass program or below C3 on average, one line bar by bar (the
  lowest track playing), skyline from below where it plays chords;
- lead: every other pitched track; bar by bar the top line (high, not chords; a bonus for
  staying on the same track), its skyline (legato overlaps and doubled octaves fold in).
Real songs start with intros, so 16-bar windows slide a bar at a time until all three
parts play. The converter does the rest: segments are what the model was trained on.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Iterable, Sequence

import note_seq
import numpy as np
from note_seq import sequences_lib

from ..contracts import MIDI_SUFFIXES, SEGMENT_BARS, RadioError

# Programs we hand the converter so it sees the roles we chose.
LEAD_PROGRAM_FOR_CONVERTER = 0
BASS_PROGRAM_FOR_CONVERTER = 33


class SeedImportError(RadioError):
    """A MIDI file that gives no trio segment; the message says why, for a person."""
    status = 400


@dataclasses.dataclass
class Part:
    """One track of a file, as the role classifier sees it."""
    instrument: int
    program: int
    is_drum: bool
    notes: int
    mean_pitch: float
    polyphony: float  # share of notes that start while another note of the part sounds


@dataclasses.dataclass
class Roles:
    drums: list[Part]
    bass: Part | None
    lead: Part | None
    basses: list[Part] = dataclasses.field(default_factory=list)  # bass candidates, lowest first
    leads: list[Part] = dataclasses.field(default_factory=list)   # lead candidates, highest first


@dataclasses.dataclass
class SeedSegment:
    """A 16-bar trio segment: the converter's one-hot tensor and the NoteSequence it decodes
    to (timed at the converter's 120 qpm; `qpm` is the tempo the source played at)."""
    source: str
    start_bar: int
    qpm: float
    tensor: np.ndarray            # (256, depth) bool, the converter's encoding
    sequence: note_seq.NoteSequence
    transpose: int = 0            # semitones of augmentation applied to the source


@dataclasses.dataclass
class FileReport:
    path: str
    segments: int = 0
    reason: str = ""               # why nothing was kept; empty when segments > 0
    roles: str = ""

    def line(self) -> str:
        name = Path(self.path).name
        if self.segments:
            return f"kept    {name}: {self.segments} segment(s) [{self.roles}]"
        return f"dropped {name}: {self.reason}"


def describe_parts(ns: note_seq.NoteSequence) -> list[Part]:
    by_track: dict[tuple, list] = {}
    for n in ns.notes:
        by_track.setdefault((n.instrument, n.program, n.is_drum), []).append(n)
    parts = []
    for (instrument, program, is_drum), notes in sorted(by_track.items()):
        notes.sort(key=lambda n: n.start_time)
        overlapping, last_end = 0, -1.0
        for n in notes:
            # 10 ms of tolerance: legato lines often overlap by a hair.
            if n.start_time < last_end - 0.01:
                overlapping += 1
            last_end = max(last_end, n.end_time)
        parts.append(Part(instrument, program, is_drum, len(notes),
                          float(np.mean([n.pitch for n in notes])), overlapping / len(notes)))
    return parts


# Percussive (112–119) and sound-effect (120–127) programs carry neither a tune nor a bass line.
EFFECT_PROGRAMS = range(112, 128)
BASS_MEAN_PITCH = 48      # a part that sits lower than C3 on average plays bass


def classify(parts: Sequence[Part], min_notes: int = 8) -> Roles:
    """Chooses drums, bass and lead by role, whatever their program numbers.

    Drums: every drum track (they are merged). Bass: the tracks on a bass program or lower
    than C3 on average, lowest first (merged bar by bar, lowest line). Lead: every other
    pitched track, highest first — which of them carries the top line is decided bar by bar
    (see `merged_line`), and a track that plays chords under its tune counts too (its skyline
    is the tune). `Roles.bass` / `Roles.lead` name the main one of each (lowest / highest).
    """
    drums = [p for p in parts if p.is_drum]
    if sum(p.notes for p in drums) < min_notes:
        drums = []
    pitched = [p for p in parts if not p.is_drum and p.notes >= min_notes
               and p.program not in EFFECT_PROGRAMS]
    basses = sorted((p for p in pitched if 32 <= p.program <= 39 or p.mean_pitch < BASS_MEAN_PITCH),
                    key=lambda p: p.mean_pitch)
    floor = basses[0].mean_pitch + 5 if basses else 0
    leads = sorted((p for p in pitched if p not in basses and p.mean_pitch >= floor),
                   key=lambda p: -p.mean_pitch)
    return Roles(drums, basses[0] if basses else None, leads[0] if leads else None,
                 basses, leads)


@dataclasses.dataclass
class _Note:
    start: float
    end: float
    pitch: int
    velocity: int
    part: int = 0        # index of the candidate track it came from


def skyline(notes: Sequence[_Note], top: bool = True, legato_s: float = 0.25) -> list[_Note]:
    """One monophonic line out of notes that overlap: at each moment the highest (or, with
    `top=False`, the lowest) sounding note; a note is cut where a higher one starts.

    A lower note that starts while a higher one holds on is left out (an inner voice, a
    chord under the tune) — unless the higher one ends within `legato_s`: then the line is
    legato and the new note takes over. Of notes starting together the highest wins.
    """
    sign = 1 if top else -1
    out: list[_Note] = []
    for n in sorted(notes, key=lambda n: (n.start, -sign * n.pitch)):
        if n.end <= n.start:
            continue
        n = dataclasses.replace(n)
        if out and out[-1].end > n.start + 1e-3:
            k = out[-1]
            above = sign * (n.pitch - k.pitch) >= 0
            if not above and (n.start - k.start < 1e-3 or k.end - n.start > legato_s):
                continue  # same onset as a higher note, or under one that holds on
            k.end = n.start
            if k.end - k.start < 1e-3:
                out.pop()
        out.append(n)
    return out


def _notes_of(ns, part: Part, lo: int = 0, hi: int = 127) -> list[_Note]:
    return [_Note(n.start_time, n.end_time, n.pitch, n.velocity)
            for n in ns.notes if not n.is_drum and n.instrument == part.instrument
            and n.program == part.program and lo <= n.pitch <= hi]


def _bar_score(line: list[_Note], chordy: float, top: bool) -> float:
    """How much a track's line in one bar sounds like the lead (the top line, not chords) or
    the bass line (low).

    The lead is the top voice, as listeners hear a melody and as band completion and the
    likeness bench take it (the highest track). Until 2026-12-05 busy lines scored higher
    (many notes, many pitches): the import then took a band's riffs and fills over its held
    melody, a line busier than any of its players (5.25 notes a bar and never resting in
    freedoom2, whose highest track plays 1.75 and rests half the time)."""
    mean = float(np.mean([n.pitch for n in line]))
    if not top:
        return -mean / 6 + min(len(line), 8) * 0.1
    return mean / 6 - 3 * chordy


def merged_line(ns, parts: Sequence[Part], bar_s: float, top: bool = True,
                stay_bonus: float = 1.5) -> tuple[list[_Note], list[int]]:
    """A monophonic line made of `parts`, bar by bar: in each bar the track whose skyline
    there scores best (`_bar_score`: for the lead high and not chords; for the bass low),
    with a bonus for staying on last bar's track so phrases are not cut up (another must sit
    9 semitones higher to take over). Returns the notes (each one's `part` is its index in `parts`) and the
    chosen track per bar (-1 where none starts a note)."""
    legato = bar_s / 8
    lines, onsets = [], []
    for i, p in enumerate(parts):
        raw = _notes_of(ns, p, 21, 108)  # the converter's pitch range
        line = skyline(raw, top, legato)
        for n in line:
            n.part = i
        lines.append(line)
        starts: dict[int, int] = {}
        for n in raw:
            key = round(n.start / (bar_s / 16))
            starts[key] = starts.get(key, 0) + 1
        onsets.append(starts)
    total = max((n.end for line in lines for n in line), default=0.0)
    bars = int(np.ceil(total / bar_s - 1e-6))
    by_bar = [[[] for _ in range(bars)] for _ in parts]
    for i, line in enumerate(lines):
        for n in line:
            b = int(n.start / bar_s + 1e-6)
            if b < bars:
                by_bar[i][b].append(n)
    chosen, out, prev = [], [], -1
    for b in range(bars):
        best, best_score = -1, -np.inf
        for i in range(len(parts)):
            notes = by_bar[i][b]
            if not notes:
                continue
            steps = {round(n.start / (bar_s / 16)) for n in notes}
            chordy = float(np.mean([onsets[i].get(s, 1) > 1 for s in steps]))
            score = _bar_score(notes, chordy, top) + (stay_bonus if i == prev else 0.0)
            if score > best_score:
                best, best_score = i, score
        chosen.append(best)
        if best >= 0:
            out.extend(by_bar[best][b])
            prev = best
    out.sort(key=lambda n: n.start)
    for a, b in zip(out, out[1:]):  # a note held over from another track stops at the next
        a.end = min(a.end, b.start)
    return [n for n in out if n.end - n.start > 1e-3], chosen


def to_trio(ns: note_seq.NoteSequence, roles: Roles, bar_s: float | None = None) -> note_seq.NoteSequence:
    """A copy holding only the trio: all drum tracks merged, the bass line and the lead as
    one monophonic line each (see `merged_line`), with programs that tell the converter
    their roles."""
    return _build_trio(ns, roles, bar_s)[0]


def _build_trio(ns, roles: Roles, bar_s: float | None = None):
    """`to_trio`, plus the track chosen per bar for the bass and for the lead."""
    if bar_s is None:
        bar_s = 4 * 60.0 / (ns.tempos[0].qpm if ns.tempos else 120.0)
    out = note_seq.NoteSequence()
    out.CopyFrom(ns)
    del out.notes[:]
    drum_ids = {(p.instrument, p.program) for p in roles.drums}
    for n in ns.notes:
        if n.is_drum and (n.instrument, n.program) in drum_ids:
            m = out.notes.add()
            m.CopyFrom(n)
            m.instrument = 9
    chosen = {}
    for role, parts, top, (instrument, program) in (
            ("bass", roles.basses or [p for p in [roles.bass] if p], False, (1, BASS_PROGRAM_FOR_CONVERTER)),
            ("lead", roles.leads or [p for p in [roles.lead] if p], True, (0, LEAD_PROGRAM_FOR_CONVERTER))):
        line, per_bar = merged_line(ns, parts, bar_s, top) if parts else ([], [])
        chosen[role] = [parts[i] if i >= 0 else None for i in per_bar]
        for n in line:
            out.notes.add(pitch=n.pitch, start_time=n.start, end_time=n.end, velocity=n.velocity,
                          instrument=instrument, program=program)
    return out, chosen["bass"], chosen["lead"]


def check_name(path: Path) -> None:
    if path.suffix.lower() not in MIDI_SUFFIXES:
        raise SeedImportError("not MIDI (file name does not end in .mid/.midi)")


def read_midi(path: Path) -> note_seq.NoteSequence:
    """Parses one file; every way it can fail becomes a SeedImportError."""
    check_name(path)
    return parse_midi(path.read_bytes())


def parse_midi(data: bytes) -> note_seq.NoteSequence:
    if not data:
        raise SeedImportError("empty file")
    if not data.startswith(b"MThd"):
        raise SeedImportError("not MIDI (no MThd header)")
    try:
        return note_seq.midi_to_note_sequence(data)
    except Exception as e:  # pretty_midi/mido raise many types on broken files
        raise SeedImportError(f"corrupt MIDI ({type(e).__name__}: {str(e)[:80]})") from None


def transposed(ns: note_seq.NoteSequence, semitones: int) -> note_seq.NoteSequence:
    """A copy with every pitched note moved; drums stay (their pitches name instruments)."""
    out = note_seq.NoteSequence()
    out.CopyFrom(ns)
    for n in out.notes:
        if not n.is_drum:
            n.pitch += semitones
    return out


def transpositions(transpose: int) -> list[int]:
    """0 first, then ±1 … ±transpose: augmentation keeps the original key too."""
    return [0] + [s * k for k in range(1, transpose + 1) for s in (1, -1)]


def segments_from_sequence(ns: note_seq.NoteSequence, converter, source: str = "",
                           hop_bars: int = SEGMENT_BARS,
                           transpose: int = 0) -> tuple[list[SeedSegment], str]:
    """Cuts a NoteSequence into 16-bar trio segments; returns them and a roles summary.

    With `transpose` > 0 each window is also kept moved by ±1 … ±transpose semitones
    (augmentation for small sets); shifts that leave the converter's pitch range are dropped
    by the converter itself. Raises SeedImportError with the reason when nothing can be kept.
    """
    pieces = sequences_lib.split_note_sequence_on_time_changes(ns)
    four_four = [p for p in pieces if all(
        (ts.numerator, ts.denominator) == (4, 4) for ts in p.time_signatures)]
    if not four_four:
        raise SeedImportError("not 4/4")
    roles = classify(describe_parts(ns))
    missing = [name for name, ok in (("drums", roles.drums), ("bass line", roles.bass),
                                     ("lead", roles.lead)) if not ok]
    if missing:
        raise SeedImportError("no " + " / no ".join(missing))
    # a converter that can move a tensor (radio.model.convert's) converts a window once;
    # magenta's converts every moved copy again (twice the time at ±3 on a long song)
    shift_tensor = getattr(converter, "transposed_tensor", None)
    out: list[SeedSegment] = []
    used = {"bass": set(), "lead": set()}
    for piece in four_four:
        qpm = piece.tempos[0].qpm if piece.tempos else 120.0
        bar_s = 4 * 60.0 / qpm
        trio, bass_bars, lead_bars = _build_trio(piece, roles, bar_s)
        if not trio.notes:
            continue
        start = piece.tempos[0].time if piece.tempos else 0.0
        bars = round((trio.total_time - start) / bar_s)  # the last note may end early
        # Slide a bar at a time until a window has all three parts, then hop on: real
        # songs start with intros, so a fixed grid from bar 0 misses the band.
        b = 0
        while b + SEGMENT_BARS <= bars:
            window = sequences_lib.extract_subsequence(
                trio, start + b * bar_s, start + (b + SEGMENT_BARS) * bar_s)
            kept = False
            base = converter.to_tensors(window).inputs if shift_tensor else None
            for shift in transpositions(transpose):
                if shift_tensor:
                    tensor = shift_tensor(np.asarray(base[0]), shift) if base else None
                else:
                    found = converter.to_tensors(transposed(window, shift) if shift else window).inputs
                    tensor = np.asarray(found[0]) if found else None
                if tensor is None:
                    continue  # a part falls silent for too long, or leaves the pitch range
                seq = converter.from_tensors([tensor])[0]  # timed at the converter's 120 qpm
                out.append(SeedSegment(source, b, qpm, tensor, seq, shift))
                kept = True
            if kept:
                for role, per_bar in (("bass", bass_bars), ("lead", lead_bars)):
                    used[role] |= {p.program for p in per_bar[b:b + SEGMENT_BARS] if p}
                b += hop_bars
            else:
                b += 1
    if not out:
        total_bars = round(ns.total_time / (4 * 60.0 / (ns.tempos[0].qpm if ns.tempos else 120)))
        if total_bars < SEGMENT_BARS:
            raise SeedImportError(f"too short ({total_bars} bars, need {SEGMENT_BARS})")
        raise SeedImportError("no 16-bar window where drums, bass and lead all play")
    summary = (f"drums ×{len(roles.drums)}, bass prog {'+'.join(map(str, sorted(used['bass'])))}, "
               f"lead prog {'+'.join(map(str, sorted(used['lead'])))}")
    return out, summary


def midi_files(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).rglob("*") if p.is_file())


def import_file(path: Path, converter, hop_bars: int = SEGMENT_BARS,
                transpose: int = 0) -> tuple[list[SeedSegment], FileReport, note_seq.NoteSequence | None]:
    """One file's segments, its report line, and the file as read (None if unreadable)."""
    report, ns, found = FileReport(str(path)), None, []
    try:
        ns = read_midi(path)
        found, report.roles = segments_from_sequence(ns, converter, str(path), hop_bars, transpose)
        report.segments = len(found)
    except SeedImportError as e:
        report.reason = str(e)
    return found, report, ns


def import_files(paths: Iterable[Path], converter, hop_bars: int = SEGMENT_BARS,
                 progress: bool = False, transpose: int = 0) -> tuple[list[SeedSegment], list[FileReport]]:
    """Reads every file; a bad file gets a report line and the rest go on."""
    from tqdm import tqdm
    paths = list(paths)
    done = [import_file(path, converter, hop_bars, transpose)
            for path in tqdm(paths, desc="seeds", unit="file", disable=not progress or len(paths) < 20)]
    return [s for found, _, _ in done for s in found], [report for _, report, _ in done]


def import_folder(folder: Path, converter, hop_bars: int = SEGMENT_BARS,
                  progress: bool = False, transpose: int = 0) -> tuple[list[SeedSegment], list[FileReport]]:
    return import_files(midi_files(folder), converter, hop_bars, progress, transpose)
