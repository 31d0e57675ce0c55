"""The unit that flows from the composer to the renderer: a few bars of trio music."""

from __future__ import annotations

import dataclasses

import note_seq

# Parts as the trio model writes them (TrioConverter.from_tensors): instrument numbers.
LEAD, BASS, DRUMS = 0, 1, 9
PART_NAMES = {LEAD: "lead", BASS: "bass", DRUMS: "drums"}
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

    @property
    def duration(self) -> float:
        """Seconds: whole bars of 4/4, even when the last notes end earlier."""
        return self.bars * 4 * 60.0 / self.qpm

    def meta(self) -> dict:
        counts = {name: 0 for name in PART_NAMES.values()}
        for n in self.sequence.notes:
            counts[part_of(n)] += 1
        return {"id": self.id, "qpm": round(self.qpm, 2), "bars": self.bars,
                "seconds": round(self.duration, 3), "anchors": list(self.anchors),
                "t": round(self.t, 3), "humanized": self.humanized, "notes": counts}


def part_of(note) -> str:
    if note.is_drum:
        return "drums"
    return "bass" if note.instrument == BASS else "lead"


def retime(seq: note_seq.NoteSequence, qpm: float, from_qpm: float = MODEL_QPM) -> note_seq.NoteSequence:
    """A copy of `seq` played at `qpm` instead of `from_qpm`."""
    out = note_seq.NoteSequence()
    out.CopyFrom(seq)
    scale = from_qpm / qpm
    for n in out.notes:
        n.start_time *= scale
        n.end_time *= scale
    out.total_time *= scale
    del out.tempos[:]
    out.tempos.add(qpm=qpm)
    return out
