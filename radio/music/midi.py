"""MIDI out of the chain: the segments as played, joined into one file (audio files are
radio/station/encoder.py `write_audio`'s)."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import note_seq
from note_seq import sequences_lib

from ..contracts import CHANNEL
from .segment import Segment, part_of


def trim_to_bars(segments: list[Segment], bars: int) -> list[Segment]:
    """Cuts the list so it holds exactly `bars` bars (the last segment shortened)."""
    out, left = [], bars
    for s in segments:
        if left <= 0:
            break
        if s.bars > left:
            end = left * 4 * 60.0 / s.qpm
            seq = sequences_lib.trim_note_sequence(s.sequence, 0.0, end)
            s = dataclasses.replace(s, sequence=seq, bars=left)
        out.append(s)
        left -= s.bars
    return out


def join(segments: list[Segment], lead_program: int, bass_program: int) -> note_seq.NoteSequence:
    """One NoteSequence of the segments back to back, with GM programs and channels set."""
    ns = note_seq.NoteSequence(ticks_per_quarter=480)
    offset = 0.0
    for s in segments:
        ns.tempos.add(time=offset, qpm=s.qpm)
        for n in s.sequence.notes:
            m = ns.notes.add()
            m.CopyFrom(n)
            m.start_time += offset
            m.end_time += offset
            part = part_of(n)
            m.instrument = CHANNEL[part]
            m.program = {"lead": lead_program, "bass": bass_program, "drums": 0}[part]
        offset += s.duration
    ns.time_signatures.add(time=0, numerator=4, denominator=4)
    ns.total_time = offset
    return ns


def sequence_bytes(ns: note_seq.NoteSequence) -> bytes:
    """A NoteSequence as the bytes of a MIDI file."""
    buf = io.BytesIO()
    note_seq.midi_io.note_sequence_to_pretty_midi(ns).write(buf)
    return buf.getvalue()


def midi_bytes(segments: list[Segment], lead_program: int = 81, bass_program: int = 33) -> bytes:
    return sequence_bytes(join(segments, lead_program, bass_program))


def write_midi(segments: list[Segment], path: Path, lead_program: int = 81, bass_program: int = 33) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    note_seq.sequence_proto_to_midi_file(join(segments, lead_program, bass_program), str(path))
