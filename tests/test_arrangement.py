"""A song's arrangement: a seed file's parts are counted sitting out of 4-bar windows (the
lead where no line above the bass plays, chords and pads aside), its bass bars repeating and
its lead's riffs; a mix's rates count each file once; and a song lets one part sit a section
out, its bass loop a bar and its lead repeat a riff that often, leaving the rest as it was."""

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
    """`count` 4-bar windows at 120 qpm: a lead line (half notes by steps; a 2-bar riff in the
    windows `windows["riff"]` names), a pad of three-note chords pitched above it, a bass in
    eighths (one pitch a bar: the same bar after bar, except in `windows["walk"]`) and drums,
    each playing in the windows `windows` names; then `tail_notes` lone lead notes in one
    more window."""
    ns = note_seq.NoteSequence()
    ns.tempos.add(qpm=120)
    ns.time_signatures.add(numerator=4, denominator=4)
    for w in range(count):
        for b in range(4):
            t = w * WINDOW + b * BAR
            if w in windows["lead"]:
                for half in range(2):
                    step = (b % 2 if w in windows.get("riff", ()) else b) + half
                    ns.notes.add(pitch=62 + step % 5, start_time=t + half, end_time=t + half + 0.9,
                                 velocity=90, instrument=0, program=80)
            if w in windows["pad"]:
                for p in (72, 76, 79):
                    ns.notes.add(pitch=p, start_time=t, end_time=t + BAR, velocity=70, instrument=2, program=89)
            if w in windows["bass"]:
                for e in range(8):
                    ns.notes.add(pitch=41 + b if w in windows.get("walk", ()) else 40, start_time=t + e / 4,
                                 end_time=t + e / 4 + 0.2, velocity=90,
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


def test_counts_a_real_midi_files_parts_sitting_out_its_bass_looping_and_its_lead_riffs():
    # the pad is the highest track, but it plays chords: where only it plays, the lead sits out
    data = _midi({"lead": {0, 1, 3}, "pad": {1, 2}, "bass": {0, 1, 2}, "drums": {0, 1, 3},
                  "riff": {3}, "walk": {1}}, 4, tail_notes=2)
    assert seeds.classify(seeds.describe_parts(seeds.parse_midi(data))).lead.program == 89
    counts = dict(zip(arrangement.ROWS, arrangement.counts(seeds.parse_midi(data)).tolist()))
    assert counts == {
        # windows 0–3 count (the last, with two onsets, plays nothing): lead out in 2, bass in 3, drums in 2
        "lead_out": [1, 4], "bass_out": [1, 4], "drums_out": [1, 4],
        # 11 pairs of bass bars (bars 0–11); those inside windows 0 and 2 repeat, window 1 walks
        "bass_loop": [6, 11],
        # the lead plays both halves of windows 0, 1 and 3; window 3 is a riff
        "lead_riff": [1, 3]}
    no_drums = _midi({"lead": {0, 1}, "pad": set(), "bass": {0, 1}, "drums": set()}, 2)
    assert not arrangement.counts(seeds.parse_midi(no_drums)).any()


def _counts(lead_out: int, bass_out: int, windows: int, loops: int = 0, riffs: int = 0) -> np.ndarray:
    return np.array([[lead_out, windows], [bass_out, windows], [0, windows], [loops, 10], [riffs, 4]])


def test_a_mix_counts_each_file_once_weighs_its_sets_and_caps_the_total():
    z = np.zeros(4, np.float32)
    anchors = [Anchor(z, 120.0, f"x/a@{b}", "x", arrangement=_counts(2, 0, 4, loops=5)) for b in (0, 16, 32)]
    anchors += [Anchor(z, 120.0, "x/b@0", "x", arrangement=_counts(0, 0, 4, riffs=2)),
                Anchor(z, 120.0, "y/c@0", "y", arrangement=_counts(2, 1, 4)),
                Anchor(z, 120.0, "z/d@0", "z")]                  # no counts: not part of any rate
    x = arrangement.for_mix(anchors, {"x": 1})
    assert x.out == {"lead": 0.25, "bass": 0.0, "drums": 0.0} and (x.bass_loop, x.lead_riff) == (0.25, 0.25)
    both = arrangement.for_mix(anchors, {"x": 3, "y": 1})
    assert both.out == pytest.approx({"lead": (3 * 0.25 + 0.5) / 4, "bass": 0.25 / 4, "drums": 0.0})
    assert both.bass_loop == pytest.approx(3 * 0.25 / 4)
    assert arrangement.for_mix(anchors, {}).out == pytest.approx({"lead": 0.375, "bass": 0.125, "drums": 0.0})
    twins = [Anchor(z, 120.0, "x/a@0", "x", arrangement=_counts(0, 0, 4)),   # one file name in two sets
             Anchor(z, 120.0, "y/a@0", "y", arrangement=_counts(4, 0, 4))]
    assert arrangement.for_mix(twins, {"y": 1}).out["lead"] == pytest.approx(arrangement.MAX_OUT)
    loud = [Anchor(z, 120.0, "y/e@0", "y", arrangement=_counts(4, 4, 4))]
    assert sum(arrangement.for_mix(loud, {}).out.values()) == pytest.approx(arrangement.MAX_OUT)
    assert arrangement.for_mix([], {}) == arrangement.Arrangement(
        {"lead": 0.0, "bass": 0.0, "drums": 0.0})


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
    for out in ({}, {name: 0.5}):
        numpy_model.rng = np.random.default_rng(0)         # both songs decode the same draws
        writer = _songwriter(numpy_model, seed_segments, LONG)
        writer.arrangement = arrangement.Arrangement(out)
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


def _bars(segment, part: int) -> list[set]:
    """Each bar's (step, pitch) onsets of one part."""
    bar_s = 240.0 / segment.qpm
    out = [set() for _ in range(segment.bars)]
    for n in segment.sequence.notes:
        if n.instrument == part and (part == DRUMS) == n.is_drum and n.start_time > 0.05:
            step = round(n.start_time / (bar_s / 16))
            out[min(step // 16, segment.bars - 1)].add((step % 16, n.pitch))
    return out


def test_a_letter_loops_its_bass_and_repeats_a_lead_riff(numpy_model, seed_segments):
    from test_songs import _songwriter
    songs = []
    for arranged in (arrangement.Arrangement(), arrangement.Arrangement(bass_loop=1.0, lead_riff=1.0)):
        numpy_model.rng = np.random.default_rng(0)
        writer = _songwriter(numpy_model, seed_segments, {"sections": ["intro:4", "A:8", "B:8", "outro:4"]})
        writer.arrangement = arranged
        songs.append(_song(writer))
    for plain, looped in zip(songs[0][1:3], songs[1][1:3]):
        # (_bars leaves out a section's first onset, which a note from before may be tied into)
        after = lambda bars: [{(s, p) for s, p in bar if s > 0} for bar in bars]
        lead, bass = after(_bars(looped, LEAD)), after(_bars(looped, BASS))
        assert all(lead[b] == lead[b % 2] for b in range(7)) and (lead[0] or lead[1])   # up to the last bar
        assert all(bass[b] == bass[0] for b in range(7)) and bass[0]
        plain_lead = after(_bars(plain, LEAD))
        assert plain_lead[:2] == lead[:2] and _bars(plain, DRUMS) == _bars(looped, DRUMS)
        assert any(plain_lead[b] != plain_lead[b % 2] for b in range(2, 7)), "the plain lead repeats anyway"


def test_the_station_plays_its_sets_arrangement_and_keeps_the_counts(tmp_path, monkeypatch):
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
        assert p.songwriter.arrangement.out == {"lead": 0.2, "bass": 0.0, "drums": 0.0}
        assert p.songwriter.arrangement.bass_loop == 1.0 and p.songwriter.arrangement.lead_riff == 0.0
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
        assert f["arrangement"][:3].tolist() == [[2, 10], [0, 10], [0, 10]]
        old = {k: f[k] for k in f.files if k != "arrangement"}
    np.savez(kept, **old)
    from radio.music import seeds
    read, parsed = seeds.read_midi, []
    monkeypatch.setattr(seeds, "read_midi", lambda path: parsed.append(path.name) or read(path))
    again = Pipeline(settings)
    try:
        assert parsed == ["song.mid"]          # read once for its segments and its arrangement
        assert again.songwriter.arrangement == p.songwriter.arrangement
        with np.load(kept) as f:
            assert "arrangement" in f.files
            moves = {k: f[k] for k in f.files}
    finally:
        again.close()
    # moves counted before the last moves were added are counted again too
    from radio.model.style import MOVES
    np.savez(kept, **{**moves, "moves": moves["moves"][:, :, :5]})
    third = Pipeline(settings)
    try:
        assert all(a.moves.shape == (2, len(MOVES), 2) for a in third.anchors if a.set == "band")
    finally:
        third.close()
