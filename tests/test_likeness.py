"""The likeness figures (radio/offline/likeness.py) on tiny hand-built windows with known answers."""

from __future__ import annotations

import io
import math
import types

import note_seq
import numpy as np
import pytest

from radio.offline import likeness as L

F = L.FEATURES


def _window(lead=(), bass=(), drums=(), missing=()) -> L.Parts:
    """Parts from (start step, length, pitch); roles in `missing` are absent from the source."""
    parts = {"lead": lead, "bass": bass, "drums": drums}
    return {r: [(s, s + n, p) for s, n, p in notes] for r, notes in parts.items() if r not in missing}


# bass: a quarter note on every beat of 4 bars, C2 D2 C2 G2 each bar
BASS = [(b * 16 + q * 4, 4, (36, 38, 36, 43)[q]) for b in range(4) for q in range(4)]
# drums: kick on 1 and 3, snare on 2 and 4, closed hat on every 8th; the same each bar
DRUMS = [(b * 16 + s, 1, p) for b in range(4) for s, p in
         [(0, 36), (8, 36), (4, 38), (12, 38)] + [(e, 42) for e in range(0, 16, 2)]]
# lead: one half note (8 steps), two 8ths (2), four 16ths (1) in bar 0 only, then silent
LEAD = [(0, 8, 72), (8, 2, 74), (10, 2, 76), (12, 1, 79), (13, 1, 77), (14, 1, 76), (15, 1, 72)]


def test_bass_figures():
    f = L.features(_window(bass=BASS))
    assert f["bass_notes_per_bar"] == 4
    assert f["bass_silence"] == 0.0                       # quarters back to back
    # intervals per bar 2, 2, 7 (×4 bars), and 7 from G2 to the next bar's C2 (×3): 15
    assert f["bass_interval"] == pytest.approx((4 * (2 + 2 + 7) + 3 * 7) / 15)
    assert f["bass_on_beats"] == 1.0
    assert f["bass_range"] == 7
    assert f["bass_pitch_classes"] == 3
    assert f["bass_length"] == 4
    assert f["bass_bar_jaccard"] == 1.0                   # the same bar four times
    assert f["bass_repeats"] == 0.0


def test_bass_silence_and_missing_lead():
    f = L.features(_window(bass=[(0, 16, 36), (32, 16, 36)], missing=("lead", "drums")))
    assert f["bass_silence"] == 0.5
    assert f["bass_notes_per_bar"] == 0.5
    assert f["bass_repeats"] == 1.0
    assert math.isnan(f["lead_range"]) and math.isnan(f["kicks_per_bar"])
    assert math.isnan(f["lead_bass_coincidence"])


def test_lead_figures():
    f = L.features(_window(lead=LEAD, bass=BASS))
    assert f["lead_notes_per_bar"] == 7 / 4
    assert f["lead_range"] == 79 - 72
    assert f["lead_silence"] == 0.75                      # bars 1–3 silent
    # lengths 8, 2, 2, 1, 1, 1, 1 → log2 3, 1, 1, 0, 0, 0, 0: shares 1/7, 2/7, 4/7
    p = np.array([1, 2, 4]) / 7
    assert f["lead_length_variety"] == pytest.approx(-(p * np.log2(p)).sum())
    assert f["lead_interval"] == pytest.approx((2 + 2 + 3 + 2 + 1 + 4) / 6)
    assert f["lead_pitch_classes"] == 5                   # C D E G F
    assert f["lead_chords"] == 0.0
    assert f["lead_on_beats"] == pytest.approx(3 / 7)     # steps 0, 8, 12
    assert f["lead_bass_coincidence"] == pytest.approx(3 / 16)
    assert f["lead_key_fit"] == 1.0


def test_lead_takes_the_top_of_a_chord():
    f = L.features(_window(lead=[(0, 4, 60), (0, 4, 64), (0, 4, 67), (4, 4, 65)]))
    assert f["lead_notes_per_bar"] == 2 / 4               # two onsets
    assert f["lead_interval"] == 2                        # 67 → 65, the melody on top
    assert f["lead_chords"] == 0.5


def test_drum_figures():
    f = L.features(_window(bass=BASS, drums=DRUMS))
    assert list(f) == list(F)                             # window_rows relies on the order
    assert (f["kicks_per_bar"], f["snares_per_bar"], f["hats_per_bar"]) == (2, 2, 8)
    assert f["drum_sounds_per_bar"] == 3
    assert f["drum_onsets_per_bar"] == 8
    assert f["drum_on_eighths"] == 1.0
    assert f["drum_bar_jaccard"] == 1.0
    assert f["snare_backbeat"] == 1.0
    assert f["kick_bass_coincidence"] == 0.5              # bass on 1 2 3 4, kicks on 1 and 3


def test_cut_carries_held_notes_as_sound_not_onsets():
    parts = {"bass": [(60, 72, 36), (64, 66, 40)], "lead": [(0, 1, 72)]}
    first, second = L.cut(parts)
    assert first["bass"] == [(60, 64, 36)] and second["bass"] == [(-4, 8, 36), (0, 2, 40)]
    f = L.features(second)
    assert f["bass_notes_per_bar"] == 1 / 4               # the carried note is no onset
    assert f["bass_silence"] == 1 - 8 / 64
    assert f["lead_notes_per_bar"] == 0 and f["lead_silence"] == 1.0


def test_window_rows_drop_near_empty_windows():
    parts = _window(bass=BASS + [(64 + 16, 4, 36)], drums=DRUMS)
    rows = L.window_rows(parts)
    assert rows.shape == (1, len(F))                      # the second window has 1 onset
    assert rows[0, F.index("kicks_per_bar")] == 2


def test_parts_from_segments_and_midi_agree():
    ns = note_seq.NoteSequence()
    ns.tempos.add(qpm=120)
    for s, n, p in BASS:
        ns.notes.add(pitch=p, start_time=s * 0.125, end_time=(s + n) * 0.125, velocity=80, instrument=1, program=33)
    for s, n, p in LEAD:
        ns.notes.add(pitch=p, start_time=s * 0.125, end_time=(s + n) * 0.125, velocity=80, instrument=0, program=80)
    for s, n, p in DRUMS:
        ns.notes.add(pitch=p, start_time=s * 0.125, end_time=s * 0.125 + 0.05, velocity=90, instrument=9, is_drum=True)
    ns.total_time = 8.0
    seg = types.SimpleNamespace(sequence=ns, qpm=120.0, bars=4)
    from_station = L.parts_from_segments([seg, seg])        # the second 4 bars later
    assert from_station["bass"][:2] == [(0, 4, 36), (4, 8, 38)]
    assert from_station["bass"][16] == (64, 68, 36)
    buf = io.BytesIO()
    note_seq.midi_io.note_sequence_to_pretty_midi(ns).write(buf)
    from_file = L.parts_from_midi(buf.getvalue())
    assert from_file["bass"] == from_station["bass"][:16]
    assert from_file["drums"] == [n for n in from_station["drums"] if n[0] < 64]
    assert from_file["lead"] == from_station["lead"][:len(LEAD)]
    assert L.window_rows(from_file).shape == (1, len(F))
    assert L.parts_from_midi(b"not midi") is None


def test_classifier_tells_apart_what_differs_only():
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, (60, len(F)))
    b = rng.normal(0, 1, (60, len(F)))
    groups = [i // 6 for i in range(60)]
    same = L.likeness_auc(a, b, groups, groups, seeds=(0,))[0]
    b[:, 0] += 4
    apart = L.likeness_auc(a, b, groups, groups, seeds=(0,))[0]
    assert apart > 0.95 and abs(same - 0.5) < 0.2
