"""Corpus builder: real mma backings in every style family, generated and tune leads,
reproducible files, and shipped seed sets that all import."""

from __future__ import annotations

from pathlib import Path

import mido
import note_seq
import pytest

from radio import corpus, seeds
from radio.config import ASSETS

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
    """One generated-lead song per style, same key and tempo, so only the groove differs."""
    out = tmp_path_factory.mktemp("styles")
    return {style: corpus.make_song(corpus.Song(style, corpus.GROOVES[style][0], key=7, qpm=112.0,
                                                bars=32, seed=21), out / f"{style}.mid")
            for style in STYLES}


def test_style_families_and_tempi():
    assert len(corpus.GROOVES) >= 8 and set(corpus.TEMPI) == set(corpus.GROOVES)
    assert {"rock", "ska", "country", "latin", "swing", "ballad"} <= set(corpus.GROOVES)
    for song in corpus.songs(40, seed=3, tune_share=0):
        lo, hi = corpus.TEMPI[song.style]
        assert lo <= song.qpm <= hi and song.groove in corpus.GROOVES[song.style] and not song.tune
    # funk sits well below ska
    assert corpus.TEMPI["funk"][1] < corpus.TEMPI["ska"][0]


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
    a = corpus.build(tmp_path / "a", 3, seed=5, bars=32, progress=False)  # as `radio build-corpus` calls it
    b = corpus.build(tmp_path / "b", 3, seed=5, bars=32, progress=False)
    assert [p.relative_to(tmp_path / "a") for p in a] == [p.relative_to(tmp_path / "b") for p in b]
    assert all(p.parent.name == p.name.split("_")[0] for p in a)  # DIR/<style>/<style>_…
    assert sorted("_tune" in p.name for p in a) == [False, False, True]  # both kinds of lead
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b))
    assert corpus.songs(12, seed=5) == corpus.songs(12, seed=5) != corpus.songs(12, seed=6)


def test_tune_share():
    pytest.importorskip("music21")
    assert len(corpus.tune_index()) > 1000
    assert all(s.tune for s in corpus.songs(4, seed=2, tune_share=1.0))
    assert not any(s.tune for s in corpus.songs(12, seed=2, tune_share=0.0))


def test_nottingham_lead_and_chords_follow_the_tune(tmp_path, converter):
    music21 = pytest.importorskip("music21")
    from music21 import converter as m21converter, harmony, note
    abc = corpus._split_abc((Path(music21.common.getCorpusFilePath()) / NOTTINGHAM.split("#")[0])
                            .read_text())[0]
    flat = m21converter.parseData(abc, format="abc").flatten()
    pickup = 1.0  # the tune opens with a one-beat pickup, which the song leaves out
    tune_pitches = [n.pitch.midi for n in flat.getElementsByClass(note.Note) if n.offset >= pickup][:32]
    symbols = [(c.offset, c.root().pitchClass) for c in flat.getElementsByClass(harmony.ChordSymbol)]

    song = corpus.Song("rock", "rock-128:Rock128", key=7, qpm=120.0, bars=32, seed=4, tune=NOTTINGHAM)
    path = corpus.make_song(song, tmp_path / "cuckoo.mid")
    ns = note_seq.midi_file_to_note_sequence(str(path))
    bass, lead = _bass_and_lead(_parts(ns))
    lead = sorted(lead, key=lambda n: n.start_time)
    lead_pitches = [n.pitch for n in lead[:32]]
    assert _intervals(lead_pitches) == _intervals(tune_pitches)
    assert (lead_pitches[0] - tune_pitches[0]) % 12 == 5  # D major → G major
    # mma's bass plays the tune's chord root (moved to G) on each downbeat of the tune's 16 bars
    bar_s = 2.0
    for bar in range(16):
        root = [r for o, r in symbols if o <= pickup + 4 * bar][-1]
        downbeat = [n.pitch for n in bass if abs(n.start_time - bar * bar_s) < 0.05]
        assert downbeat and downbeat[0] % 12 == (root + 5) % 12, bar
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
