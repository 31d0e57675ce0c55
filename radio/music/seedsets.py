"""Seed sets on disk: `<root>/<set>/<file>.mid`, one folder a set (a band, a genre).

The station's own copy lives in its data folder, made from the sets that ship in the
package on first start, so uploads and deletes never touch the package. Every name from
outside is checked against a strict pattern and every path is resolved and must stay under
the root; a file is validated as trio MIDI before it is kept, and written atomically.

Each set has a `manifest.json`: per kept file its sha256, segment count, the roles found
and where it came from, plus the set's transposition augmentation (used by training).
Files without an entry (copied in by hand) are validated and recorded when listed.
Every change to a set (a file kept or removed, its manifest entry) is made under one lock,
`<root>/.lock` (flock), which holds across threads and processes: the server's upload
threads, `radio seeds import`, a generator process. Manifests are only written whole,
atomically, by a read-modify-write inside that lock. The API cannot delete a manifest:
only MIDI files are files of a set.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import re
import shutil
import threading
import urllib.parse
from pathlib import Path

from ..contracts import MAX_UPLOAD_BYTES, MIDI_SUFFIXES, SET_NAME, RadioError  # noqa: E402  (the API refuses bigger uploads too)
from ..support.state import write_atomic
from . import seeds

MANIFEST = "manifest.json"
MAX_TRANSPOSE = 6
LOCK = ".lock"


LEARN_MIN_FILES = 3     # `radio learn`: one held out to stop on, two or more to learn from


class SeedSetError(RadioError, ValueError):
    """A request about seed sets that cannot be done; `status` is the HTTP code it maps to."""
    status = 400


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
        self._held = threading.local()     # how deep this thread is in locked()

    @contextlib.contextmanager
    def locked(self):
        """The library's write lock (re-entrant within a thread; flock across processes:
        each holder opens its own descriptor, so threads exclude each other too)."""
        depth = getattr(self._held, "depth", 0)
        if depth:
            self._held.depth = depth + 1
            try:
                yield
            finally:
                self._held.depth = depth
            return
        with open(self.root / LOCK, "a+b") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            self._held.depth = 1
            try:
                yield
            finally:
                self._held.depth = 0
                fcntl.flock(f, fcntl.LOCK_UN)

    def _set_dir(self, name: str, must_exist: bool = True) -> Path:
        if not isinstance(name, str) or not SET_NAME.fullmatch(name):
            raise SeedSetError(f"set name {name!r:.60}: use 1–40 of a-z 0-9 _ - (lower case)")
        path = (self.root / name).resolve()
        if path.parent != self.root.resolve():
            raise SeedSetError(f"set name {name!r} points outside the seed folder")
        if must_exist and not path.is_dir():
            raise SeedSetError(f"no seed set named {name!r}", status=404)
        return path

    def sets(self) -> dict[str, list[Path]]:
        out = {}
        for d in sorted(p for p in self.root.iterdir() if p.is_dir() and SET_NAME.fullmatch(p.name)):
            out[d.name] = sorted(p for p in d.iterdir()
                                 if p.is_file() and p.suffix.lower() in MIDI_SUFFIXES)
        return out

    def files(self) -> list[tuple[str, Path]]:
        return [(name, p) for name, paths in self.sets().items() for p in paths]

    def manifest(self, set_name: str) -> dict:
        return read_manifest(self._set_dir(set_name))

    def learnable(self, set_name: str) -> list[Path]:
        """The files of a set `radio learn` can learn; SeedSetError (404: no such set, 400:
        too few files to hold some out) otherwise."""
        files = self.sets().get(set_name)
        if files is None:
            raise SeedSetError(f"no seed set {set_name!r:.60} (have: {', '.join(sorted(self.sets())) or 'none'}); "
                               f"add one with `radio seeds import DIR --set {set_name[:40]}`", 404)
        if len(files) < LEARN_MIN_FILES:
            raise SeedSetError(f"set {set_name!r} has {len(files)} file(s): learning holds out a quarter of a "
                               f"band's songs to know when to stop, so it needs {LEARN_MIN_FILES} or more")
        return files

    def learned(self) -> dict[str, Path]:
        """Set → the folder of the model `radio learn` made of it, for the sets that have
        one (the others are played by the station's own model)."""
        out = {}
        for name in self.sets():
            model = learned_model(self.manifest(name))
            if model is not None and Path(model["folder"]).is_dir():
                out[name] = Path(model["folder"])
        return out

    @contextlib.contextmanager
    def update_manifest(self, set_name: str):
        """Yields a set's manifest to change in place; written back atomically, all under
        the lock, so no concurrent change is lost."""
        with self.locked():
            data = self.manifest(set_name)
            yield data
            write_atomic(self._set_dir(set_name) / MANIFEST, json.dumps(data, indent=1, sort_keys=True).encode())

    def _record(self, set_name: str, path: Path, digest: str, report: seeds.FileReport,
                source: str) -> None:
        with self.update_manifest(set_name) as data:
            data["files"][path.name] = {"sha256": digest, "segments": report.segments,
                                        "roles": report.roles, "source": source}

    def summary(self, converter_factory) -> dict[str, dict]:
        """Per set: files, segments (unaugmented), transposition. Files the manifest does not
        know are validated now (`converter_factory()` is called only then) and recorded."""
        out = {}
        converter = None
        for name, paths in self.sets().items():
            data = self.manifest(name)
            stale = set(data["files"]) - {p.name for p in paths}
            new = {}
            for p in paths:
                if p.name in data["files"]:
                    continue
                converter = converter or converter_factory()
                report = seeds.FileReport(str(p))
                try:
                    found, report.roles = seeds.segments_from_sequence(seeds.read_midi(p), converter, p.name)
                    report.segments = len(found)
                except seeds.SeedImportError as e:
                    report.reason = str(e)
                new[p.name] = {"sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
                               "segments": report.segments, "roles": report.roles,
                               "source": "found in the set folder"}
            if stale or new:      # re-read under the lock: an upload may have come meanwhile
                with self.update_manifest(name) as data:
                    for gone in stale:
                        if not (self._set_dir(name) / gone).exists():
                            data["files"].pop(gone, None)
                    for file, entry in new.items():
                        data["files"].setdefault(file, entry)
            out[name] = {"files": len(paths), "transpose": data.get("transpose", 0),
                         "segments": sum(f["segments"] for f in data["files"].values())}
        return out

    def _known_digests(self) -> dict[bytes, str]:
        out = {}
        for name, path in self.files():
            entry = self.manifest(name)["files"].get(path.name)
            digest = bytes.fromhex(entry["sha256"]) if entry else hashlib.sha256(path.read_bytes()).digest()
            out[digest] = f"{name}/{path.name}"
        return out

    def import_folder(self, folder: Path, set_name: str, converter, transpose: int = 0,
                      progress: bool = True, echo=print) -> "ImportResult":
        """Imports every MIDI file under `folder` into a set; one report line per file.

        A bad file never stops the others; duplicates (same bytes as a kept file, in any
        set, or earlier in this folder) are skipped; nothing is written for a refused file.
        """
        from tqdm import tqdm
        if not 0 <= transpose <= MAX_TRANSPOSE:
            raise SeedSetError(f"--transpose {transpose}: allowed 0–{MAX_TRANSPOSE} semitones")
        folder = Path(folder)
        if not folder.is_dir():
            raise SeedSetError(f"{folder} is not a folder", 404)
        target_dir = self._set_dir(set_name, must_exist=False)
        paths = seeds.midi_files(folder)
        result = ImportResult(set_name)
        known = self._known_digests()
        bar = tqdm(paths, desc=f"import {set_name}", unit="file", disable=not progress or len(paths) < 20)
        for path in bar:
            line = self._import_one(path, set_name, target_dir, converter, transpose, known, result)
            (bar.write if not bar.disable else echo)(line)
        bar.close()
        if result.kept:
            with self.update_manifest(set_name) as data:
                data["transpose"] = transpose
        return result

    def _import_one(self, path, set_name, target_dir, converter, transpose, known, result) -> str:
        name = path.name
        try:
            data = path.read_bytes()
        except OSError as e:
            result.dropped += 1
            return f"dropped {name}: cannot read ({e.strerror})"
        digest = hashlib.sha256(data).digest()
        if digest in known:
            result.duplicates += 1
            return f"skipped {name}: duplicate of {known[digest]}"
        report = seeds.FileReport(str(path))
        try:
            seeds.check_name(path)
            found, report.roles = seeds.segments_from_sequence(
                seeds.parse_midi(data), converter, name, transpose=transpose)
            report.segments = len(found)
        except seeds.SeedImportError as e:
            result.dropped += 1
            reason = str(e).split(" (")[0]
            result.reasons[reason] = result.reasons.get(reason, 0) + 1
            return f"dropped {name}: {e}"
        with self.locked():
            target = target_dir / clean_file_name(name)
            n = 2
            while target.exists():  # same name, other content: keep both
                target = target_dir / f"{Path(clean_file_name(name)).stem}_{n}.mid"
                n += 1
            write_atomic(target, data)
            self._record(set_name, target, digest.hex(), report, str(path))
        known[digest] = f"{set_name}/{target.name}"
        result.kept += 1
        result.segments += report.segments
        return f"kept    {name}: {report.segments} segment(s) [{report.roles}]"

    def add(self, set_name: str, file_name: str, data: bytes, converter) -> tuple[Path, seeds.FileReport]:
        """Validates and keeps one uploaded file; refuses it (nothing written) otherwise."""
        if len(data) > MAX_UPLOAD_BYTES:
            raise SeedSetError(f"file is {len(data)} bytes; the limit is {MAX_UPLOAD_BYTES}", 413)
        folder = self._set_dir(set_name, must_exist=False)
        target = folder / clean_file_name(file_name)
        digest = hashlib.sha256(data).digest()
        self._check_new(set_name, target, digest)       # cheap refusals before the slow check
        report = seeds.FileReport(target.name)
        try:
            found, report.roles = seeds.segments_from_sequence(
                seeds.parse_midi(data), converter, target.name)
            report.segments = len(found)
        except seeds.SeedImportError as e:
            raise SeedSetError(f"{file_name:.80}: {e}", 422) from None
        with self.locked():        # checked again: another upload may have kept it meanwhile
            self._check_new(set_name, target, digest)
            write_atomic(target, data)
            self._record(set_name, target, digest.hex(), report, f"upload {file_name:.200}")
        return target, report

    def _check_new(self, set_name: str, target: Path, digest: bytes) -> None:
        kept = self._known_digests().get(digest)
        if kept is not None:
            raise SeedSetError(f"the same file is already kept as {kept}", 409)
        if target.exists():
            raise SeedSetError(f"{set_name}/{target.name} exists; delete it first or rename", 409)

    def remove(self, set_name: str, file_name: str | None = None) -> list[Path]:
        """Deletes one file of a set, or the whole set when no file is named."""
        folder = self._set_dir(set_name)
        with self.locked():
            if file_name is None:
                removed = self.sets().get(set_name, [])
                model = learned_model(self.manifest(set_name))
                shutil.rmtree(folder)
                # the model `radio learn` made of this set goes with it (never a folder elsewhere)
                model = Path(model["folder"]) if model is not None else None
                if model is not None and model.name == set_name and model.parent.name == "models" and model.is_dir():
                    shutil.rmtree(model, ignore_errors=True)
                return removed
            target = (folder / file_name).resolve()
            # only a set's MIDI files are its files: its manifest is not for clients to delete
            if target.parent != folder or target.suffix.lower() not in MIDI_SUFFIXES \
                    or not target.is_file():
                raise SeedSetError(f"no MIDI file {file_name!r:.80} in seed set {set_name!r}", 404)
            target.unlink()
            with self.update_manifest(set_name) as data:
                data["files"].pop(target.name, None)
            return [target]


def learned_model(manifest: dict) -> dict | None:
    """The manifest's `model` entry (written by `radio learn`: folder, files, …), or None
    when it has none or a hand-edited one is malformed (read as no model, never a crash)."""
    model = manifest.get("model")
    if isinstance(model, dict) and isinstance(model.get("folder"), str) and model["folder"] \
            and isinstance(model.get("files", []), list):
        return model
    return None


def unlearned(manifest: dict) -> list[str] | None:
    """The set's files that its learned model (`radio learn`) has not seen: None when it
    has no model, [] when the model is current."""
    model = learned_model(manifest)
    if model is None:
        return None
    return sorted(set(manifest.get("files", {})) - set(map(str, model.get("files", []))))


def read_manifest(folder: Path) -> dict:
    """A set folder's manifest; missing or damaged reads as empty (rebuilt by `summary`)."""
    try:
        data = json.loads((Path(folder) / MANIFEST).read_text())
        if isinstance(data.get("files"), dict):
            return data
    except (OSError, ValueError, AttributeError):
        pass
    return {"transpose": 0, "files": {}}


@dataclasses.dataclass
class ImportResult:
    set: str
    kept: int = 0
    segments: int = 0       # with augmentation
    duplicates: int = 0
    dropped: int = 0
    reasons: dict = dataclasses.field(default_factory=dict)

    def summary(self) -> str:
        why = ", ".join(f"{k} ×{v}" for k, v in sorted(self.reasons.items()))
        return (f"{self.set}: kept {self.kept} file(s), {self.segments} segment(s); "
                f"{self.duplicates} duplicate(s) skipped; {self.dropped} dropped" + (f" ({why})" if why else ""))


def station_library(settings) -> SeedLibrary:
    """The station's seed sets (settings.seed_folder()), made from the shipped ones when the
    folder does not exist yet."""
    from ..config import ASSETS
    return SeedLibrary(settings.seed_folder(), defaults=ASSETS / "seeds")
