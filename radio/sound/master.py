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
"""

from __future__ import annotations

import collections
import math

import numpy as np
import pedalboard as pb

from .loudness import ABSOLUTE_GATE, KWeighting, gated, integrated_lufs, lufs

MIX_LEVEL_LUFS = -26.0      # where the presets put a style before the master (bench/sound.py)
SILENCE_LUFS = -45.0        # a chunk quieter than this does not move the gain


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
        # A sample-peak limiter 1 dB under the true-peak goal: inter-sample peaks of the
        # limited, band-limited mix stay under that margin (measured in tests and
        # bench/sound.py), and its 4× oversampled mode would cost 7× the CPU.
        self.board = pb.Pedalboard([
            pb.Compressor(threshold_db=-14.0, ratio=2.0, attack_ms=15.0, release_ms=250.0),
            pb.BrickwallLimiter(ceiling_db=ceiling_dbtp - 1.0, release_ms=80.0, lookahead_ms=self.LOOKAHEAD_S * 1000),
        ])

    def process(self, pcm: np.ndarray) -> np.ndarray:
        """The next chunk (2, n) float32 → the same length, mastered."""
        n = pcm.shape[1]
        if not n:
            return pcm
        seconds = n / self.sample_rate
        z_in = self._in.mean_square(pcm)
        old = self.gain_db
        if lufs(z_in) > SILENCE_LUFS:
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
        e_gained, e_out = float(np.square(gained).sum()), float(np.square(out).sum())
        loss = 10 * math.log10(e_gained / e_out) if e_gained > 1e-9 and e_out > 1e-12 else 0.0
        self._blocks.append((seconds, z_in, z_in * 10 ** ((old + self.gain_db) / 20), loss))
        while sum(b[0] for b in self._blocks) - self._blocks[0][0] >= self.window_s:
            self._blocks.popleft()
        return out

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
        self.gain_db = max(-20.0, min(30.0, self.gain_db + step))


def master_whole(pcm: np.ndarray, sample_rate: int, target_lufs: float = -16.0, chunk_s: float = 0.25) -> np.ndarray:
    """A whole recording through the same master as the stream, chunk by chunk. Its
    loudness is known in advance here, so the control starts at the right gain and the
    file lands at the target over its whole length, not only after the first seconds."""
    level = integrated_lufs(pcm, sample_rate)
    master = Master(sample_rate, target_lufs,
                    initial_gain_db=None if not math.isfinite(level) else target_lufs - level)
    n = int(chunk_s * sample_rate)
    delay = int(round(master.LOOKAHEAD_S * sample_rate))
    padded = np.concatenate([pcm, np.zeros((pcm.shape[0], delay), np.float32)], axis=1)
    out = np.concatenate([master.process(padded[:, i:i + n]) for i in range(0, padded.shape[1], n)], axis=1)
    return out[:, delay:]          # the lookahead's delay taken out: aligned with the input
