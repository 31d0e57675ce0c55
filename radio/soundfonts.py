"""Soundfonts by name: sound presets say "musescore" or "avl-red-zeppelin", never a path.

Each name lists the files that provide it, first found wins: a `.sf2`/`.sf3` with that
name dropped into the repo's `soundfonts/` folder, then the Debian packages'. A name whose
files are all missing falls back to the station's General MIDI soundfont (FluidR3_GM
first), so a machine without the optional packages still plays every preset.
"""

from __future__ import annotations

from pathlib import Path

from .config import REPO_SOUNDFONTS, find_soundfont

# name → (Debian package, files in order of preference)
SOUNDFONTS: dict[str, tuple[str, tuple[Path, ...]]] = {
    "fluidr3": ("fluid-soundfont-gm", (Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),)),
    "musescore": ("musescore-general-soundfont", (Path("/usr/share/sounds/sf3/MuseScore_General_Full.sf3"),
                                                  Path("/usr/share/sounds/sf3/MuseScore_General.sf3"),
                                                  Path("/usr/share/sounds/sf2/MuseScore_General.sf2"))),
    "avl-black-pearl": ("avldrums.lv2-soundfont", (Path("/usr/share/sounds/sf2/Black_Pearl_4_LV2.sf2"),)),
    "avl-red-zeppelin": ("avldrums.lv2-soundfont", (Path("/usr/share/sounds/sf2/Red_Zeppelin_4_LV2.sf2"),)),
}


def locate(name: str) -> Path | None:
    """The file for a soundfont name, or None when it is not installed."""
    _, files = SOUNDFONTS[name]
    local = [REPO_SOUNDFONTS / f"{name}{ext}" for ext in (".sf2", ".sf3")]
    return next((p for p in (*local, *files) if p.is_file()), None)


def resolve(name: str, fallback: str | Path | None = None) -> tuple[Path, bool]:
    """(file, True) for an installed name; (the General MIDI fallback, False) otherwise.
    `fallback` is the operator's `soundfont` setting, when given."""
    path = locate(name) if name in SOUNDFONTS else None
    if path is not None:
        return path, True
    return find_soundfont(fallback), False
