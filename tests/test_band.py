"""The station's band mode (radio/band/mode.py, mix mode "band"): the kept part of a real MIDI
seed file plays note for note, window after window, while the walk makes the other parts.

Inputs are real MIDI files (test_complete.bass_song: off-grid onsets, odd velocities, a
tempo change, 960 ticks a beat), so any re-quantizing, humanizing or transposing of the
kept part would show."""

from __future__ import annotations

import shutil
import time

import note_seq
import numpy as np
import pytest
from test_api import ADMIN, call
from test_complete import bass_song, engine  # noqa: F401  (the numpy engine fixture)
from test_server import wait_until_playing

from radio.band.parts import TempoMap, bar_count, find_parts, read_input
from radio.config import ASSETS
from radio.contracts import part_of
from radio.generator.mix import MixError, StyleMix


def _key(n, shift=0.0):
    return (n.pitch, round(n.start_time + shift, 6), round(n.end_time + shift, 6), n.velocity)


@pytest.fixture(scope="module")
def seed_sets(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("band-seeds")
    (root / "rock").mkdir()
    files = {"bassline": bass_song(20), "waltz": bass_song(4, numerator=3),
             "full": bass_song(4, lead=True, drums=True)}
    for name, data in files.items():
        (root / "rock" / f"{name}.mid").write_bytes(data)
    return {"rock": sorted((root / "rock").iterdir())}


def test_band_mix_is_validated(seed_sets):
    mix = StyleMix(sets={"rock": 1.0})
    bad = [({"mode": "band"}, "keep: band mode needs one or two parts"),
           ({"mode": "band", "keep": "rock/bassline"}, "keep: expected an object"),
           ({"mode": "band", "keep": {"guitar": "rock/bassline"}}, "'guitar' is not a part"),
           ({"mode": "band", "keep": {"bass": "rock/nope"}}, "no seed file 'rock/nope'"),
           ({"mode": "band", "keep": {"bass": "jazz/bassline"}}, "no seed file 'jazz/bassline'"),
           ({"mode": "band", "keep": {"bass": "rock/bassline@4"}}, "no seed file"),
           ({"mode": "band", "keep": {"bass": 3}}, "expected seed files"),
           ({"mode": "band", "keep": {"bass": ["rock/bassline"]}}, "expected seed files"),
           ({"mode": "band", "keep": {"lead": "rock/bassline"}}, "rock/bassline: no lead"),
           ({"mode": "band", "keep": {"drums": "rock/bassline"}}, "rock/bassline: no drum track"),
           ({"mode": "band", "keep": {"bass": "rock/waltz"}}, "rock/waltz: not 4/4"),
           ({"mode": "band", "keep": dict.fromkeys(("lead", "bass", "drums"), "rock/full")}, "all three parts"),
           ({"mode": "band", "keep": {"bass": "rock/full", "drums": "rock/bassline"}}, "from one seed file"),
           ({"mode": "band", "keep": {"bass": "rock/bassline"}, "kept": 1}, "unknown field(s) ['kept']"),
           ({"keep": {"bass": "rock/nope"}}, "no seed file")]       # checked in every mode
    for change, message in bad:
        with pytest.raises(MixError) as e:
            mix.updated(change, seed_sets)
        assert message in str(e.value), (change, str(e.value))
    band = mix.updated({"mode": "band", "keep": {"drums": "rock/full", "bass": "rock/full"}}, seed_sets)
    assert band.keep == {"bass": "rock/full", "drums": "rock/full"} and list(band.keep) == ["bass", "drums"]
    assert band.label() == "rock 1 (band)" and band.to_dict()["keep"] == band.keep
    assert band.updated({"mode": "walk", "keep": {}}, seed_sets).keep == {}


def test_a_kept_file_rewritten_is_checked_again(tmp_path):
    """The check of a kept file is cached by its mtime and size: a file replaced by one
    that has the part is accepted, and refused again once the part is gone."""
    (tmp_path / "rock").mkdir()
    song = tmp_path / "rock" / "song.mid"
    sets = {"rock": [song]}
    mix, change = StyleMix(sets={"rock": 1.0}), {"mode": "band", "keep": {"drums": "rock/song"}}
    for data, ok in ((bass_song(4), False), (bass_song(4, drums=True), True), (bass_song(6), False)):
        song.write_bytes(data)
        if ok:
            assert mix.updated(change, sets).keep == {"drums": "rock/song"}
        else:
            with pytest.raises(MixError, match="no drum track"):
                mix.updated(change, sets)


def test_band_segments_keep_the_file_window_by_window(engine, tmp_path):  # noqa: F811
    """Three segments of band mode on a 20-bar bass line: window 1 (bars 0–15), window 2
    (bars 16–19, played four times to fill 16 bars), window 1 again. The bass is the file's,
    note for note in the window's time; lead and drums are new each time, humanized; the
    walk moves on a step a segment; no seam leaves every part silent for a beat."""
    from radio.band.mode import BandMode
    from radio.music.composer import Anchor, LatentWalk
    from radio.music.groove import Groove
    data = bass_song(20)
    ns = note_seq.midi_to_note_sequence(data)
    tm = TempoMap(ns.tempos)
    rng = np.random.default_rng(5)
    anchors = [Anchor(z=rng.standard_normal(engine.z_size).astype(np.float32), qpm=120, label=f"x/a@{i}", set="x")
               for i in range(3)]
    walk = LatentWalk(engine, anchors, steps_per_leg=8, temperature=1.0, seed=2)
    (tmp_path / "bassline.mid").write_bytes(data)
    band = BandMode({"bass": "rock/bassline"}, tmp_path / "bassline.mid", engine, walk, seed=1)
    t0 = time.perf_counter()
    segs = [band.next_segment(Groove()) for _ in range(3)]
    per_segment = (time.perf_counter() - t0) / 3
    assert per_segment < 15, per_segment            # a segment lasts 30+ s

    s16, s20 = tm.seconds(64), tm.seconds(80)
    file_bass = [n for n in ns.notes if not n.is_drum]
    window1 = sorted(_key(n) for n in file_bass if n.start_time < s16 - 1e-9)
    window2 = sorted(_key(n, -s16 + k * (s20 - s16)) for k in range(4) for n in file_bass if n.start_time >= s16 - 1e-9)

    def part(seg, role):
        return [n for n in seg.sequence.notes if part_of(n) == role]

    assert sorted(_key(n) for n in part(segs[0], "bass")) == window1
    assert sorted(_key(n) for n in part(segs[1], "bass")) == window2
    assert sorted(_key(n) for n in part(segs[2], "bass")) == window1
    assert [s.band for s in segs] == [{"keep": ["bass"], "source": "rock/bassline", "window": w, "windows": 2}
                                      for w in (1, 2, 1)]
    assert [s.meta()["band"]["window"] for s in segs] == [1, 2, 1]
    assert segs[0].duration == pytest.approx(s16) and segs[1].duration == pytest.approx(4 * (s20 - s16))
    assert segs[1].bars == 16
    for seg in segs:
        for role in ("lead", "drums"):
            assert len(part(seg, role)) > 8, role
        assert len({n.velocity for n in part(seg, "drums")}) > 3          # humanized
    assert sorted(_key(n) for n in part(segs[0], "lead")) != sorted(_key(n) for n in part(segs[2], "lead"))
    assert [s.t for s in segs] == [0.125, 0.25, 0.375]                    # one walk step a segment
    assert all(s.anchors[0] for s in segs) and not np.allclose(segs[0].z, segs[2].z)
    for a, b in zip(segs, segs[1:]):                                      # the seams
        beat = 60.0 / b.qpm
        spans = sorted([(n.start_time - a.duration, n.end_time - a.duration if not n.is_drum else
                         n.start_time - a.duration + 0.2) for n in a.sequence.notes] +
                       [(n.start_time, n.end_time if not n.is_drum else n.start_time + 0.2) for n in b.sequence.notes])
        t, gap = -beat, 0.0
        for s, e in spans:
            if e > -beat and s < beat:
                gap, t = max(gap, s - t), max(t, e)
        assert max(gap, beat - t) < beat


def test_band_mode_on_the_station(station):
    """Over HTTP: bad band mixes are refused with the reason; a good one plays the seed
    file's bass note for note (to the ms /api/now shows) from its first window, with the
    mode, kept part, file and window in the segment's JSON, which the page shows; back to
    the walk after."""
    wait_until_playing(station)
    _, seeds, _ = call(station, "GET", "/api/seeds")
    assets = ASSETS / "seeds"
    name, file = next((s, f["name"]) for s, files in seeds["sets"].items() for f in files
                      if (assets / s / f["name"]).exists())
    ref = f"{name}/{file[:-4]}"
    for body, message in (({"mode": "band"}, "keep: band mode needs"),
                          ({"mode": "band", "keep": {"tuba": ref}}, "'tuba' is not a part"),
                          ({"mode": "band", "keep": {"bass": f"{name}/nope"}}, "no seed file"),
                          ({"mode": "band", "keep": {"bass": ref}, "bars": 4}, "unknown field(s) ['bars']")):
        status, err, _ = call(station, "PUT", "/api/mix", json=body, headers=ADMIN)
        assert status == 400 and message in err["error"], (body, err)
    status, mix, _ = call(station, "PUT", "/api/mix", json={"mode": "band", "keep": {"bass": ref}}, headers=ADMIN)
    assert status == 200 and mix["keep"] == {"bass": ref} and mix["label"].endswith("(band)"), mix
    try:
        deadline, seg = time.monotonic() + 90, None
        while seg is None and time.monotonic() < deadline:
            _, now, _ = call(station, "GET", "/api/now")
            seg = next((s for s in now["segments"] if "band" in s), None)
            time.sleep(0.5)
        assert seg is not None, "no band segment within 90 s"
        assert seg["band"] == {"keep": ["bass"], "source": ref, "window": 1, "windows": seg["band"]["windows"]}
        assert seg["mix"] == mix["label"] and now["mix"]["mode"] == "band"
        ns = read_input((assets / name / file).read_bytes())
        tm = TempoMap(ns.tempos)
        end = tm.seconds(4 * min(16, bar_count(ns, tm)))
        kept = find_parts(ns, ["bass"])["bass"].notes
        want = sorted([1, n.pitch, round(n.start_time, 3), round(n.end_time, 3), n.velocity]
                      for n in kept if n.start_time < end - 1e-9)
        assert sorted(n for n in seg["notes"] if n[0] == 1) == want
        assert {n[0] for n in seg["notes"]} == {0, 1, 2}                  # drums and lead are new
        # the page, in a browser, on this JSON (timed so that the band segment is what is heard)
        from playwright.sync_api import sync_playwright
        heard = {**now, "position": seg["start"] + 5, "now_playing": seg, "segments": [seg]}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            page.route("**/api/now", lambda route: route.fulfill(json=heard))
            page.goto(station + "/")
            page.wait_for_function("document.getElementById('now').textContent.includes('window')", timeout=10000)
            shown = page.text_content("#now")
            browser.close()
        assert f"band: bass from {ref}, window 1 of {seg['band']['windows']}" in shown, shown
        assert shown.startswith(mix["label"]), shown
    finally:
        status, _, _ = call(station, "PUT", "/api/mix", json={"mode": "walk", "keep": {}}, headers=ADMIN)
        assert status == 200


def test_a_mix_of_many_sets_reads_at_a_glance():
    from radio.generator.mix import StyleMix
    assert StyleMix(sets={s: 1.0 for s in "abcdefghij"}).label() == "10 styles, even"
    many = StyleMix(sets={"rock": 4.0, "ska": 3.0, "funk": 2.0, "jazz": 0.5, "pop": 0.5, "latin": 0.0})
    assert many.label() == "rock 40% · ska 30% · funk 20% + 2 more"
    assert StyleMix(sets={"rock": 0.5, "ska": 0.5}).label() == "rock 0.5 × ska 0.5"   # a few: as set
    assert StyleMix(sets={s: 1.0 for s in "abcd"}, mode="loop").label() == "4 styles, even (loop)"
