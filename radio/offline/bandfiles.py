"""Real, human-composed band MIDI that Debian packages ship, gathered into plain files.

Offline tooling (corpus, benches, reference sets): the station never imports it. Each
source records where it comes from and its licence, so a corpus manifest can carry both.
Freedoom keeps its music as MIDI lumps (`D_*`) inside its WADs; freedink-data,
planetblupi-music-midi and openttd-openmsx ship plain `.mid` files. freedoom2 and freedink
are the held-out real-band reference set (`held_out`): a training corpus takes none of
them. No corpus takes OpenMSX either (corpus.GAME_SOURCES), so no model has heard it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import struct
from pathlib import Path

from ..contracts import RadioError


@dataclasses.dataclass(frozen=True)
class Source:
    name: str          # short id, used as the folder and the manifest's `source`
    package: str       # the Debian package that ships it
    path: Path         # a WAD file or a folder of .mid files
    license: str       # SPDX-style id or a short name, with the package's copyright file
    copyright: str     # where the package states it
    held_out: bool = False  # the real-band reference set for evaluation: never in a corpus


SOURCES = (
    Source("freedoom1", "freedoom", Path("/usr/share/games/doom/freedoom1.wad"),
           "BSD-3-Clause", "/usr/share/doc/freedoom/copyright"),
    Source("freedoom2", "freedoom", Path("/usr/share/games/doom/freedoom2.wad"),
           "BSD-3-Clause", "/usr/share/doc/freedoom/copyright", held_out=True),
    Source("freedink", "freedink-data", Path("/usr/share/games/dink/dink/Sound"),
           "see copyright (zlib-style / GPL-3+ / CC-BY-3.0 per file)", "/usr/share/doc/freedink-data/copyright",
           held_out=True),
    # Planet Blupi's ten game tunes (1997, EPSITEC), plain .mid files.
    Source("blupi", "planetblupi-music-midi", Path("/usr/share/planetblupi/music"),
           "GPL-3+", "/usr/share/doc/planetblupi-music-midi/copyright"),
    # OpenMSX, OpenTTD's music set (2010, several composers): jazz, blues, ragtime, swing.
    Source("openmsx", "openttd-openmsx", Path("/usr/share/games/openttd/baseset/openmsx"),
           "GPL-2.0-only", "/usr/share/doc/openttd-openmsx/copyright"),
)
HELD_OUT = tuple(s.name for s in SOURCES if s.held_out)


class WadError(RadioError, ValueError):
    """Not a Doom WAD, or a damaged one."""
    status = 400


def wad_midi_lumps(wad: Path) -> dict[str, bytes]:
    """The `D_*` music lumps of a WAD that are Standard MIDI files (MUS lumps are skipped)."""
    data = wad.read_bytes()
    if len(data) < 12 or data[:4] not in (b"IWAD", b"PWAD"):
        raise WadError(f"{wad}: not a WAD file")
    count, table = struct.unpack_from("<ii", data, 4)
    if count < 0 or table < 12 or table + 16 * count > len(data):
        raise WadError(f"{wad}: damaged lump table")
    lumps = {}
    for i in range(count):
        pos, size, raw = struct.unpack_from("<ii8s", data, table + 16 * i)
        name = raw.split(b"\0")[0].decode("ascii", "replace")
        body = data[pos:pos + size]
        if name.startswith("D_") and body[:4] == b"MThd":
            lumps[name] = body
    return lumps


def by_name(name: str) -> Source:
    return next(s for s in SOURCES if s.name == name)


def midi_items(source: Source) -> dict[str, bytes]:
    """{song name: Standard MIDI bytes} of a source, in a fixed order; {} if its package is absent."""
    if not source.path.exists():
        return {}
    if source.path.is_dir():
        return {p.stem: p.read_bytes() for p in sorted(source.path.glob("*.mid"))}
    return wad_midi_lumps(source.path)


def extract(source: Source, out: Path) -> list[Path]:
    """Writes the source's MIDI files under `out/<source.name>/`; [] if the package is absent.
    Files with the same bytes as one already written (in any source) are skipped."""
    items = midi_items(source)
    if not items:
        return []
    folder = out / source.name
    folder.mkdir(parents=True, exist_ok=True)
    seen = {hashlib.sha256(p.read_bytes()).hexdigest() for p in out.glob("*/*.mid")}
    written = []
    for name, body in items.items():
        digest = hashlib.sha256(body).hexdigest()
        path = folder / f"{name.lower()}.mid"
        if digest in seen and not path.exists():
            continue
        seen.add(digest)
        path.write_bytes(body)
        written.append(path)
    return written
