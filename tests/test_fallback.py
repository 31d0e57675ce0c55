"""Never silent: when the generator is late the station loops the last bars and hands over
to new music on a bar line; when it fails it is restarted with backoff, and ids run on.

The pipeline here is a stand-in that renders a tone per segment, so the test can make the
generator late or failing at will and know exactly what each sample should be.
"""

import threading
import time

import note_seq
import numpy as np

from radio.config import Settings
from radio.fallback import LoopFill
from radio.mix import StyleMix
from radio.renderer import SAMPLE_RATE
from radio.segment import Segment
from radio.station import Station

QPM, BARS = 120.0, 2
BAR = int(4 * 60 / QPM * SAMPLE_RATE)


def tone(seconds: float, hz: float) -> np.ndarray:
    t = np.arange(int(round(seconds * SAMPLE_RATE))) / SAMPLE_RATE
    return np.stack([0.3 * np.sin(2 * np.pi * hz * t)] * 2).astype(np.float32)


class ToneLibrary:
    def sets(self):
        return {"tones": []}


class TonePipeline:
    """Segment k is BARS bars of a k-dependent tone; `fail_at` segments raise instead."""
    made = 0

    def __init__(self, fail_at=(), delay=0.0):
        self.mix = StyleMix(sets={"tones": 1.0})
        self.library = ToneLibrary()
        self.fail_at, self.delay = fail_at, delay

    def sync_seeds(self):
        return False

    def set_mix(self, mix):
        self.mix = mix

    def next_segment(self):
        TonePipeline.made += 1
        if TonePipeline.made in self.fail_at:
            raise RuntimeError(f"segment {TonePipeline.made} failed on purpose")
        time.sleep(self.delay)
        return Segment(id=0, sequence=note_seq.NoteSequence(), qpm=QPM, bars=BARS)

    def render(self, segment):
        return tone(segment.duration, 200.0 + 50 * (TonePipeline.made % 7))


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
    handed = fill.hand_over(new)
    assert not np.allclose(handed[:, :100], new[:, :100]) and np.allclose(handed[:, 3000:], new[:, 3000:])


def _longest_quiet(pcm, threshold=1e-3) -> float:
    quiet = np.abs(pcm).max(axis=0) < threshold
    longest = run = 0
    for q in quiet:
        run = run + 1 if q else 0
        longest = max(longest, run)
    return longest / SAMPLE_RATE


def _segment_item(hz):
    seg = Segment(id=0, sequence=note_seq.NoteSequence(), qpm=QPM, bars=BARS)
    return seg, tone(seg.duration, hz), {"mix": "tones 1", "qpm": QPM}, 0  # 0: the mix version


def test_station_fills_a_late_generator_and_hands_over_on_a_bar_line(tmp_path):
    station = Station(Settings(data=str(tmp_path)), pipeline_factory=lambda s, model=None: TonePipeline())
    chunk = int(station.CHUNK_SECONDS * SAMPLE_RATE)

    def take():  # what the pacer does, less the encoding
        pcm = station._take(chunk)
        station.position += pcm.shape[1] / SAMPLE_RATE
        return pcm
    station._queue.put(_segment_item(300))
    out = [take() for _ in range(20)]                        # 5 s: 4 s of music, then late
    assert station.underrun_seconds > 0.9
    station._queue.put(_segment_item(500))
    out += [take() for _ in range(16)]
    pcm = np.concatenate(out, axis=1)
    assert _longest_quiet(pcm) < 0.05                        # no gap anywhere
    start = int(round(station.current.start * SAMPLE_RATE))
    assert station.current.start > 5.0 and (start - 4 * SAMPLE_RATE) % BAR == 0   # on a bar line
    hz = np.argmax(np.abs(np.fft.rfft(pcm[0, start + 4000:start + 4000 + 44100]))) * SAMPLE_RATE / 44100
    assert abs(hz - 500) < 2                                 # and then the new music plays


def test_generator_restarts_after_failures_and_ids_run_on(tmp_path):
    TonePipeline.made = 0
    settings = Settings(data=str(tmp_path), lead_segments=1)
    station = Station(settings, pipeline_factory=lambda s, model=None: TonePipeline(fail_at=(2, 4)))
    thread = threading.Thread(target=station._generate, daemon=True)
    thread.start()
    ids, deadline = [], time.monotonic() + 30
    while len(ids) < 3 and time.monotonic() < deadline:
        try:
            ids.append(station._queue.get(timeout=0.5)[0].id)
        except Exception:
            pass
    station._stop.set()
    thread.join(10)
    assert station.restarts == 2                             # 1 s, then 2 s of backoff
    assert ids == [0, 1, 2] and station.last_error is None   # working again, ids unbroken


def _started(settings) -> Station:
    station = Station(settings, pipeline_factory=lambda s, model=None: TonePipeline())
    station._thread.start()
    deadline = time.monotonic() + 10
    while station.pipeline is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return station


def test_mix_survives_a_restart_and_a_torn_write(tmp_path):
    settings = Settings(data=str(tmp_path))
    first = _started(settings)
    first.set_mix({"temperature": 0.9, "qpm": 100})
    first.stop()
    (tmp_path / ".state.json.999.tmp").write_text('{"mix": {"temperature": 0.1')   # killed mid-write
    second = _started(settings)
    assert second.mix.temperature == 0.9 and second.mix.qpm == 100
    second.stop()
    (tmp_path / "state.json").write_text("{not json")                              # a damaged file
    third = _started(settings)
    assert third.mix.temperature == 1.0 and third.pipeline is not None              # defaults, running
    third.stop()


def test_played_segments_survive_a_restart(tmp_path):
    """What was played (notes as heard, meta) comes back after a restart; ids run on."""
    settings = Settings(data=str(tmp_path), history_segments=3)
    first = Station(settings, pipeline_factory=lambda s, model=None: TonePipeline())
    for k in range(5):
        seg, pcm, meta, version = _segment_item(300)
        seg.id = k
        seg.sequence.notes.add(pitch=60 + k, start_time=0.5, end_time=1.0, velocity=77, instrument=1)
        first._queue.put((seg, pcm, {**seg.meta(), **meta}, version))
        first._take(int(seg.duration * SAMPLE_RATE))
    second = Station(settings, pipeline_factory=lambda s, model=None: TonePipeline())
    kept = list(second.history)
    assert [p.segment.id for p in kept] == [2, 3, 4] and all(p.meta["restored"] for p in kept)
    assert [p.segment.sequence.notes[0].pitch for p in kept] == [62, 63, 64]
    assert second.segments_generated == 5                   # the next segment is number 5
    assert len(list((tmp_path / "history").glob("*.pb"))) == 3   # bounded on disk


def test_segments_made_under_an_old_mix_never_play(tmp_path):
    """The pacer skips queued segments whose mix version is not the current one."""
    station = Station(Settings(data=str(tmp_path)), pipeline_factory=lambda s, model=None: TonePipeline())
    old, new = _segment_item(300), _segment_item(500)
    station._queue.put(old)
    station._mix_version = 1                                 # a mix change after `old` was made
    station._queue.put(new[:3] + (1,))
    pcm = station._take(44100)
    hz = np.argmax(np.abs(np.fft.rfft(pcm[0]))) * SAMPLE_RATE / 44100
    assert abs(hz - 500) < 2 and station.underrun_seconds == 0
