"""Seeds stage: MIDI files → trio segments (drums, bass, lead), with a report per file.

Real files put the lead on any program (sax, flute, synth lead) and the bass line on
whatever the arranger liked, while magenta's TrioConverter decides parts by program
number (melody 0–31, bass 32–39). So we decide each part by its role first — drums by
channel 10, bass as the lowest mostly-monophonic line, lead as the highest one — and hand
the converter a sequence whose programs say so. The converter then does the rest, so
segments are exactly what the model was trained on.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import note_seq
from note_seq import sequences_lib

STEPS_PER_BAR = 16
SEGMENT_BARS = 16
MIDI_SUFFIXES = {".mid", ".midi", ".kar", ".smf"}
# Programs we hand the converter so it sees the roles we chose.
LEAD_PROGRAM_FOR_CONVERTER = 0
BASS_PROGRAM_FOR_CONVERTER = 33


class SeedImportError(Exception):
    """A MIDI file that gives no trio segment; the message says why, for a person."""


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


def classify(parts: Sequence[Part], min_notes: int = 8) -> Roles:
    """Chooses drums, bass and lead by role, whatever their program numbers."""
    drums = [p for p in parts if p.is_drum and p.notes >= min_notes]
    pitched = [p for p in parts if not p.is_drum and p.notes >= min_notes]
    lines = [p for p in pitched if p.polyphony <= 0.25]
    bass_like = [p for p in lines if 32 <= p.program <= 39 or p.mean_pitch < 52]
    bass = min(bass_like, key=lambda p: p.mean_pitch) if bass_like else None
    leads = [p for p in lines if p is not bass and p.mean_pitch >= 52]
    lead = max(leads, key=lambda p: (p.mean_pitch, p.notes)) if leads else None
    return Roles(drums, bass, lead)


def to_trio(ns: note_seq.NoteSequence, roles: Roles) -> note_seq.NoteSequence:
    """A copy holding only the chosen parts, with programs that tell the converter their roles."""
    out = note_seq.NoteSequence()
    out.CopyFrom(ns)
    del out.notes[:]
    drum_ids = {(p.instrument, p.program) for p in roles.drums}
    pitched = {}  # (instrument, program) → what the converter should see
    if roles.bass:
        pitched[(roles.bass.instrument, roles.bass.program)] = (1, BASS_PROGRAM_FOR_CONVERTER)
    if roles.lead:
        pitched[(roles.lead.instrument, roles.lead.program)] = (0, LEAD_PROGRAM_FOR_CONVERTER)
    for n in ns.notes:
        key = (n.instrument, n.program)
        if n.is_drum and key in drum_ids:
            target = (9, n.program)
        elif not n.is_drum and key in pitched:
            target = pitched[key]
        else:
            continue
        m = out.notes.add()
        m.CopyFrom(n)
        m.instrument, m.program = target
    return out


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
    summary = (f"drums ×{len(roles.drums)}, bass prog {roles.bass.program}, "
               f"lead prog {roles.lead.program}")
    out: list[SeedSegment] = []
    for piece in four_four:
        trio = to_trio(piece, roles)
        if not trio.notes:
            continue
        qpm = trio.tempos[0].qpm if trio.tempos else 120.0
        bar_s = 4 * 60.0 / qpm
        start = trio.tempos[0].time if trio.tempos else 0.0
        bars = round((trio.total_time - start) / bar_s)  # the last note may end early
        for b in range(0, bars - SEGMENT_BARS + 1, hop_bars):
            window = sequences_lib.extract_subsequence(
                trio, start + b * bar_s, start + (b + SEGMENT_BARS) * bar_s)
            for shift in transpositions(transpose):
                tensors = converter.to_tensors(transposed(window, shift) if shift else window)
                if not tensors.inputs:
                    continue  # a part falls silent for too long, or leaves the pitch range
                tensor = np.asarray(tensors.inputs[0])
                seq = converter.from_tensors([tensor])[0]  # timed at the converter's 120 qpm
                out.append(SeedSegment(source, b, qpm, tensor, seq, shift))
    if not out:
        total_bars = round(ns.total_time / (4 * 60.0 / (ns.tempos[0].qpm if ns.tempos else 120)))
        if total_bars < SEGMENT_BARS:
            raise SeedImportError(f"too short ({total_bars} bars, need {SEGMENT_BARS})")
        raise SeedImportError("no 16-bar window where drums, bass and lead all play")
    return out, summary


def midi_files(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).rglob("*") if p.is_file())


def import_files(paths: Iterable[Path], converter, hop_bars: int = SEGMENT_BARS,
                 progress: bool = False, transpose: int = 0) -> tuple[list[SeedSegment], list[FileReport]]:
    """Reads every file; a bad file gets a report line and the rest go on."""
    from tqdm import tqdm
    paths = list(paths)
    segments: list[SeedSegment] = []
    reports: list[FileReport] = []
    for path in tqdm(paths, desc="seeds", unit="file", disable=not progress or len(paths) < 20):
        report = FileReport(str(path))
        try:
            found, report.roles = segments_from_sequence(read_midi(path), converter,
                                                         str(path), hop_bars, transpose)
            report.segments = len(found)
            segments.extend(found)
        except SeedImportError as e:
            report.reason = str(e)
        reports.append(report)
    return segments, reports


def import_folder(folder: Path, converter, hop_bars: int = SEGMENT_BARS,
                  progress: bool = False, transpose: int = 0) -> tuple[list[SeedSegment], list[FileReport]]:
    return import_files(midi_files(folder), converter, hop_bars, progress, transpose)
