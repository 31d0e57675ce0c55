"""Which model plays a mix: the station's own, or the one `radio learn` made of a set.

A station plays one model at a time. A mix of one learned set alone is played by that
set's model, every other mix by the station's model. A mix that blends a learned set with
any other set is refused, naming them: their anchors live in different latent spaces, and
no walk goes from one to the other. The loop (loop.py) switches the pipeline when the
mix's model is not the one playing.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from .mix import MixError


def model_of(sets: dict[str, float], learned: dict[str, Path]) -> str:
    """The key of the model that plays `sets` (set → weight): a learned set's name, or ""
    for the station's own model; MixError for a blend across models."""
    active = sorted(s for s, w in sets.items() if w > 0)
    own = [s for s in active if s in learned]
    if not own:
        return ""
    if len(active) == 1:
        return own[0]
    others = [s for s in active if s not in own]
    whose = [f"{s}: its own, from radio learn" for s in own] + ([f"{', '.join(others)}: the station's"] if others else [])
    raise MixError(f"sets: {', '.join(active)} are played by different models ({'; '.join(whose)}); a station "
                   f"plays one model at a time, so a learned set plays alone")


def key_of(sets: dict[str, float], learned: dict[str, Path], blend: str) -> str:
    """model_of, with `blend` the key for a blend across models (the pipeline playing keeps
    it, and its set_mix refuses the mix)."""
    try:
        return model_of(sets, learned)
    except MixError:
        return blend


def folder_of(key: str, learned: dict[str, Path], default: str) -> str:
    """The model folder of a key from model_of (the station's model for "" or a set whose
    model has gone)."""
    return str(learned[key]) if key in learned else str(default)


def sets_played(key: str, sets, learned: dict[str, Path]) -> list[str]:
    """The seed sets whose anchors the model `key` encodes: its own set, or (the station's
    model) every set without a learned model."""
    return [key] if key in learned else [s for s in sets if s not in learned]


def model_key(learned: dict[str, Path], folder) -> str:
    """The key of the model in `folder`: the learned set whose model it is, else ""."""
    here = Path(folder).resolve()
    return next((s for s, f in learned.items() if Path(f).resolve() == here), "")


def settings_for(settings, sets):
    """The station's settings with the model that plays `sets` (set → weight; the station's
    model for a blend, e.g. a set learned while the station was down: set_mix refuses it)."""
    if not isinstance(sets, dict):
        return settings
    from ..music.seedsets import station_library
    learned = station_library(settings).learned()
    key = key_of({k: w for k, w in sets.items() if isinstance(w, (int, float))}, learned, "")
    return dataclasses.replace(settings, model=folder_of(key, learned, settings.model))
