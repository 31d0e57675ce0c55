"""Corpus builder: every lead a real folk tune over real mma backings in every style family,
Hydrogen drums, game MIDI (never the held-out sources), a manifest with source and licence
per file, reproducible files, and shipped seed sets that all import."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
from pathlib import Path

import mido
import note_seq
import pytest

from radio.config import ASSETS
from radio.music import seeds
from radio.offline import bandfiles, bassline, corpus, hydrogen

STYLES = ["blues", "funk", "jazz", "pop", "rock"]
NOTTINGHAM = "nottingham-dataset/reelsa-c.abc#0"  # "Cuckoo's Nest", in D, with chord symbols


def _parts(ns: note_seq.NoteSequence) -> dict:
    parts: dict = {}
    for n in ns.notes:
        parts.setdefault("drums" if n.is_drum else n.instrument, []).append(n)
    return parts


def _monophonic(notes) -> bool:
    notes = sorted(notes, key=lambda n: n.start_time)
    return all(a.end_time <= b.start_time + 1e-6 for a, b in zip(notes, notes[1:]))


def _mean(notes) -> float:
    return sum(n.pitch for n in notes) / len(notes)


def _intervals(pitches: list[int]) -> list[int]:
    return [b - a for a, b in zip(pitches, pitches[1:])]


def _bass_and_lead(parts: dict) -> tuple[list, list]:
    pitched = sorted((p for k, p in parts.items() if k != "drums"), key=_mean)
    return pitched[0], pitched[-1]


@pytest.fixture(scope="module")
def style_songs(tmp_path_factory) -> dict[str, Path]:
    """One song per style, same tune, key and tempo, so only the groove differs."""
    pytest.importorskip("music21")
    out = tmp_path_factory.mktemp("styles")
    return {style: corpus.make_song(corpus.Song(style, corpus.GROOVES[style][0], key=7, qpm=112.0,
                                                bars=32, seed=21, tune=NOTTINGHAM), out / f"{style}.mid")
            for style in STYLES}


def test_style_families_and_tempi():
    pytest.importorskip("music21")
    assert len(corpus.GROOVES) >= 8 and set(corpus.TEMPI) == set(corpus.GROOVES)
    assert {"rock", "ska", "country", "latin", "swing", "ballad"} <= set(corpus.GROOVES)
    songs = corpus.songs(40, seed=3)
    for song in songs:
        lo, hi = corpus.TEMPI[song.style]
        assert lo <= song.qpm <= hi and song.groove in corpus.GROOVES[song.style]
        assert song.tune in corpus.tune_index() and song.bars >= 32
        assert song.bars % corpus.load_tune(song.tune).bars == 0  # the tune played through
    assert len({s.tune for s in songs}) == 40  # one song per tune
    assert {s.style for s in songs} == set(corpus.GROOVES)
    # funk sits well below ska
    assert corpus.TEMPI["funk"][1] < corpus.TEMPI["ska"][0]


def test_tunes_come_round_in_other_styles(monkeypatch):
    """More songs than tunes: a tune comes back, but never twice in one style."""
    pytest.importorskip("music21")
    index = corpus.tune_index()[2:9]
    monkeypatch.setattr(corpus, "tune_index", lambda: index)
    songs = corpus.songs(30, seed=1, styles=["rock", "pop", "jazz"])
    tunes = {s.tune for s in songs}
    assert len(tunes) <= 7 and len(songs) == 30
    pairs = [(s.tune, s.style) for s in songs[:3 * len(tunes)]]
    assert len(set(pairs)) == len(pairs)


def test_every_style_is_a_4_4_trio_that_imports(style_songs, converter):
    for style, path in style_songs.items():
        ns = note_seq.midi_file_to_note_sequence(str(path))
        assert [(t.numerator, t.denominator) for t in ns.time_signatures] == [(4, 4)], style
        parts = _parts(ns)
        assert len(parts) == 3 and "drums" in parts, (style, set(parts))
        bass, lead = _bass_and_lead(parts)
        assert len(parts["drums"]) >= 64, style
        assert _mean(bass) < 52 and _monophonic(bass), style
        assert _mean(lead) >= 60 and _monophonic(lead), style
        assert ns.total_time >= 31 * 4 * 60 / 112, style  # 32 bars
        # in the file itself: the drums, and only they, on MIDI channel 10
        ons = [m for track in mido.MidiFile(str(path)).tracks for m in track
               if m.type == "note_on" and m.velocity > 0]
        assert sum(m.channel == 9 for m in ons) == len(parts["drums"]), style
        assert len({m.channel for m in ons}) == 3, style
    segments, reports = seeds.import_files(list(style_songs.values()), converter)
    assert [r.segments for r in reports] == [2] * len(STYLES), [r.line() for r in reports]
    assert all(s.tensor.shape == (256, converter.input_depth) for s in segments)


def test_styles_have_different_drum_patterns(style_songs):
    patterns = {}
    for style, path in style_songs.items():
        ns = note_seq.midi_file_to_note_sequence(str(path))
        step = 60 / 112 / 4
        # (drum, 16th step in the bar) over the first four bars
        patterns[style] = frozenset((n.pitch, round(n.start_time / step) % 16)
                                    for n in ns.notes if n.is_drum and n.start_time < 4 * 16 * step)
    assert len(set(patterns.values())) == len(STYLES)


def test_same_seed_writes_identical_files(tmp_path):
    pytest.importorskip("music21")
    a = corpus.build(tmp_path / "a", 3, seed=5, bars=32, progress=False, game=False)  # as `radio build-corpus` calls it
    b = corpus.build(tmp_path / "b", 3, seed=5, bars=32, progress=False, game=False)
    assert [p.relative_to(tmp_path / "a") for p in a] == [p.relative_to(tmp_path / "b") for p in b]
    assert all(p.parent.name == p.name.split("_")[0] for p in a)  # DIR/<style>/<style>_…
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b))
    assert (tmp_path / "a/manifest.json").read_bytes() == (tmp_path / "b/manifest.json").read_bytes()
    assert corpus.songs(12, seed=5) == corpus.songs(12, seed=5) != corpus.songs(12, seed=6)


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory) -> Path:
    """A few folk songs, one more on Hydrogen drums (where hydrogen-data is installed), and
    the game MIDI (where freedoom and Planet Blupi are)."""
    pytest.importorskip("music21")
    out = tmp_path_factory.mktemp("corpus")
    corpus.build(out, 4, seed=8, progress=False)
    song = corpus.songs(1, seed=9, styles=["rock"])[0]
    if hydrogen.demo_songs():
        song = dataclasses.replace(song, drums="hydrogen:GM_kit_demo1")
    path = corpus.make_song(song, out / "rock" / corpus.file_name(99, song))
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"][path.relative_to(out).as_posix()] = corpus.song_entry(song, path)
    (out / "manifest.json").write_text(json.dumps(manifest))
    return out


def test_every_lead_is_its_folk_tune(small_corpus):
    files = json.loads((small_corpus / "manifest.json").read_text())["files"]
    folk = {rel: e for rel, e in files.items() if e["kind"] == "folk"}
    assert len(folk) == 5
    for rel, entry in folk.items():
        tune = corpus.load_tune(entry["tune"])
        ns = note_seq.midi_file_to_note_sequence(str(small_corpus / rel))
        _, lead = _bass_and_lead(_parts(ns))
        lead = sorted(lead, key=lambda n: n.start_time)
        step = 60 / entry["qpm"] / 4
        # the whole tune, note for note and in its rhythm, moved to the song's key
        played = [(n.pitch, round(n.start_time / step), round(n.end_time / step)) for n in lead]
        shift = played[0][0] - tune.notes[0][0]
        assert shift % 12 == (corpus.NOTE_NAMES.index(entry["key"]) - tune.tonic) % 12, rel
        assert played[:len(tune.notes)] == [(p + shift, s, e) for p, s, e in tune.notes], rel
        assert len(played) == len(tune.notes) * entry["bars"] // tune.bars, rel  # played through
        assert entry["title"] == tune.title and entry["parts"]["lead"]["source"] == "music21 corpus"


def test_manifest_gives_source_and_licence_of_every_file(small_corpus):
    files = json.loads((small_corpus / "manifest.json").read_text())["files"]
    on_disk = {p.relative_to(small_corpus).as_posix() for p in small_corpus.rglob("*.mid")}
    assert set(files) == on_disk
    for rel, entry in files.items():
        assert entry["source"] and entry["licence"] and entry["package"], rel
        assert entry["sha256"] == hashlib.sha256((small_corpus / rel).read_bytes()).hexdigest(), rel
        if entry["kind"] == "folk":
            assert {"lead", "bass", "drums"} == set(entry["parts"]), rel
            assert all(part["licence"] for part in entry["parts"].values()), rel
            mma = entry["bass"] == "mma"
            assert ("GPL-2+" if mma else "bassline.py") in entry["parts"]["bass"]["licence"], rel
            assert mma or entry["bass"] in bassline.STYLES, rel
    # the held-out reference set never enters a corpus
    assert bandfiles.HELD_OUT == ("freedoom2", "freedink")
    text = json.dumps(files).lower() + " ".join(sorted(on_disk))
    assert "freedoom2" not in text and "freedink" not in text
    game = {rel: e for rel, e in files.items() if e["kind"] == "band"}
    assert all(rel.startswith("game/") for rel in game)
    assert {e["source"].split(":")[0] for e in game.values()} <= set(corpus.GAME_SOURCES)
    if bandfiles.by_name("freedoom1").path.exists():
        freedoom = [e for e in game.values() if e["source"].startswith("freedoom1:")]
        assert len(freedoom) == 31 and {e["licence"] for e in freedoom} == {"BSD-3-Clause"}


def test_held_out_sources_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus, "GAME_SOURCES", ["freedoom2"])
    with pytest.raises(ValueError, match="held out"):
        corpus.copy_game_songs(tmp_path)


H2SONG = """<?xml version="1.0" encoding="UTF-8"?>
<song><bpm>100</bpm><name>test</name><author>us</author>
 <instrumentList>
  <instrument><id>0</id><name>Kick Long</name><midiOutNote>36</midiOutNote></instrument>
  <instrument><id>1</id><name>Snare 1</name><midiOutNote>38</midiOutNote></instrument>
  <instrument><id>2</id><name>Clap</name><midiOutNote>40</midiOutNote></instrument>
  <instrument><id>3</id><name>Closed Hat</name><midiOutNote>44</midiOutNote></instrument>
  <instrument><id>4</id><name>Open Hat</name><midiOutNote>46</midiOutNote></instrument>
  <instrument><id>5</id><name>Ride</name><midiOutNote>48</midiOutNote></instrument>
 </instrumentList>
 <patternList>
  <pattern><name>beat</name><size>192</size><noteList>
   <note><position>0</position><velocity>1</velocity><instrument>0</instrument></note>
   <note><position>48</position><velocity>0.5</velocity><instrument>1</instrument></note>
   <note><position>96</position><velocity>0.8</velocity><instrument>0</instrument></note>
   <note><position>144</position><velocity>0.8</velocity><instrument>2</instrument></note>
   <note><position>24</position><velocity>0.8</velocity><instrument>3</instrument></note>
   <note><position>120</position><velocity>0.8</velocity><instrument>4</instrument></note>
   <note><position>72</position><velocity>0.8</velocity><instrument>3</instrument><note_off>true</note_off></note>
  </noteList></pattern>
  <pattern><name>ride</name><size>192</size><noteList>
   <note><position>0</position><velocity>0.8</velocity><instrument>5</instrument></note>
  </noteList></pattern>
  <pattern><name>waltz</name><size>144</size><noteList>
   <note><position>0</position><velocity>0.8</velocity><instrument>0</instrument></note>
  </noteList></pattern>
 </patternList>
 <patternSequence>
  <group><patternID>beat</patternID></group>
  <group><patternID>waltz</patternID></group>
  <group><patternID>beat</patternID><patternID>ride</patternID></group>
 </patternSequence>
</song>
"""


def test_hydrogen_pattern_to_gm_pitches(tmp_path):
    """Instruments by name (the TR-808 kit's midiOutNote numbers are not GM), 48 ticks a
    quarter, note-offs and bars that are not 4/4 left out, stacked patterns merged."""
    path = tmp_path / "test.h2song"
    path.write_text(H2SONG)
    part = hydrogen.read_song(path)
    assert part.bars == 2 and part.bpm == 100 and not part.unmapped
    assert part.hits == [(36, 0, 127), (42, 24, 102), (38, 48, 64), (36, 96, 102), (46, 120, 102),
                         (39, 144, 102),
                         (36, 192, 127), (51, 192, 102), (42, 216, 102), (38, 240, 64),
                         (36, 288, 102), (46, 312, 102), (39, 336, 102)]
    path.write_bytes(gzip.compress(H2SONG.encode()))  # gzipped songs read the same
    assert hydrogen.read_song(path).hits == part.hits


def test_hydrogen_demo_songs_convert_and_drive_songs(small_corpus, converter):
    songs = hydrogen.demo_songs()
    if not songs:
        pytest.skip("hydrogen-data is not installed")
    assert {p.stem for p in songs} == set(corpus.HYDROGEN_STYLES)
    for path in songs:
        part = hydrogen.read_song(path)
        assert part.bars >= 8 and not part.unmapped, path.name
        assert all(35 <= pitch <= 81 for pitch, _, _ in part.hits), path.name
    files = json.loads((small_corpus / "manifest.json").read_text())["files"]
    rel = next(r for r, e in files.items() if e.get("drums") == "hydrogen:GM_kit_demo1")
    assert files[rel]["parts"]["drums"]["package"] == "hydrogen-data"
    assert "GPL-2+" in files[rel]["parts"]["drums"]["licence"]
    ns = note_seq.midi_file_to_note_sequence(str(small_corpus / rel))
    drums = [n for n in ns.notes if n.is_drum]
    demo = hydrogen.read_song(hydrogen.DEMO_SONGS / "GM_kit_demo1.h2song")
    assert {n.pitch for n in drums} <= {h[0] for h in demo.hits}
    assert len(drums) >= 8 * files[rel]["bars"]
    _, reports = seeds.import_files([small_corpus / rel], converter)
    assert reports[0].segments >= 2, reports[0].line()


@pytest.mark.parametrize("bass_style", ["", *bassline.STYLES])
def test_nottingham_lead_and_chords_follow_the_tune(tmp_path, converter, bass_style):
    music21 = pytest.importorskip("music21")
    from music21 import converter as m21converter
    from music21 import harmony, note
    abc = corpus._split_abc((Path(music21.common.getCorpusFilePath()) / NOTTINGHAM.split("#")[0])
                            .read_text())[0]
    flat = m21converter.parseData(abc, format="abc").flatten()
    pickup = 1.0  # the tune opens with a one-beat pickup, which the song leaves out
    tune_pitches = [n.pitch.midi for n in flat.getElementsByClass(note.Note) if n.offset >= pickup][:32]
    symbols = [(c.offset, c.root().pitchClass) for c in flat.getElementsByClass(harmony.ChordSymbol)]

    song = corpus.Song("rock", "rock-128:Rock128", key=7, qpm=120.0, bars=32, seed=4, tune=NOTTINGHAM,
                       bass=bass_style)
    path = corpus.make_song(song, tmp_path / "cuckoo.mid")
    ns = note_seq.midi_file_to_note_sequence(str(path))
    bass, lead = _bass_and_lead(_parts(ns))
    lead = sorted(lead, key=lambda n: n.start_time)
    lead_pitches = [n.pitch for n in lead[:32]]
    assert _intervals(lead_pitches) == _intervals(tune_pitches)
    assert (lead_pitches[0] - tune_pitches[0]) % 12 == 5  # D major → G major
    # the bass (mma's, or a band-style line) plays the tune's chord root (moved to G) on each
    # downbeat of the tune's 16 bars
    bar_s = 2.0
    for bar in range(16):
        root = [r for o, r in symbols if o <= pickup + 4 * bar][-1]
        downbeat = [n.pitch for n in bass if abs(n.start_time - bar * bar_s) < 0.05]
        assert downbeat and downbeat[0] % 12 == (root + 5) % 12, bar
    if bass_style:      # a band's line: steady notes, legato, in a bass's register, one at a time
        bass = sorted(bass, key=lambda n: n.start_time)
        assert len(bass) == 32 * (4 if song.bass == "walking" else 8)
        assert all(abs(a.end_time - b.start_time) < 1e-3 for a, b in zip(bass, bass[1:]))
        assert all(26 <= n.pitch <= 62 for n in bass) and _monophonic(bass)
    _, reports = seeds.import_files([path], converter)
    assert reports[0].segments == 2, reports[0].line()


def test_fitted_chords_hold_the_melody():
    """Tunes without chord symbols get chords fitted here: most downbeat notes are chord tones."""
    pytest.importorskip("music21")
    held = []
    for name in corpus.tune_index()[2::150]:  # past the two Nottingham tunes, across collections
        tune = corpus.load_tune(name)
        assert not tune.chords_from_tune and len(tune.chords) == tune.bars
        held += [p % 12 in {(tune.chords[s // 16][0][0] + t) % 12
                            for t in corpus.CHORD_TONES[tune.chords[s // 16][0][1]]}
                 for p, s, _ in tune.notes if s % 16 == 0]
    assert len(held) > 100 and sum(held) >= 0.8 * len(held), sum(held) / len(held)


def test_shipped_seed_sets_all_import(converter):
    sets = sorted(p for p in (ASSETS / "seeds").iterdir() if p.is_dir())
    assert len(sets) >= 8 and {"rock", "ska", "swing"} <= {p.name for p in sets}
    files = [f for s in sets for f in sorted(s.glob("*.mid"))]
    assert all(len(list(s.glob("*.mid"))) >= 2 for s in sets)
    assert sum(f.stat().st_size for f in files) < 400_000
    _, reports = seeds.import_files(files, converter)
    assert all(r.segments >= 2 for r in reports), [r.line() for r in reports if r.segments < 2]


def test_most_songs_take_a_band_bass_line_drawn_from_their_seed_alone():
    picks = [bassline.pick(style, seed) for style in corpus.GROOVES for seed in range(300)]
    share = sum(p != "" for p in picks) / len(picks)
    assert abs(share - bassline.SHARE) < 0.05, share
    assert {p for p in picks if p} == set(bassline.STYLES)
    assert {bassline.pick("jazz", seed) for seed in range(300)} == {"", "walking"}
    assert [bassline.pick("rock", s) for s in range(50)] == [bassline.pick("rock", s) for s in range(50)]
    with pytest.raises(ValueError, match="unknown bass style"):
        bassline.line([[(0, "")] * 4], "slap", 1)
