"""Station settings: one object, defaults that work offline, RADIO_* environment overrides."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

ASSETS = Path(__file__).parent / "assets"
REPO_SOUNDFONTS = Path(__file__).parent.parent / "soundfonts"
# Looked for in this order; Debian's fluid-soundfont-gm and timgm6mb-soundfont install these.
SYSTEM_SOUNDFONTS = [
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf2/default-GM.sf2"),
    Path("/usr/share/sounds/sf2/TimGM6mb.sf2"),
    Path("/usr/share/soundfonts/default.sf2"),
]


class ConfigError(Exception):
    """A setting that cannot work; the message names the setting and the fix."""


def find_soundfont(explicit: str | Path | None = None) -> Path:
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"soundfont {path} does not exist (setting RADIO_SOUNDFONT / --soundfont)")
        return path
    candidates = sorted(REPO_SOUNDFONTS.glob("*.sf2")) + SYSTEM_SOUNDFONTS
    for path in candidates:
        if path.is_file():
            return path
    raise ConfigError("no General MIDI soundfont found: run `sudo apt-get install fluid-soundfont-gm` "
                      "or put a .sf2 file in soundfonts/ (or set RADIO_SOUNDFONT)")


@dataclasses.dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    model: str = str(ASSETS / "model")
    seeds: str = str(ASSETS / "seeds")
    soundfont: str = ""                 # empty: first of find_soundfont()'s places
    temperature: float = 0.5
    steps_per_leg: int = 8              # walk steps from one anchor to the next
    qpm: float = 0.0                    # 0: follow the seeds' tempi
    lead_program: int = 81              # GM 82, Lead 2 (sawtooth)
    bass_program: int = 33              # GM 34, Electric Bass (finger)
    humanize: bool = True
    seed: int = 0
    bitrate: int = 128
    lead_segments: int = 2              # segments the generator keeps ahead of playback
    burst_seconds: float = 2.0          # audio a new listener gets at once

    @classmethod
    def from_env(cls, env=os.environ, **overrides) -> "Settings":
        values = {}
        for f in dataclasses.fields(cls):
            raw = env.get("RADIO_" + f.name.upper())
            if raw is None:
                continue
            try:
                values[f.name] = (raw.lower() in ("1", "true", "yes")) if f.type == "bool" else \
                    {"int": int, "float": float}.get(f.type, str)(raw)
            except ValueError:
                raise ConfigError(f"RADIO_{f.name.upper()}={raw!r} is not a valid {f.type}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        for name in ("lead_program", "bass_program"):
            if not 0 <= getattr(self, name) <= 127:
                raise ConfigError(f"{name}={getattr(self, name)}: a GM program is 0–127")
        if not 0 < self.temperature <= 2:
            raise ConfigError(f"temperature={self.temperature}: use a value in (0, 2]")
        if self.steps_per_leg < 1:
            raise ConfigError("steps_per_leg must be at least 1")
        if not 1 <= self.port <= 65535:
            raise ConfigError(f"port={self.port}: use 1–65535")
