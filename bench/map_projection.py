#!/usr/bin/env python
"""The map's projection: how well the page's 2-D map keeps neighbours of the model's z.

For each point, the share of its 5 nearest neighbours in z (Euclidean) that are among its
10 nearest on the map, averaged (station/latentmap.neighbours_kept). Printed for the PCA the
station fits (latentmap.Projection) and, beside it, for random Gaussian projections to 2-D
(median and range of 20 seeds), on:

- the shipped seed sets' anchors (what the default station maps);
- each real band source of bandfiles.py with MIDI on this machine (freedoom1, freedoom2,
  freedink, ...), imported as one seed set would be: a musician's own band on the map;
- all of them together, as one station's sets.

Plus what the map costs: the /api/map document for the shipped anchors and a 32-segment
trail, raw and gzipped, and the time to build it and to project one point.

    TF_USE_LEGACY_KERAS=1 .venv/bin/python bench/map_projection.py [--model DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from conditions import Conditions  # noqa: E402

from radio.station.latentmap import LatentMap, Projection, neighbours_kept  # noqa: E402


def encode_folder(model, folder: Path) -> tuple[list[str], np.ndarray]:
    from radio.generator.anchors import load_anchors
    anchors = load_anchors(model, folder)
    return [a.label for a in anchors], np.stack([a.z for a in anchors]) if anchors else np.zeros((0, 1))


def figures(name: str, zs: np.ndarray) -> None:
    if len(zs) < 12:
        print(f"{name}: {len(zs)} anchors, too few to measure")
        return
    pca = neighbours_kept(zs, Projection.fit(zs)(zs))
    rng = np.random.default_rng(0)
    rand = [neighbours_kept(zs, zs @ rng.normal(size=(zs.shape[1], 2))) for _ in range(20)]
    print(f"{name}: {len(zs)} anchors · PCA {pca:.2f} · random projection median {np.median(rand):.2f} "
          f"({min(rand):.2f}–{max(rand):.2f}) · goal ≥ 0.5 {'met' if pca >= 0.5 else 'NOT met'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None, help="model folder (default: the shipped one)")
    args = ap.parse_args()
    with Conditions():
        run(args)


def run(args) -> None:
    from radio.config import ASSETS
    from radio.model.numpy_engine import NumpyTrioModel
    from radio.offline import bandfiles
    model = NumpyTrioModel(args.model) if args.model else NumpyTrioModel()
    labels, zs = encode_folder(model, ASSETS / "seeds")
    figures("shipped seed sets", zs)
    pooled = [zs]
    for source in bandfiles.SOURCES:
        try:
            with tempfile.TemporaryDirectory() as tmp:
                if bandfiles.extract(source, Path(tmp)):
                    band = encode_folder(model, Path(tmp))[1]
                    figures(f"{source.name} (one set)", band)
                    pooled += [band] if len(band) else []
        except (OSError, bandfiles.WadError) as e:
            print(f"{source.name}: skipped ({e})")
    figures("all of the above as sets of one station", np.concatenate(pooled))

    m = LatentMap()
    t0 = time.perf_counter()
    m.set_anchors(list(zip(labels, zs)))
    fit_s = time.perf_counter() - t0
    trail = [types.SimpleNamespace(segment=types.SimpleNamespace(id=i, z=zs[i % len(zs)], duration=30.0),
                                   start=30.0 * i, meta=types.SimpleNamespace(song=None)) for i in range(32)]
    t0 = time.perf_counter()
    body, gz, _ = m.document(trail, [], 0)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(1000):
        m.point(zs[0])
    print(f"/api/map for the shipped anchors + a 32-segment trail: {len(body)} B raw, {len(gz)} B gzipped; "
          f"fit {fit_s * 1e3:.1f} ms, build {build_s * 1e3:.1f} ms (once per change: a segment start, a vote), "
          f"one point {(time.perf_counter() - t0):.3f} ms")


if __name__ == "__main__":
    main()
