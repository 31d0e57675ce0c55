"""Song-structure figures on hand-made note lists with known answers, and one real file."""

import random

import note_seq
import pytest

from radio.offline import bandfiles, songstats

PHRASE = [(0, 60), (4, 62), (8, 64), (12, 65), (16, 67), (24, 65), (32, 64), (40, 62), (48, 60)]


def _at(notes, bar):
    """The notes moved to start at `bar`."""
    return [(s + 16 * bar, p) for s, p in notes]


def test_exact_repeat_is_copied():
    lead = _at(PHRASE, 0) + _at(PHRASE, 4) + _at(PHRASE, 8)
    assert songstats.near_copy_share(lead) == 1.0


def test_transposed_repeat_is_not_a_copy():
    lead = _at(PHRASE, 0) + [(s, p + 5) for s, p in _at(PHRASE, 4)]
    assert songstats.near_copy_share(lead) == 0.0


def test_near_copy_threshold():
    # 9 notes, one changed: Jaccard 8/10 = 0.8 → a copy at 0.8, not at 0.85
    changed = _at(PHRASE[:-1] + [(48, 59)], 4)
    lead = _at(PHRASE, 0) + changed
    assert songstats.near_copy_share(lead) == 1.0
    assert songstats.near_copy_share(lead, threshold=0.85) == 0.0


def test_random_notes_have_no_copies():
    rng = random.Random(1)
    lead = sorted({(rng.randrange(16 * 64), rng.randrange(48, 84)) for _ in range(500)})
    share = songstats.near_copy_share(lead)
    assert share is not None and share < 0.05


def test_sparse_windows_are_left_out():
    # two copies of the phrase and, between them, a window of 3 notes that nothing copies:
    # left out, the share is 1.0 over the two kept windows; kept, it is 2 of 3
    lead = _at(PHRASE, 0) + _at([(0, 70), (8, 72), (16, 74)], 4) + _at(PHRASE, 8)
    assert songstats.near_copy_share(lead) == 1.0
    assert songstats.near_copy_share(lead, min_notes=3) == pytest.approx(2 / 3)
    assert songstats.near_copy_share(_at(PHRASE, 0)) is None     # one window only
    assert songstats.near_copy_share([]) is None


def test_repeated_drum_bar_is_alike():
    beat = [(0, 36), (4, 38), (8, 36), (12, 38)] + [(s, 42) for s in range(0, 16, 2)]
    drums = [n for bar in range(8) for n in _at(beat, bar)]
    assert songstats.bar_similarity(drums) == [1.0] * 7
    assert songstats.median_bar_similarity(drums) == 1.0


def test_bar_similarity_pairs():
    # bar 0: steps {0, 8}; bar 1: {0, 4}; bars 2–3 silent; bar 4: {0}
    part = [(0, 36), (8, 36), (16, 36), (20, 36), (64, 36)]
    assert songstats.bar_similarity(part) == [1 / 3, 0.0, 0.0]   # (0,1), (1,2), (3,4); (2,3) skipped
    assert songstats.median_bar_similarity([]) is None


def test_key_fit():
    c_major = [(i, p) for i, p in enumerate([60, 62, 64, 65, 67, 69, 71, 72])]
    fit, key = songstats.key_fit(c_major)
    assert fit == 1.0 and key in ("C major", "A minor")
    fit, key = songstats.key_fit(c_major + [(8, 61)])       # one C# of nine
    assert fit == pytest.approx(8 / 9)
    fit, key = songstats.key_fit([(i, p) for i, p in enumerate([57, 59, 60, 62, 64, 65, 67, 57, 57])])
    assert (fit, key) == (1.0, "A minor")                    # the tonic decides between relatives


def test_from_sequence():
    ns = note_seq.NoteSequence()
    ns.tempos.add(qpm=100)
    step_s = 15 / 100
    ns.notes.add(pitch=60, start_time=4 * step_s + 0.01, end_time=1.0, instrument=0)
    ns.notes.add(pitch=36, start_time=16 * step_s, end_time=3.0, instrument=1)
    ns.notes.add(pitch=38, start_time=0.0, end_time=0.1, instrument=9, is_drum=True)
    assert songstats.from_sequence(ns) == {"lead": [(4, 60)], "bass": [(16, 36)], "drums": [(0, 38)]}
    assert songstats.from_sequence(ns, qpm=200)["bass"] == [(32, 36)]


def test_real_song():
    source = bandfiles.by_name("freedoom2")
    if not source.path.exists():
        pytest.skip("freedoom2.wad is not installed (Debian package freedoom)")
    lumps = bandfiles.wad_midi_lumps(source.path)
    parts = songstats.from_midi_file(lumps["D_RUNNIN"])
    assert parts is not None and parts.get("lead")
    share = songstats.near_copy_share(parts["lead"])
    assert share is not None and 0.0 <= share <= 1.0
    assert 0.0 <= songstats.key_fit(parts["lead"])[0] <= 1.0
    assert songstats.grid_share(lumps["D_RUNNIN"]) > 0.9
    assert songstats.grid_share(lumps["D_SHAWN"]) < 0.5     # MUS timing under a nominal tempo
