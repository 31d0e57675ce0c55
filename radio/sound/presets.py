"""Sound presets: the instruments and channel strips a style is played with, as data.

A preset names a soundfont (for lead and bass), the GM programs, a drum kit and, per
part, a channel strip: level, pan, EQ, compression, optional drive and a send to the
shared room. Presets are plain dicts merged over `BASE`, so each style states only what
makes it sound like itself; `SoundPreset.from_dict` validates one as a whole and names
the bad field. A mix's `sound` object picks a preset (`"preset": "jazz"`, else the one of
the set the walk is heading to) and may override any field, e.g.
`{"preset": "rock", "lead": {"program": 30, "drive_db": 12}}`.

Units: level_db and the shelves in dB, pan −1 (left) … 1 (right), low_cut_hz in Hz, the
compressor's threshold in dBFS with its ratio (1 = off), drive_db of Distortion (0 = off),
reverb the send level 0…1 into the shared room (room_size, damping 0…1); gain_db the
preset's output level, set so every style reaches the master at about the same loudness.
"""

from __future__ import annotations

import copy
import dataclasses

from ..contracts import RadioError
from ..support.checks import number
from .soundfonts import SOUNDFONTS


class SoundError(RadioError, ValueError):
    """A sound preset or override that cannot be played; the message names the field."""
    status = 400


# GM bank 128 kits of the General MIDI soundfonts, and the AVL acoustic kits (own files,
# their one preset on bank 0): kit name → (soundfont name or None for the preset's, bank, preset)
KITS: dict[str, tuple[str | None, int, int]] = {
    "standard": (None, 128, 0), "room": (None, 128, 8), "power": (None, 128, 16),
    "electronic": (None, 128, 24), "tr808": (None, 128, 25), "jazz": (None, 128, 32),
    "brush": (None, 128, 40),
    "black-pearl": ("avl-black-pearl", 0, 0), "red-zeppelin": ("avl-red-zeppelin", 0, 0),
}

from ..contracts import PARTS  # noqa: E402  (the parts table lives in contracts.py)

# Ranges of every strip field: (lowest, highest).
STRIP_RANGES = {
    "level_db": (-40.0, 12.0), "pan": (-1.0, 1.0), "low_cut_hz": (10.0, 1000.0),
    "low_shelf_db": (-12.0, 12.0), "high_shelf_db": (-12.0, 12.0),
    "comp_threshold_db": (-60.0, 0.0), "comp_ratio": (1.0, 20.0), "drive_db": (0.0, 30.0),
    "reverb": (0.0, 1.0),
}
BUS_RANGES = {"room_size": (0.0, 1.0), "damping": (0.0, 1.0), "gain_db": (-24.0, 24.0)}

_STRIP = {"level_db": 0.0, "pan": 0.0, "low_cut_hz": 20.0, "low_shelf_db": 0.0, "high_shelf_db": 0.0,
          "comp_threshold_db": 0.0, "comp_ratio": 1.0, "drive_db": 0.0, "reverb": 0.0}

BASE = {
    "soundfont": "musescore",
    "lead": {**_STRIP, "program": 0, "low_cut_hz": 120.0, "comp_threshold_db": -20.0, "comp_ratio": 2.5,
             "pan": -0.25, "reverb": 0.25},
    "bass": {**_STRIP, "program": 33, "low_cut_hz": 35.0, "comp_threshold_db": -24.0, "comp_ratio": 4.0,
             "reverb": 0.05},
    "drums": {**_STRIP, "kit": "standard", "low_cut_hz": 30.0, "comp_threshold_db": -18.0, "comp_ratio": 2.0,
              "reverb": 0.15},
    "room_size": 0.45, "damping": 0.5, "gain_db": 2.0,
}

# One per shipped style. gain_db was set with bench/sound.py so that each style reaches
# the master near master.MIX_LEVEL_LUFS (−26): a change of style then barely moves the
# loudness control.
PRESETS: dict[str, dict] = {
    # today's sound, for side-by-side listening: FluidR3, saw lead, finger bass, standard
    # kit, no strip processing, a little room
    "bare": {"soundfont": "fluidr3",
             "lead": {**_STRIP, "program": 81, "reverb": 0.1}, "bass": {**_STRIP, "program": 33, "reverb": 0.1},
             "drums": {**_STRIP, "kit": "standard", "reverb": 0.1}, "gain_db": 0.0},
    "default": {},
    "ballad": {"lead": {"program": 4, "level_db": 1.0, "high_shelf_db": -2.0, "reverb": 0.4},     # Rhodes
               "bass": {"program": 32, "low_shelf_db": 2.0},                                       # acoustic
               "drums": {"kit": "brush", "level_db": -3.0, "reverb": 0.3},
               "room_size": 0.75, "damping": 0.35, "gain_db": 1.2},
    "blues": {"lead": {"program": 27, "drive_db": 10.0, "level_db": -4.0, "pan": -0.3},            # clean guitar, driven
              "bass": {"program": 33},
              "drums": {"kit": "room", "reverb": 0.2}, "room_size": 0.5, "gain_db": 1.6},
    "country": {"lead": {"program": 110, "pan": 0.3, "reverb": 0.2},                               # fiddle
                "bass": {"program": 32, "high_shelf_db": -3.0},
                "drums": {"kit": "black-pearl", "level_db": -2.0, "reverb": 0.1}, "room_size": 0.35, "gain_db": 4.1},
    "funk": {"lead": {"program": 61, "comp_ratio": 4.0, "pan": 0.2, "high_shelf_db": 2.0},         # brass section
             "bass": {"program": 36, "level_db": 1.0, "comp_ratio": 6.0, "high_shelf_db": 3.0},    # slap
             "drums": {"kit": "room", "comp_threshold_db": -22.0, "comp_ratio": 4.0, "reverb": 0.08},
             "room_size": 0.3, "damping": 0.6, "gain_db": 1.0},
    "jazz": {"lead": {"program": 11, "pan": 0.35, "reverb": 0.3},                                  # vibraphone
             "bass": {"program": 32, "low_shelf_db": 3.0, "comp_ratio": 2.0},                      # acoustic
             "drums": {"kit": "brush", "pan": -0.1, "reverb": 0.25}, "room_size": 0.6, "gain_db": 0.1},
    "latin": {"lead": {"program": 24, "pan": -0.2, "reverb": 0.25},                                # nylon guitar
              "bass": {"program": 32},
              "drums": {"kit": "standard", "high_shelf_db": 2.0}, "room_size": 0.5, "gain_db": 5.0},
    "pop": {"lead": {"program": 80, "level_db": -6.0, "pan": 0.15, "high_shelf_db": 1.0, "reverb": 0.3},  # square lead
            "bass": {"program": 38, "comp_ratio": 6.0},                                            # synth bass
            "drums": {"kit": "electronic", "comp_ratio": 3.0}, "room_size": 0.55, "gain_db": 2.0},
    "rock": {"lead": {"program": 29, "drive_db": 14.0, "level_db": -7.0, "low_cut_hz": 150.0,      # overdriven guitar
                      "pan": -0.35, "reverb": 0.15},
             "bass": {"program": 34, "drive_db": 4.0, "comp_ratio": 6.0},                          # picked
             "drums": {"kit": "red-zeppelin", "comp_threshold_db": -20.0, "comp_ratio": 4.0, "reverb": 0.12},
             "room_size": 0.4, "gain_db": 2.6},
    "ska": {"lead": {"program": 56, "pan": 0.25, "reverb": 0.2},                                   # trumpet
            "bass": {"program": 33, "low_shelf_db": 2.0},
            "drums": {"kit": "black-pearl", "high_shelf_db": 2.0, "reverb": 0.15}, "room_size": 0.4, "gain_db": 0.9},
    "swing": {"lead": {"program": 66, "pan": -0.3, "reverb": 0.3},                                 # tenor sax
              "bass": {"program": 32, "low_shelf_db": 2.0},
              "drums": {"kit": "jazz", "reverb": 0.25}, "room_size": 0.65, "gain_db": -1.0},
}


@dataclasses.dataclass(frozen=True)
class Strip:
    level_db: float
    pan: float
    low_cut_hz: float
    low_shelf_db: float
    high_shelf_db: float
    comp_threshold_db: float
    comp_ratio: float
    drive_db: float
    reverb: float
    program: int = 0          # lead, bass: GM program 0–127
    kit: str = ""             # drums: a name of KITS


@dataclasses.dataclass(frozen=True)
class SoundPreset:
    name: str
    soundfont: str
    lead: Strip
    bass: Strip
    drums: Strip
    room_size: float
    damping: float
    gain_db: float

    def strip(self, part: str) -> Strip:
        return getattr(self, part)

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        for part in PARTS:
            out[part].pop("kit" if part != "drums" else "program")
        return out

    @classmethod
    def from_dict(cls, name: str, spec: dict) -> "SoundPreset":
        """A preset from BASE merged with `spec`; SoundError names the first bad field."""
        values = merge(BASE, spec)
        unknown = set(values) - {"soundfont", *PARTS, *BUS_RANGES}
        if unknown:
            raise SoundError(f"sound: unknown field(s) {sorted(unknown)}; allowed: soundfont, "
                             f"{', '.join(PARTS)}, {', '.join(BUS_RANGES)}")
        if values["soundfont"] not in SOUNDFONTS:
            raise SoundError(f"sound.soundfont={values['soundfont']!r}: use one of {sorted(SOUNDFONTS)}")
        strips = {part: _strip(part, values[part]) for part in PARTS}
        room = {k: number(values[k], f"sound.{k}", *r, error=SoundError) for k, r in BUS_RANGES.items()}
        return cls(name=name, soundfont=values["soundfont"], **strips, **room)


def merge(base: dict, over: dict) -> dict:
    """`base` with `over` applied, one level of nesting deep (parts are objects)."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = {**out[k], **v} if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def _strip(part: str, spec) -> Strip:
    if not isinstance(spec, dict):
        raise SoundError(f"sound.{part}: expected an object of strip settings, e.g. {{\"level_db\": -3}}")
    own = "kit" if part == "drums" else "program"
    unknown = set(spec) - set(STRIP_RANGES) - {own}
    if unknown:
        raise SoundError(f"sound.{part}: unknown field(s) {sorted(unknown)}; allowed: "
                         f"{', '.join([own, *STRIP_RANGES])}")
    values = {k: number(spec[k], f"sound.{part}.{k}", *r, error=SoundError) for k, r in STRIP_RANGES.items()}
    if part == "drums":
        if spec["kit"] not in KITS:
            raise SoundError(f"sound.drums.kit={spec['kit']!r}: use one of {sorted(KITS)}")
        return Strip(**values, kit=spec["kit"])
    return Strip(**values, program=number(spec["program"], f"sound.{part}.program", 0, 127, True, SoundError))


def resolve(name: str, overrides: dict | None = None, lead_program: int | None = None,
            bass_program: int | None = None) -> SoundPreset:
    """The named preset with a mix's overrides and explicit programs applied."""
    if name not in PRESETS:
        raise SoundError(f"sound.preset={name!r}: use one of {sorted(PRESETS)}")
    spec = merge(PRESETS[name], overrides or {})
    for part, program in (("lead", lead_program), ("bass", bass_program)):
        if program is not None:
            spec = merge(spec, {part: {"program": program}})
    return SoundPreset.from_dict(name, spec)


def check_mix_sound(value) -> dict:
    """A mix's `sound` field: {} (follow the sets) or {"preset": name, …overrides}; the
    overrides are checked against every preset they may land on."""
    if not isinstance(value, dict):
        raise SoundError('sound: expected an object, e.g. {"preset": "jazz"} or {} to follow the seed sets')
    overrides = {k: v for k, v in value.items() if k != "preset"}
    names = [value["preset"]] if "preset" in value else list(PRESETS)
    for name in names:
        if not isinstance(name, str):
            raise SoundError(f"sound.preset: expected a preset name, got {name!r}")
        resolve(name, overrides)
    return copy.deepcopy(value)


def sound_of_set(library, set_name: str) -> str:
    """The sound preset a seed set (music/seedsets.py SeedLibrary) is played with: its
    manifest's `sound`, else the preset named like the set, else "default"."""
    from ..music.seedsets import SeedSetError
    try:
        named = library.manifest(set_name).get("sound")
    except SeedSetError:
        named = None
    return named if named in PRESETS else set_name if set_name in PRESETS else "default"


def set_sound_of_set(library, set_name: str, preset: str) -> None:
    """Writes `preset` into a seed set's manifest; SeedSetError for an unknown preset."""
    from ..music.seedsets import SeedSetError
    if preset not in PRESETS:
        raise SeedSetError(f"sound preset {preset!r}: use one of {sorted(PRESETS)}")
    with library.update_manifest(set_name) as data:
        data["sound"] = preset
