"""Band completion's input: a MIDI file read and checked, the kept parts found by role,
and its tempo map (seconds ↔ beats), shared by `radio complete` and the station's band mode.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import note_seq
import numpy as np

from ..contracts import PARTS, SEGMENT_BARS, RadioError
from ..music import seeds

WINDOW_BARS = SEGMENT_BARS                 # completion works a segment's bars at a time
MAX_BARS = 128                             # what one request may ask for (API)


class CompleteError(RadioError):
    """An input or a model completion cannot use; the message says what to change."""
    status = 400


class TempoMap:
    """Seconds ↔ beats through a file's tempo changes (120 qpm when it has none)."""

    def __init__(self, tempos: Sequence):
        changes = sorted((float(t.time), float(t.qpm)) for t in tempos) or [(0.0, 120.0)]
        if changes[0][0] > 0:
            changes.insert(0, (0.0, changes[0][1]))
        self.times = [t for t, _ in changes]
        self.qpms = [q for _, q in changes]
        self.beat_marks = [0.0]
        for (t0, q0), (t1, _) in zip(changes, changes[1:]):
            self.beat_marks.append(self.beat_marks[-1] + (t1 - t0) * q0 / 60.0)

    def beats(self, seconds: float) -> float:
        i = max(0, np.searchsorted(self.times, seconds, side="right") - 1)
        return self.beat_marks[i] + (seconds - self.times[i]) * self.qpms[i] / 60.0

    def seconds(self, beats: float) -> float:
        i = max(0, np.searchsorted(self.beat_marks, beats, side="right") - 1)
        return self.times[i] + (beats - self.beat_marks[i]) * 60.0 / self.qpms[i]

    def qpm_at(self, beats: float) -> float:
        return self.qpms[max(0, np.searchsorted(self.beat_marks, beats, side="right") - 1)]


@dataclasses.dataclass
class KeptPart:
    """A part the musician played: its notes exactly as read, and where they came from."""
    role: str
    notes: list                   # NoteSequence.Note copies, untouched
    tracks: list[int]             # instrument (track) numbers they came from
    others: list[int] = dataclasses.field(default_factory=list)  # tracks that also qualified

    def describe(self) -> str:
        text = f"{self.role}: track {'+'.join(map(str, self.tracks))} ({len(self.notes)} notes)"
        if self.others:
            text += f"; also {self.role}-like: track {', '.join(map(str, self.others))} (pick with --track)"
        return text


def parse_keep(text: str) -> list[str]:
    keep = [k.strip() for k in str(text).split(",") if k.strip()]
    bad = [k for k in keep if k not in PARTS]
    if bad or not keep:
        raise CompleteError(f"--keep {text!r}: name one or two of {', '.join(PARTS)}, "
                            "comma-separated (e.g. --keep bass or --keep bass,drums)")
    keep = list(dict.fromkeys(keep))
    if len(keep) == len(PARTS):
        raise CompleteError("--keep names all three parts: nothing is left to complete")
    return keep


def read_input(data: bytes) -> note_seq.NoteSequence:
    """Parses a MIDI file and checks what completion needs: notes, and 4/4 throughout."""
    try:
        ns = seeds.parse_midi(data)
    except seeds.SeedImportError as e:
        raise CompleteError(f"cannot read the file: {e}") from None
    if not ns.notes:
        raise CompleteError("empty: the file has no notes")
    odd = [ts for ts in ns.time_signatures if (ts.numerator, ts.denominator) != (4, 4)]
    if odd:
        raise CompleteError(f"not 4/4: the file is in {odd[0].numerator}/{odd[0].denominator} "
                            f"from {odd[0].time:.2f} s; the trio model plays 4/4 only")
    return ns


def _track_list(parts: Sequence[seeds.Part]) -> str:
    return ", ".join(f"{p.instrument} ({'drums' if p.is_drum else f'program {p.program}'}, "
                     f"{p.notes} notes, mean pitch {p.mean_pitch:.0f})" for p in parts) or "none"


def find_parts(ns: note_seq.NoteSequence, keep: Sequence[str], track: int | None = None) -> dict[str, KeptPart]:
    """The kept parts, found by role as the seed import finds them (seeds.classify): drums
    are every drum track, the bass the lowest bass-like track, the lead the highest other
    pitched track. Unlike the import, a track with a single note qualifies (a one-bar line
    is input enough). `track` picks one of several that qualify."""
    parts = seeds.describe_parts(ns)
    roles = seeds.classify(parts, min_notes=1)
    candidates = {"drums": roles.drums, "bass": roles.basses, "lead": roles.leads}
    if track is not None and not any(p.instrument == track for r in keep for p in candidates[r]):
        raise CompleteError(f"--track {track} is not a {' or '.join(keep)} track; "
                            + "; ".join(f"{r} tracks: {_track_list(candidates[r])}" for r in keep))
    out = {}
    for role in keep:
        found = candidates[role]
        if not found:
            what = {"drums": "no drum track (MIDI channel 10)",
                    "bass": "no bass line (a track on a bass program, 32–39, or lower than C3 on average)",
                    "lead": "no lead (a pitched track above the bass)"}[role]
            raise CompleteError(f"{what}; the file's tracks: {_track_list(parts)}")
        chosen = [p for p in found if p.instrument == track] if track is not None else []
        if not chosen:
            chosen = found if role == "drums" else found[:1]
        ids = sorted({p.instrument for p in chosen})
        is_drum = role == "drums"
        notes = []
        for n in ns.notes:
            if n.instrument in ids and n.is_drum == is_drum:
                m = note_seq.NoteSequence.Note()
                m.CopyFrom(n)
                notes.append(m)
        others = sorted({p.instrument for p in found} - set(ids))
        out[role] = KeptPart(role, notes, ids, others)
    return out


def bar_count(ns: note_seq.NoteSequence, tempo: TempoMap) -> int:
    end = max(n.end_time for n in ns.notes)
    return max(1, math.ceil(tempo.beats(end) / 4 - 1e-6))
