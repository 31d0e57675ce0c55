"""Measurements of rendered audio, shared by tests and benchmarks (loudness itself is
radio/sound/loudness.py's)."""

from __future__ import annotations

import subprocess

import numpy as np

from ..contracts import RadioError


def decode_with_ffmpeg(data: bytes, sample_rate: int = 44100) -> np.ndarray:
    """Any audio ffmpeg reads → (2, n) float32, decoded by ffmpeg itself."""
    proc = subprocess.run(["ffmpeg", "-v", "error", "-i", "pipe:0", "-f", "s16le", "-ac", "2",
                           "-ar", str(sample_rate), "pipe:1"], input=data, capture_output=True)
    if proc.returncode != 0 and not proc.stdout:
        raise RadioError(f"ffmpeg could not decode: {proc.stderr.decode()[-300:]}")
    pcm = np.frombuffer(proc.stdout, "<i2").reshape(-1, 2).T
    return pcm.astype(np.float32) / 32768.0


def window_dbfs(pcm: np.ndarray, sample_rate: int = 44100, window_s: float = 0.05) -> np.ndarray:
    """RMS level in dBFS of consecutive windows."""
    mono = pcm.mean(axis=0)
    n = int(sample_rate * window_s)
    frames = mono[: len(mono) // n * n].reshape(-1, n)
    rms = np.sqrt((frames ** 2).mean(axis=1))
    return 20 * np.log10(np.maximum(rms, 1e-10))


def longest_silence(pcm: np.ndarray, sample_rate: int = 44100, threshold_dbfs: float = -50.0,
                    window_s: float = 0.05) -> float:
    """Seconds of the longest run of windows quieter than the threshold."""
    quiet = window_dbfs(pcm, sample_rate, window_s) < threshold_dbfs
    longest = run = 0
    for q in quiet:
        run = run + 1 if q else 0
        longest = max(longest, run)
    return longest * window_s


def sounding_seconds(pcm: np.ndarray, sample_rate: int = 44100, threshold_dbfs: float = -50.0,
                     window_s: float = 0.05) -> float:
    return float((window_dbfs(pcm, sample_rate, window_s) >= threshold_dbfs).sum() * window_s)


def true_peak_dbtp(pcm: np.ndarray) -> float:
    """Peak of the 4× oversampled signal, dBTP (BS.1770-4 Annex 2)."""
    from scipy.signal import resample_poly
    up = resample_poly(pcm.astype(np.float64), 4, 1, axis=1)
    return float(20 * np.log10(max(np.abs(up).max(), 1e-10)))


def side_mid_db(pcm: np.ndarray) -> float:
    """Energy of the side signal (L−R)/2 against the mid (L+R)/2, dB: −∞ is mono."""
    mid, side = (pcm[0] + pcm[1]) / 2, (pcm[0] - pcm[1]) / 2
    return float(10 * np.log10(max((side.astype(np.float64) ** 2).sum(), 1e-20) /
                               max((mid.astype(np.float64) ** 2).sum(), 1e-20)))


def largest_step(pcm: np.ndarray) -> float:
    """The largest sample-to-sample step on any channel (a click shows as an outlier)."""
    return float(np.abs(np.diff(pcm, axis=1)).max()) if pcm.shape[1] > 1 else 0.0
