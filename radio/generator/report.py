"""What the generator process reports to the station with each segment: the mix, the seed
sets as the walk sees them, the anchors (when they changed), whose model plays and which
learned models are older than their set's files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..contracts import SeedRef


def status(pipeline, mix_version: int, restarts: int, send_anchors: bool) -> dict:
    anchors = [(a.label, np.asarray(a.z, np.float32)) for a in pipeline.anchors] if send_anchors else None
    return {"mix": pipeline.mix.to_dict(), "mix_version": mix_version, "sets": seed_sets(pipeline),
            "anchors": anchors,
            "missing_soundfonts": sorted(pipeline.renderer.missing if pipeline.renderer is not None else ()),
            "restarts": restarts, "model": pipeline.model_key, "learned": learned(pipeline)}


def learned(pipeline) -> dict:
    """Each set `radio learn` made a model of → its files that model has not seen."""
    from ..music.seedsets import unlearned
    library = pipeline.library
    return {name: {"unlearned": unlearned(library.manifest(name)) or []} for name in library.learned()}


def seed_sets(pipeline) -> dict:
    """Seed set → its files: name, bytes, and the segments the walk has from it."""
    counts: dict[str, int] = {}
    for a in pipeline.anchors:
        ref = SeedRef.try_parse(a.label)
        if ref:
            counts[ref.stem] = counts.get(ref.stem, 0) + 1
    return {name: [{"name": p.name, "bytes": _size(p), "segments": counts.get(f"{name}/{Path(p).stem}", 0)}
                   for p in paths]
            for name, paths in pipeline.library.sets().items()}


def _size(p) -> int:
    try:
        return Path(p).stat().st_size
    except OSError:
        return 0
