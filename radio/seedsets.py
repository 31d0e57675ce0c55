"""Seed sets on disk: `<root>/<set>/<file>.mid`, one folder a set (a band, a genre).

The station's own copy lives in its data folder, made from the sets that ship in the
package on first start, so uploads and deletes never touch the package. Every name from
outside is checked against a strict pattern and every path is resolved and must stay under
the root; a file is validated as trio MIDI before it is kept, and written atomically.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import urllib.parse
from pathlib import Path

from . import seeds

SET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_UPLOAD_BYTES = 2 * 1024 * 1024


class SeedSetError(ValueError):
    """A request about seed sets that cannot be done; `status` is the HTTP code it maps to."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def clean_file_name(name: str) -> str:
    """A safe file name from whatever a client sent: no folders, no odd characters, .mid."""
    # some clients percent-encode the multipart file name (aiohttp's does)
    base = re.split(r"[\\/]", urllib.parse.unquote(name or ""))[-1]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(base).stem).strip("._-")[:80]
    if not stem:
        raise SeedSetError(f"file name {name!r} has nothing usable in it")
    return stem + ".mid"


class SeedLibrary:
    def __init__(self, root: Path, defaults: Path | None = None):
        self.root = Path(root)
        if not self.root.exists() and defaults is not None:
            shutil.copytree(defaults, self.root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _set_dir(self, name: str, must_exist: bool = True) -> Path:
        if not isinstance(name, str) or not SET_NAME.match(name):
            raise SeedSetError(f"set name {name!r}: use 1–40 of a-z 0-9 _ - (lower case)")
        path = (self.root / name).resolve()
        if path.parent != self.root.resolve():
            raise SeedSetError(f"set name {name!r} points outside the seed folder")
        if must_exist and not path.is_dir():
            raise SeedSetError(f"no seed set named {name!r}", status=404)
        return path

    def sets(self) -> dict[str, list[Path]]:
        out = {}
        for d in sorted(p for p in self.root.iterdir() if p.is_dir() and SET_NAME.match(p.name)):
            out[d.name] = sorted(p for p in d.iterdir()
                                 if p.is_file() and p.suffix.lower() in seeds.MIDI_SUFFIXES)
        return out

    def files(self) -> list[tuple[str, Path]]:
        return [(name, p) for name, paths in self.sets().items() for p in paths]

    def add(self, set_name: str, file_name: str, data: bytes, converter) -> tuple[Path, seeds.FileReport]:
        """Validates and keeps one uploaded file; refuses it (nothing written) otherwise."""
        if len(data) > MAX_UPLOAD_BYTES:
            raise SeedSetError(f"file is {len(data)} bytes; the limit is {MAX_UPLOAD_BYTES}", 413)
        folder = self._set_dir(set_name, must_exist=False)
        target = folder / clean_file_name(file_name)
        digest = hashlib.sha256(data).digest()
        for _, existing in self.files():
            if existing.stat().st_size == len(data) and \
                    hashlib.sha256(existing.read_bytes()).digest() == digest:
                raise SeedSetError(f"the same file is already kept as {existing.parent.name}/{existing.name}", 409)
        if target.exists():
            raise SeedSetError(f"{set_name}/{target.name} exists; delete it first or rename", 409)
        report = seeds.FileReport(target.name)
        try:
            found, report.roles = seeds.segments_from_sequence(
                seeds.parse_midi(data), converter, target.name)
            report.segments = len(found)
        except seeds.SeedImportError as e:
            raise SeedSetError(f"{file_name}: {e}", 422) from None
        folder.mkdir(exist_ok=True)
        tmp = folder / f".{target.name}.{os.getpid()}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, target)
        return target, report

    def remove(self, set_name: str, file_name: str | None = None) -> list[Path]:
        """Deletes one file of a set, or the whole set when no file is named."""
        folder = self._set_dir(set_name)
        if file_name is None:
            removed = self.sets().get(set_name, [])
            shutil.rmtree(folder)
            return removed
        target = (folder / file_name).resolve()
        if target.parent != folder or not target.is_file():
            raise SeedSetError(f"no file {file_name!r} in seed set {set_name!r}", 404)
        target.unlink()
        return [target]
