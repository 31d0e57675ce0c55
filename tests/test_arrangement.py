"""A song's arrangement: a seed file's parts are counted sitting out of 4-bar windows (the
lead where no line above the bass plays, chords and pads aside), a mix's rates count each
file once, and a song lets one part sit a section out that often, leaving the rest as it was."""

from __future__ import annotations

import io

import note_seq
import numpy as np
import pytest

from radio.contracts import BASS, DRUMS, LEAD
from radio.music import arrangement, seeds
from radio.music.composer import Anchor

BAR = 2.0          # seconds at 120 qpm
WINDOW = 4 * BAR


def _midi(windows: dict[str, set[int]], count: int, tail_notes: int = 0) -> bytes:
    """`count` 4-bar windows at 120 qpm: a lead line (half notes by steps), a pad of
    three-note chords pitched above it, a bass in eighths and drums, each playing in the
    windows `windows` names; then `tail_notes` lone lead notes in one more window."""
    ns = note_seq.NoteSequence()
    ns.tempos.add(qpm=120)
    ns.time_signatures.add(numerator=4, denominator=4)
    for w in range(count):
        for b in range(4):
            t = w * WINDOW + b * BAR
            if w in windows["lead"]:
                for half in range(2):
                    ns.notes.add(pitch=62 + (b + half) % 5, start_time=t + half, end_time=t + half + 0.9,
                                 velocity=90, instrument=0, program=80)
            if w in windows["pad"]:
                for p in (72, 76, 79):
                    ns.notes.add(pitch=p, start_time=t, end_time=t + BAR, velocity=70, instrument=2, program=89)
            if w in windows["bass"]:
                for e in range(8):
                    ns.notes.add(pitch=40, start_time=t + e / 4, end_time=t + e / 4 + 0.2, velocity=90,
                                 instrument=1, program=33)
            if w in windows["drums"]:
                for e in range(4):
                    ns.notes.add(pitch=(36, 42, 38, 42)[e], start_time=t + e / 2, end_time=t + e / 2 + 0.1,
                                 velocity=90, instrument=9, is_drum=True)
    for k in range(tail_notes):
        ns.notes.add(pitch=64, start_time=count * WINDOW + k * BAR, end_time=count * WINDOW + k * BAR + 1,
                     velocity=90, instrument=0, program=80)
    buf = io.BytesIO()
    note_seq.midi_io.note_sequence_to_pretty_midi(ns).write(buf)
    return buf.getvalue()


def test_counts_the_windows_each_part_sits_out_of_a_real_midi_file():
    # the pad is the highest track, but it plays chords: where only it plays, the lead sits out
    data = _midi({"lead": {0, 1, 3}, "pad": {1, 2}, "bass": {0, 1, 2}, "drums": {0, 1, 3}}, 4, tail_notes=2)
    assert seeds.classify(seeds.describe_parts(seeds.parse_midi(data))).lead.program == 89
    # windows 0–3 count (the last, with two onsets, plays nothing): lead out in 2, bass in 3, drums in 2
    assert arrangement.sitting_out(seeds.parse_midi(data)).tolist() == [1, 1, 1, 4]
    no_drums = _midi({"lead": {0, 1}, "pad": set(), "bass": {0, 1}, "drums": set()}, 2)
    assert arrangement.sitting_out(seeds.parse_midi(no_drums)).tolist() == [0, 0, 0, 0]


def test_a_mix_counts_each_file_once_weighs_its_sets_and_caps_the_total():
    z = np.zeros(4, np.float32)
    anchors = [Anchor(z, 120.0, f"x/a@{b}", "x", sits_out=np.array([2, 0, 0, 4])) for b in (0, 16, 32)]
    anchors += [Anchor(z, 120.0, "x/b@0", "x", sits_out=np.array([0, 0, 0, 4])),
                Anchor(z, 120.0, "y/c@0", "y", sits_out=np.array([2, 1, 0, 4])),
                Anchor(z, 120.0, "z/d@0", "z")]                  # no counts: not part of any rate
    assert arrangement.rates(anchors, {"x": 1}) == {"lead": 0.25, "bass": 0.0, "drums": 0.0}
    both = arrangement.rates(anchors, {"x": 3, "y": 1})
    assert both == pytest.approx({"lead": (3 * 0.25 + 0.5) / 4, "bass": 0.25 / 4, "drums": 0.0})
    assert arrangement.rates(anchors, {}) == pytest.approx({"lead": 0.375, "bass": 0.125, "drums": 0.0})
    loud = [Anchor(z, 120.0, "y/e@0", "y", sits_out=np.array([4, 4, 4, 4]))]
    assert sum(arrangement.rates(loud, {}).values()) == pytest.approx(arrangement.MAX_OUT)


LONG = {"sections": ["intro:4"] + ["A:4", "B:4"] * 6 + ["outro:4"]}


def _song(writer) -> list:
    first = next(writer)
    return [first] + [next(writer) for _ in range(len(first.song["form"]["sections"]) - 1)]


def _part(segment, part: int) -> list[tuple]:
    return sorted((n.pitch, round(n.start_time, 4), round(n.end_time, 4), n.velocity)
                  for n in segment.sequence.notes if n.instrument == part and (part == DRUMS) == n.is_drum)


@pytest.fixture(scope="module")
def numpy_model():
    from radio.model import load_model
    return load_model(None, engine="numpy", seed=0)


@pytest.mark.parametrize("part, other", [(LEAD, BASS), (DRUMS, LEAD)])
def test_a_part_sits_sections_out_and_the_rest_of_the_song_is_unchanged(numpy_model, seed_segments, part, other):
    from test_songs import _songwriter
    name = {LEAD: "lead", BASS: "bass", DRUMS: "drums"}[part]
    songs = []
    for sits_out in ({}, {name: 0.5}):
        numpy_model.rng = np.random.default_rng(0)         # both songs decode the same draws
        writer = _songwriter(numpy_model, seed_segments, LONG)
        writer.sits_out = sits_out
        songs.append(_song(writer))
    before, after = songs
    resting = [s.song["resting"] for s in after]
    assert all(s.song["resting"] is None for s in before)
    assert resting[0] is None and resting[-1] is None and _part(after[-1], part)   # intro, outro as ever
    assert 2 <= resting.count(name) <= 10 and set(resting) == {None, name}, resting
    for was, now, rest in zip(before, after, resting):
        assert _part(now, other) == _part(was, other)             # the other parts play as before
        if rest is None:
            assert _part(now, part) == _part(was, part)
        else:   # a note held over from the section before may be tied in at its start
            assert _part(was, part) and not [n for n in now.sequence.notes
                                             if n.instrument == part and n.start_time > 0.05]


def test_the_station_plays_its_sets_arrangement_and_keeps_the_counts(tmp_path):
    import golden_cases

    from radio.config import Settings
    from radio.generator.pipeline import Pipeline
    band = tmp_path / "seeds" / "band"
    band.mkdir(parents=True)
    # 16 bars with all parts (the import keeps them), then 8 bars without the lead, then 16 with it
    every = set(range(10))
    (band / "song.mid").write_bytes(_midi({"lead": every - {4, 5}, "pad": set(), "bass": every,
                                           "drums": every}, 10))
    settings = Settings(model=str(golden_cases.MODEL), data=str(tmp_path / "data"), seeds=str(tmp_path / "seeds"),
                        seed=2, mix={"sets": {"band": 1}, "form": LONG})
    p = Pipeline(settings)
    try:
        assert p.songwriter.sits_out == {"lead": 0.2, "bass": 0.0, "drums": 0.0}
        song = [p.next_segment() for _ in range(len(LONG["sections"]))]
        resting = [s.song["resting"] for s in song]
        assert "lead" in resting
        played = {rest: any(n.instrument == LEAD and n.start_time > 0.05 for n in s.sequence.notes)
                  for s, rest in zip(song, resting) if s.song["name"] not in ("intro", "outro")}
        assert played == {None: True, "lead": False} or played == {"lead": False, None: True}
    finally:
        p.close()
    # the counts are kept with the encodings; an entry written before they were is made again
    kept = next(p._cache.glob("*.npz"))
    with np.load(kept) as f:
        assert f["sits_out"].tolist() == [2, 0, 0, 10]
        old = {k: f[k] for k in f.files if k != "sits_out"}
    np.savez(kept, **old)
    again = Pipeline(settings)
    try:
        assert again.songwriter.sits_out == p.songwriter.sits_out
        with np.load(kept) as f:
            assert "sits_out" in f.files
    finally:
        again.close()
