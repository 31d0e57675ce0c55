"""The walk's anchors: every 16-bar trio segment of the seed files, encoded to z, with its
lead's and bass's moves counted (generator/styles.py) and its file's arrangement
(music/arrangement.py), and the cache that keeps them across restarts (a folder per hash of
the model's files)."""

from __future__ import annotations

import hashlib
import io
import logging
from pathlib import Path

import numpy as np

from ..config import Settings
from ..contracts import SeedRef
from ..model.style import MOVES
from ..model.trio import tensors_to_ids
from ..music import arrangement, seeds
from ..music.composer import Anchor
from ..music.seedsets import SeedLibrary
from ..support.state import write_atomic
from .styles import segment_moves

log = logging.getLogger("radio.pipeline")


def encode_file(model, set_name: str, path: Path, cache: Path | None = None) -> list[Anchor]:
    """The anchors of one seed file: each 16-bar trio segment, encoded. With `cache` (a
    folder per model), the encodings are kept there under the file's content hash, so a
    restart skips parsing and encoding files it has seen. An entry written before a count was
    added lacks it and is made again."""
    kept = None
    if cache is not None:
        kept = cache / f"{hashlib.sha256(path.read_bytes()).hexdigest()[:32]}.npz"
        try:
            with np.load(kept) as f:
                z, qpm, bars, moves, arranged = f["z"], f["qpm"], f["bars"], f["moves"], f["arrangement"]
            if moves.shape[-2:] == (len(MOVES), 2):      # else counted before a move was added
                return [Anchor(z=zi, qpm=float(q), label=str(SeedRef(set_name, path.stem, int(b))), set=set_name,
                               moves=m, arrangement=arranged) for zi, q, b, m in zip(z, qpm, bars, moves)]
        except (OSError, KeyError, ValueError):
            pass             # not cached yet (or damaged): encode
    segments, report, ns = seeds.import_file(path, model.converter)
    log.info("seed %s/%s", set_name, report.line())
    z = model.encode([s.tensor for s in segments]) if segments else np.zeros((0, 1), np.float32)
    moves = np.array([segment_moves(tensors_to_ids(s.tensor[None])) for s in segments],
                     np.int64).reshape(len(segments), 2, len(MOVES), 2)
    arranged = arrangement.counts(ns) if segments else np.zeros((len(arrangement.ROWS), 2), np.int64)
    if kept is not None:
        buf = io.BytesIO()
        np.savez(buf, z=z, qpm=np.array([s.qpm for s in segments], np.float64),
                 bars=np.array([s.start_bar for s in segments], np.int64), moves=moves, arrangement=arranged)
        try:
            write_atomic(kept, buf.getvalue())
        except OSError as e:
            log.warning("cannot cache the anchors of %s in %s: %s", path, cache, e)
    return [Anchor(z=zi, qpm=s.qpm, label=str(SeedRef(set_name, path.stem, s.start_bar)), set=set_name, moves=m,
                   arrangement=arranged) for zi, s, m in zip(z, segments, moves)]


def model_hash(path) -> str:
    """A hash of the model's files (the checkpoint and its card), for the anchor cache."""
    h = hashlib.sha256()
    root = Path(path)
    files = sorted(p for p in root.iterdir() if p.is_file()) if root.is_dir() else [root]
    for p in files:
        h.update(p.name.encode())
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:16]


def anchor_cache(settings: Settings) -> Path | None:
    """<data>/cache/anchors/<hash of the model's files>, or None if the model is not a folder."""
    try:
        return Path(settings.data) / "cache" / "anchors" / model_hash(settings.model)
    except OSError:
        return None


def load_anchors(model, folder: Path) -> list[Anchor]:
    """Every file of a seed folder (one subfolder a set), encoded."""
    return [a for name, path in SeedLibrary(folder).files() for a in encode_file(model, name, path)]
