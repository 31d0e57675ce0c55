"""What the stream plays while the generator is late: the last bars played, looped.

Liquidsoap's `mksafe` falls back to silence; a radio that goes quiet sounds broken, so we
loop the last few bars of the last segment instead (segments end on a bar line, so the
loop keeps the groove), and hand over to new music only on one of the loop's bar lines,
crossfaded, so the listener hears a repeat, never a gap.
"""

from __future__ import annotations

import numpy as np

from ..contracts import SAMPLE_RATE

FADE = int(0.01 * SAMPLE_RATE)       # edges of the loop: no clicks where it wraps
HANDOVER = int(0.05 * SAMPLE_RATE)   # crossfade into the new segment


class LoopFill:
    def __init__(self, pcm: np.ndarray | None, bar_samples: int, bars: int = 4):
        if pcm is None or bar_samples <= 0 or pcm.shape[1] < bar_samples:
            self.loop = np.zeros((2, SAMPLE_RATE), np.float32)   # nothing played yet: silence
            self.bar = SAMPLE_RATE
        else:
            n = min(bars, pcm.shape[1] // bar_samples) * bar_samples
            self.loop = pcm[:, -n:].copy()
            ramp = np.linspace(0.0, 1.0, FADE, dtype=np.float32)
            self.loop[:, :FADE] *= ramp
            self.loop[:, -FADE:] *= ramp[::-1]
            self.bar = bar_samples
        self.pos = 0
        self.samples = 0                  # how much fill has been played

    @property
    def at_bar_line(self) -> bool:
        return self.pos % self.bar == 0

    def take(self, n: int) -> np.ndarray:
        """Up to n samples, stopping at the next bar line so the caller can hand over there."""
        n = min(n, self.bar - self.pos % self.bar)
        out = np.take(self.loop, np.arange(self.pos, self.pos + n) % self.loop.shape[1], axis=1)
        self.pos = (self.pos + n) % self.loop.shape[1]
        self.samples += n
        return out

    def tail(self) -> np.ndarray:
        """The crossfade into new music: the loop's continuation from where it stands,
        fading out over HANDOVER samples, to be added over the new segment's start
        (playout.Loop.hand_over gives it to the generated source)."""
        n = min(HANDOVER, self.loop.shape[1])
        tail = np.take(self.loop, np.arange(self.pos, self.pos + n) % self.loop.shape[1], axis=1)
        return tail * np.linspace(1.0, 0.0, n, dtype=np.float32)
