"""Never silent: the playout is fallback(generated, loop, silence). Before any music it plays
silence; when the generator is late it loops the last bars and hands over to new music on a
bar line; segments made under an old mix never play. The generator loop restarts its
pipeline after failures with backoff, and ids run on. The station keeps its mix and what
it played across restarts.

The pipeline here is a stand-in that renders a tone per segment (tonepipeline.py), so the
test can make the generator late or failing at will and know what each sample should be.
"""

import queue
import threading
import time

import numpy as np
from tonepipeline import BAR, BARS, QPM, TonePipeline, tone

from radio.config import Settings
from radio.contracts import SAMPLE_RATE, Audio, PlayMeta, Rendered, SegmentData
from radio.generator.loop import GeneratorLoop
from radio.station.fallback import LoopFill
from radio.station.playout import Fallback, Generated


def test_loop_fill_repeats_the_last_bars_and_stops_on_bar_lines():
    pcm = np.concatenate([tone(2.0, hz) for hz in (100, 200, 300, 400, 500, 600)], axis=1)  # 6 bars
    fill = LoopFill(pcm, BAR, bars=4)
    assert fill.loop.shape[1] == 4 * BAR
    first = fill.take(BAR + 100)
    assert first.shape[1] == BAR and fill.at_bar_line          # stops at the bar line
    assert np.allclose(first[:, 1000:BAR - 1000], pcm[:, 2 * BAR + 1000:3 * BAR - 1000])
    played = np.concatenate([fill.take(BAR) for _ in range(7)], axis=1)   # wraps around
    assert np.allclose(played[:, 3 * BAR + 1000:4 * BAR - 1000], pcm[:, 2 * BAR + 1000:3 * BAR - 1000])
    assert np.abs(played).max(axis=0).min() >= 0 and _longest_quiet(played) < 0.05
    new = tone(1.0, 880)
    handed, tail = new.copy(), fill.tail()         # added over the new start, as playout's Generated does
    handed[:, :tail.shape[1]] += tail
    assert not np.allclose(handed[:, :100], new[:, :100]) and np.allclose(handed[:, 3000:], new[:, 3000:])


def _longest_quiet(pcm, threshold=1e-3) -> float:
    quiet = np.abs(pcm).max(axis=0) < threshold
    longest = run = 0
    for q in quiet:
        run = run + 1 if q else 0
        longest = max(longest, run)
    return longest / SAMPLE_RATE


def _item(hz, sid=0, version=0):
    seconds = BARS * 4 * 60 / QPM
    return Rendered(SegmentData(sid, QPM, BARS, seconds, [[2, 60, 0.0, 1.0, 80]], [0.1, 0.2]),
                    Audio(tone(seconds, hz)), PlayMeta(id=sid, qpm=QPM, bars=BARS, seconds=seconds, mix="tones 1"),
                    version, b"MThd")


def _hz(pcm) -> float:
    return np.argmax(np.abs(np.fft.rfft(pcm[0, :44100]))) * SAMPLE_RATE / 44100


def test_silence_plays_before_any_music_then_the_generated_segment():
    generated = Generated()
    playout = Fallback(generated)
    chunk = int(0.25 * SAMPLE_RATE)
    first = playout.take(chunk)
    assert first.shape == (2, chunk) and not first.any() and playout.active is playout.silence
    assert not playout.filling and playout.fill_seconds == 0      # silence before music is not a fill
    generated.push(_item(300))
    pcm = np.concatenate([playout.take(chunk) for _ in range(4)], axis=1)
    assert abs(_hz(pcm) - 300) < 2 and generated.current.start == 0.25   # music from the next chunk


def test_station_fills_a_late_generator_and_hands_over_on_a_bar_line():
    generated = Generated()
    playout = Fallback(generated)
    chunk = int(0.25 * SAMPLE_RATE)
    generated.push(_item(300))
    out = [playout.take(chunk) for _ in range(20)]              # 5 s: 4 s of music, then late
    assert playout.fill_seconds > 0.9 and playout.filling
    generated.push(_item(500, sid=1))
    out += [playout.take(chunk) for _ in range(16)]
    pcm = np.concatenate(out, axis=1)
    assert _longest_quiet(pcm) < 0.05                           # no gap anywhere
    start = int(round(generated.current.start * SAMPLE_RATE))
    assert generated.current.start > 5.0 and (start - 4 * SAMPLE_RATE) % BAR == 0   # on a bar line
    hz = np.argmax(np.abs(np.fft.rfft(pcm[0, start + 4000:start + 4000 + 44100]))) * SAMPLE_RATE / 44100
    assert abs(hz - 500) < 2 and not playout.filling            # and then the new music plays


def test_segments_made_under_an_old_mix_never_play():
    """The playout drops segments whose mix version is not the current one."""
    generated = Generated()
    playout = Fallback(generated)
    generated.push(_item(300))
    generated.set_mix_version(1)                                # a mix change after it was made
    assert not generated.push(_item(400))                       # still made under the old mix
    generated.push(_item(500, version=1))
    pcm = playout.take(44100)
    assert abs(_hz(pcm) - 500) < 2 and playout.fill_seconds == 0


def test_generator_restarts_after_failures_and_ids_run_on(tmp_path):
    TonePipeline.made = 0
    made, events, stop = queue.Queue(maxsize=1), [], threading.Event()
    loop = GeneratorLoop(Settings(data=str(tmp_path)), lambda s, model=None: TonePipeline(fail_at=(2, 4)),
                         {"next_id": 7}, made.put, lambda *e: events.append(e), stop)
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    ids, deadline = [], time.monotonic() + 30
    while len(ids) < 3 and time.monotonic() < deadline:
        try:
            ids.append(made.get(timeout=0.5).segment.id)
        except queue.Empty:
            pass
    stop.set()
    thread.join(10)
    assert loop.restarts == 2                                   # 1 s, then 2 s of backoff
    assert [e[0] for e in events].count("error") == 2
    assert ids == [7, 8, 9]                                     # working again, ids unbroken


def test_a_mix_request_is_validated_and_versioned_by_the_generator(tmp_path):
    made, events, stop = queue.Queue(maxsize=1), [], threading.Event()
    loop = GeneratorLoop(Settings(data=str(tmp_path)), lambda s, model=None: TonePipeline(),
                         {"mix_version": 3}, made.put, lambda *e: events.append(e), stop)
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    loop.handle(("mix", 1, {"temperature": 0.7}, None))
    loop.handle(("mix", 2, {"temperature": 99}, None))
    replies = {e[1]: e[2:] for e in events if e[0] == "reply"}
    assert replies[1][0] is True and replies[1][1]["version"] == 4 and replies[1][1]["mix"]["temperature"] == 0.7
    assert replies[2][0] is False and "temperature" in replies[2][1][0] and replies[2][1][1] == 400
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        item = made.get(timeout=5)
        if item.mix_version == 4:
            break
    stop.set()
    thread.join(10)
    assert item.mix_version == 4 and item.meta.temperature == 0.7


def _station(tmp_path, **settings):
    from radio.station.station import Station
    return Station(Settings(data=str(tmp_path), **settings), "tonepipeline:TonePipeline")


def test_mix_and_walk_survive_a_restart_and_a_torn_write(tmp_path):
    first = _station(tmp_path)
    first._adopt_mix({"mix": {"sets": {"tones": 1.0}, "temperature": 0.9, "qpm": 100.0}, "version": 1})
    first.gen.walk_position = [0.5, 0.25]
    first._save_state()
    first.store.flush()
    (tmp_path / ".state.json.999.tmp").write_text('{"mix": {"temperature": 0.1')   # killed mid-write
    second = _station(tmp_path)
    boot = second._boot()
    assert boot["mix"]["temperature"] == 0.9 and boot["walk_position"] == [0.5, 0.25]
    (tmp_path / "state.json").write_text("{not json")                              # a damaged file
    third = _station(tmp_path)
    assert third._boot()["mix"] is None                                            # defaults


def test_played_segments_survive_a_restart(tmp_path):
    """What was played (notes as heard, meta, MIDI) comes back after a restart; ids run on;
    the files on disk stay bounded."""
    first = _station(tmp_path, history_segments=3)
    for k in range(5):
        item = _item(300, sid=k)
        item.segment.notes = [[2, 60 + k, 0.5, 1.0, 77]]
        first.generated.push(item)
        first.playout.take(int(item.audio.seconds * SAMPLE_RATE))
    first.store.flush()
    second = _station(tmp_path, history_segments=3)
    kept = list(second.history)
    assert [p.segment.id for p in kept] == [2, 3, 4] and all(p.meta.restored for p in kept)
    assert [p.segment.notes[0][1] for p in kept] == [62, 63, 64] and kept[0].midi == b"MThd"
    assert second.history.next_id == 5                   # the next segment is number 5
    assert len(list((tmp_path / "history").glob("*.mid"))) == 3   # bounded on disk
