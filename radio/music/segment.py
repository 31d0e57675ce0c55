"""The unit that flows from the composer to the renderer: a few bars of trio music."""

from __future__ import annotations

import dataclasses
import math

import note_seq

from ..contracts import BASS, DRUMS, LEAD, PART_TABLE, SegmentData, part_of  # noqa: F401  (re-exported)

# Parts as the trio model writes them (TrioConverter.from_tensors): instrument numbers.
PART_NAMES = {p.channel: p.name for p in PART_TABLE}
MODEL_QPM = 120.0  # the converter times decoded sequences at this tempo


@dataclasses.dataclass
class Segment:
    """Bars of trio music; note times in seconds from the segment's start, at `qpm`.

    `anchors` and `t` say where in the latent walk it came from: the step between the
    anchors labelled a and b, at position t in (0, 1].
    """
    id: int
    sequence: note_seq.NoteSequence
    qpm: float
    bars: int
    anchors: tuple[str, str] = ("", "")
    t: float = 0.0
    humanized: bool = False
    start_qpm: float = 0.0     # the tempo the first beat starts at; 0: qpm throughout
    ramp_beats: float = 0.0    # beats over which the tempo moves from start_qpm to qpm
    z: object = None           # the latent point it was decoded from (np.ndarray), if known
    band: dict | None = None   # band mode: kept parts, source file, window (radio/band.py)
    song: dict | None = None   # a song's section: title, form, section, bars (songwriter.py)

    @property
    def duration(self) -> float:
        """Seconds: whole bars of 4/4, even when the last notes end earlier."""
        return self.seconds_at(self.bars * 4)

    def seconds_at(self, beat: float) -> float:
        """Where a beat falls, in seconds, through the tempo ramp."""
        return tempo_map(beat, self.qpm, self.start_qpm, self.ramp_beats)

    def beat_at(self, seconds: float) -> float:
        """The inverse of seconds_at."""
        q0, q1, r = self.start_qpm or self.qpm, self.qpm, self.ramp_beats
        if not r or q0 == q1:
            return seconds * q1 / 60.0
        ramp_s = self.seconds_at(r)
        if seconds >= ramp_s:
            return r + (seconds - ramp_s) * q1 / 60.0
        k = (q1 - q0) / r  # qpm per beat
        return q0 * (math.exp(seconds * k / 60.0) - 1) / k

    def meta(self) -> dict:
        counts = {name: 0 for name in PART_NAMES.values()}
        for n in self.sequence.notes:
            counts[part_of(n)] += 1
        out = {"id": self.id, "qpm": round(self.qpm, 2), "bars": self.bars,
               "start_qpm": round(self.start_qpm or self.qpm, 2), "ramp_beats": self.ramp_beats,
               "seconds": round(self.duration, 3), "anchors": list(self.anchors),
               "t": round(self.t, 3), "humanized": self.humanized, "notes": counts}
        if self.band is not None:
            out["band"] = dict(self.band)
        if self.song is not None:
            out["song"] = dict(self.song)
        return out


def tempo_map(beat: float, qpm: float, start_qpm: float = 0.0, ramp_beats: float = 0.0) -> float:
    """Seconds at `beat` when the tempo moves linearly (per beat) from start_qpm to qpm over
    the first ramp_beats beats, then stays: the integral of 60 / tempo."""
    q0 = start_qpm or qpm
    if not ramp_beats or q0 == qpm:
        return beat * 60.0 / qpm
    k = (qpm - q0) / ramp_beats
    b = min(beat, ramp_beats)
    seconds = 60.0 / k * math.log((q0 + k * b) / q0)
    return seconds + max(0.0, beat - ramp_beats) * 60.0 / qpm


def transposed(seq: note_seq.NoteSequence, semitones: int) -> note_seq.NoteSequence:
    """A copy of `seq` with lead and bass moved by `semitones` (kept in MIDI range); drums stay."""
    out = note_seq.NoteSequence()
    out.CopyFrom(seq)
    for n in out.notes:
        if not n.is_drum:
            n.pitch = min(127, max(0, n.pitch + semitones))
    return out


def retime(seq: note_seq.NoteSequence, qpm: float, from_qpm: float = MODEL_QPM,
           start_qpm: float = 0.0, ramp_beats: float = 0.0) -> note_seq.NoteSequence:
    """A copy of `seq` played at `qpm` instead of `from_qpm`, through a tempo ramp from
    `start_qpm` over the first `ramp_beats` beats when given."""
    out = note_seq.NoteSequence()
    out.CopyFrom(seq)

    def at(seconds: float) -> float:
        return tempo_map(seconds * from_qpm / 60.0, qpm, start_qpm, ramp_beats)

    for n in out.notes:
        n.start_time, n.end_time = at(n.start_time), at(n.end_time)
    out.total_time = at(out.total_time)
    del out.tempos[:]
    if start_qpm and ramp_beats and start_qpm != qpm:
        out.tempos.add(qpm=start_qpm)
        out.tempos.add(qpm=qpm, time=at(ramp_beats * 60.0 / from_qpm))
    else:
        out.tempos.add(qpm=qpm)
    return out
