"""The shared contracts: seed references parse one way everywhere, the parts table agrees
with the model's instrument numbers and the renderer's channels."""

import pytest

from radio.contracts import CHANNEL, PART_INDEX, PARTS, PlayMeta, SeedRef, SeedRefError, part_of


def test_seed_refs_parse_once_and_round_trip():
    ref = SeedRef.parse("rock/my song@12")
    assert (ref.set, ref.file, ref.bar, ref.stem, str(ref)) == ("rock", "my song", 12, "rock/my song",
                                                                "rock/my song@12")
    whole = SeedRef.parse("rock/my song")
    assert whole.bar is None and whole.matches(ref) and not ref.matches(SeedRef.parse("rock/my song@4"))
    for bad in ("", "rock", "/x", "rock/", "a/b@x"):
        with pytest.raises(SeedRefError, match="set/file"):
            SeedRef.parse(bad)
    assert SeedRef.try_parse("prior") is None


def test_parts_table_matches_the_model_and_general_midi():
    class Note:
        def __init__(self, instrument, is_drum=False):
            self.instrument, self.is_drum = instrument, is_drum
    assert PARTS == ("lead", "bass", "drums") and CHANNEL == {"lead": 0, "bass": 1, "drums": 9}
    assert [part_of(Note(CHANNEL[p], p == "drums")) for p in PARTS] == list(PARTS)
    assert sorted(PART_INDEX.values()) == [0, 1, 2]


def test_play_meta_round_trips_and_titles():
    meta = PlayMeta(id=3, qpm=96.0, bars=16, seconds=40.0, mix="rock 1", anchors=("a/b@0", "c/d@4"))
    assert PlayMeta.from_dict({**meta.to_dict(), "unknown": 1}) == meta
    assert meta.title() == "rock 1 · segment 3 · 96 bpm"
