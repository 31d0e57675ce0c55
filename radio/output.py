"""Files out of the chain: MIDI of the segments as played, WAV or MP3 of their audio."""

from __future__ import annotations

import dataclasses
import wave
from pathlib import Path

import numpy as np
import note_seq
from note_seq import sequences_lib

from .encoder import Mp3Encoder, to_int16
from .contracts import CHANNEL, SAMPLE_RATE
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


def midi_bytes(segments: list[Segment], lead_program: int = 81, bass_program: int = 33) -> bytes:
    import io
    buf = io.BytesIO()
    note_seq.midi_io.note_sequence_to_pretty_midi(join(segments, lead_program, bass_program)).write(buf)
    return buf.getvalue()


def write_midi(segments: list[Segment], path: Path, lead_program: int = 81, bass_program: int = 33) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    note_seq.sequence_proto_to_midi_file(join(segments, lead_program, bass_program), str(path))


def write_audio(pcm: np.ndarray, path: Path, bitrate: int = 128) -> None:
    """(2, n) float32 PCM to .wav (16-bit) or .mp3 (CBR)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".mp3":
        enc = Mp3Encoder(bitrate)
        frames = enc.encode(pcm) + enc.flush()
        path.write_bytes(b"".join(f.data for f in frames))
        return
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(to_int16(pcm))
