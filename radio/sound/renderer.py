"""Renderer stage: Segments → float32 PCM (2, frames) per part, at 44.1 kHz, through FluidSynth.

One FluidSynth per part (lead, bass, drums) for the station's whole life, so the sound
stage can give each part its own channel strip, and a note held over a seam keeps ringing:
its note-off is carried into the next segment's render instead of being cut. Three synths
cost about what one synth with 16 output groups does (bench/render_split.py: 0.0103 vs
0.0109 CPU s per audio s; they share a soundfont's samples), need no private FluidSynth
API, and let the drums play from a soundfont of their own (the AVL acoustic kits).
Samples load per selected preset, so the MuseScore soundfont costs tens of MB, not 500.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterator

import numpy as np

from ..contracts import CHANNEL, SAMPLE_RATE, RadioError  # noqa: E402,F401  (re-exported)
from ..music.segment import Segment, part_of
from . import presets, soundfonts

LEAD_CH, BASS_CH, DRUM_CH = CHANNEL["lead"], CHANNEL["bass"], CHANNEL["drums"]
log = logging.getLogger("radio.renderer")


class RenderError(RadioError):
    """FluidSynth or the soundfont cannot be used; the message says how to fix it."""
    status = 500


def _float_writer():
    """libfluidsynth's fluid_synth_write_float, which pyfluidsynth does not wrap: it
    writes float samples straight into our buffer. pyfluidsynth's get_samples goes through
    write_s16 (dither, 16-bit rounding), a fresh buffer and two copies per call, and the
    renderer makes thousands of calls a segment (one per note event)."""
    import ctypes

    import fluidsynth
    write = fluidsynth._fl.fluid_synth_write_float
    write.restype = ctypes.c_int
    write.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                      ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
    return write


class _PartSynth:
    """One part's FluidSynth and the soundfonts it has loaded."""

    def __init__(self, channel: int, sample_rate: int, gain: float):
        import fluidsynth
        self.channel = channel
        # A part rarely sounds more than a dozen voices; 64 bounds the cost when a model
        # writes dense clusters. Effects come from the sound stage, not FluidSynth.
        self.synth = fluidsynth.Synth(gain=gain, samplerate=float(sample_rate), channels=16, **{
            "synth.polyphony": 64, "synth.chorus.active": 0, "synth.reverb.active": 0,
            "synth.dynamic-sample-loading": 1})
        self._loaded: dict[Path, int] = {}
        self.selected: tuple[Path, int, int] | None = None

    def select(self, soundfont: Path, bank: int, program: int) -> None:
        if self.selected == (soundfont, bank, program):
            return
        sfid = self._loaded.get(soundfont)
        if sfid is None:
            sfid = self.synth.sfload(str(soundfont))
            if sfid == -1:
                raise RenderError(f"FluidSynth cannot load soundfont {soundfont}")
            self._loaded[soundfont] = sfid
        if self.synth.program_select(self.channel, sfid, bank, program) != 0:
            raise RenderError(f"{soundfont.name} has no preset bank {bank} program {program}")
        self.selected = (soundfont, bank, program)


class Renderer:
    def __init__(self, fallback_soundfont: str | Path | None = None, sound: presets.SoundPreset | None = None,
                 sample_rate: int = SAMPLE_RATE, gain: float = 0.3):
        try:
            import fluidsynth  # noqa: F401
        except (ImportError, OSError) as e:
            raise RenderError(f"FluidSynth library missing ({e}): `sudo apt-get install libfluidsynth3`")
        self.sample_rate = sample_rate
        self._write = _float_writer()
        self.fallback = fallback_soundfont
        self.missing: set[str] = set()      # soundfont names played with the fallback instead
        self._synths = {part: _PartSynth(ch, sample_rate, gain) for part, ch in CHANNEL.items()}
        self.sound = sound or presets.resolve("bare")
        self.set_sound(self.sound)
        self._pending: list[tuple[float, str, int]] = []  # (seconds from next start, part, pitch)

    def _soundfont(self, name: str) -> Path:
        path, found = soundfonts.resolve(name, self.fallback)
        if not found:
            self._missing(name, path)
        return path

    def _missing(self, name: str, instead: Path) -> None:
        if name not in self.missing:
            package = soundfonts.SOUNDFONTS[name][0]
            log.warning("soundfont %s is not installed (`apt-get install %s`); playing %s instead",
                        name, package, instead.name)
        self.missing.add(name)

    def set_sound(self, sound: presets.SoundPreset) -> None:
        """Instruments of a sound preset, heard from the next note (ringing notes keep theirs)."""
        self.sound = sound
        main = self._soundfont(sound.soundfont)
        self._synths["lead"].select(main, 0, sound.lead.program)
        self._synths["bass"].select(main, 0, sound.bass.program)
        kit_font, bank, program = presets.KITS[sound.drums.kit]
        if kit_font is None:
            self._synths["drums"].select(main, bank, program)
        elif (path := soundfonts.locate(kit_font)) is not None:
            self._synths["drums"].select(path, bank, program)
        else:  # without the acoustic kit's file, the GM soundfont's standard kit stands in
            self._missing(kit_font, main)
            self._synths["drums"].select(main, 128, 0)

    def render(self, segment: Segment) -> dict[str, np.ndarray]:
        """PCM per part for exactly segment.duration seconds; notes crossing the end keep
        sounding into the next render."""
        whole = list(self.blocks(segment))
        return whole[0] if whole else {part: np.zeros((2, 0), np.float32) for part in CHANNEL}

    def blocks(self, segment: Segment, size: int | None = None) -> Iterator[dict[str, np.ndarray]]:
        """The same PCM as `render`, as blocks of `size` frames per part (the last one
        shorter; default: one block), so a long segment is never whole in memory three
        times over. The blocks' arrays are reused for the next block: use them first.
        Carried note-offs are settled at once, before the first block is asked for."""
        frames = self.frames(segment)
        events = [(t, 0, part, p, 0) for t, part, p in self._pending]   # offs first at equal times
        for n in segment.sequence.notes:
            part = part_of(n)
            end = n.end_time if part != "drums" else n.start_time + 0.2
            events.append((n.start_time, 1, part, n.pitch, n.velocity))
            events.append((end, 0, part, n.pitch, 0))
        events.sort(key=lambda e: (e[0], e[1]))
        timed, self._pending = [], []
        for t, on, part, pitch, vel in events:
            at = int(round(t * self.sample_rate))
            if at < frames:
                timed.append((at, on, part, pitch, vel))
            elif not on:
                self._pending.append((t - segment.duration, part, pitch))
        return self._blocks(timed, frames, size or frames)

    def frames(self, segment: Segment) -> int:
        """How many frames `render` gives per part for `segment`."""
        return int(round(segment.duration * self.sample_rate))

    def _blocks(self, timed: list, frames: int, size: int) -> Iterator[dict[str, np.ndarray]]:
        buf = {part: np.empty((min(size, frames), 2), np.float32) for part in CHANNEL}
        pos = start = 0                     # frames rendered; the current block's first frame
        for at, on, part, pitch, vel in [*timed, (frames, None, "", 0, 0)]:
            while pos < at:
                end = min(at, start + size)
                self._advance(buf, pos - start, end - start)
                pos = end
                if pos in (start + size, frames):
                    yield {p: pcm[:pos - start].T for p, pcm in buf.items()}
                    start = pos
            if on is None:
                return
            part_synth = self._synths[part]
            if on:
                part_synth.synth.noteon(part_synth.channel, pitch, vel)
            else:
                part_synth.synth.noteoff(part_synth.channel, pitch)

    def _advance(self, out: dict[str, np.ndarray], start: int, end: int) -> None:
        for part, part_synth in self._synths.items():
            # interleaved stereo into rows start:end of the (frames, 2) buffer
            at = out[part].ctypes.data + start * 8
            if self._write(part_synth.synth.synth, end - start, at, 0, 2, at, 1, 2) != 0:
                raise RenderError("FluidSynth failed to render")

    def reset(self) -> None:
        """Silences every voice and forgets carried note-offs (the segments they belonged to
        were dropped)."""
        for part_synth in self._synths.values():
            part_synth.synth.system_reset()
            part_synth.selected = None
        self.set_sound(self.sound)
        self._pending = []

    def close(self) -> None:
        for part_synth in self._synths.values():
            part_synth.synth.delete()
