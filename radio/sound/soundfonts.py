"""Soundfonts by name: sound presets say "musescore" or "avl-red-zeppelin", never a path.

Each name lists the files that provide it, first found wins: a `.sf2`/`.sf3` with that
name dropped into the repo's `soundfonts/` folder, then the Debian packages'. A name whose
files are all missing falls back to the station's General MIDI soundfont (FluidR3_GM
first, `find_soundfont`), so a machine without the optional packages still plays every
preset.
"""

from __future__ import annotations

from pathlib import Path

from ..config import ConfigError

REPO_SOUNDFONTS = Path(__file__).parent.parent.parent / "soundfonts"
# The General MIDI fallback, looked for in this order; Debian's fluid-soundfont-gm and
# timgm6mb-soundfont install these.
SYSTEM_SOUNDFONTS = [
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf2/default-GM.sf2"),
    Path("/usr/share/sounds/sf2/TimGM6mb.sf2"),
    Path("/usr/share/soundfonts/default.sf2"),
]

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


def find_soundfont(explicit: str | Path | None = None) -> Path:
    """The station's General MIDI soundfont: `explicit` (the `soundfont` setting), else the
    first of a file in soundfonts/ not named for a preset's soundfont, and the system's."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"soundfont {path} does not exist (setting RADIO_SOUNDFONT / --soundfont)")
        return path
    # files named for a preset's soundfont (SOUNDFONTS) serve presets, not the fallback
    candidates = sorted(p for p in REPO_SOUNDFONTS.glob("*.sf[23]") if p.stem not in SOUNDFONTS) + SYSTEM_SOUNDFONTS
    for path in candidates:
        if path.is_file():
            return path
    raise ConfigError("no General MIDI soundfont found: run `sudo apt-get install fluid-soundfont-gm` "
                      "or put a .sf2/.sf3 file in soundfonts/ (or set RADIO_SOUNDFONT)")
