"""Listener votes: liked regions gain weight, skipped ones lose it, and nobody can hijack."""

import collections

import numpy as np
import pytest

from radio.generator.votes import VoteError, Votes
from radio.music.composer import Anchor, LatentWalk


def _anchors():
    rng = np.random.default_rng(0)
    base = rng.normal(size=16)
    near = base + 0.05 * rng.normal(size=16)   # a neighbour of base in latent space
    far = -base + 0.1 * rng.normal(size=16)
    other = rng.normal(size=16)
    return [Anchor(z=z.astype(np.float32), qpm=120, label=name, set="s")
            for name, z in (("base", base), ("near", near), ("far", far), ("other", other))]


def test_likes_pull_toward_the_region_and_skips_push_away():
    anchors = _anchors()
    votes = Votes()
    for i in range(5):
        votes.vote(f"10.0.0.{i}", 1, anchors[0].z, "like")
    bias = votes.bias(anchors)
    assert bias["base"] > 1.2 and bias["near"] > 1.2           # the liked region
    assert bias.get("far", 1.0) == pytest.approx(1.0, abs=0.01)  # far away: untouched
    for i in range(5):
        votes.vote(f"10.0.1.{i}", 2, anchors[2].z, "skip")
    assert votes.bias(anchors)["far"] < 0.85


def test_one_vote_per_address_saturation_and_bounds():
    anchors = _anchors()
    votes = Votes(per_hour=10_000)
    first = votes.vote("1.2.3.4", 7, anchors[0].z, "like")
    assert first == {"segment": 7, "counted": True, "likes": 1, "skips": 0}
    for _ in range(50):  # the same listener again and again: counted once
        assert votes.vote("1.2.3.4", 7, anchors[0].z, "like")["counted"] is False
    assert votes.vote("1.2.3.4", 7, anchors[0].z, "skip")["counted"] is False
    few = Votes()
    for i in range(8):
        few.vote(f"a{i}", 1, anchors[0].z, "like")
    many = Votes(per_hour=10_000)
    for i in range(1000):  # a botnet on one segment moves it no more than a handful of fans
        many.vote(f"b{i}", 1, anchors[0].z, "like")
    assert many.bias(anchors)["base"] <= few.bias(anchors)["base"] * 1.01
    flood = Votes(per_hour=10_000)
    for seg in range(300):  # liking everything near one anchor, segment after segment
        for i in range(5):
            flood.vote(f"c{i}", seg, anchors[0].z, "like")
    assert max(flood.bias(anchors).values()) == pytest.approx(2.0)   # the cap
    for seg in range(300):
        for i in range(5):
            flood.vote(f"c{i}", 1000 + seg, anchors[2].z, "skip")
    assert min(flood.bias(anchors).values()) == pytest.approx(0.5)   # the floor


def test_rate_limit_and_memory():
    now = [0.0]
    votes = Votes(per_hour=3, memory=2, clock=lambda: now[0])
    z = _anchors()[0].z
    for seg in range(3):
        votes.vote("x", seg, z, "like")
    with pytest.raises(VoteError) as e:
        votes.vote("x", 3, z, "like")
    assert e.value.status == 429
    now[0] = 3601.0
    votes.vote("x", 3, z, "like")                # an hour later: allowed again
    assert votes.summary() == {"segments": 2, "likes": 2, "skips": 0}  # only the last 2 remembered
    with pytest.raises(VoteError, match="like"):
        votes.vote("y", 4, z, "love")


def test_walk_heads_for_liked_anchors_more_often():
    anchors = _anchors()

    def draws(bias):
        walk = LatentWalk(object(), anchors, seed=1)
        walk.bias = bias
        count = collections.Counter()
        for _ in range(2000):
            walk.here = anchors[3]
            count[walk._next_anchor().label] += 1
        return count

    votes = Votes()
    for seg in range(3):  # three liked passages in the same region
        for i in range(6):
            votes.vote(f"v{i}", seg, anchors[0].z, "like")
    plain, tilted = draws({}), draws(votes.bias(anchors))
    region = lambda c: c["base"] + c["near"]  # noqa: E731
    assert region(tilted) > 1.1 * region(plain) and tilted["far"] < 0.8 * plain["far"]


def test_votes_survive_a_restart_without_keeping_addresses(tmp_path):
    import json

    from radio.config import Settings
    from radio.station.station import Station
    from radio.support import state
    anchors = _anchors()
    votes = Votes()
    for i in range(4):
        votes.vote(f"192.168.1.{i}", 3, anchors[0].z, "like")
    votes.vote("192.168.1.9", 4, anchors[2].z, "skip")
    saved = json.loads(json.dumps(votes.to_dict()))
    assert "192.168.1.0" not in json.dumps(saved)            # hashed, not kept
    state.save(tmp_path / "votes.json", {**saved, "segments": saved["segments"] + [{"id": "x"}]})
    station = Station(Settings(data=str(tmp_path)))         # reads <data>/votes.json
    again = station.ballot.votes
    assert again.summary() == {"segments": 2, "likes": 4, "skips": 1}   # the damaged entry skipped
    assert again.bias(anchors) == pytest.approx(votes.bias(anchors))
    assert again.vote("192.168.1.0", 3, anchors[0].z, "like")["counted"] is False  # still one vote each
    assert again.vote("192.168.1.7", 3, anchors[0].z, "like")["counted"] is True
