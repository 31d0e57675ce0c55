"""Composer stage: slerp, and the endless walk on the real model."""

import itertools

import numpy as np

from radio.composer import Anchor, LatentWalk, slerp


def test_slerp_endpoints_and_norm():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=64), rng.normal(size=64)
    assert np.allclose(slerp(a, b, 0.0), a) and np.allclose(slerp(a, b, 1.0), b)
    mid = slerp(a, b, 0.5)
    # Between two vectors of similar norm, slerp keeps the norm (linear interpolation shrinks it).
    assert abs(np.linalg.norm(mid) - np.linalg.norm(a)) < 0.1 * np.linalg.norm(a)
    assert np.linalg.norm((a + b) / 2) < np.linalg.norm(mid)


def test_walk_moves_between_anchors_forever(model, seed_segments):
    z = model.encode([s.tensor for s in seed_segments[:3]])
    anchors = [Anchor(z=zi, qpm=q, label=f"a{i}") for i, (zi, q) in enumerate(zip(z, (100.0, 120.0, 140.0)))]
    qpm_of = {a.label: a.qpm for a in anchors}
    walk = LatentWalk(model, anchors, steps_per_leg=3, temperature=0.5, seed=1)
    segments = list(itertools.islice(walk, 9))  # three legs
    assert [s.id for s in segments] == list(range(9))
    assert [s.t for s in segments] == [1 / 3, 2 / 3, 1.0] * 3
    legs = [segments[i].anchors for i in (0, 3, 6)]
    assert all(a != b for a, b in legs)
    assert legs[1][0] == legs[0][1] and legs[2][0] == legs[1][1]  # each leg starts where the last ended
    for s in segments:
        a, b = (qpm_of[label] for label in s.anchors)
        assert abs(s.qpm - round((1 - s.t) * a + s.t * b)) < 1e-9
        assert abs(s.duration - 16 * 4 * 60 / s.qpm) < 1e-9
        assert max((n.end_time for n in s.sequence.notes), default=0) <= s.duration + 1e-6


def test_mix_weights_pick_the_sets_and_retarget_starts_from_here(model, seed_segments):
    """Anchors are drawn only from sets with weight; a new mix starts a leg where the walk is."""
    z = model.encode([s.tensor for s in seed_segments[:4]])
    anchors = [Anchor(z=zi, qpm=120.0, label=f"{name}{i}", set=name)
               for i, (zi, name) in enumerate(zip(z, ("punk", "punk", "reggae", "reggae")))]
    walk = LatentWalk(model, anchors, steps_per_leg=2, seed=3, weights={"punk": 1.0, "reggae": 0.0})
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
