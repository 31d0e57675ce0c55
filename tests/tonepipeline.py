"""A stand-in pipeline for station tests: segment k is BARS bars of a k-dependent tone, made
at once, so a test can make the generator late, failing or hung at will and know what each
sample should be. Importable by name ("tonepipeline:TonePipeline") in a spawned generator
process, since the tests folder is on sys.path."""

import time

import note_seq
import numpy as np

from radio.contracts import SAMPLE_RATE
from radio.generator.mix import StyleMix
from radio.music.segment import Segment

QPM, BARS = 120.0, 2
BAR = int(4 * 60 / QPM * SAMPLE_RATE)


def tone(seconds: float, hz: float) -> np.ndarray:
    t = np.arange(int(round(seconds * SAMPLE_RATE))) / SAMPLE_RATE
    return np.stack([0.3 * np.sin(2 * np.pi * hz * t)] * 2).astype(np.float32)


class ToneLibrary:
    root = "tones"

    def sets(self):
        return {"tones": []}

    def learned(self):
        return {}


class TonePipeline:
    """`fail_at`: these segments (counted from 1 across instances) raise instead."""
    made = 0

    def __init__(self, settings=None, model=None, fail_at=(), delay=0.0):
        self.mix = StyleMix(sets={"tones": 1.0})
        self.library = ToneLibrary()
        self.anchors = []
        self.model_key = ""
        self.model = self.walk = self.sound = self.renderer = self.songwriter = None   # none (loop.PipelineLike)
        self.fail_at, self.delay = fail_at, delay

    def sync_seeds(self):
        return False

    def set_mix(self, mix):
        self.mix = mix

    def check_mix(self, mix):
        pass

    def restart_after(self, last):
        pass

    def close(self, keep_model=False):
        pass

    def next_segment(self):
        TonePipeline.made += 1
        if TonePipeline.made in self.fail_at:
            raise RuntimeError(f"segment {TonePipeline.made} failed on purpose")
        time.sleep(self.delay)
        seq = note_seq.NoteSequence()
        seq.notes.add(pitch=60, start_time=0.0, end_time=1.0, velocity=80, instrument=0)
        return Segment(id=0, sequence=seq, qpm=QPM, bars=BARS, z=np.full(4, TonePipeline.made, np.float32))

    def render(self, segment):
        return tone(segment.duration, 200.0 + 50 * (TonePipeline.made % 7))


class SlowTonePipeline(TonePipeline):
    """Each segment takes 0.5 s to make: the station is never far ahead."""

    def __init__(self, settings=None, model=None):
        super().__init__(settings, model, delay=0.5)
