"""Band completion (radio/band/, `radio complete`, POST /api/complete).

Inputs are real MIDI files made here in code (note_seq → pretty_midi bytes), with off-grid
timing, odd velocities, a tempo change and a fine tick resolution, so that any rounding of
the kept part would show.
"""

from __future__ import annotations

import asyncio
import io
import json
import threading

import note_seq
import numpy as np
import pytest

from radio import cli
from radio.band import complete as comp
from radio.band.choose import fit
from radio.band.loading import check_model
from radio.band.parts import CompleteError, TempoMap, find_parts, parse_keep, read_input
from radio.band.search import Search, objective, search_z
from radio.band.tokens import part_tokens, trio_tensor
from radio.contracts import PARTS
from radio.music.composer import tie_over  # noqa: F401  (the join rule the windows share)
from radio.music.midi import sequence_bytes


def _midi(ns: note_seq.NoteSequence) -> bytes:
    buf = io.BytesIO()
    note_seq.midi_io.note_sequence_to_pretty_midi(ns).write(buf)
    return buf.getvalue()


def bass_song(bars: int = 20, qpm=(100.0, 132.0), change_bar: int = 8, extra_bass: bool = False,
              lead: bool = False, drums: bool = False, numerator: int = 4) -> bytes:
    """A bass line (program 33) played a little off the grid, with a tempo change at
    `change_bar`; optionally a second, higher bass-like track, a lead and drums."""
    ns = note_seq.NoteSequence(ticks_per_quarter=960)
    ns.tempos.add(time=0, qpm=qpm[0])
    tm_first = TempoMap(ns.tempos)
    if change_bar < bars:
        ns.tempos.add(time=tm_first.seconds(change_bar * 4), qpm=qpm[1])
    ns.time_signatures.add(time=0, numerator=numerator, denominator=4)
    tm = TempoMap(ns.tempos)
    roots = [36, 41, 43, 38]
    for b in range(bars):
        r = roots[b % 4]
        for k, (beat, p) in enumerate([(0, r), (1.5, r + 7), (2, r + 12), (3, r + 7)]):
            ns.notes.add(pitch=p, start_time=tm.seconds(b * 4 + beat + 0.011 * (k % 3)),
                         end_time=tm.seconds(b * 4 + beat + 0.8), velocity=57 + 11 * k + b % 7,
                         instrument=0, program=33)
            if extra_bass:
                ns.notes.add(pitch=p + 5, start_time=tm.seconds(b * 4 + beat), end_time=tm.seconds(b * 4 + beat + 0.5),
                             velocity=70, instrument=1, program=34)
        if lead:
            for k in range(4):
                ns.notes.add(pitch=72 + (b + k) % 5, start_time=tm.seconds(b * 4 + k), end_time=tm.seconds(b * 4 + k + 0.9),
                             velocity=80, instrument=2, program=73)
        if drums:
            for k in range(8):
                ns.notes.add(pitch=36 if k % 4 == 0 else (38 if k % 4 == 2 else 42), is_drum=True,
                             start_time=tm.seconds(b * 4 + k / 2), end_time=tm.seconds(b * 4 + k / 2 + 0.1),
                             velocity=90, instrument=9)
    ns.total_time = tm.seconds(bars * 4)
    return _midi(ns)


class NearScorer:
    """A stand-in scorer: the closer z's first coordinate is to 1, the likelier (so the
    search's result is known)."""

    def log_likelihood(self, z, part, tokens):
        return -np.abs(z[:, 0] - 1.0) * len(tokens)


@pytest.fixture(scope="module")
def engine():
    """The numpy engine on the shipped default model (what `radio complete` uses)."""
    from radio.model.numpy_engine import NumpyTrioModel
    return NumpyTrioModel()


def _note_key(n):
    return (n.pitch, round(n.start_time, 6), round(n.end_time, 6), n.velocity)


def test_tokens_are_the_converters():
    """part_tokens at 120 qpm give the same class ids as magenta's trio converter."""
    from radio.model.tf_engine import make_config
    converter = make_config("hierdec-trio_16bar").data_converter  # magenta's, without weights
    ns = note_seq.NoteSequence()
    ns.tempos.add(qpm=120)
    for i in range(64):
        t = i * 0.5
        ns.notes.add(pitch=36 + (i % 4) * 2, start_time=t, end_time=t + 0.25, velocity=80, instrument=1, program=33)
        ns.notes.add(pitch=60 + (i % 5), start_time=t, end_time=t + 0.5, velocity=80, instrument=0, program=0)
        for p in ((36, 42) if i % 2 == 0 else (38, 46, 49)):
            ns.notes.add(pitch=p, start_time=t, end_time=t + 0.1, velocity=80, instrument=9, is_drum=True)
    ns.total_time = 32.0
    x = np.asarray(converter.to_tensors(ns).inputs[0])
    tempo = TempoMap(ns.tempos)
    parts = {r: [n for n in ns.notes if (n.is_drum if r == "drums" else (not n.is_drum and n.instrument == comp.INSTRUMENT[r]))]
             for r in PARTS}
    tokens = {r: part_tokens(parts[r], r, tempo, 0, 256) for r in PARTS}
    assert np.array_equal(tokens["lead"], np.argmax(x[:, :90], 1))
    assert np.array_equal(tokens["bass"], np.argmax(x[:, 90:180], 1))
    assert np.array_equal(tokens["drums"], np.argmax(x[:, 180:], 1))
    assert np.array_equal(trio_tensor(tokens), x)


def test_tempo_map_round_trip():
    """seconds → beats → seconds is the identity through tempo changes."""
    ns = note_seq.NoteSequence()
    ns.tempos.add(time=0, qpm=90)
    ns.tempos.add(time=4.0, qpm=150)
    ns.tempos.add(time=9.5, qpm=60)
    tm = TempoMap(ns.tempos)
    assert tm.beats(4.0) == pytest.approx(6.0)
    for s in np.linspace(0, 20, 41):
        assert tm.seconds(tm.beats(s)) == pytest.approx(s)


def test_bad_inputs_are_refused():
    """Not 4/4, empty, no such part, bad --keep: CompleteError with the reason."""
    with pytest.raises(CompleteError, match="not 4/4"):
        read_input(bass_song(4, numerator=3))
    empty = note_seq.NoteSequence(ticks_per_quarter=220)
    empty.tempos.add(qpm=120)
    with pytest.raises(CompleteError, match="empty"):
        read_input(_midi(empty))
    with pytest.raises(CompleteError, match="not MIDI"):
        read_input(b"RIFF....")
    ns = read_input(bass_song(4))
    with pytest.raises(CompleteError, match="no drum track"):
        find_parts(ns, ["drums"])
    with pytest.raises(CompleteError, match="no lead"):
        find_parts(ns, ["lead"])
    for bad in ("piano", "", "bass,lead,drums"):
        with pytest.raises(CompleteError):
            parse_keep(bad)
    with pytest.raises(CompleteError, match="flat"):
        check_model("flat-trio_16bar")


def test_track_picks_among_bass_lines():
    """The lowest bass-like track by default, another with --track; a wrong one is named."""
    ns = read_input(bass_song(4, extra_bass=True, lead=True, drums=True))
    kept = find_parts(ns, ["bass"])
    assert kept["bass"].tracks == [0] and kept["bass"].others == [1]
    assert find_parts(ns, ["bass"], track=1)["bass"].tracks == [1]
    with pytest.raises(CompleteError, match="--track 2 is not a bass track"):
        find_parts(ns, ["bass"], track=2)
    both = find_parts(ns, ["bass", "drums"])
    assert {n.is_drum for n in both["drums"].notes} == {True}


def test_kept_part_is_exact_and_windows_join(engine):
    """20 bars over a tempo change: the bass comes back note for note from the written MIDI
    (pitch, start, end, velocity, at 960 ticks a beat); lead and drums are new in both
    windows, humanized, and nothing falls silent for more than a beat at the join."""
    data = bass_song(20)
    ns = read_input(data)
    kept = find_parts(ns, ["bass"])
    result = comp.complete(ns, kept, engine, NearScorer(), temperature=1.0, seed=3)
    assert [w.bars for w in result.windows] == [16, 4] and result.bars == 20
    back = note_seq.midi_to_note_sequence(sequence_bytes(comp.to_midi(result, {"lead": 81, "bass": 33})))
    names = {i.instrument: i.name for i in back.instrument_infos}
    assert sorted(names.values()) == ["drums (latent radio)", "lead (latent radio)"]
    bass_back = sorted(_note_key(n) for n in back.notes if n.instrument not in names)
    assert bass_back == sorted(_note_key(n) for n in ns.notes)
    tm = TempoMap(ns.tempos)
    new = [n for n in result.sequence.notes if n.instrument in result.new_instruments.values()]
    for role in ("lead", "drums"):
        bars = {int(tm.beats(n.start_time) // 4) for n in new if n.instrument == result.new_instruments[role]}
        assert bars & set(range(16)) and bars & set(range(16, 20)), role
    assert len({n.velocity for n in new}) > 5          # humanized, not one flat velocity
    join = tm.seconds(64)
    beat = 60.0 / tm.qpm_at(64)
    spans = sorted((n.start_time, n.end_time if not n.is_drum else n.start_time + 0.2)
                   for n in result.sequence.notes if n.end_time > join - beat and n.start_time < join + beat)
    t, gap = join - beat, 0.0
    for s, e in spans:
        gap, t = max(gap, s - t), max(t, e)
    assert max(gap, join + beat - t) < beat
    # the segments the renderer plays last exactly as long as the windows
    assert sum(s.duration for s in result.segments) == pytest.approx(tm.seconds(80), abs=1e-6)


@pytest.mark.parametrize("keep", [["drums"], ["lead"], ["lead", "drums"]])
def test_other_parts_can_be_kept(engine, keep):
    """Keeping drums, a lead, or both: those notes come back exactly, the rest is new."""
    ns = read_input(bass_song(6, lead=True, drums=True))
    kept = find_parts(ns, keep)
    result = comp.complete(ns, kept, engine, NearScorer(), search=Search(candidates=8, rounds=1))
    assert set(result.new_instruments) == set(PARTS) - set(keep)
    old = sorted(_note_key(n) for part in kept.values() for n in part.notes)
    assert sorted(_note_key(n) for n in result.sequence.notes
                  if n.instrument not in result.new_instruments.values()) == old
    for role, instrument in result.new_instruments.items():
        assert any(n.instrument == instrument for n in result.sequence.notes), role


def test_search_keeps_the_best():
    """The search returns the best-scoring candidates it met, best first, and refines past
    the first pool."""
    rng = np.random.default_rng(0)
    tokens = {"bass": np.zeros(32, np.int64)}
    zs, values, scored = search_z(NearScorer(), tokens, [np.zeros(128)], np.zeros((0, 128)),
                                       128, rng, Search(candidates=16, rounds=3, keep_best=4))
    assert scored == 16 + 3 * 8 and zs.shape == (4, 128)
    assert np.all(np.diff(values) <= 0)
    assert values == pytest.approx(objective(NearScorer(), zs, tokens, 1.0))
    assert abs(zs[0, 0] - 1.0) < 0.6


def test_fit_prefers_a_lead_that_meets_the_bass():
    """Of two leads over one bass line, `fit` ranks higher the one on consonant intervals
    that moves, over one a semitone off that repeats one pitch."""
    bass = np.zeros(64, np.int64)
    bass[::8] = 36 - 19                       # C2 every half bar
    drums = np.zeros(64, np.int64)
    drums[::4] = 1                            # kick on every beat
    good = np.zeros(64, np.int64)
    bad = np.zeros(64, np.int64)
    for k, s in enumerate(range(0, 64, 4)):
        good[s] = (60, 64, 67, 72)[k % 4] - 19    # C E G C
        bad[s] = 61 - 19                          # C# again and again
    score = lambda lead: fit({"lead": lead, "bass": bass, "drums": drums}, ["lead", "drums"])
    assert score(good) > score(bad) + 1.0


def test_cli_errors_write_nothing(tmp_path, capsys):
    """Bad input: exit 1, one `error:` line, no traceback, no output file."""
    three = tmp_path / "waltz.mid"
    three.write_bytes(bass_song(4, numerator=3))
    bass = tmp_path / "bass.mid"
    bass.write_bytes(bass_song(4))
    cases = [([str(three), "--keep", "bass"], "not 4/4"),
             ([str(bass), "--keep", "drums"], "no drum track"),
             ([str(tmp_path / "missing.mid"), "--keep", "bass"], "cannot read"),
             ([str(bass), "--keep", "bass", "--track", "5"], "--track 5")]
    for args, message in cases:
        out = tmp_path / "out.mid"
        assert cli.main(["complete", *args, "--out", str(out)]) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and "Traceback" not in err
        assert not out.exists() and not list(tmp_path.glob(".partial-*"))
    assert cli.main(["complete", str(bass), "--keep", "bass", "--out", str(tmp_path / "x.ogg")]) == 2


def test_cli_flat_model_is_refused(tmp_path, capsys):
    """A flat trio model is refused before it loads, with the reason."""
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "model.json").write_text(json.dumps({"config": "flat-trio_16bar"}))
    (flat / "model.ckpt.index").write_bytes(b"")
    bass = tmp_path / "bass.mid"
    bass.write_bytes(bass_song(2))
    assert cli.main(["complete", str(bass), "--keep", "bass", "--model", str(flat),
                     "--out", str(tmp_path / "o.mid")]) == 1
    assert "flat" in capsys.readouterr().err and not (tmp_path / "o.mid").exists()


def test_cli_completes_a_bass_line(tmp_path, capsys):
    """A real run of `radio complete` with the default model: 6 bars of bass in, a MIDI
    file out with the bass exactly as written plus a new lead and drums."""
    bass = tmp_path / "bass.mid"
    data = bass_song(6, change_bar=3)
    bass.write_bytes(data)
    out = tmp_path / "band.mid"
    assert cli.main(["complete", str(bass), "--keep", "bass", "--out", str(out), "--candidates", "16"]) == 0
    assert "wrote" in capsys.readouterr().out
    back = note_seq.midi_to_note_sequence(out.read_bytes())
    src = note_seq.midi_to_note_sequence(data)
    assert sorted(_note_key(n) for n in back.notes if n.program == 33 and not n.is_drum) == \
        sorted(_note_key(n) for n in src.notes)
    assert any(n.is_drum for n in back.notes)
    assert any(not n.is_drum and n.program != 33 for n in back.notes)


# ── POST /api/complete, with a stand-in job (the real one runs in a worker process) ─────

TOKEN = "complete-token-0123"


def _api(job, executor=None):
    from aiohttp import web

    from radio.config import Settings
    from radio.server import complete_api
    settings = Settings.from_env(admin_token=TOKEN)
    from radio.server import api
    app = web.Application(middlewares=[api.json_errors])
    completer = complete_api.Completer(settings, job=job, executor=executor or (
        lambda: __import__("concurrent.futures").futures.ThreadPoolExecutor(1)))
    complete_api.setup(app, settings, completer)
    return app


async def _post(client, data: bytes, token=TOKEN, **fields):
    from aiohttp import FormData
    form = FormData()
    form.add_field("file", data, filename="bass.mid", content_type="audio/midi")
    for k, v in fields.items():
        form.add_field(k, str(v))
    return await client.post("/api/complete", data=form,
                             headers={"Authorization": f"Bearer {token}"} if token else {})


def test_api_complete_checks_and_answers_midi():
    """Admin only; bad files and fields get 4xx JSON at once; a good one answers MIDI;
    a second request while one runs gets 429."""
    from aiohttp.test_utils import TestClient, TestServer
    release = threading.Event()
    calls = []

    def job(data, keep, track, candidates, temperature, seed, programs):
        calls.append((keep, track, candidates))
        release.wait(10)
        return b"MThd-completed"

    async def main():
        async with TestClient(TestServer(_api(job))) as client:
            good = bass_song(4)
            assert (await _post(client, good, token=None, keep="bass")).status == 401
            r = await _post(client, bass_song(4, numerator=3), keep="bass")
            assert r.status == 400 and "not 4/4" in (await r.json())["error"]
            assert (await _post(client, good, keep="piano")).status == 400
            assert (await _post(client, good)).status == 400
            assert (await _post(client, good, keep="bass", candidates=0)).status == 400
            assert (await _post(client, b"MThd" + b"\0" * (2 * 1024 * 1024), keep="bass")).status == 413
            assert (await _post(client, bass_song(130, change_bar=200), keep="bass")).status == 413
            r = await _post(client, good, keep="bass", seed="1" * 5000)    # a field is read with a bound too
            assert r.status == 413 and "form field 'seed'" in (await r.json())["error"]
            first = asyncio.ensure_future(_post(client, good, keep="bass", candidates=8))
            while not calls:
                await asyncio.sleep(0.01)
            busy = await _post(client, good, keep="bass")
            assert busy.status == 429
            release.set()
            r = await first
            assert r.status == 200 and r.content_type == "audio/midi"
            assert await r.read() == b"MThd-completed"
            r = await client.post("/api/complete?keep=bass", data=good,
                                  headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "audio/midi"})
            assert r.status == 200
        assert calls[0] == (["bass"], None, 8)

    asyncio.run(main())


def test_api_job_completes_in_its_process(tmp_path):
    """The worker's job itself (here in this process, without the pool): MIDI bytes in,
    the completed band out as MIDI, the bass exactly as sent."""
    from radio.server import complete_api
    complete_api.load_band(None, str(tmp_path))          # an empty seed folder: prior and encodings only
    data = bass_song(5, change_bar=2)
    midi = complete_api.run_job(data, ["bass"], None, 8, 1.0, 0, {"lead": 81, "bass": 33})
    back = note_seq.midi_to_note_sequence(midi)
    names = {i.instrument: i.name for i in back.instrument_infos}
    assert sorted(_note_key(n) for n in back.notes if n.instrument not in names) == \
        sorted(_note_key(n) for n in note_seq.midi_to_note_sequence(data).notes)
    assert len(names) == 2 and len(back.notes) > len(note_seq.midi_to_note_sequence(data).notes)
