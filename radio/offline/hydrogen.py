"""Hydrogen drum machine songs (`.h2song`, plain XML) → General MIDI drum parts.

Offline tooling for the corpus: Debian's hydrogen-data ships seven human-programmed demo
songs. A song is a list of patterns (one 4/4 bar is 192 ticks, 48 a quarter) and a
pattern sequence (one column a bar, several patterns may sound at once). Instruments are
mapped to GM drum pitches by their names, not by their `midiOutNote`: the TR-808 kit
numbers its instruments 36, 37, 38 … in kit order, so its "Closed Hat" would come out as
GM's pedal hat.
"""

from __future__ import annotations

import dataclasses
import gzip
import xml.etree.ElementTree as ET
from pathlib import Path

DEMO_SONGS = Path("/usr/share/hydrogen/data/demo_songs")
PACKAGE = "hydrogen-data"
LICENSE = "GPL-2+"
COPYRIGHT = "/usr/share/doc/hydrogen-data/copyright"
TICKS_PER_QUARTER = 48
BAR_TICKS = 4 * TICKS_PER_QUARTER

# Instrument names in Hydrogen's stock kits (GMRockKit, TR808EmulationKit, …) → GM pitch.
GM_BY_NAME = {
    "kick": 36, "kick long": 36, "kick short": 35, "bass drum": 36,
    "stick": 37, "side stick": 37, "rimshot": 37,
    "snare": 38, "snare 1": 38, "snare 2": 40, "snare rimshot": 40, "snare jazz": 38,
    "hand clap": 39, "clap": 39,
    "floor tom": 41, "tom low": 45, "tom 2": 45, "tom mid": 47, "tom 1": 48, "tom hi": 50,
    "tom high": 50,
    "hat closed": 42, "closed hat": 42, "hihat closed": 42,
    "hat pedal": 44, "pedal hat": 44,
    "hat open": 46, "open hat": 46, "hat semi-open": 46, "hihat open": 46,
    "crash": 49, "cymbal": 49, "splash": 55, "china": 52,
    "ride": 51, "ride 2": 59, "ride jazz": 51, "bell": 53, "ride bell": 53,
    "cowbell": 56, "shaker": 70, "maracas": 70, "conga": 63, "clave": 75, "tambourine": 54,
}


@dataclasses.dataclass
class DrumPart:
    """A drum part on Hydrogen's tick grid: (GM pitch, tick from the start, velocity 1–127)."""
    name: str
    title: str
    author: str
    bpm: float
    bars: int
    hits: list[tuple[int, int, int]]
    unmapped: list[str]            # instrument names with notes that have no GM pitch here


def gm_pitch(name: str) -> int | None:
    key = " ".join(name.lower().replace("_", " ").split())
    if key in GM_BY_NAME:
        return GM_BY_NAME[key]
    for word, pitch in (("kick", 36), ("snare", 38), ("clap", 39), ("ride", 51), ("crash", 49),
                        ("cowbell", 56), ("tom", 45)):
        if word in key:
            return pitch
    if "hat" in key:
        return 46 if "open" in key else 44 if "pedal" in key else 42
    return None


def _root(path: Path) -> ET.Element:
    data = Path(path).read_bytes()
    if data[:2] == b"\x1f\x8b":  # some Hydrogen versions gzip their songs
        data = gzip.decompress(data)
    return ET.fromstring(data)


def read_song(path: Path) -> DrumPart:
    """The song's drum part: its pattern sequence played once, a bar a column; columns
    that are not one 4/4 bar long are left out."""
    root = _root(path)
    names = {i.findtext("id"): (i.findtext("name") or "") for i in root.iter("instrument")
             if i.find("id") is not None}
    patterns = {}
    for p in root.iter("pattern"):
        notes = []
        for n in p.iter("note"):
            if (n.findtext("note_off") or "false") == "true":
                continue
            if float(n.findtext("probability") or 1) < 0.5:
                continue
            notes.append((n.findtext("instrument"), int(n.findtext("position") or 0),
                          float(n.findtext("velocity") or 0.8)))
        patterns[p.findtext("name")] = (int(p.findtext("size") or BAR_TICKS), notes)
    sequence = root.find("patternSequence")
    columns = [[pid.text for pid in group.iter("patternID")] for group in sequence] if sequence is not None else []
    hits: list[tuple[int, int, int]] = []
    unmapped: set[str] = set()
    bars = 0
    for column in columns:
        used = [patterns[c] for c in column if c in patterns]
        if not used or max(size for size, _ in used) != BAR_TICKS:
            continue
        for _, notes in used:
            for inst, pos, vel in notes:
                if pos >= BAR_TICKS:
                    continue
                pitch = gm_pitch(names.get(inst, ""))
                if pitch is None:
                    unmapped.add(names.get(inst, inst or "?"))
                    continue
                hits.append((pitch, bars * BAR_TICKS + pos, max(1, min(127, round(vel * 127)))))
        bars += 1
    hits.sort(key=lambda h: (h[1], h[0]))
    return DrumPart(Path(path).stem, root.findtext("name") or "", root.findtext("author") or "",
                    float(root.findtext("bpm") or 120), bars, hits, sorted(unmapped))


def demo_songs() -> list[Path]:
    """The demo songs hydrogen-data ships; [] when it is not installed."""
    return sorted(DEMO_SONGS.glob("*.h2song")) if DEMO_SONGS.is_dir() else []
