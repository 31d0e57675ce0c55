"""radio.model.convert.TrioConverter (note-seq only) against magenta's TrioConverter."""

from __future__ import annotations

from pathlib import Path

import note_seq
import numpy as np
import pytest

from radio.model.convert import TrioConverter
from radio.music import seeds
from radio.offline import bandfiles

SHIPPED = Path(__file__).parent.parent / "radio" / "assets" / "seeds"
BAND_FILES_PER_SOURCE = 4  # the first few songs of each Debian source that is installed


def band_songs() -> list[tuple[str, bytes]]:
    out = []
    for source in bandfiles.SOURCES:
        items = list(bandfiles.midi_items(source).items())[:BAND_FILES_PER_SOURCE]
        out += [(f"{source.name}/{name}", body) for name, body in items]
    return out


def copy(ns: note_seq.NoteSequence) -> note_seq.NoteSequence:
    out = note_seq.NoteSequence()
    out.CopyFrom(ns)
    return out


def same_tensors(ours, theirs) -> None:
    assert len(ours.inputs) == len(theirs.inputs)
    for a, b in zip(ours.inputs, theirs.inputs):
        assert a.shape == b.shape and (np.asarray(a) == np.asarray(b)).all()
    assert list(ours.lengths) == list(theirs.lengths)


@pytest.fixture(scope="module")
def ours():
    return TrioConverter()


def test_shipped_seed_sets_convert_as_magenta(ours, converter):
    """Every shipped seed file: the seed import's windows (what the station encodes) give
    the same tensors and sequences, and the whole file gives the same tensors."""
    files = sorted(SHIPPED.rglob("*.mid"))
    assert len(files) >= 20
    total = 0
    for path in files:
        ns = seeds.read_midi(path)
        same_tensors(ours.to_tensors(copy(ns)), converter.to_tensors(copy(ns)))
        a, _ = seeds.segments_from_sequence(copy(ns), ours, path.name)
        b, _ = seeds.segments_from_sequence(copy(ns), converter, path.name)
        assert [(s.start_bar, s.transpose) for s in a] == [(s.start_bar, s.transpose) for s in b], path.name
        for x, y in zip(a, b):
            assert (x.tensor == y.tensor).all() and x.sequence == y.sequence, path.name
        total += len(a)
    assert total >= len(files)


def test_real_band_files_convert_as_magenta(ours, converter):
    """Real band MIDI (Freedoom, freedink, Planet Blupi, OpenMSX, where installed): raw files with
    many tracks, programs and tempo changes give magenta's tensors, whole and through the
    seed import."""
    songs = band_songs()
    if not songs:
        pytest.skip("no Debian band MIDI installed (freedoom, freedink-data, planetblupi-music-midi)")
    kept = 0
    for name, body in songs:
        try:
            ns = seeds.parse_midi(body)
        except Exception:  # noqa: BLE001  (a file the station would refuse anyway)
            continue
        same_tensors(ours.to_tensors(copy(ns)), converter.to_tensors(copy(ns)))
        try:
            a, _ = seeds.segments_from_sequence(copy(ns), ours, name)
        except seeds.SeedImportError as e:
            with pytest.raises(seeds.SeedImportError, match=str(e)[:20]):
                seeds.segments_from_sequence(copy(ns), converter, name)
            continue
        b, _ = seeds.segments_from_sequence(copy(ns), converter, name)
        assert len(a) == len(b), name
        for x, y in zip(a, b):
            assert (x.tensor == y.tensor).all() and x.sequence == y.sequence, name
        kept += len(a)
    assert kept > 0


def test_from_tensors_round_trip(ours):
    """Tensors → sequence → tensors is the identity on a converted seed window."""
    ns = seeds.read_midi(sorted(SHIPPED.rglob("*.mid"))[0])
    segments, _ = seeds.segments_from_sequence(ns, ours, "x")
    back = ours.to_tensors(copy(segments[0].sequence))
    assert (back.inputs[0] == segments[0].tensor).all()


def test_transposed_copies_equal_converting_the_moved_window(ours, converter):
    """--transpose moves the converted tensor (ours) instead of converting each moved window
    again (magenta's): the same tensors and sequences, except copies that would push a note
    out of the piano range, which ours leaves out rather than keep with the note dropped."""
    files = sorted(SHIPPED.rglob("*.mid"))[::6] + [p for p in sorted(SHIPPED.rglob("*.mid")) if "jazz" in str(p)][:2]
    mine = theirs = 0
    for path in files:
        ns = seeds.read_midi(path)
        a, _ = seeds.segments_from_sequence(copy(ns), ours, path.name, transpose=3)
        b, _ = seeds.segments_from_sequence(copy(ns), converter, path.name, transpose=3)
        slow = {(s.start_bar, s.transpose): s for s in b}
        for s in a:
            t = slow[(s.start_bar, s.transpose)]
            assert (s.tensor == t.tensor).all() and s.sequence == t.sequence, (path.name, s.start_bar, s.transpose)
        assert {s.transpose for s in a} == {0, 1, -1, 2, -2, 3, -3}
        mine, theirs = mine + len(a), theirs + len(b)
    assert mine >= 0.95 * theirs


def test_a_moved_tensor_leaving_the_range_is_refused(ours):
    t = np.zeros((16, sum((90, 90, 512))), bool)
    t[:, 0] = t[:, 90] = t[:, 180] = True                     # no events anywhere
    t[0, 0], t[0, 89] = False, True                            # the lead's top note, C8
    assert ours.transposed_tensor(t, 1) is None
    down = ours.transposed_tensor(t, -2)
    assert down[0, 87] and not down[0, 89] and (down[:, 180:] == t[:, 180:]).all()
