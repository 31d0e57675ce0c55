"""The data every stage agrees on, declared once: the error base, audio with its rate, the
parts table, seed references, what a played segment shows, and the item the generator
hands to playout.

This module imports nothing of the station and nothing heavier than numpy, so both sides
of the process boundary (the generator process and the server) can use it.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np


class RadioError(Exception):
    """The base of every error the project raises on purpose. The message names what is
    wrong and the fix; `status` is the HTTP status the API answers with, `exit_code` the
    `radio` command's. The API and the CLI map errors by this class, nothing else."""
    status = 500
    exit_code = 1

    def __init__(self, message: str = "", status: int | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status


class BadValue(RadioError, ValueError):
    """A value a helper cannot take (a part name, a JSON text that is not an object)."""
    status = 400


class BrokenInvariant(RadioError):
    """Code used against its own contract (a 44.1 kHz block into a 48 kHz mixer): a bug."""


class FaultDrill(RadioError):
    """Raised on purpose by a fault drill (the generator crash, the pacer exception)."""


SAMPLE_RATE = 44100     # Hz: FluidSynth renders at it, the encoders and the master run at it
MAX_UPLOAD_BYTES = 2 * 1024 * 1024     # a seed file upload (the API and the seed library)
# The trio's time grid: 4/4 bars of sixteenth steps, 16-bar segments
STEPS_PER_QUARTER, STEPS_PER_BAR = 4, 16
SEGMENT_BARS = 16
MIDI_SUFFIXES = (".mid", ".midi", ".kar", ".smf")   # what counts as a seed file, everywhere
# a seed set's name; always fullmatch (`$` lets "\n" through)
SET_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


@dataclasses.dataclass(frozen=True)
class Audio:
    """Samples float32 (channels, frames), −1…1, with their rate in Hz."""
    samples: np.ndarray
    sample_rate: int = SAMPLE_RATE

    @property
    def frames(self) -> int:
        return self.samples.shape[1]

    @property
    def seconds(self) -> float:
        return self.samples.shape[1] / self.sample_rate


# -- the parts table ------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Part:
    """One voice of the trio. `channel` is both the instrument number the trio model writes
    (TrioConverter.from_tensors) and the MIDI channel (0-based) it plays on; `index` is the
    part's number in the page's note lists (/api/now)."""
    name: str
    channel: int
    is_drum: bool
    gm_role: str
    index: int


PART_TABLE = (
    Part("lead", 0, False, "melodic GM program (the preset's, e.g. 81 lead 2)", 2),
    Part("bass", 1, False, "melodic GM program (the preset's, e.g. 33 finger bass)", 1),
    Part("drums", 9, True, "GM percussion kit on channel 10", 0),
)
PARTS = tuple(p.name for p in PART_TABLE)                       # ("lead", "bass", "drums")
PART = {p.name: p for p in PART_TABLE}
CHANNEL = {p.name: p.channel for p in PART_TABLE}               # part → MIDI channel
LEAD, BASS, DRUMS = CHANNEL["lead"], CHANNEL["bass"], CHANNEL["drums"]
PART_INDEX = {p.name: p.index for p in PART_TABLE}              # part → page index


def part_of(note) -> str:
    """The part of a NoteSequence note (or anything with is_drum and instrument)."""
    if note.is_drum:
        return "drums"
    return "bass" if note.instrument == BASS else "lead"


# -- seed references ------------------------------------------------------------------
class SeedRefError(RadioError, ValueError):
    status = 400

    """A seed reference that is not `set/file` or `set/file@bar`."""


_REF = re.compile(r"^(?P<set>[^/@]+)/(?P<file>[^@]+?)(?:@(?P<bar>\d+))?$")


@dataclasses.dataclass(frozen=True)
class SeedRef:
    """A seed file or one of its segments: `set/file` or `set/file@bar` (the bar the
    16-bar segment starts on). Anchors are labelled with it; mixes and the API name
    seeds with it."""
    set: str
    file: str                 # the file's stem
    bar: int | None = None

    @classmethod
    def parse(cls, text: str) -> "SeedRef":
        m = _REF.match(text or "")
        if not m:
            raise SeedRefError(f"seed {text!r}: use set/file or set/file@bar, e.g. \"rock/song@4\"")
        return cls(m["set"], m["file"], int(m["bar"]) if m["bar"] is not None else None)

    @classmethod
    def try_parse(cls, text: str) -> "SeedRef | None":
        try:
            return cls.parse(text)
        except SeedRefError:
            return None

    @property
    def stem(self) -> str:
        """`set/file`, without the bar."""
        return f"{self.set}/{self.file}"

    def matches(self, other: "SeedRef") -> bool:
        """True when `other` is this segment, or a segment of this file when no bar is given."""
        return self.stem == other.stem and (self.bar is None or self.bar == other.bar)

    def __str__(self) -> str:
        return self.stem if self.bar is None else f"{self.stem}@{self.bar}"


# -- what plays -----------------------------------------------------------------------
@dataclasses.dataclass
class PlayMeta:
    """What the page, /api/history and the ICY title show of a segment."""
    id: int
    qpm: float
    bars: int
    seconds: float
    start_qpm: float = 0.0
    ramp_beats: float = 0.0
    anchors: tuple = ("", "")
    t: float = 0.0
    humanized: bool = False
    notes: dict = dataclasses.field(default_factory=dict)     # part → note count
    mix: str = ""                                             # the mix's label
    temperature: float = 1.0
    sound: str | None = None                                  # the sound preset's name
    programs: dict = dataclasses.field(default_factory=dict)  # lead, bass: GM programs; drums: kit
    restored: bool = False                                    # played before this run started
    band: dict | None = None       # band mode: {keep: [parts], source: "set/file", window, windows}
    song: dict | None = None       # a song's section: {id, title, form, section, name, bars, start_bar, …}
    model: str = ""                # whose model made it: a learned set's name; "" the station's own

    def title(self) -> str:
        """The ICY StreamTitle: a song's title (it changes at the song boundary), else the
        segment's mix and number."""
        if self.song is not None:
            return f"{self.song['title']} ({self.mix})"
        return f"{self.mix} · segment {self.id} · {self.qpm:g} bpm"

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["anchors"] = list(self.anchors)
        if not self.restored:
            del out["restored"]
        if self.sound is None:
            del out["sound"], out["programs"]
        if self.band is None:
            del out["band"]
        if self.song is None:
            del out["song"]
        if not self.model:
            del out["model"]
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "PlayMeta":
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["anchors"] = tuple(values.get("anchors", ("", "")))
        return cls(**values)


@dataclasses.dataclass
class SegmentData:
    """A segment as plain data, as it crosses the process boundary: its notes as
    [part index, pitch, start s, end s, velocity] and the latent point it came from."""
    id: int
    qpm: float
    bars: int
    seconds: float
    notes: list = dataclasses.field(default_factory=list)
    z: list | None = None

    @property
    def duration(self) -> float:
        return self.seconds


@dataclasses.dataclass
class Rendered:
    """One segment ready to play: the generator process's output, the playout's input.
    `midi` is the segment as played (GM programs set), so the server never needs a MIDI
    library; `walk_position` is where the walk stood after it (saved with the state)."""
    segment: SegmentData
    audio: Audio
    meta: PlayMeta
    mix_version: int
    midi: bytes = b""
    walk_position: list | None = None
    stage_seconds: dict = dataclasses.field(default_factory=dict)   # decode, render: wall seconds
    cue: tuple | None = None           # (gain, loss) dB landing it at the master's target (a change of style)


# ── model folders ───────────────────────────────────────────────────────────────────
CARD_NAME = "model.json"                                  # a model folder's card: config + hparams
TRIO_CONFIGS = ("hierdec-trio_16bar", "flat-trio_16bar")  # the MusicVAE configs we serve
PRECISIONS = ("auto", "float32", "bfloat16")              # `radio train/learn --precision` (offline/precision.py)


def config_in_name(path) -> str | None:
    """The trio config an official checkpoint's file or folder name carries, if any
    (the longest match first)."""
    return next((n for n in sorted(TRIO_CONFIGS, key=len, reverse=True) if n in Path(path).name), None)
