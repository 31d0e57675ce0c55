"""Sound stage, part one: channel strips and a shared room, where the parts are still apart.

`Mixer.process` takes one `Audio` per part (float32 (2, frames) from the renderer) and
returns the stereo mix as `Audio`. Each part goes through its strip (low cut, low and
high shelves, compressor, optional drive, level, pan; an operator's VST3 plugin first,
when configured) and sends into one reverb. The DSP is Spotify's pedalboard (JUCE);
nothing is hand-filtered. The plugins keep their state between calls (`reset=False`), so
compressor envelopes and reverb tails run on across segment seams and preset changes:
a new preset changes the parameters of the same plugins.

The master bus and the loudness control sit after the playout fallback: radio/master.py.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable

import numpy as np
import pedalboard as pb

from ..contracts import PARTS, Audio, BrokenInvariant, RadioError  # noqa: F401  (Audio re-exported)
from .presets import SoundPreset, Strip


class PluginError(RadioError, ValueError):
    """An operator's plugin file that cannot be loaded; the message says which and why."""
    status = 400


def load_plugins(paths: dict[str, str]) -> dict[str, pb.Plugin]:
    """The operator's VST3 plugins per part (the TOML `plugins` table; never the API)."""
    out = {}
    for part, path in paths.items():
        if part not in PARTS:
            raise PluginError(f"plugins.{part}: use one of {', '.join(PARTS)}")
        if not Path(path).exists():
            raise PluginError(f"plugins.{part}: {path} does not exist")
        try:
            out[part] = pb.load_plugin(str(path))
        except Exception as e:  # pedalboard raises ImportError/RuntimeError by plugin kind
            raise PluginError(f"plugins.{part}: {path} is not a VST3 plugin pedalboard can load ({e})") from None
    return out


class _ChannelStrip:
    def __init__(self, plugin: pb.Plugin | None = None):
        self.plugin = plugin
        self.low_cut = pb.HighpassFilter()
        self.low_shelf = pb.LowShelfFilter(cutoff_frequency_hz=150.0)
        self.high_shelf = pb.HighShelfFilter(cutoff_frequency_hz=5000.0)
        self.comp = pb.Compressor(attack_ms=8.0, release_ms=120.0)
        self.drive = pb.Distortion()
        self.board = pb.Pedalboard()
        self.strip: Strip | None = None
        self.out_gain = np.ones((2, 1), np.float32)    # level and pan, one product after the board

    def set(self, strip: Strip) -> None:
        self.strip = strip
        self.low_cut.cutoff_frequency_hz = strip.low_cut_hz
        self.low_shelf.gain_db = strip.low_shelf_db
        self.high_shelf.gain_db = strip.high_shelf_db
        self.comp.threshold_db, self.comp.ratio = strip.comp_threshold_db, strip.comp_ratio
        self.drive.drive_db = strip.drive_db
        # A stage set to do nothing is left out: it would cost CPU and change nothing. The
        # same plugin objects come back in, so their state (envelopes) runs on.
        used = [(self.plugin, self.plugin is not None), (self.low_cut, True),
                (self.low_shelf, strip.low_shelf_db != 0), (self.high_shelf, strip.high_shelf_db != 0),
                (self.comp, strip.comp_ratio > 1), (self.drive, strip.drive_db > 0)]
        self.board = pb.Pedalboard([p for p, on in used if on])
        # The level and the equal-power balance (a stereo part, drum kits are panned inside,
        # keeps its image) are linear and last: one multiply, not a Gain plugin's pass too.
        # Distortion is tanh(drive · x): it adds drive_db of gain to quiet signals, taken
        # back here so a driven strip stays near its level.
        level = 10 ** ((strip.level_db - strip.drive_db * 0.75) / 20) * math.sqrt(2.0)
        angle = (strip.pan + 1.0) * math.pi / 4
        self.out_gain = np.array([[math.cos(angle)], [math.sin(angle)]], np.float32) * np.float32(level)

    def process(self, pcm: np.ndarray, sample_rate: int) -> np.ndarray:
        out = self.board(pcm, sample_rate, reset=False)
        out *= self.out_gain
        return out


class Mixer:
    """Strips, a reverb send and the sum; one per generator, its state kept across calls."""

    def __init__(self, sound: SoundPreset, sample_rate: int, plugins: dict[str, pb.Plugin] | None = None):
        self.sample_rate = sample_rate
        self.strips = {part: _ChannelStrip((plugins or {}).get(part)) for part in PARTS}
        self.room = pb.Reverb(wet_level=1.0, dry_level=0.0, width=1.0)
        self.room_board = pb.Pedalboard([pb.HighpassFilter(cutoff_frequency_hz=200.0), self.room])
        self.set_sound(sound)

    def set_sound(self, sound: SoundPreset) -> None:
        self.sound = sound
        for part, strip in self.strips.items():
            strip.set(sound.strip(part))
        self.room.room_size, self.room.damping = sound.room_size, sound.damping

    def process(self, parts: dict[str, Audio]) -> Audio:
        frames = next(iter(parts.values())).samples.shape[1]
        dry = np.zeros((2, frames), np.float32)
        send = np.zeros((2, frames), np.float32)
        for part, audio in parts.items():
            if audio.sample_rate != self.sample_rate:
                raise BrokenInvariant(f"{part}: {audio.sample_rate} Hz audio into a {self.sample_rate} Hz mixer")
            out = self.strips[part].process(audio.samples, self.sample_rate)
            dry += out
            send += out * self.strips[part].strip.reverb
        wet = self.room_board(send, self.sample_rate, reset=False)
        return Audio((dry + wet) * np.float32(10 ** (self.sound.gain_db / 20)), self.sample_rate)

    def process_blocks(self, blocks: Iterable[dict[str, Audio]], frames: int) -> Audio:
        """`process` block after block into one (2, frames) mix (the plugins' state runs on
        between blocks as between calls). A 50 s segment whole cost the generator ~110 MB
        at its peak: every part, each strip's output and the sends at once."""
        out = np.empty((2, frames), np.float32)
        pos = 0
        for parts in blocks:
            mixed = self.process(parts).samples
            out[:, pos:pos + mixed.shape[1]] = mixed
            pos += mixed.shape[1]
        if pos != frames:
            raise BrokenInvariant(f"the blocks held {pos} frames, not {frames}")
        return Audio(out, self.sample_rate)
