"""Sound stage, part two: the master bus, after the playout fallback.

Everything the listeners get passes through one `Master`: segments, seams, mix changes
and the loop fill alike, so its state (gain, compressor envelope, limiter) runs on and a
change of style is levelled like any other passage. MP3, Opus, HLS and the Icecast push
all encode its output.

Chain: a slow loudness control (a broadcast-style AGC: BS.1770 K-weighted loudness of the
last `window_s` seconds of its input, gated like BS.1770's integrated loudness, sets the
gain that lands the output at `target_lufs`; the gain moves at most `max_rate_db` per
second and only while something sounds, so there is no pumping and silence is not
boosted), then a glue compressor and a brick-wall peak limiter 1 dB under the true-peak
ceiling (pedalboard). What the compressor and limiter take off is measured on the output
and added back slowly.

A slow control alone lets a change of style be heard as a level change: a sound a few dB
quieter than the one before would sit under target for the seconds the control takes to
follow (measured on the station: 2–3 dB for 6–8 s after a loud loop). The generator has
each segment whole before it plays, so where the style changes it works out the gain that
lands the segment at the target through this compressor and limiter (`settled_gain`), and
the station `cue`s the master with it: the gain goes there at `CUE_RATE_DB` a second, and
the slow control measures afresh from there.
"""

from __future__ import annotations

import collections
import math

import numpy as np
import pedalboard as pb

from .loudness import ABSOLUTE_GATE, KWeighting, energy, gated, lufs, program_lufs

MIX_LEVEL_LUFS = -26.0      # where the presets put a style before the master (bench/sound.py)
SILENCE_LUFS = -45.0        # a chunk quieter than this does not move the gain
MIN_GAIN_DB, MAX_GAIN_DB = -20.0, 30.0
CUE_RATE_DB = 8.0           # dB a second towards a cued level: a 4 dB step in half a second


def dynamics(ceiling_dbtp: float = -1.0) -> pb.Pedalboard:
    """The glue compressor and the peak limiter. A sample-peak limiter 1 dB under the
    true-peak goal: inter-sample peaks of the limited, band-limited mix stay under that
    margin (measured in tests and bench/sound.py), and its 4× oversampled mode would cost
    7× the CPU."""
    return pb.Pedalboard([
        pb.Compressor(threshold_db=-14.0, ratio=2.0, attack_ms=15.0, release_ms=250.0),
        pb.BrickwallLimiter(ceiling_db=ceiling_dbtp - 1.0, release_ms=80.0, lookahead_ms=Master.LOOKAHEAD_S * 1000),
    ])


def settled_gain(pcm: np.ndarray, sample_rate: int, target_lufs: float = -16.0,
                 rounds: int = 3) -> tuple[float, float] | None:
    """(gain, what the dynamics take at it), in dB: the gain that lands a whole passage at
    `target_lufs` after the compressor and the limiter (what they take grows with the gain,
    so it is found by a few passes through them); None for silence."""
    level = program_lufs(pcm, sample_rate)
    if level is None:
        return None
    gain = target_lufs - level
    for _ in range(rounds):
        out = program_lufs(dynamics()(pcm * np.float32(10 ** (gain / 20)), sample_rate), sample_rate)
        if out is None or abs(target_lufs - out) < 0.1:
            break
        gain += target_lufs - out
    gain = max(MIN_GAIN_DB, min(MAX_GAIN_DB, gain))
    return gain, gain - (target_lufs - level)


class Master:
    """Loudness control, glue compressor, peak limiter; state runs across calls. Output
    chunks are as long as the input chunks, delayed by the limiter's lookahead."""

    LOOKAHEAD_S = 0.005

    def __init__(self, sample_rate: int, target_lufs: float = -16.0, ceiling_dbtp: float = -1.0,
                 window_s: float = 6.0, max_rate_db: float = 1.5, initial_gain_db: float | None = None):
        self.sample_rate = sample_rate
        self.target = target_lufs
        self.window_s = window_s
        self.max_rate = max_rate_db
        self.gain_db = target_lufs - MIX_LEVEL_LUFS if initial_gain_db is None else initial_gain_db
        self.loss_db = 0.0                      # what glue and limiter take off, smoothed
        self._in = KWeighting(sample_rate)
        self._blocks: collections.deque = collections.deque()   # (seconds, in z, gained z, loss)
        self._cue: float | None = None          # the gain a cued segment wants, until reached
        self._passage = None                    # what the last cue was for
        self.board = dynamics(ceiling_dbtp)

    def process(self, pcm: np.ndarray) -> np.ndarray:
        """The next chunk (2, n) float32 → the same length, mastered."""
        n = pcm.shape[1]
        if not n:
            return pcm
        seconds = n / self.sample_rate
        z_in = self._in.mean_square(pcm)
        old = self.gain_db
        if self._cue is not None:
            step = CUE_RATE_DB * seconds
            self.gain_db = self._cue if abs(self._cue - old) <= step else old + math.copysign(step, self._cue - old)
            if self.gain_db == self._cue:
                self._cue = None
        elif lufs(z_in) > SILENCE_LUFS:
            self._steer(seconds)
        ramp = np.linspace(10 ** (old / 20), 10 ** (self.gain_db / 20), n, dtype=np.float32)
        gained = pcm * ramp
        out = self.board(gained, self.sample_rate, reset=False)
        if out.shape[1] < n:
            # the limiter's lookahead holds back its first few ms: the stream starts with
            # that much silence, so every chunk out is as long as the chunk in
            out = np.concatenate([np.zeros((out.shape[0], n - out.shape[1]), np.float32), out], axis=1)
        # what compressor and limiter took off, from plain energies: their gain changes
        # are broadband, so no second K-weighting is needed
        e_gained, e_out = energy(gained), energy(out)
        loss = 10 * math.log10(e_gained / e_out) if e_gained > 1e-9 and e_out > 1e-12 else 0.0
        self._blocks.append((seconds, z_in, z_in * 10 ** ((old + self.gain_db) / 20), loss))
        while sum(b[0] for b in self._blocks) - self._blocks[0][0] >= self.window_s:
            self._blocks.popleft()
        return out

    def cue(self, settled: tuple[float, float] | None, passage=None) -> None:
        """The next input is a passage that settled_gain's (gain, loss) lands at the target:
        head there now, not over the control's slow seconds. `passage` says what it is (the
        station: its sound and mix); a cue for the passage already playing is ignored, so
        within it the slow control keeps its own dynamics."""
        if passage is not None and passage == self._passage:
            return
        self._passage = passage
        if settled is None or not all(map(math.isfinite, settled)):
            return
        self._cue, self.loss_db = max(MIN_GAIN_DB, min(MAX_GAIN_DB, settled[0])), settled[1]
        self._blocks.clear()         # the slow control measures the new passage alone

    @property
    def output_lufs(self) -> float | None:
        """The gated loudness of the last `window_s` seconds as they left the master."""
        level = gated([b[2] for b in self._blocks])
        return None if level is None else level - self.loss_db

    def _steer(self, seconds: float) -> None:
        if not self._blocks:
            return
        level_in = gated([b[1] for b in self._blocks])
        if level_in is None:
            return
        # what the dynamics take off, over the blocks that count for loudness, followed
        # slowly: it changes with the material, not with the beat
        kept = [b[3] for b in self._blocks if lufs(b[2]) > ABSOLUTE_GATE]
        if kept:
            self.loss_db += (sum(kept) / len(kept) - self.loss_db) * min(1.0, seconds / 4.0)
        want = self.target - level_in + self.loss_db
        step = max(-self.max_rate * seconds, min(self.max_rate * seconds, want - self.gain_db))
        self.gain_db = max(MIN_GAIN_DB, min(MAX_GAIN_DB, self.gain_db + step))


def master_whole(pcm: np.ndarray, sample_rate: int, target_lufs: float = -16.0, chunk_s: float = 0.25) -> np.ndarray:
    """A whole recording through the same master as the stream, chunk by chunk. It is
    known in advance here, so the control starts at the gain that lands it at the target
    (settled_gain) over its whole length, not only after the first seconds."""
    settled = settled_gain(pcm, sample_rate, target_lufs)
    master = Master(sample_rate, target_lufs, initial_gain_db=settled[0] if settled else None)
    if settled:
        master.loss_db = settled[1]
    n = int(chunk_s * sample_rate)
    delay = int(round(master.LOOKAHEAD_S * sample_rate))
    padded = np.concatenate([pcm, np.zeros((pcm.shape[0], delay), np.float32)], axis=1)
    out = np.concatenate([master.process(padded[:, i:i + n]) for i in range(0, padded.shape[1], n)], axis=1)
    return out[:, delay:]          # the lookahead's delay taken out: aligned with the input
