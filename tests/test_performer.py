"""Performer stage: dynamics, timing, swing, ghost notes and articulation, seeded, without
touching the input; grooves from plain data, validated."""

import json

import note_seq
import numpy as np
import pytest

from radio.music.groove import GROOVE_PRESETS, SNARES, Groove
from radio.music.performer import humanization_stats, humanize, voice_of
from radio.music.segment import Segment, part_of

STEP_MS = 125.0  # a sixteenth at 120 qpm


def _segment(seed_segments, qpm=120.0, index=0):
    return Segment(id=3, sequence=seed_segments[index].sequence, qpm=qpm, bars=16)


def _by_part(seq):
    parts = {}
    for n in seq.notes:
        parts.setdefault(part_of(n), []).append(n)
    return parts


def _step(note):
    return round(note.start_time * 1000 / STEP_MS)


def _shifts(plain, played):
    """(grid step, onset shift in ms, part, voice) per original note; ghosts come after."""
    return [(_step(o), (p.start_time - o.start_time) * 1000, part_of(o), voice_of(o))
            for o, p in zip(plain.sequence.notes, played.sequence.notes)]


def _has_snare(segment):
    return any(n.is_drum and n.pitch in SNARES for n in segment.sequence.notes)


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
    shifts = np.array([s[1] for s in _shifts(plain, played)])
    assert np.abs(shifts).max() <= 20.0 + 1e-6
    assert np.abs(shifts).mean() > 2.0
    assert all(n.end_time > n.start_time >= 0 for n in played.sequence.notes)


def test_seeded_reproducible_and_pure(seed_segments):
    with_snare = next(s for s in seed_segments if _has_snare(s))  # ghost notes too
    for groove in (Groove(), GROOVE_PRESETS["swing"], GROOVE_PRESETS["laid-back"]):
        plain = Segment(id=3, sequence=with_snare.sequence, qpm=120.0, bars=16)
        before = plain.sequence.SerializeToString()
        a, b = humanize(plain, groove, seed=1), humanize(plain, groove, seed=1)
        c = humanize(plain, groove, seed=2)
        assert plain.sequence.SerializeToString() == before and not plain.humanized
        assert a.sequence == b.sequence and a.sequence != c.sequence and a.humanized


def _pooled_shifts(seed_segments, groove):
    """_shifts of every original note of every seed segment,
    played with seeds 1–3: enough notes for averages to settle."""
    out = []
    for s in seed_segments:
        plain = Segment(id=3, sequence=s.sequence, qpm=120.0, bars=16)
        for seed in (1, 2, 3):
            out += _shifts(plain, humanize(plain, groove, seed=seed))
    return out


@pytest.mark.parametrize("unit", [16, 8])
def test_swing_delays_the_off_beats_by_its_fraction(seed_segments, unit):
    off = 1 if unit == 16 else 2   # the off-beat sixteenth, or eighth, in steps
    straight = _pooled_shifts(seed_segments, Groove.from_dict({"swing": 0, "swing_unit": unit}))
    swung = _pooled_shifts(seed_segments, Groove.from_dict({"swing": 0.3, "swing_unit": unit}))
    delay = 0.3 * off * STEP_MS

    def mean(shifts, position):
        return np.mean([s for step, s, *_ in shifts if step % (2 * off) == position])

    # Against the grid: off-beats late by the swing on top of the feel's push and pull.
    assert mean(swung, off) - mean(swung, 0) == pytest.approx(delay, abs=3.0)
    assert mean(straight, off) - mean(straight, 0) == pytest.approx(0.0, abs=3.0)
    # Against the same performance unswung: on-beats stay, off-beats move by the swing.
    assert mean(swung, 0) - mean(straight, 0) == pytest.approx(0.0, abs=0.5)
    assert mean(swung, off) - mean(straight, off) == pytest.approx(delay, abs=1.0)


def test_ghost_notes_are_soft_snares_near_backbeats_and_grow_with_the_setting(seed_segments):
    segments = [Segment(id=3, sequence=s.sequence, qpm=120.0, bars=16) for s in seed_segments]
    assert any(_has_snare(s) for s in segments)
    no_snare = note_seq.NoteSequence()
    no_snare.CopyFrom(next(s for s in segments if _has_snare(s)).sequence)
    kept = [n for n in no_snare.notes if not (n.is_drum and n.pitch in SNARES)]
    del no_snare.notes[:]
    no_snare.notes.extend(kept)
    segments.append(Segment(id=3, sequence=no_snare, qpm=120.0, bars=16))
    for plain in segments:
        snare_steps = {_step(n) for n in plain.sequence.notes if n.is_drum and n.pitch in SNARES}
        counts = []
        for p in (0.0, 0.2, 0.5, 1.0):
            played = humanize(plain, Groove.from_dict({"ghost_notes": p}), seed=4)
            original = len(plain.sequence.notes)
            ghosts = played.sequence.notes[original:]
            counts.append(len(ghosts))
            for g in ghosts:
                step = _step(g)
                assert g.is_drum and g.pitch in SNARES and 20 <= g.velocity <= 40
                assert step % 8 in (2, 3, 5, 6) and step not in snare_steps
                assert any(s // 16 == step // 16 for s in snare_steps)  # the kit plays here
        if _has_snare(plain):
            assert counts[0] == 0 and counts[0] < counts[1] < counts[2] < counts[3], counts
        else:
            assert counts == [0, 0, 0, 0]


def test_bass_sits_behind_the_drums_by_its_offset(seed_segments):
    groove = Groove.from_dict({"bass": {"offset_ms": 10}, "drums": {"offset_ms": 0},
                               "lead": {"offset_ms": -5}})
    def means(groove, key):  # key 2: by part, 3: by voice (drum family)
        by = {}
        for shift in _pooled_shifts(seed_segments, groove):
            by.setdefault(shift[key], []).append(shift[1])
        return {k: np.mean(v) for k, v in by.items()}

    mean = means(groove, 2)
    assert mean["bass"] - mean["drums"] == pytest.approx(10.0, abs=1.5)
    assert mean["lead"] - mean["drums"] == pytest.approx(-5.0, abs=1.5)
    # The defaults: bass behind the kick, hats ahead of it, snare a touch late.
    mean = means(Groove(), 3)
    assert mean["hats"] < mean["kick"] < mean["snare"] < mean["bass"], mean
    assert mean["bass"] - mean["kick"] == pytest.approx(6.0, abs=1.5)


@pytest.mark.parametrize("preset", sorted(GROOVE_PRESETS))
def test_lead_and_bass_never_overlap_and_keep_a_minimum_length(seed_segments, preset):
    groove = GROOVE_PRESETS[preset]
    loose = {"jitter_ms": 30, "articulation": 1.0}
    extreme = Groove.from_dict({"swing": 0.5, "max_shift_ms": 50, "lead": loose, "bass": loose})
    for groove in (groove, extreme):
        for s in seed_segments:
            for qpm in (90.0, 200.0):
                plain = Segment(id=5, sequence=s.sequence, qpm=qpm, bars=16)
                played = humanize(plain, groove, seed=7)
                for part in ("lead", "bass"):
                    notes = sorted(_by_part(played.sequence)[part], key=lambda n: n.start_time)
                    for a, b in zip(notes, notes[1:]):
                        assert a.end_time <= b.start_time + 1e-9, (part, a, b)
                        assert b.start_time > a.start_time
                    for a, b in zip(notes, notes[1:] + [None]):
                        room = b.start_time - a.start_time if b else np.inf
                        shortest = min(groove.min_length_ms / 1000, room)
                        assert a.end_time - a.start_time >= shortest - 1e-9
                assert all(n.end_time > n.start_time >= 0 for n in played.sequence.notes)


def test_articulation_shortens_the_notes(seed_segments):
    plain = _segment(seed_segments)
    lengths = {}
    for a in (0.5, 1.0):
        played = humanize(plain, Groove.from_dict({"lead": {"articulation": a}}), seed=1)
        lengths[a] = np.mean([n.end_time - n.start_time for n in _by_part(played.sequence)["lead"]])
    written = np.mean([n.end_time - n.start_time for n in _by_part(plain.sequence)["lead"]])
    assert lengths[0.5] < 0.6 * lengths[1.0] and lengths[1.0] <= written + 0.02


def test_groove_from_plain_data(seed_segments):
    g = Groove.from_dict({"swing": 0.2, "ghost_notes": 0.3, "bass": {"offset_ms": 8}})
    assert (g.swing, g.ghost_notes, g.bass.offset_ms) == (0.2, 0.3, 8.0)
    assert g.bass.jitter_ms == Groove().bass.jitter_ms and g.lead == Groove().lead
    g = Groove.from_dict({"preset": "laid-back", "drums": {"jitter_ms": 1},
                          "hats": {"offset_ms": -4}, "lead": {"accent": [6, -6], "swing": 0.1}})
    assert g.kick.jitter_ms == g.hats.jitter_ms == 1.0 and g.hats.offset_ms == -4.0
    assert g.snare.offset_ms == GROOVE_PRESETS["laid-back"].snare.offset_ms
    assert g.lead.accent == (6, -6) * 8 and g.lead.swing == 0.1
    assert Groove.preset("tight") == GROOVE_PRESETS["tight"]
    for groove in (*GROOVE_PRESETS.values(), g):
        data = json.loads(json.dumps(groove.to_dict()))
        assert Groove.from_dict(data) == groove


@pytest.mark.parametrize("data, message", [
    ({"swong": 0.2}, r"unknown groove key 'swong'; allowed: \[.*'swing'"),
    ({"bass": {"offest_ms": 8}}, r"unknown groove key 'bass.offest_ms'; allowed: \[.*'offset_ms'"),
    ({"kick": {"articulation": 0.5}}, r"'kick.articulation'"),
    ({"swing": 0.9}, r"swing=0.9: allowed range is 0.0–0.5"),
    ({"swing": "lots"}, r"swing: expected a number, got 'lots'"),
    ({"ghost_notes": True}, r"ghost_notes: expected a number"),
    ({"bass": {"offset_ms": 80}}, r"bass.offset_ms=80: allowed range is -50.0–50.0"),
    ({"lead": {"base": 200}}, r"lead.base=200: allowed range is 1–127"),
    ({"lead": {"base": 80.5}}, r"lead.base: expected an integer"),
    ({"snare": {"low": 100, "high": 90}}, r"snare.low=100: must not exceed snare.high=90"),
    ({"swing_unit": 4}, r"swing_unit=4: allowed values are \[8, 16\]"),
    ({"ghost_velocity": [40, 20]}, r"ghost_velocity=\[40, 20\]: low must not exceed high"),
    ({"ghost_velocity": 30}, r"ghost_velocity: expected \[low, high\]"),
    ({"hats": {"accent": [1, 2, 3]}}, r"hats.accent: expected a list of 1, 2, 4, 8 or 16"),
    ({"hats": {"accent": [1, 99]}}, r"hats.accent\[1\]=99: allowed range is -64–64"),
    ({"drums": 3}, r"drums: expected a table"),
    ({"preset": "funky"}, r"preset='funky': allowed: \['default', 'laid-back'"),
    ([("swing", 0.2)], r"groove: expected a table"),
])
def test_groove_from_bad_data_names_the_key_and_what_is_allowed(data, message):
    with pytest.raises(ValueError, match=message):
        Groove.from_dict(data)


def test_humanization_stats_before_and_after(seed_segments):
    plain = _segment(seed_segments)
    before = humanization_stats(plain)
    after = humanization_stats(humanize(plain, seed=1))
    assert set(before) == {"lead", "bass", "drums"}
    for part in before:
        assert before[part]["velocity_std"] == 0.0 and before[part]["onset_deviation_ms"] == 0.0
        assert after[part]["velocity_std"] > 4 and after[part]["onset_deviation_ms"] > 2
        assert after[part]["notes"] >= before[part]["notes"] > 0
    assert after["lead"]["notes"] == before["lead"]["notes"]
