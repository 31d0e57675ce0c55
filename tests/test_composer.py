"""Composer stage: slerp, the endless walk on the real model, modes, seams and tempo ramps."""

import itertools

import note_seq
import numpy as np

from radio.music.composer import Anchor, LatentWalk, WalkStep, angle, repeat_phrase, slerp, tie_over
from radio.music.segment import BASS, LEAD, Segment, tempo_map

SEAM = 32.0  # 16 bars at the model's 120 qpm


def test_slerp_endpoints_and_norm():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=64), rng.normal(size=64)
    assert np.allclose(slerp(a, b, 0.0), a) and np.allclose(slerp(a, b, 1.0), b)
    mid = slerp(a, b, 0.5)
    # Between two vectors of similar norm, slerp keeps the norm (linear interpolation shrinks it).
    assert abs(np.linalg.norm(mid) - np.linalg.norm(a)) < 0.1 * np.linalg.norm(a)
    assert np.linalg.norm((a + b) / 2) < np.linalg.norm(mid)


def _anchors(model, seed_segments, qpms=(100.0, 120.0, 140.0), sets=None):
    z = model.encode([s.tensor for s in seed_segments[:len(qpms)]])
    return [Anchor(z=zi, qpm=q, label=f"{(sets or 'xyzw')[i] if sets else 'a'}{i}", set=(sets or [""] * 9)[i])
            for i, (zi, q) in enumerate(zip(z, qpms))]


def test_walk_moves_between_anchors_forever(model, seed_segments):
    anchors = _anchors(model, seed_segments)
    qpm_of = {a.label: a.qpm for a in anchors}
    walk = LatentWalk(model, anchors, steps_per_leg=3, temperature=0.5, seed=1, max_step=0)
    segments = list(itertools.islice(walk, 9))  # three legs
    assert [s.id for s in segments] == list(range(9))
    assert [s.t for s in segments] == [1 / 3, 2 / 3, 1.0] * 3
    legs = [segments[i].anchors for i in (0, 3, 6)]
    assert all(a != b for a, b in legs)
    assert legs[1][0] == legs[0][1] and legs[2][0] == legs[1][1]  # each leg starts where the last ended
    for prev, s in zip([None] + segments, segments):
        a, b = (qpm_of[label] for label in s.anchors)
        assert abs(s.qpm - round((1 - s.t) * a + s.t * b)) < 1e-9
        # the tempo ramps from where the last segment ended over one bar, never jumps
        if prev is not None and prev.qpm != s.qpm:
            assert s.start_qpm == prev.qpm and s.ramp_beats == 4
        assert abs(s.duration - tempo_map(64, s.qpm, s.start_qpm, s.ramp_beats)) < 1e-9
        drums = [n.end_time for n in s.sequence.notes if n.is_drum]
        assert max(drums, default=0) <= s.duration + 1e-6


def test_steps_are_bounded_in_angle(model, seed_segments):
    anchors = _anchors(model, seed_segments)
    walk = LatentWalk(model, anchors, steps_per_leg=2, seed=2, max_step=0.1)
    zs = [walk.here.z]
    for _ in range(12):
        next(walk)
        zs.append(walk.position.z)
    steps = [angle(a, b) for a, b in zip(zs, zs[1:])]
    assert max(steps) <= 0.1 + 1e-6
    assert max(angle(a.z, b.z) for a in anchors for b in anchors) > 0.3  # the bound did the work


def test_mix_weights_pick_the_sets_and_retarget_starts_from_here(model, seed_segments):
    """Anchors are drawn only from sets with weight; a new mix starts a leg where the walk is."""
    z = model.encode([s.tensor for s in seed_segments[:4]])
    anchors = [Anchor(z=zi, qpm=120.0, label=f"{name}{i}", set=name)
               for i, (zi, name) in enumerate(zip(z, ("punk", "punk", "reggae", "reggae")))]
    walk = LatentWalk(model, anchors, steps_per_leg=2, seed=3, max_step=0,
                      weights={"punk": 1.0, "reggae": 0.0})
    first = list(itertools.islice(walk, 6))
    assert all(s.anchors[1].startswith("punk") for s in first)
    walk.retarget(weights={"punk": 0.0, "reggae": 1.0})
    here = walk.position.z
    after = [next(walk)]
    step = walk.position
    after += list(itertools.islice(walk, 5))
    assert all(s.anchors[1].startswith("reggae") for s in after)
    assert after[0].anchors[0].startswith("punk")          # the new leg leaves from the old one
    target = next(a for a in anchors if a.label == after[0].anchors[1])
    assert after[0].t == 0.5 and np.allclose(step.z, slerp(here, target.z, 0.5))
    # votes tilt the draw: a biased-away anchor is never picked
    walk.bias = {"reggae2": 0.0}
    walk.retarget()
    assert all(s.anchors[1] == "reggae3" for s in itertools.islice(walk, 8))


def test_a_one_set_mix_starts_inside_its_set():
    """The start is drawn from the mix, as leg targets are: a walk given one set (or a mix
    set before the first segment is out, as the station does) does not start in another
    set and spend its first leg (~8 segments) getting there. Later mixes leave from here."""
    rng = np.random.default_rng(0)
    anchors = [Anchor(z=rng.normal(size=8).astype(np.float32), qpm=120.0, label=f"{name}{i}", set=name)
               for i, name in enumerate(["punk"] * 6 + ["reggae"] * 2)]
    for seed in range(20):
        walk = LatentWalk(object(), anchors, seed=seed, weights={"reggae": 1.0})
        assert walk.here.set == "reggae"
        walk = LatentWalk(object(), anchors, seed=seed, weights={"punk": 1.0, "reggae": 1.0})
        start = walk.here
        walk.retarget(weights={"reggae": 1.0, "punk": 0.0})
        assert walk.here.set == "reggae"
        walk = LatentWalk(object(), anchors, seed=seed, weights={"punk": 1.0, "reggae": 1.0})
        start = walk.here
        walk.retarget(weights={"reggae": 1.0, "punk": 1.0})
        assert walk.here is start                          # the same mix: the same start
    # a weighted mix set before the first segment starts where it weighs: 9 to 1 for reggae
    # (the station makes its walk on an even mix, then sets the configured one)
    starts = []
    for seed in range(40):
        walk = LatentWalk(object(), anchors, seed=seed, weights={"punk": 1.0, "reggae": 1.0})
        walk.retarget(weights={"punk": 1.0, "reggae": 9.0})
        starts.append(walk.here.set)
    assert starts.count("reggae") >= 30, starts
    walk.position = WalkStep("punk0", "punk1", 0.5, anchors[0].z, 120.0)  # a segment is out
    walk.retarget(weights={"punk": 1.0})
    assert walk.here.set == "" and np.allclose(walk.here.z, anchors[0].z)


def test_interpolate_loop_and_prior_modes(model, seed_segments):
    anchors = [Anchor(z=a.z, qpm=a.qpm, label=f"set/song{i}@0", set="set")
               for i, a in enumerate(_anchors(model, seed_segments))]
    walk = LatentWalk(model, anchors, steps_per_leg=2, seed=4, max_step=0,
                      mode="interpolate", endpoints=["set/song0", "set/song2@0"])
    legs = [s.anchors for s in itertools.islice(walk, 8)][1::2]
    assert legs[1:] == [("set/song0@0", "set/song2@0"), ("set/song2@0", "set/song0@0"),
                        ("set/song0@0", "set/song2@0")]  # back and forth, nowhere else

    walk = LatentWalk(model, anchors, steps_per_leg=2, seed=4, mode="loop", loop_bars=4, drift=0.05)
    zs = []
    for s in itertools.islice(walk, 6):
        zs.append(walk.position.z)
        steps = [(n.pitch, n.is_drum, round(s.beat_at(n.start_time) * 4)) for n in s.sequence.notes]
        # the segment is one 4-bar phrase (64 steps) played four times
        phrase = sorted((p, d, k % 64) for p, d, k in steps if 64 <= k < 128)
        again = sorted((p, d, k % 64) for p, d, k in steps if 192 <= k < 256)
        assert phrase and phrase == again
    assert max(angle(a, b) for a, b in zip(zs, zs[1:])) <= 0.05 + 1e-6

    walk = LatentWalk(model, anchors, steps_per_leg=1, seed=5, prior=1.0, max_step=0)
    assert [s.anchors[1] for s in itertools.islice(walk, 3)] == ["prior"] * 3


class HeldNote:
    """A decoder whose every segment holds lead C5 and bass C3 from the first beat to the end."""
    batch_size = 2

    def decode(self, z, temperature=0.5, style=None):
        out = []
        for _ in z:
            ns = note_seq.NoteSequence()
            ns.notes.add(pitch=72, start_time=0.0, end_time=SEAM, instrument=LEAD, velocity=90)
            ns.notes.add(pitch=48, start_time=0.0, end_time=1.0, instrument=BASS, velocity=90)
            ns.notes.add(pitch=36, start_time=0.0, end_time=0.1, instrument=9, is_drum=True, velocity=90)
            ns.total_time = SEAM
            out.append(ns)
        return out


def test_notes_held_over_the_seam_are_tied_not_restruck():
    anchors = [Anchor(z=np.ones(4, np.float32) * i, qpm=120.0, label=f"a{i}") for i in (1, 2)]
    walk = LatentWalk(HeldNote(), anchors, steps_per_leg=2, seed=0)
    first, second, third = itertools.islice(walk, 3)
    lead = [n for n in first.sequence.notes if n.instrument == LEAD]
    assert len(lead) == 1 and lead[0].end_time == 2 * SEAM     # rings through the next segment
    assert not [n for n in second.sequence.notes if n.instrument == LEAD and n.start_time < 0.05]
    assert [n.pitch for n in second.sequence.notes if n.instrument == BASS] == [48]  # bass ended: struck
    assert len([n for n in second.sequence.notes if n.is_drum]) == 1                 # drums untouched
    assert walk.ties == 2


def test_tie_over_and_repeat_phrase_units():
    prev, nxt = note_seq.NoteSequence(), note_seq.NoteSequence()
    prev.notes.add(pitch=60, start_time=30.0, end_time=SEAM - 0.01, instrument=LEAD)
    prev.notes.add(pitch=40, start_time=31.0, end_time=31.5, instrument=BASS)   # ended early
    nxt.notes.add(pitch=60, start_time=0.0, end_time=0.5, instrument=LEAD)
    nxt.notes.add(pitch=40, start_time=0.0, end_time=0.5, instrument=BASS)
    nxt.notes.add(pitch=62, start_time=0.0, end_time=0.5, instrument=LEAD)      # another pitch
    tied_prev, tied_nxt, tied = tie_over(prev, nxt, SEAM)
    assert tied == 1
    assert tied_prev.notes[0].end_time == SEAM + 0.5
    assert sorted((n.instrument, n.pitch) for n in tied_nxt.notes) == [(LEAD, 62), (BASS, 40)]
    assert prev.notes[0].end_time == SEAM - 0.01 and len(nxt.notes) == 3      # the inputs are left alone
    seq = note_seq.NoteSequence()
    seq.notes.add(pitch=64, start_time=1.0, end_time=9.0, instrument=LEAD)       # crosses bar 4
    seq.notes.add(pitch=65, start_time=9.0, end_time=10.0, instrument=LEAD)      # after the phrase
    looped = repeat_phrase(seq, 2)
    assert [(n.start_time, n.end_time) for n in looped.notes] == [(1.0 + 4 * k, 4.0 + 4 * k) for k in range(8)]


def test_tempo_ramp_is_continuous():
    s = Segment(0, note_seq.NoteSequence(), qpm=140.0, bars=16, start_qpm=100.0, ramp_beats=4)
    beats = np.linspace(0, 64, 641)
    t = np.array([s.seconds_at(b) for b in beats])
    dt = np.diff(t) / np.diff(beats) * 60  # seconds per beat → the local tempo, inverted
    local = 60 / (np.diff(t) / np.diff(beats))
    assert abs(local[0] - 100) < 1.0 and abs(local[-1] - 140) < 1e-6
    assert np.all(np.diff(local) >= -1e-9) and np.all(dt > 0)  # rises smoothly, never back
    assert all(abs(s.beat_at(s.seconds_at(b)) - b) < 1e-9 for b in (0.5, 3.9, 4.0, 40.0))
    assert abs(s.duration - (60 * 4 / 40 * np.log(140 / 100) + 60 * 60 / 140)) < 1e-9


def test_head_for_sends_the_next_leg_to_an_anchor_from_where_the_walk_stands():
    """A click on the map: the next leg goes from the walk's position to the anchor asked for,
    even one the mix's weights would never draw; after it the draw goes on as before."""
    rng = np.random.default_rng(1)
    anchors = [Anchor(z=rng.normal(size=8).astype(np.float32), qpm=120.0, label=f"{name}{i}", set=name)
               for i, name in enumerate(["punk"] * 4 + ["reggae"] * 2)]
    walk = LatentWalk(object(), anchors, steps_per_leg=3, seed=4, max_step=0, weights={"punk": 1.0})
    for _ in range(4):
        walk.advance()
    here = walk.position
    walk.retarget()
    walk.head_for(anchors[5])
    steps = [walk.advance() for _ in range(3)]
    assert [s.b for s in steps] == ["reggae5"] * 3 and steps[0].a == f"{here.a}→{here.b}@{here.t:.2f}"
    assert np.allclose(steps[0].z, slerp(here.z, anchors[5].z, 1 / 3)) and np.allclose(steps[-1].z, anchors[5].z)
    assert all(walk.advance().b.startswith("punk") for _ in range(6))   # the mix's draw again
