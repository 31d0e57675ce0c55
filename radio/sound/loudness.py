"""Loudness, measured the BS.1770-4 / EBU R 128 way: the one home of that maths, for the
master bus (master.py), for files written whole, and for the tests and benchmarks.

K-weighting filters come from pyloudnorm; `KWeighting` runs them chunk by chunk with
their state carried over, so the master can follow a stream's loudness as it plays.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import sosfilt

ABSOLUTE_GATE = -70.0
RELATIVE_GATE = -10.0


def k_filters(sample_rate: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """BS.1770-4 K-weighting (pre-filter shelf, RLB high-pass) for this rate, as (b, a)
    pairs, from pyloudnorm (which keeps them in a private attribute)."""
    import pyloudnorm
    meter = pyloudnorm.Meter(sample_rate)
    return [(f.b, f.a) for f in (meter._filters["high_shelf"], meter._filters["high_pass"])]


def energy(pcm: np.ndarray) -> float:
    """Sum of squares, as one dot product: no squared copy of the chunk."""
    flat = pcm.reshape(-1)
    return float(np.dot(flat, flat))


def lufs(mean_square: float) -> float:
    return -0.691 + 10 * math.log10(max(mean_square, 1e-12))


class KWeighting:
    """Streaming K-weighting: filter state carried from chunk to chunk. Both biquads run as
    one second-order-sections pass (a quarter less CPU than two lfilter passes)."""

    def __init__(self, sample_rate: int, channels: int = 2):
        self.sos = np.array([np.r_[b, a] / a[0] for b, a in k_filters(sample_rate)])
        self.state = np.zeros((len(self.sos), channels, 2))

    def mean_square(self, pcm: np.ndarray) -> float:
        """Sum over channels of the K-weighted mean square (BS.1770's z, L and R weight 1)."""
        if not pcm.shape[1]:
            return 0.0
        x, self.state = sosfilt(self.sos, pcm.astype(np.float64), axis=1, zi=self.state)
        return energy(x) / x.shape[1]


def gated(blocks) -> float | None:
    """BS.1770 gated mean of block mean squares, in LUFS; None when all are gated out."""
    loud = [z for z in blocks if lufs(z) > ABSOLUTE_GATE]
    if not loud:
        return None
    rel = lufs(sum(loud) / len(loud)) + RELATIVE_GATE
    kept = [z for z in loud if lufs(z) > rel]
    return lufs(sum(kept) / len(kept))


def program_lufs(pcm: np.ndarray, sample_rate: int = 44100, block_s: float = 0.4) -> float | None:
    """The gated loudness of a whole passage, the master's way (back-to-back 400 ms blocks,
    BS.1770 gates): what a segment will measure when it plays; None for silence. A few ms
    for a 30 s segment, where pyloudnorm's overlapping blocks take ten times that."""
    k = KWeighting(sample_rate, pcm.shape[0])
    n = int(block_s * sample_rate)
    return gated([k.mean_square(pcm[:, i:i + n]) for i in range(0, pcm.shape[1] - n + 1, n)])


def integrated_lufs(pcm: np.ndarray, sample_rate: int = 44100) -> float:
    """BS.1770-4 integrated loudness (pyloudnorm)."""
    import pyloudnorm
    return float(pyloudnorm.Meter(sample_rate).integrated_loudness(pcm.T.astype(np.float64)))


def loudness_range(pcm: np.ndarray, sample_rate: int = 44100) -> float:
    """EBU Tech 3342 loudness range, LU (pyloudnorm)."""
    import pyloudnorm
    return float(pyloudnorm.Meter(sample_rate).loudness_range(pcm.T.astype(np.float64)))


def short_term_lufs(pcm: np.ndarray, sample_rate: int = 44100, window_s: float = 3.0,
                    hop_s: float = 1.0) -> np.ndarray:
    """EBU short-term loudness (3 s windows) every `hop_s` seconds; window i starts at i·hop_s."""
    k = KWeighting(sample_rate, pcm.shape[0])
    hop = int(hop_s * sample_rate)
    z = np.array([k.mean_square(pcm[:, i:i + hop]) for i in range(0, pcm.shape[1] - hop + 1, hop)])
    per = int(round(window_s / hop_s))
    return np.array([lufs(z[i:i + per].mean()) for i in range(len(z) - per + 1)])
