"""Seeds stage: real MIDI in, trio segments and one report line per file out."""

from pathlib import Path

import note_seq
import numpy as np

from radio import seeds


def _write(ns: note_seq.NoteSequence, path: Path) -> Path:
    note_seq.sequence_proto_to_midi_file(ns, str(path))
    return path


def _band(lead_program: int, bass_program: int, bars: int = 20, qpm: float = 120) -> note_seq.NoteSequence:
    """Drums, a bass line and a lead, with the programs given (any GM numbers)."""
    ns = note_seq.NoteSequence(ticks_per_quarter=220)
    ns.tempos.add(qpm=qpm)
    ns.time_signatures.add(numerator=4, denominator=4)
    beat = 60.0 / qpm
    for b in range(bars * 4):
        t = b * beat
        ns.notes.add(pitch=36 if b % 2 == 0 else 38, start_time=t, end_time=t + 0.1, velocity=100,
                     is_drum=True, instrument=9)
        ns.notes.add(pitch=42, start_time=t + beat / 2, end_time=t + beat / 2 + 0.05, velocity=80,
                     is_drum=True, instrument=9)
        ns.notes.add(pitch=[36, 40, 43, 41][b % 4], start_time=t, end_time=t + beat * 0.9,
                     velocity=90, instrument=1, program=bass_program)
        ns.notes.add(pitch=[72, 74, 76, 79, 77, 76, 74, 72][b % 8], start_time=t,
                     end_time=t + beat * 0.9, velocity=90, instrument=2, program=lead_program)
    ns.total_time = bars * 4 * beat
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
