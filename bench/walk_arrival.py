#!/usr/bin/env python
"""How soon a one-set mix is recognisable, segment by segment (context for walk_eval's in-style).

walk_eval's in-style figure scores the first --per-set (8) segments of a fresh walk per set.
This prints the same nearest-seed test (each output segment encoded again; nearer one of
its own set's seed segments than any other set's?) by position in the walk, for
- fresh: a walk created with the one-set mix, as walk_eval does;
- change: a walk that played --before segments of the default mix (all sets) and is then
  retargeted to the one set mid-walk (the station's mix change: the new leg leaves from
  where the walk stands, in steps of at most max_step).
Also each one-set walk's near-duplicate share (walk_eval's repetition: ≥ 90 % of notes shared
with an earlier segment of the same walk), so a walk that stays in a set is seen not to loop.
--ceiling: the same test on the seed segments' own encodings decoded (3 seeds), and on
slerp midpoints between two seed segments of one set: how high the measure can go.

    .venv/bin/python bench/walk_arrival.py [--segments 24] [--runs 12] [--before 4] [--ceiling]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
from walk_eval import repetition

from radio.config import ASSETS, Settings
from radio.generator.anchors import load_anchors
from radio.model import load_model
from radio.music.composer import LatentWalk, slerp
from radio.music.segment import MODEL_QPM, retime


def own_nearest(model, anchors, walk, s, n) -> tuple[list[bool], float]:
    Z = np.stack([a.z for a in anchors])
    labels = np.array([a.set for a in anchors])
    outs = [next(walk) for _ in range(n)]
    tensors = [np.asarray(model.converter.to_tensors(retime(g.sequence, MODEL_QPM, g.qpm)).inputs[0], np.float32)
               for g in outs]
    hits = []
    for zi in model.encode(tensors):
        d = np.linalg.norm(Z - zi, axis=1)
        hits.append(bool(d[labels == s].min() < d[labels != s].min()))
    return hits, repetition(outs)


def nearest_own(model, anchors, zs, sets, temperature) -> list[bool]:
    Z = np.stack([a.z for a in anchors])
    labels = np.array([a.set for a in anchors])
    seqs = []
    for i in range(0, len(zs), 4):
        seqs += model.decode(np.stack(zs[i:i + 4]), temperature)
    tensors = [np.asarray(model.converter.to_tensors(q).inputs[0], np.float32) for q in seqs]
    return [bool(labels[np.linalg.norm(Z - zi, axis=1).argmin()] == s)
            for zi, s in zip(model.encode(tensors), sets)]


def ceiling(model, anchors, temperature) -> None:
    hits = []
    for seed in (1, 2, 3):
        model.rng = np.random.default_rng(seed)
        hits += nearest_own(model, anchors, [a.z for a in anchors], [a.set for a in anchors], temperature)
    print(f"ceiling: seed segments' own encodings decoded, nearest one of their set: {np.mean(hits):.3f} "
          f"({len(hits)})")
    pairs = [(a, b) for i, a in enumerate(anchors) for b in anchors[i + 1:] if a.set == b.set]
    model.rng = np.random.default_rng(1)
    hits = nearest_own(model, anchors, [slerp(a.z, b.z, 0.5) for a, b in pairs], [a.set for a, _ in pairs],
                       temperature)
    print(f"slerp midpoints between two seed segments of one set: {np.mean(hits):.3f} ({len(hits)})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--segments", type=int, default=24)
    ap.add_argument("--runs", type=int, default=12, help="seeds 1 … runs")
    ap.add_argument("--before", type=int, default=4, help="change: default-mix segments before the change")
    ap.add_argument("--model", default=str(ASSETS / "model"))
    ap.add_argument("--ceiling", action="store_true", help="only the ceiling figures")
    args = ap.parse_args()
    t0 = time.monotonic()
    settings = Settings.from_env(data=tempfile.mkdtemp())
    model = load_model(args.model, engine="numpy", batch_size=4, seed=1, data=tempfile.mkdtemp())
    anchors = load_anchors(model, ASSETS / "seeds")
    sets = sorted({a.set for a in anchors})
    print(f"{len(anchors)} seed segments in {len(sets)} sets; temperature {settings.temperature}; "
          f"seeds 1–{args.runs}; share of segments nearer their own set's seeds, by position")
    if args.ceiling:
        ceiling(model, anchors, settings.temperature)
        return
    for kind in ("fresh", "change"):
        table, dup = np.zeros((args.runs, args.segments)), []
        for r, seed in enumerate(range(1, args.runs + 1)):
            model.rng = np.random.default_rng(seed)
            rows, reps = [], []
            for s in sets:
                if kind == "fresh":
                    walk = LatentWalk(model, anchors, steps_per_leg=4, temperature=settings.temperature,
                                      seed=seed, weights={s: 1.0}, qpm=MODEL_QPM)
                else:
                    walk = LatentWalk(model, anchors, steps_per_leg=4, temperature=settings.temperature,
                                      seed=seed, weights={x: 1.0 for x in sets}, qpm=MODEL_QPM)
                    for _ in range(args.before):
                        next(walk)
                    walk.retarget(weights={s: 1.0})
                hits, rep = own_nearest(model, anchors, walk, s, args.segments)
                rows.append(hits)
                reps.append(rep)
            table[r] = np.mean(rows, axis=0)
            dup.append(np.mean(reps))
        print(f"\n{kind}: by position (mean over seeds): " + " ".join(f"{x:.2f}" for x in table.mean(axis=0)))
        for k in range(0, args.segments, 8):
            per = table[:, k:k + 8].mean(axis=1)
            print(f"  segments {k + 1}–{k + 8}: median {np.median(per):.3f}, mean {per.mean():.3f}, "
                  f"min {per.min():.3f}, max {per.max():.3f}")
        print(f"  near-duplicate segments in a one-set walk of {args.segments}: mean {np.mean(dup):.3f}, "
              f"max {max(dup):.3f} (over seeds)")
    print(f"\n{time.monotonic() - t0:.0f} s")


if __name__ == "__main__":
    main()
