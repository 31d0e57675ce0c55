"""The band statistics on tiny hand-built sequences with known answers."""

import math

import note_seq
import pytest

from radio.offline import musicstats

Q = 0.125  # a sixteenth at 120 qpm; a bar is 2 s


def _seq(lead=(), drums=()):
    """lead: (pitch, start step, steps); drums: (pitch, step)."""
    ns = note_seq.NoteSequence()
    for pitch, step, length in lead:
        ns.notes.add(pitch=pitch, start_time=step * Q, end_time=(step + length) * Q, velocity=80, instrument=0)
    for pitch, step in drums:
        ns.notes.add(pitch=pitch, start_time=step * Q, end_time=step * Q + 0.1, velocity=80,
                     instrument=9, is_drum=True)
    return ns


def test_lead_rows():
    # bar 0: C D E G (4 pitches); bar 1: one long E (held from bar 1 into bar 2);
    # bar 2: the held E and an E again (one pitch); bar 3: silent
    ns = _seq(lead=[(60, 0, 4), (62, 4, 4), (64, 8, 4), (67, 12, 4), (64, 16, 24), (64, 40, 4)])
    assert musicstats.lead_pitch_sets(ns, bars=4) == [{60, 62, 64, 67}, {64}, {64}, set()]
    stats = musicstats.band_stats([ns], bars=4)
    assert stats["lead one-pitch bars"] == 2 / 3          # counted over the 3 sounding bars
    assert stats["lead repeated notes"] == 1 / 5          # E after E; 5 pairs of onsets
    assert stats["lead distinct pitches/bar (median)"] == 1
    assert stats["lead silent bars"] == 1 / 4             # of the whole sequence
    assert stats["lead scale fit"] == 1.0


def test_scale_fit_per_window():
    # window 1: C major scale plus one F#; window 2: the same moved to a new key, all in it
    first = [(p, i, 1) for i, p in enumerate([60, 62, 64, 65, 67, 69, 71, 66])]
    second = [(p + 3, 256 + i, 1) for i, p in enumerate([60, 62, 64, 65, 67, 69, 71])]
    hits, total = musicstats.scale_fit_counts(_seq(lead=first + second), bars=32)
    assert (hits, total) == (7 + 7, 15)


def test_drum_rows():
    # bar 0: kick, snare, two closed hats (36, 42, 44 → kick, snare, closed hat: 3 sounds);
    # bar 1: snare 38 and 40 (one class) and a ride; bar 2: silent; bar 3: kick 35 only
    ns = _seq(drums=[(36, 0), (38, 4), (42, 2), (44, 6), (38, 20), (40, 24), (51, 28), (35, 48)])
    stats = musicstats.band_stats([ns], bars=4)
    assert stats["bars with a kick"] == 2 / 3
    assert stats["drum sounds/bar (median)"] == 2     # 3, 2, 1 sounds
    assert math.isnan(stats["lead one-pitch bars"])


def test_humanized_onsets_fall_in_their_bar():
    ns = _seq(lead=[(60, 0, 4), (62, 16, 4)])
    ns.notes[0].start_time = -0.01   # early by 10 ms
    ns.notes[1].start_time = 16 * Q - 0.02  # a downbeat played 20 ms early
    assert musicstats.lead_pitch_sets(ns, bars=2) == [{60}, {62}]


def test_goals():
    assert musicstats.meets("bars with a kick", 0.72) and not musicstats.meets("bars with a kick", 0.4)
    assert musicstats.meets("lead silent bars", 0.0) and not musicstats.meets("lead scale fit", 0.81)


def test_a_bands_set_is_judged_against_the_bands_own_figures():
    band = {"bars with a kick": 0.95, "drum sounds/bar (median)": 3.0, "lead silent bars": 0.05,
            "lead one-pitch bars": float("nan")}
    goals = musicstats.goals_like(band)
    assert goals["bars with a kick"] == pytest.approx((0.80, 1.0))   # ±0.15, kept within 0…1
    assert goals["drum sounds/bar (median)"] == (2.0, 4.0)  # a median ±1
    assert goals["lead silent bars"] == pytest.approx((0.0, 0.2))
    assert "lead one-pitch bars" not in goals               # the band lacks it: no goal
    # freedoom2's kit: fails the default mix's GOALS (4–7 sounds), meets its own
    assert not musicstats.meets("drum sounds/bar (median)", 3.0)
    assert musicstats.meets("drum sounds/bar (median)", 3.0, goals)
    assert not musicstats.meets("bars with a kick", 0.7, goals)


def test_station_segments_join_on_one_grid():
    class Segment:           # a 2-bar segment at 60 qpm: a beat is 1 s
        bars = 2

        def __init__(self, notes):
            self.sequence = _seq(lead=notes)
            for n in self.sequence.notes:       # the _seq steps are at 120 qpm: stretch to 60
                n.start_time, n.end_time = 2 * n.start_time, 2 * n.end_time

        def beat_at(self, t):
            return t
    ns = musicstats.joined([Segment([(60, 0, 4)]), Segment([(62, 4, 4)])])
    assert [(n.pitch, n.start_time, n.end_time, n.instrument) for n in ns.notes] == \
        [(60, 0.0, 0.5, musicstats.LEAD), (62, 4.5, 5.0, musicstats.LEAD)]   # bar 2 starts at 4 s
    assert musicstats.lead_pitch_sets(ns, bars=4) == [{60}, set(), {62}, set()]
