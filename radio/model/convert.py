"""magenta's TrioConverter (hierdec-/flat-trio_16bar's data converter) on note-seq alone.

A port of magenta/models/music_vae/data.py's `TrioConverter` as the trio configs build it
(`TrioConverter(steps_per_quarter=4, slice_bars=16, gap_bars=2)`, inference mode), with
the melody and drum extraction of magenta/pipelines (`extract_melodies`,
`extract_drum_tracks`) minus their statistics. magenta (Apache 2.0) imports TensorFlow in
those modules; note-seq, which does the actual work (quantizing, Melody, DrumTrack), does
not. tests/test_convert.py holds this equal to magenta's converter on the shipped seed
sets and on real band files.

Steps (magenta's): split on tempo/time-signature changes; quantize at 4 steps a quarter
and require 16 steps a bar; classify each instrument (drums; programs 0–31 lead; 32–39
bass; anything else or a mix: unusable); encode each lead/bass instrument as a melody
(pitches 21–108, monophonic: a new note cuts the held one, same-step onsets keep the
highest; padded to the whole piece) and each drum instrument as a drum track of 9
classes; every (lead, bass, drums) instrument triple gives the 16-bar windows, a bar
apart, in which all three are present (a part may fall silent for up to `gap_bars`
bars); at most 5 tensors per sequence, first come.
"""

from __future__ import annotations

import collections
import itertools

import note_seq
import numpy as np
from note_seq import sequences_lib

from ..contracts import STEPS_PER_BAR, STEPS_PER_QUARTER, BrokenInvariant
from . import trio

MEL_PROGRAMS = range(0, 32)       # piano, chromatic percussion, organ, guitar
BASS_PROGRAMS = range(32, 40)
MAX_INSTRUMENT_NUMBER = 127
MAX_TENSORS = 5                   # TrioConverter's max_tensors_per_notesequence
UNK, MEL, BASS, DRUMS, INVALID = range(5)

ConverterTensors = collections.namedtuple("ConverterTensors", ("inputs", "outputs", "controls", "lengths"))


def _tensors(seqs=()) -> ConverterTensors:
    seqs = list(seqs)
    return ConverterTensors(inputs=seqs, outputs=seqs, controls=[np.zeros((len(s), 0), bool) for s in seqs],
                            lengths=[len(s) for s in seqs])


def _onehot(indices, depth) -> np.ndarray:
    out = np.zeros((len(indices), depth), bool)
    out[np.arange(len(indices)), indices] = True
    return out


def _extract_instrument(ns: note_seq.NoteSequence, instrument: int) -> note_seq.NoteSequence:
    out = note_seq.NoteSequence()
    out.CopyFrom(ns)
    del out.notes[:]
    out.notes.extend(n for n in ns.notes if n.instrument == instrument)
    return out


def _quantize(ns: note_seq.NoteSequence):
    """The sequence quantized at 4 steps a quarter, or None where magenta's converter gives
    nothing (a bad time signature, a bar that is not 16 steps, negative times)."""
    try:
        q = note_seq.quantize_note_sequence(ns, STEPS_PER_QUARTER)
        if note_seq.steps_per_bar_in_quantized_sequence(q) != STEPS_PER_BAR:
            return None
        return q
    except (note_seq.BadTimeSignatureError, note_seq.NonIntegerStepsPerBarError, note_seq.NegativeTimeError):
        return None


def _melody_tensor(ns: note_seq.NoteSequence) -> np.ndarray | None:
    """OneHotMelodyConverter(gap_bars=None, pad_to_total_time=True) on one instrument:
    its one melody as a [steps, 90] one-hot, or None."""
    ns = _extract_copy_in_range(ns)
    q = _quantize(ns)
    if q is None:
        return None
    melodies = []
    for instrument in set(n.instrument for n in q.notes):  # extract_melodies(min_bars=1, gap=inf, ...)
        start = 0
        while True:
            melody = note_seq.Melody()
            try:
                melody.from_quantized_sequence(q, instrument=instrument, search_start_step=start,
                                               gap_bars=float("inf"), ignore_polyphonic_notes=True,
                                               pad_end=True, filter_drums=True)
            except note_seq.PolyphonicMelodyError:
                break
            start = melody.end_step + (0 - melody.end_step) % melody.steps_per_bar
            if not melody:
                break
            if len(melody) < melody.steps_per_bar:                       # min_bars=1
                continue
            if np.count_nonzero(melody.get_note_histogram()) < 1:         # min_unique_pitches=1
                continue
            melodies.append(melody)
    for m in melodies:  # pad_to_total_time
        m.set_length(len(m) + m.start_step, from_left=True)
        m.set_length(q.total_quantized_steps)
    unique = list(set(tuple(m) for m in melodies))
    if not unique:
        return None
    encoding = trio._melody_encoding
    return _onehot([encoding.encode_event(e) for e in unique[0]], trio.DEPTHS[0])


def _extract_copy_in_range(ns: note_seq.NoteSequence) -> note_seq.NoteSequence:
    """The notes OneHotMelodyConverter keeps: pitches 21–108."""
    out = note_seq.NoteSequence()
    out.CopyFrom(ns)
    del out.notes[:]
    out.notes.extend(n for n in ns.notes if trio.MIN_PITCH <= n.pitch <= trio.MAX_PITCH)
    return out




def _drums_tensor(ns: note_seq.NoteSequence) -> np.ndarray | None:
    """DrumsConverter(gap_bars=None, pad_to_total_time=True) on one instrument: its drum
    track as a [steps, 512] one-hot, or None."""
    q = _quantize(ns)
    if q is None:
        return None
    kept = []
    for n in q.notes:
        if n.is_drum and n.pitch in trio.DRUM_CLASS:
            n.pitch = trio.DRUM_CLASS[n.pitch]
            kept.append(n)
    del q.notes[:]
    q.notes.extend(kept)
    tracks, start = [], 0
    steps_per_bar = int(sequences_lib.steps_per_bar_in_quantized_sequence(q))
    while True:  # extract_drum_tracks(min_bars=1, gap=inf, pad_end=True)
        track = note_seq.DrumTrack()
        track.from_quantized_sequence(q, search_start_step=start, gap_bars=float("inf"), pad_end=True)
        start = track.end_step + (0 - track.end_step) % steps_per_bar
        if not track:
            break
        if len(track) < track.steps_per_bar:
            continue
        tracks.append(track)
    for t in tracks:
        t.set_length(len(t) + t.start_step, from_left=True)
        t.set_length(q.total_quantized_steps)
    unique = list(set(tuple(t) for t in tracks))
    if not unique:
        return None
    encoding = trio._drum_encoding
    return _onehot([encoding.encode_event(e) for e in unique[0]], trio.DEPTHS[2])


class TrioConverter:
    """The calls the station makes of magenta's trio converter: to_tensors, from_tensors,
    depths, set_mode (inference only)."""

    input_depth = output_depth = sum(trio.DEPTHS)
    control_depth = 0
    end_token = None
    length_shape = ()

    def __init__(self, slice_bars: int = 16, gap_bars: int = 2, max_bars: int = 1024):
        self.slice_bars, self.gap_bars, self.max_bars = slice_bars, gap_bars, max_bars

    def set_mode(self, mode: str) -> None:
        if mode != "infer":
            raise BrokenInvariant("this converter only infers (magenta's samples its outputs when training)")

    def to_tensors(self, note_sequence: note_seq.NoteSequence) -> ConverterTensors:
        """Every 16-bar trio window of the sequence (at most 5), as magenta's does;
        `inputs` are [256, 692] bool arrays. Like magenta's, it sets the sequence's
        total_time to the end of its last bar."""
        found = []
        for part in sequences_lib.split_note_sequence_on_time_changes(note_sequence):
            found.extend(self._to_tensors(part)[:MAX_TENSORS])
        return _tensors(found[:MAX_TENSORS])

    def _to_tensors(self, ns: note_seq.NoteSequence) -> list[np.ndarray]:
        q = _quantize(ns)
        if q is None:
            return []
        spb = STEPS_PER_BAR
        total_bars = min(int(np.ceil(q.total_quantized_steps / spb)), self.max_bars)
        kind = np.zeros(MAX_INSTRUMENT_NUMBER + 1, np.uint8)
        coverage = np.zeros((total_bars, MAX_INSTRUMENT_NUMBER + 1), bool)
        for note in q.notes:
            i = note.instrument
            if i > MAX_INSTRUMENT_NUMBER:
                continue
            inferred = DRUMS if note.is_drum else MEL if note.program in MEL_PROGRAMS else \
                BASS if note.program in BASS_PROGRAMS else INVALID
            if not kind[i]:
                kind[i] = inferred
            elif kind[i] != inferred:
                kind[i] = INVALID
            start_bar = note.quantized_start_step // spb
            end_bar = int(np.ceil(note.quantized_end_step / spb))
            if start_bar >= total_bars:
                continue
            coverage[start_bar:min(end_bar, total_bars), i] = True
        by_kind = collections.defaultdict(list)
        for i, k in enumerate(kind):
            if k not in (UNK, INVALID):
                by_kind[k].append(i)
        if len(by_kind) < 3:
            return []
        ns.total_time = total_bars * spb * 60 / ns.tempos[0].qpm / STEPS_PER_QUARTER
        encoded = {}
        for i in by_kind[MEL] + by_kind[BASS]:
            t = _melody_tensor(_extract_instrument(ns, i))
            if t is not None:
                encoded[i] = t
            else:
                coverage[:, i] = False
        for i in by_kind[DRUMS]:
            t = _drums_tensor(_extract_instrument(ns, i))
            if t is not None:
                encoded[i] = t
            else:
                coverage[:, i] = False
        original = coverage.copy()
        for j in range(total_bars):
            coverage[j] = np.any(original[max(0, j - self.gap_bars):min(total_bars, j + self.gap_bars) + 1], axis=0)
        seqs = []
        for grp in itertools.product(by_kind[MEL], by_kind[BASS], by_kind[DRUMS]):
            grp = list(grp)
            covered = np.all(coverage[:, grp], axis=1)
            covered[:self.gap_bars] = np.any(coverage[:self.gap_bars, grp])
            covered[-self.gap_bars:] = np.any(coverage[-self.gap_bars:, grp])
            for j in range(total_bars - self.slice_bars + 1):
                if np.all(covered[j:j + self.slice_bars]) and all(i in encoded for i in grp):
                    a, b = j * spb, (j + self.slice_bars) * spb
                    seqs.append(np.concatenate([encoded[i][a:b] for i in grp], axis=-1))
        return seqs

    def transposed_tensor(self, tensor: np.ndarray, semitones: int) -> np.ndarray | None:
        """A window's tensor with lead and bass moved `semitones` (drums stay), equal to
        converting the moved window again; None where a note would leave the piano range
        (the converter drops such notes, so that copy would be another window)."""
        out = tensor.copy()
        offset = 0
        for depth in trio.DEPTHS[:2]:
            notes = slice(offset + trio.FIRST_NOTE_ON, offset + depth)   # note-on columns, lowest pitch first
            ons = tensor[:, notes]
            if semitones and (ons[:, -semitones:] if semitones > 0 else ons[:, :-semitones]).any():
                return None
            out[:, notes] = np.roll(ons, semitones, axis=1)
            offset += depth
        return out

    def from_tensors(self, samples, controls=None) -> list[note_seq.NoteSequence]:
        """Trio NoteSequences from [n, steps, 692] tensors (120 qpm)."""
        return trio.to_sequences(trio.tensors_to_ids(np.asarray(samples)))
