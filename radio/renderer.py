"""Renderer stage: Segments → float32 PCM (2, frames) at 44.1 kHz through FluidSynth.

One synth for the station's whole life: a note held over a seam keeps ringing, and its
note-off is carried into the next segment's render instead of being cut.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .segment import Segment, part_of

SAMPLE_RATE = 44100
LEAD_CH, BASS_CH, DRUM_CH = 0, 1, 9   # channel 10 (index 9) is GM percussion
CHANNEL = {"lead": LEAD_CH, "bass": BASS_CH, "drums": DRUM_CH}


class RenderError(Exception):
    """FluidSynth or the soundfont cannot be used; the message says how to fix it."""


class Renderer:
    def __init__(self, soundfont: Path, lead_program: int = 81, bass_program: int = 33,
                 sample_rate: int = SAMPLE_RATE, gain: float = 0.3):
        try:
            import fluidsynth
        except (ImportError, OSError) as e:
            raise RenderError(f"FluidSynth library missing ({e}): `sudo apt-get install libfluidsynth3`")
        self.sample_rate = sample_rate
        # A trio rarely sounds more than a dozen voices; 64 bounds the cost when a model
        # writes dense clusters. Chorus adds little to GM drums and bass and costs ~20 %.
        self._synth = fluidsynth.Synth(gain=gain, samplerate=float(sample_rate), channels=16,
                                       **{"synth.polyphony": 64, "synth.chorus.active": 0})
        self._sfid = self._synth.sfload(str(soundfont))
        if self._sfid == -1:
            raise RenderError(f"FluidSynth cannot load soundfont {soundfont}")
        self.set_programs(lead_program, bass_program)
        self._synth.program_select(DRUM_CH, self._sfid, 128, 0)
        self._pending: list[tuple[float, int, int]] = []  # (seconds from next start, ch, pitch)

    def set_programs(self, lead: int, bass: int) -> None:
        self._programs = (lead, bass)
        self._synth.program_select(LEAD_CH, self._sfid, 0, lead)
        self._synth.program_select(BASS_CH, self._sfid, 0, bass)

    def render(self, segment: Segment) -> np.ndarray:
        """PCM for exactly segment.duration seconds; notes crossing the end keep sounding."""
        frames = int(round(segment.duration * self.sample_rate))
        events = [(t, 0, ch, p, 0) for t, ch, p in self._pending]   # offs first at equal times
        for n in segment.sequence.notes:
            ch = CHANNEL[part_of(n)]
            end = n.end_time if ch != DRUM_CH else n.start_time + 0.2
            events.append((n.start_time, 1, ch, n.pitch, n.velocity))
            events.append((end, 0, ch, n.pitch, 0))
        events.sort(key=lambda e: (e[0], e[1]))
        out = np.empty((frames, 2), np.int16)
        pos = 0
        self._pending = []
        for t, on, ch, pitch, vel in events:
            at = int(round(t * self.sample_rate))
            if at >= frames:
                if not on:
                    self._pending.append((t - segment.duration, ch, pitch))
                continue
            if at > pos:
                out[pos:at] = self._synth.get_samples(at - pos).reshape(-1, 2)
                pos = at
            if on:
                self._synth.noteon(ch, pitch, vel)
            else:
                self._synth.noteoff(ch, pitch)
        if frames > pos:
            out[pos:] = self._synth.get_samples(frames - pos).reshape(-1, 2)
        return out.T.astype(np.float32) / 32768.0

    def reset(self) -> None:
        """Silences every voice and forgets carried note-offs (the segments they belonged to
        were dropped)."""
        self._synth.system_reset()
        self.set_programs(*self._programs)
        self._synth.program_select(DRUM_CH, self._sfid, 128, 0)
        self._pending = []

    def close(self) -> None:
        self._synth.delete()
