"""Trio tokens ↔ tensors ↔ NoteSequences without TensorFlow (note-seq only).

The trio converter's tensor is [steps, 692]: three one-hots side by side,
- lead and bass (90 each): MelodyOneHotEncoding over pitches 21–108: 0 = no event,
  1 = note off, 2 + (pitch - 21) = note on;
- drums (512): MultiDrumOneHotEncoding of the 9 reduced drum classes, one class per bit
  of the index (bit k: class k sounds), each class played as its first pitch.
`to_sequences` is magenta's TrioConverter.from_tensors (lead on instrument 0, bass on
instrument 1 with program 33, drums on instrument 9; velocity 80, 120 qpm).
"""

from __future__ import annotations

import note_seq
import numpy as np
from note_seq import drums_encoder_decoder

from ..contracts import PARTS, STEPS_PER_BAR, STEPS_PER_QUARTER, BadValue

DEPTHS = (90, 90, 512)
FIRST_NOTE_ON = 2                     # a melody one-hot's column of MIN_PITCH (0 no event, 1 note off)
MIN_PITCH, MAX_PITCH = 21, 108        # the piano's range, magenta's PIANO_MIN/MAX_MIDI_PITCH
OUTPUT_VELOCITY = 80                  # magenta's data.OUTPUT_VELOCITY
ELECTRIC_BASS_PROGRAM = 33
DRUM_CLASSES = drums_encoder_decoder.DEFAULT_DRUM_TYPE_PITCHES  # 9 classes of pitches
# pitch → its class (kick, snare, closed hat, open hat, toms ×3, crash, ride)
DRUM_CLASS = {p: i for i, pitches in enumerate(DRUM_CLASSES) for p in pitches}

_melody_encoding = note_seq.MelodyOneHotEncoding(MIN_PITCH, MAX_PITCH + 1)
_drum_encoding = note_seq.MultiDrumOneHotEncoding(drum_type_pitches=[(i,) for i in range(len(DRUM_CLASSES))])


def part_index(part: str | int) -> int:
    if isinstance(part, (int, np.integer)):
        return int(part)
    if part not in PARTS:
        raise BadValue(f"part {part!r}: use one of {', '.join(PARTS)}")
    return PARTS.index(part)


def ids_to_tensors(ids: np.ndarray) -> np.ndarray:
    """Token ids [3, N, T] → converter tensors [N, T, 692] (bool)."""
    parts, n, steps = ids.shape
    out = np.zeros((n, steps, sum(DEPTHS)), bool)
    offset = 0
    for p in range(parts):
        np.put_along_axis(out, (ids[p] + offset)[..., None], True, axis=-1)
        offset += DEPTHS[p]
    return out


def tensors_to_ids(tensors) -> np.ndarray:
    """Converter tensors [N, T, 692] (or a list of [T, 692]) → ids [3, N, T] (argmax per part)."""
    x = np.asarray(tensors)
    cuts = np.cumsum(DEPTHS)[:-1]
    return np.stack([np.argmax(part, axis=-1) for part in np.split(x, cuts, axis=-1)])


def _melody(ids: np.ndarray) -> note_seq.NoteSequence:
    melody = note_seq.Melody(steps_per_bar=STEPS_PER_BAR, steps_per_quarter=STEPS_PER_QUARTER)
    for e in ids:
        melody.append(_melody_encoding.decode_event(int(e)))
    return melody.to_sequence(velocity=OUTPUT_VELOCITY, qpm=note_seq.DEFAULT_QUARTERS_PER_MINUTE)


def _drums(ids: np.ndarray) -> note_seq.NoteSequence:
    events = [frozenset(DRUM_CLASSES[c][0] for c in _drum_encoding.decode_event(int(e))) for e in ids]
    track = note_seq.DrumTrack(events=events, steps_per_bar=STEPS_PER_BAR, steps_per_quarter=STEPS_PER_QUARTER)
    return track.to_sequence(velocity=OUTPUT_VELOCITY)


def to_sequences(ids: np.ndarray) -> list[note_seq.NoteSequence]:
    """Token ids [3, N, T] → N trio NoteSequences, as magenta's TrioConverter.from_tensors."""
    out = []
    for lead_ids, bass_ids, drum_ids in zip(*ids):
        ns, bass, drums = _melody(lead_ids), _melody(bass_ids), _drums(drum_ids)
        for n in bass.notes:
            n.instrument = 1
            n.program = ELECTRIC_BASS_PROGRAM
        for n in drums.notes:
            n.instrument = 9
        ns.notes.extend(bass.notes)
        ns.notes.extend(drums.notes)
        ns.total_time = max(ns.total_time, bass.total_time, drums.total_time)
        out.append(ns)
    return out
