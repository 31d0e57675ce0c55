"""A completed band as sound: rendered through a sound preset and mastered like the files
of `radio generate`."""

from __future__ import annotations

import numpy as np

from ..contracts import Audio
from ..sound.master import master_whole
from ..sound.mixer import Mixer, load_plugins
from ..sound.presets import resolve
from ..sound.renderer import SAMPLE_RATE, Renderer
from .complete import Completion


def render(completion: Completion, settings) -> np.ndarray:
    """(2, n) float32 PCM at the renderer's rate: the band through the default sound preset
    (kept parts on its programs too), mastered like `radio generate`'s files."""
    sound = resolve(settings.sound or "default", {}, None if settings.lead_program < 0 else settings.lead_program,
                    None if settings.bass_program < 0 else settings.bass_program)
    renderer = Renderer(settings.soundfont or None, sound)
    mixer = Mixer(sound, SAMPLE_RATE, load_plugins(settings.plugins))
    try:
        pcm = []
        for segment in completion.segments:
            parts = {p: Audio(x, SAMPLE_RATE) for p, x in renderer.render(segment).items()}
            pcm.append(mixer.process(parts).samples)
    finally:
        renderer.close()
    return master_whole(np.concatenate(pcm, axis=1), SAMPLE_RATE, settings.loudness_lufs)
