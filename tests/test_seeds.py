"""Seeds stage: real MIDI in, trio segments and one report line per file out."""

from pathlib import Path

import note_seq
import numpy as np

from radio.music import seeds


def _write(ns: note_seq.NoteSequence, path: Path) -> Path:
    note_seq.sequence_proto_to_midi_file(ns, str(path))
    return path


def _band(lead_program: int, bass_program: int, bars: int = 20, qpm: float = 120) -> note_seq.NoteSequence:
    """Drums, a bass line and a lead, with the programs given (any GM numbers)."""
    ns = _rhythm(bars, qpm, bass_program=bass_program)
    beat = 60.0 / qpm
    for b in range(bars * 4):
        ns.notes.add(pitch=[72, 74, 76, 79, 77, 76, 74, 72][b % 8], start_time=b * beat,
                     end_time=b * beat + beat * 0.9, velocity=90, instrument=2, program=lead_program)
    return ns


def test_mma_songs_give_segments_of_16_bars(song_dir, converter):
    """Every mma file is kept, and each segment is 16 bars of 16 steps in the converter's layout."""
    segments, reports = seeds.import_folder(song_dir, converter)
    assert [r.segments > 0 for r in reports] == [True] * 3
    assert all(s.tensor.shape == (256, converter.input_depth) for s in segments)
    parts = {("drums" if n.is_drum else n.instrument) for n in segments[0].sequence.notes}
    assert parts == {"drums", 0, 1}


def test_roles_not_program_numbers(tmp_path, converter):
    """Lead on alto sax (65) and bass on a guitar program (26): both found by role."""
    path = _write(_band(lead_program=65, bass_program=26), tmp_path / "sax.mid")
    segments, reports = seeds.import_files([path], converter)
    assert reports[0].segments == 1, reports[0].line()
    assert "lead prog 65" in reports[0].roles and "bass prog 26" in reports[0].roles
    lead = [n.pitch for n in segments[0].sequence.notes if not n.is_drum and n.instrument == 0]
    bass = [n.pitch for n in segments[0].sequence.notes if not n.is_drum and n.instrument == 1]
    assert min(lead) >= 72 and max(bass) <= 43


def test_bad_files_get_one_clear_line_and_the_rest_go_on(tmp_path, converter, song_dir):
    good = sorted(song_dir.glob("*.mid"))[0]
    (tmp_path / "empty.mid").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not music")
    (tmp_path / "corrupt.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\xff\xff")
    junk = bytearray(good.read_bytes())
    junk[30:60] = bytes(np.random.default_rng(0).integers(0, 256, 30, dtype=np.uint8))
    piano = _band(0, 33)
    del piano.notes[:]
    piano.notes.add(pitch=60, start_time=0, end_time=40, velocity=80, program=0)
    piano.notes.add(pitch=64, start_time=0, end_time=40, velocity=80, program=0)
    _write(piano, tmp_path / "piano.mid")
    _write(_band(65, 33, bars=8), tmp_path / "short.mid")
    waltz = _band(65, 33)
    waltz.time_signatures[0].numerator = 3
    _write(waltz, tmp_path / "waltz.mid")
    (tmp_path / "good.mid").write_bytes(good.read_bytes())
    segments, reports = seeds.import_folder(tmp_path, converter)
    by_name = {Path(r.path).name: r for r in reports}
    assert by_name["empty.mid"].reason == "empty file"
    assert by_name["notes.txt"].reason.startswith("not MIDI")
    assert by_name["corrupt.mid"].reason.startswith("corrupt MIDI")
    assert by_name["piano.mid"].reason == "no drums / no bass line / no lead"
    assert by_name["short.mid"].reason.startswith("too short (8 bars")
    assert by_name["waltz.mid"].reason == "not 4/4"
    assert by_name["good.mid"].segments > 0 and segments
    assert all(len(r.line().splitlines()) == 1 for r in reports)


# Real band files: a lead that overlaps itself, a tune passed between instruments, drums
# on several tracks, and a piano piece that must not pass for a band.

TUNE = [72, 74, 76, 79, 77, 76, 74, 72, 71, 72, 74, 76, 74, 72, 71, 67]  # one note a beat


def _rhythm(bars: int = 20, qpm: float = 120, drum_tracks: int = 1, bass_program: int = 33) -> note_seq.NoteSequence:
    """Drums (kick and snare on one track, hi-hats on the next when `drum_tracks` is 2)
    and a bass line; no lead."""
    ns = note_seq.NoteSequence(ticks_per_quarter=220)
    ns.tempos.add(qpm=qpm)
    ns.time_signatures.add(numerator=4, denominator=4)
    beat = 60.0 / qpm
    for b in range(bars * 4):
        t = b * beat
        ns.notes.add(pitch=36 if b % 2 == 0 else 38, start_time=t, end_time=t + 0.1, velocity=100,
                     is_drum=True, instrument=9)
        ns.notes.add(pitch=42, start_time=t + beat / 2, end_time=t + beat / 2 + 0.05, velocity=80,
                     is_drum=True, instrument=9 if drum_tracks == 1 else 10)
        ns.notes.add(pitch=[36, 40, 43, 41][b % 4], start_time=t, end_time=t + beat * 0.9,
                     velocity=90, instrument=1, program=bass_program)
    ns.total_time = bars * 4 * beat
    return ns


def _lead_pitches(segment) -> list[int]:
    return [n.pitch for n in sorted(segment.sequence.notes, key=lambda n: n.start_time)
            if not n.is_drum and n.instrument == 0]


def test_skyline_keeps_the_top_line():
    N = seeds._Note
    legato = [N(0.0, 0.6, 76, 90), N(0.5, 1.1, 74, 90), N(1.0, 1.5, 72, 90)]  # descending, overlapping
    assert [(n.pitch, n.end) for n in seeds.skyline(legato)] == [(76, 0.5), (74, 1.0), (72, 1.5)]
    chord_under_tune = [N(0.0, 2.0, 79, 90), N(0.0, 2.0, 67, 90), N(0.0, 2.0, 64, 90),
                        N(1.0, 2.0, 60, 90)]  # a held tune note over a chord and a late inner voice
    assert [n.pitch for n in seeds.skyline(chord_under_tune)] == [79]
    assert [n.pitch for n in seeds.skyline(chord_under_tune, top=False)] == [64, 60]
    higher_cuts = [N(0.0, 2.0, 60, 90), N(1.0, 2.0, 72, 90)]
    assert [(n.pitch, n.end) for n in seeds.skyline(higher_cuts)] == [(60, 1.0), (72, 2.0)]


def test_overlapping_legato_lead_is_kept_as_its_skyline(tmp_path, converter):
    """A lead played legato (each note held into the next) and doubled an octave below, as
    one track: too polyphonic for a plain melody, but its top line is the tune."""
    ns = _rhythm()
    for b in range(80):
        t = b * 0.5
        for octave in (0, -12):
            ns.notes.add(pitch=TUNE[b % 16] + octave, start_time=t, end_time=t + 0.7, velocity=90,
                         instrument=2, program=65)
    path = _write(ns, tmp_path / "legato.mid")
    segments, reports = seeds.import_files([path], converter)
    assert reports[0].segments == 1, reports[0].line()
    assert _lead_pitches(segments[0]) == TUNE * 4


def test_tune_passed_between_instruments_is_merged(tmp_path, converter):
    """Flute plays the tune for 8 bars while the sax holds long notes under it, then they
    swap: the lead follows the tune across both."""
    ns = _rhythm()
    for b in range(80):
        t, first_half = b * 0.5, (b // 32) % 2 == 0
        tune, pad = (73, 65) if first_half else (65, 73)
        ns.notes.add(pitch=TUNE[b % 16], start_time=t, end_time=t + 0.45, velocity=90,
                     instrument=2 if tune == 73 else 3, program=tune)
        if b % 4 == 0:
            ns.notes.add(pitch=60, start_time=t, end_time=t + 1.95, velocity=70,
                         instrument=2 if pad == 73 else 3, program=pad)
    path = _write(ns, tmp_path / "passing.mid")
    segments, reports = seeds.import_files([path], converter)
    assert reports[0].segments == 1, reports[0].line()
    assert "lead prog 65+73" in reports[0].roles
    assert _lead_pitches(segments[0]) == TUNE * 4


def test_the_lead_is_the_top_line_not_the_busiest_nor_chords_above_it(tmp_path, converter):
    """A held melody in half notes over a busy sixteenth-note riff, with a pad's chords
    above both: the lead is the melody (the riff has more notes and pitches, the pad is
    higher, but it plays chords)."""
    ns = _rhythm()
    melody = [76, 79, 77, 81, 79, 76, 74, 77]
    for k in range(40):                                    # 20 bars of half notes
        ns.notes.add(pitch=melody[k % 8], start_time=k, end_time=k + 0.95, velocity=90, instrument=2, program=73)
    for k in range(320):                                   # sixteenths
        ns.notes.add(pitch=[60, 64, 67, 65, 62][k % 5], start_time=k / 8, end_time=k / 8 + 0.12, velocity=80,
                     instrument=3, program=30)
    for k in range(10):                                    # a chord every bar pair, above the tune
        for p in (81, 84, 88):
            ns.notes.add(pitch=p, start_time=4 * k, end_time=4 * k + 3.9, velocity=60, instrument=4, program=89)
    path = _write(ns, tmp_path / "riff.mid")
    segments, reports = seeds.import_files([path], converter)
    assert reports[0].segments == 1, reports[0].line()
    assert _lead_pitches(segments[0]) == melody * 4


def test_drums_split_over_two_tracks_are_merged(tmp_path, converter):
    path = _write(_rhythm(drum_tracks=2), tmp_path / "two-kits.mid")
    ns = seeds.read_midi(path)
    assert len([p for p in seeds.describe_parts(ns) if p.is_drum]) == 2
    tune = _band(73, 33)
    ns.notes.extend(n for n in tune.notes if n.program == 73)
    path = _write(ns, path)
    segments, reports = seeds.import_files([path], converter)
    assert reports[0].segments == 1, reports[0].line()
    assert "drums ×2" in reports[0].roles
    drums = {n.pitch for n in segments[0].sequence.notes if n.is_drum}
    assert {36, 38, 42} <= drums


def test_piano_only_piece_is_dropped(tmp_path, converter):
    """Chords under a melody on one piano, left hand on another piano track, no drums."""
    ns = note_seq.NoteSequence(ticks_per_quarter=220)
    ns.tempos.add(qpm=120)
    ns.time_signatures.add(numerator=4, denominator=4)
    for b in range(80):
        t = b * 0.5
        ns.notes.add(pitch=TUNE[b % 16], start_time=t, end_time=t + 0.45, velocity=90, instrument=0)
        if b % 4 == 0:
            for p in (60, 64, 67):
                ns.notes.add(pitch=p, start_time=t, end_time=t + 1.9, velocity=70, instrument=0)
            ns.notes.add(pitch=36 + b % 7, start_time=t, end_time=t + 1.9, velocity=80, instrument=1)
    ns.total_time = 40
    path = _write(ns, tmp_path / "piano-only.mid")
    segments, reports = seeds.import_files([path], converter)
    assert not segments and reports[0].reason == "no drums", reports[0].line()


def test_a_hand_edited_model_entry_reads_as_no_model_and_the_set_still_goes(tmp_path):
    """A manifest whose `model` entry is malformed: the set has no learned model (the
    generator asks every segment, so it must not raise), and removing the set works."""
    import json

    from radio.music.seedsets import SeedLibrary, unlearned
    band = tmp_path / "band"
    band.mkdir()
    (band / "a.mid").write_bytes(b"MThd")
    library = SeedLibrary(tmp_path)
    for model in ("oops", {"folder": 5}, {"files": ["a.mid"]}, {"folder": str(tmp_path), "files": "a.mid"}):
        (band / "manifest.json").write_text(json.dumps({"files": {"a.mid": {}}, "model": model}))
        assert library.learned() == {} and unlearned(library.manifest("band")) is None, model
    (band / "manifest.json").write_text(json.dumps({"files": {"a.mid": {}}, "model": {"folder": str(tmp_path)}}))
    assert library.learned() == {"band": tmp_path} and unlearned(library.manifest("band")) == ["a.mid"]
    (band / "manifest.json").write_text(json.dumps({"files": {}, "model": {"folder": 5}}))
    assert [p.name for p in library.remove("band")] == ["a.mid"] and not band.exists()
