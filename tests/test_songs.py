"""Songs: forms are checked and named in errors, sections that return play the same notes,
tempo and key hold within a song, titles are stable and unique, a song ends on a ring-out,
and a mix change that touches the composition starts a new song."""

from __future__ import annotations

import collections
import re

import numpy as np
import pytest

from radio.contracts import BASS, DRUMS, LEAD
from radio.generator.mix import MixError, StyleMix
from radio.music.song import MAX_SONG_BARS, FormError, check_form, shipped_forms, title_for

SHORT = {"sections": ["intro:4", "A:8", "B:4", "A:8", "outro:4"]}


def _songwriter(model, seed_segments, form=SHORT, seed=5):
    from radio.music.composer import Anchor, LatentWalk
    from radio.music.songwriter import Songwriter
    z = model.encode([s.tensor for s in seed_segments[:4]])
    anchors = [Anchor(z=v, qpm=120.0, label=f"set/{i}@0", set="set") for i, v in enumerate(z)]
    walk = LatentWalk(model, anchors, steps_per_leg=2, temperature=0.5, seed=seed)
    return Songwriter(walk, seed=seed, form=check_form(form))


def _song(writer) -> list:
    first = next(writer)
    out = [first]
    while len(out) < len(first.song["form"]["sections"]):
        out.append(next(writer))
    return out


def _notes(segment, part: int, upto_bar: int) -> list[tuple]:
    bar_s = 240.0 / segment.qpm
    # a note held over from the section before may be tied into the first onset: left out
    return sorted((n.pitch, round(n.start_time, 4), n.velocity) for n in segment.sequence.notes
                  if n.instrument == part and 0.05 < n.start_time < upto_bar * bar_s - 1e-6)


@pytest.mark.parametrize("form, field", [
    ({"sections": ["A:10"]}, "form.sections[0]"),
    ({"sections": ["A:16", "verse:16"]}, "form.sections[1]"),
    ({"sections": ["intro:4", "outro:4"]}, "form.sections"),
    ({"sections": ["A:16", "intro:4"]}, "form.sections"),
    ({"sections": ["A:16"] * 11}, "form.sections"),
    ({"sections": "A:16"}, "form.sections"),
    ({"parts": ["A:16"]}, "form"),
    ("sonata", "form"),
    (7, "form"),
])
def test_a_bad_form_is_refused_naming_the_field(form, field):
    with pytest.raises(MixError, match="^" + re.escape(field) + ":"):
        StyleMix(sets={"rock": 1.0}).updated({"form": form}, {"rock": []})


def test_the_shipped_forms_are_valid_songs_of_two_to_six_minutes_at_common_tempi():
    forms = shipped_forms()
    assert len(forms) >= 4
    for form in forms.values():
        assert form.sections[0].name == "intro" and form.sections[-1].name == "outro"
        minutes = [form.bars * 4 / qpm for qpm in (100, 130)]
        assert 2 <= min(minutes) and max(minutes) <= 6, (form.name, minutes)
        returns = collections.Counter(s.name for s in form.sections if len(s.name) == 1)
        assert form.bars <= MAX_SONG_BARS and max(returns.values()) >= 2     # a section comes back


def test_titles_are_stable_and_unique_against_those_taken():
    assert title_for(41) == title_for(41)
    assert len({title_for(s) for s in range(50)}) >= 45
    first = title_for(41)
    assert title_for(41, {first}) == f"{first} II"
    assert title_for(41, {first, f"{first} II"}) == f"{first} III"
    with pytest.raises(FormError):
        check_form({"sections": ["A:16"], "name": "x" * 41})


def test_a_section_that_returns_plays_the_same_notes_and_the_song_holds_tempo_and_key(model, seed_segments):
    song = _song(_songwriter(model, seed_segments))
    assert [s.song["name"] for s in song] == ["intro", "A", "B", "A", "outro"]
    assert [s.song["section"] for s in song] == [0, 1, 2, 3, 4]
    assert [s.song["start_bar"] for s in song] == [0, 4, 12, 16, 24]
    assert len({s.song["title"] for s in song}) == 1 and len({s.qpm for s in song}) == 1
    assert len({s.song["key"] for s in song}) == 1 and all(s.start_qpm == 0 for s in song)
    first, again = song[1], song[3]
    for part in (LEAD, BASS, DRUMS):    # before the last two bars, where a return may vary
        assert _notes(first, part, 6) == _notes(again, part, 6), part
    assert _notes(first, LEAD, 6), "the section has a lead"
    assert first.song["bars"] == 8 and first.bars == 8
    assert not [n for n in song[0].sequence.notes if n.instrument == LEAD]     # the intro: drums and bass
    # the intro plays the first letter's material, the outro the last lettered section's
    assert np.array_equal(song[0].z, song[1].z) and np.array_equal(song[-1].z, song[3].z)
    assert not np.array_equal(song[1].z, song[2].z)


def test_drums_and_bass_hold_patterns_inside_a_section(model, seed_segments):
    writer = _songwriter(model, seed_segments, {"sections": ["A:16", "outro:4"]})
    section = next(writer)
    bar_s = 240.0 / section.qpm

    def onsets(part, bar):
        return {round((n.start_time - bar * bar_s) / (bar_s / 16)) for n in section.sequence.notes
                if n.instrument == part and bar * bar_s - 1e-6 <= n.start_time < (bar + 1) * bar_s - 1e-6}
    for part, hold in ((DRUMS, 2), (BASS, 4)):      # patterns of 1–2 (drums), 2–4 (bass) bars
        same = [onsets(part, b) == onsets(part, b + hold) for b in range(0, 6)]
        assert sum(same) >= 5, (part, same)


def test_a_drum_pattern_always_has_a_kick():
    """A kickless pattern held for a song is a song with no kick: the pattern is taken where
    the decoded drums have one, and given one on the downbeat where they have none."""
    import note_seq

    from radio.contracts import DRUMS
    from radio.music.songwriter import BAR_S, _has_kick, _kicked
    seq = note_seq.NoteSequence(total_time=16 * BAR_S)
    for bar in range(16):
        seq.notes.add(pitch=42, velocity=70, start_time=bar * BAR_S, end_time=bar * BAR_S + 0.1,
                      instrument=DRUMS, is_drum=True)                      # hats only …
    bare = _kicked(seq, 2)
    assert _has_kick(bare, 0) and _has_kick(bare, 1) and not _has_kick(bare, 2)
    assert [n.start_time for n in bare.notes if n.pitch == 36] == [0.0, BAR_S]
    seq.notes.add(pitch=35, velocity=99, start_time=5 * BAR_S + 0.5, end_time=5 * BAR_S + 0.6,
                  instrument=DRUMS, is_drum=True)                        # … but bar 5 has a kick
    moved = _kicked(seq, 2)
    assert sorted((n.pitch, n.start_time) for n in moved.notes if n.start_time < 2 * BAR_S) == \
        [(35, BAR_S + 0.5), (42, 0.0), (42, BAR_S)]
    assert _kicked(moved, 2) is moved


def test_a_song_ends_on_a_ring_out_and_the_next_song_starts_with_its_intro(model, seed_segments):
    writer = _songwriter(model, seed_segments)
    song = _song(writer)
    outro = song[-1]
    bar_s = 240.0 / outro.qpm
    last_bar = (outro.bars - 1) * bar_s
    late = [n for n in outro.sequence.notes if n.start_time > last_bar + 1e-3]
    assert late == []                                          # nothing starts after the last downbeat
    ring = {(n.instrument, n.pitch) for n in outro.sequence.notes if abs(n.start_time - last_bar) < 1e-3}
    assert (DRUMS, 49) in ring and any(i == BASS for i, _ in ring) and any(i == LEAD for i, _ in ring)
    nxt = next(writer)
    assert nxt.song["section"] == 0 and nxt.song["name"] == "intro" and nxt.song["title"] != outro.song["title"]


def test_after_dropped_sections_the_song_goes_on_after_the_one_playing(model, seed_segments):
    writer = _songwriter(model, seed_segments)
    song = _song(writer)
    ahead = next(writer)                          # the next song's intro, made ahead
    assert ahead.song["section"] == 0 and ahead.song["id"] != song[0].song["id"]
    writer.resume_after(song[1].song)             # A plays; B, A, outro and the intro were dropped
    again = [next(writer) for _ in range(3)]
    assert [s.song["name"] for s in again] == ["B", "A", "outro"]
    assert {s.song["id"] for s in again} == {song[0].song["id"]}
    assert _notes(again[0], LEAD, 4) == _notes(song[2], LEAD, 4)          # the same notes as written
    nxt = next(writer)                             # then the next song, from its intro
    assert nxt.song["section"] == 0 and nxt.song["title"] == ahead.song["title"]
    writer.resume_after(song[-1].song)             # the outro plays, the next song was under way
    assert next(writer).song["section"] == 0 and writer.song.title == ahead.song["title"]
    writer.end_song()                              # a change to the composition: a new song
    writer.resume_after(ahead.song)
    assert next(writer).song["title"] not in (song[0].song["title"], ahead.song["title"])


def test_titles_in_use_are_bounded_oldest_out():
    from radio.music.song import Titles
    titles = Titles(["a", "b"], size=3)
    titles.update(["c", "a", "d"])                 # "a" again is the newest; "b" falls out
    assert list(titles) == ["c", "a", "d"] and "b" not in titles and len(titles) == 3
    assert title_for(41, titles) == title_for(41)


def test_a_mix_change_to_the_composition_starts_a_new_song_and_a_sound_change_does_not():
    base = StyleMix(sets={"rock": 1.0})
    assert base.new_song(StyleMix(sets={"rock": 1.0}, temperature=0.5))
    assert base.new_song(StyleMix(sets={"rock": 1.0}, form="aaba"))
    assert not base.new_song(StyleMix(sets={"rock": 1.0}, sound={"preset": "jazz"}))
    assert not base.new_song(StyleMix(sets={"rock": 1.0}, groove={"swing": 0.2}))
    assert StyleMix(sets={"rock": 1.0}).songs() and not StyleMix(sets={"rock": 1.0}, form="morph").songs()
    assert not StyleMix(sets={"rock": 1.0}, mode="loop").songs()


def test_morph_plays_the_walk_and_song_plays_sections(tmp_path):
    import golden_cases

    from radio.config import Settings
    from radio.generator.pipeline import Pipeline
    for form, songs in (("morph", False), ({"sections": ["intro:4", "A:8", "outro:4"]}, True)):
        pipeline = Pipeline(Settings(model=str(golden_cases.MODEL), data=str(tmp_path), seed=3,
                                     mix={"form": form}))
        try:
            segments = [pipeline.next_segment() for _ in range(4)]
        finally:
            pipeline.close()
        if songs:
            assert [s.bars for s in segments] == [4, 8, 4, 4] and segments[3].song["section"] == 0
            assert np.isclose(segments[0].duration, 4 * 240.0 / segments[0].qpm)
        else:
            assert all(s.song is None and s.bars == 16 for s in segments)
