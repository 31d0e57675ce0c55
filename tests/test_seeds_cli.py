"""`radio seeds import | list | remove`: one line per file, duplicates skipped, clear exits."""

import json
import shutil

import note_seq

from radio import cli


def _piano_only(path):
    ns = note_seq.NoteSequence(ticks_per_quarter=220)
    ns.tempos.add(qpm=120)
    for i in range(64):  # chords in the middle: their top line could be a lead, but no bass, no drums
        for pitch in (60, 64, 67):
            ns.notes.add(pitch=pitch + i % 5, start_time=i * 0.5, end_time=i * 0.5 + 0.4, velocity=80)
    note_seq.sequence_proto_to_midi_file(ns, str(path))


def test_import_list_remove(tmp_path, song_dir, capsys, monkeypatch):
    monkeypatch.setenv("RADIO_DATA", str(tmp_path / "data"))
    band = tmp_path / "band"
    shutil.copytree(song_dir, band)
    first = sorted(band.glob("*.mid"))[0]
    (band / "nested").mkdir()
    shutil.copy(first, band / "nested" / "copy-of-first.mid")  # same bytes: a duplicate
    (band / "empty.mid").write_bytes(b"")
    (band / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\xff\xff")
    (band / "cover.jpg").write_bytes(b"\xff\xd8\xff")
    _piano_only(band / "piano.mid")

    assert cli.main(["seeds", "import", str(band), "--set", "my-band"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[1].rstrip(":"): line for line in out.splitlines() if line[:7] in ("kept   ", "dropped", "skipped")}
    assert len(lines) == 8, out
    for song in song_dir.glob("*.mid"):
        assert lines[song.name].startswith("kept") and "segment(s)" in lines[song.name]
    assert lines["copy-of-first.mid"].startswith("skipped") and f"my-band/{first.name}" in lines["copy-of-first.mid"]
    assert lines["empty.mid"].endswith("empty file")
    assert "corrupt MIDI" in lines["broken.mid"]
    assert "not MIDI" in lines["cover.jpg"]
    assert lines["piano.mid"].endswith("no drums / no bass line")
    assert "kept 3 file(s)" in out and "1 duplicate(s) skipped" in out and "4 dropped" in out

    kept = tmp_path / "data" / "seeds" / "my-band"
    manifest = json.loads((kept / "manifest.json").read_text())
    assert sorted(manifest["files"]) == sorted(p.name for p in song_dir.glob("*.mid"))
    assert sorted(p.name for p in kept.glob("*.mid")) == sorted(manifest["files"])

    # again: everything is a duplicate, nothing new is written, still a success; --sound
    # names the set's sound preset (a bad name is refused before anything is read)
    assert cli.main(["seeds", "import", str(song_dir), "--set", "my-band", "--sound", "polka"]) == 1
    assert "--sound 'polka': use one of" in capsys.readouterr().err
    assert cli.main(["seeds", "import", str(song_dir), "--set", "my-band", "--sound", "jazz"]) == 0
    assert "kept 0 file(s)" in capsys.readouterr().out
    assert len(list(kept.glob("*.mid"))) == 3
    assert json.loads((kept / "manifest.json").read_text())["sound"] == "jazz"

    assert cli.main(["seeds", "list"]) == 0
    listing = capsys.readouterr().out
    row = next(line for line in listing.splitlines() if line.split()[0] == "my-band")
    segments = sum(f["segments"] for f in manifest["files"].values())
    assert row.split()[1:7] == ["3", "files", str(segments), "segments", "sound", "jazz"]
    rock = next(line for line in listing.splitlines() if line.split()[0] == "rock")
    assert rock.split()[5:7] == ["sound", "rock"]  # shipped sets: the preset named like them

    assert cli.main(["seeds", "remove", "my-band", first.name]) == 0
    assert not (kept / first.name).exists()
    assert first.name not in json.loads((kept / "manifest.json").read_text())["files"]
    assert cli.main(["seeds", "remove", "my-band"]) == 0
    assert not kept.exists()
    assert cli.main(["seeds", "remove", "my-band"]) == 1
    assert "no seed set named 'my-band'" in capsys.readouterr().err


def test_nothing_usable_fails_clearly(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RADIO_DATA", str(tmp_path / "data"))
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.mid").write_bytes(b"")
    _piano_only(junk / "b.mid")
    assert cli.main(["seeds", "import", str(junk), "--set", "junk"]) == 1
    captured = capsys.readouterr()
    assert "nothing under" in captured.err and "kept 0 file(s)" in captured.out
    assert not (tmp_path / "data" / "seeds" / "junk").exists()
    assert cli.main(["seeds", "import", str(tmp_path / "nope"), "--set", "x"]) == 1
    assert "is not a folder" in capsys.readouterr().err
    assert cli.main(["seeds", "import", str(junk), "--set", "Bad Name"]) == 1
    assert "set name" in capsys.readouterr().err


def test_transposition_multiplies_segments(tmp_path, song_dir, capsys, monkeypatch, converter):
    from radio.music import seeds
    monkeypatch.setenv("RADIO_DATA", str(tmp_path / "data"))
    song = sorted(song_dir.glob("*.mid"))[0]
    plain, _ = seeds.import_files([song], converter)
    moved, _ = seeds.import_files([song], converter, transpose=2)
    assert len(moved) == 5 * len(plain)
    by_shift = {s.transpose: s for s in moved if s.start_bar == 0}
    lead = {k: [n.pitch for n in s.sequence.notes if not n.is_drum and n.instrument == 0]
            for k, s in by_shift.items()}
    drums = {k: [n.pitch for n in s.sequence.notes if n.is_drum] for k, s in by_shift.items()}
    assert [p + 2 for p in lead[0]] == lead[2] and [p - 1 for p in lead[0]] == lead[-1]
    assert drums[2] == drums[0]  # drum pitches name instruments: never transposed
    assert cli.main(["seeds", "import", str(song_dir), "--set", "aug", "--transpose", "2"]) == 0
    assert json.loads((tmp_path / "data" / "seeds" / "aug" / "manifest.json").read_text())["transpose"] == 2
    assert cli.main(["seeds", "import", str(song_dir), "--set", "aug2", "--transpose", "9"]) == 1
    assert "allowed 0–6" in capsys.readouterr().err
