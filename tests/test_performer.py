"""Performer stage: dynamics and timing, seeded, without touching the input."""

import numpy as np

from radio.performer import humanize
from radio.segment import Segment, part_of


def _segment(seed_segments, qpm=120.0):
    return Segment(id=3, sequence=seed_segments[0].sequence, qpm=qpm, bars=16)


def _by_part(seq):
    parts = {}
    for n in seq.notes:
        parts.setdefault(part_of(n), []).append(n)
    return parts


def test_velocity_follows_the_metre_and_varies(seed_segments):
    plain = _segment(seed_segments)
    assert len({n.velocity for n in plain.sequence.notes}) == 1  # the model's flat velocity
    played = humanize(plain, seed=1)
    step = 60 / plain.qpm / 4
    for part, notes in _by_part(played.sequence).items():
        v = np.array([n.velocity for n in notes])
        assert v.std() > 4, part
        on_beat = [n.velocity for n, o in zip(notes, _by_part(plain.sequence)[part])
                   if round(o.start_time / step) % 16 == 0]
        off = [n.velocity for n, o in zip(notes, _by_part(plain.sequence)[part])
               if round(o.start_time / step) % 2 == 1]
        if on_beat and off:
            assert np.mean(on_beat) > np.mean(off) + 10, part


def test_timing_moves_off_the_grid_within_bounds(seed_segments):
    plain = _segment(seed_segments)
    played = humanize(plain, seed=1)
    shifts = np.array([(p.start_time - o.start_time) * 1000
                       for p, o in zip(played.sequence.notes, plain.sequence.notes)])
    assert np.abs(shifts).max() <= 20.0 + 1e-6
    assert np.abs(shifts).mean() > 2.0
    assert all(n.end_time > n.start_time for n in played.sequence.notes)


def test_seeded_reproducible_and_pure(seed_segments):
    plain = _segment(seed_segments)
    before = plain.sequence.SerializeToString()
    a, b, c = humanize(plain, seed=1), humanize(plain, seed=1), humanize(plain, seed=2)
    assert plain.sequence.SerializeToString() == before and not plain.humanized
    assert a.sequence == b.sequence and a.sequence != c.sequence and a.humanized
