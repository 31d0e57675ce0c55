#!/usr/bin/env python
"""How far can the numpy hierdec decode go? Its CPU s per audio s on the station's walk,
beside the floor of any decoder that runs a part's bars side by side (issue 31).

For each model call of the walk (batch 4, 16 bars), the bench times:
- the decode as the station runs it (radio/model/hierdec.py: guessed first inputs, bars
  decoded again where a guess failed), with the rows it decoded;
- the floor: every bar of every part decoded once, in one pass, from the first input it
  really reads (taken from the decode's tokens), as if every guess had held. No decoder
  that reads each bar's kernels step by step can do less work than this with these kernels;
- the products alone of that pass (the layers' matrix products, no cell, no sampling).

    TF_USE_LEGACY_KERAS=1 .venv/bin/python bench/decode_floor.py [--calls 6] [--rounds 3]
        [--full-checkpoint DIR] [--skip-default] [--glibc-default] [--walk-cache FILE.npz]

The full-size model's random weights come from radio.model.tf_engine.write_random_checkpoint
(seed --weights-seed) unless --full-checkpoint names a folder. Medians of the rounds, with
their spread; the conditions first (bench/conditions.py). glibc's mmap threshold is fixed at
1 MiB as the station fixes it (radio/support/heap.py) unless --glibc-default. The walk's z's
take minutes to find for the full-size model (its encoder encodes every seed segment for the
anchors): --walk-cache keeps them in a file for the next run, so runs can alternate settings.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from conditions import Conditions, spread

from radio.config import ASSETS, Settings
from radio.generator.anchors import load_anchors
from radio.model import load_model
from radio.music.composer import LatentWalk
from radio.support.heap import return_big_buffers

SECONDS_PER_STEP = 60 / 120 / 4          # a 16th at 120 qpm, the bench's audio clock


def _floor_pass(decoder, z: np.ndarray, ids: np.ndarray, temperature: float, rng) -> tuple[float, float]:
    """CPU s of one pass over every bar from its true first input, and of its products alone."""
    n, spb = len(z), decoder.steps_per_bar
    bars = ids.shape[2] // spb
    t0 = time.process_time()
    emb = decoder.conduct(z)[:bars].reshape(bars * n, -1)
    for p, part in enumerate(decoder.parts):
        rows = ids[p].reshape(n, bars, spb).transpose(1, 0, 2).reshape(bars * n, spb)   # bar-major
        first = np.concatenate([np.full(n, -1), rows[:-n, -1]])
        part.bars(part.start(emb), first, spb, temperature, rng.random((bars * n, spb)))
    whole = time.process_time() - t0
    # the products alone: each step's layer products for bars * n rows
    x = np.zeros((bars * n, decoder.parts[0].layers[0].wh.shape[0]), np.float32)
    t0 = time.process_time()
    for part in decoder.parts:
        h = np.zeros((bars * n, part.layers[0].wh.shape[0]), np.float32)
        for _ in range(spb):
            _ = h @ part.layers[0].wh
            for layer in part.layers[1:]:
                _ = np.concatenate([x[:, :layer.kernel.shape[0] - h.shape[1]], h], axis=-1) @ layer.kernel
            _ = h @ part.out_kernel
    return whole, time.process_time() - t0


def walk_calls(model, calls: int, temperature: float, cache: Path | None = None) -> list[tuple]:
    """The (z, temperature, style) of `calls` decodes the station's walk asks of the model
    (the default mix: no style), kept in `cache` for the next run with the same model."""
    if cache and cache.is_file():
        with np.load(cache) as kept:
            if len(kept["z"]) >= calls and float(kept["temperature"]) == temperature:
                return [(z, temperature, None) for z in kept["z"][:calls]]
    decoder, seen = model.decoder, []
    original = decoder.decode

    def recording(z, temperature=0.0, rng=None, steps=None, style=None):
        seen.append((np.array(z, np.float32), temperature, style))
        return original(z, temperature, rng, steps, style)

    decoder.decode = recording
    try:
        walk = LatentWalk(model, load_anchors(model, ASSETS / "seeds"), Settings.from_env().steps_per_leg,
                          temperature, seed=1)
        while len(seen) < calls + 1:                       # the first call primes the walk
            next(walk)
    finally:
        del decoder.decode
    if cache and all(style is None for _, _, style in seen):
        np.savez(cache, z=np.stack([z for z, _, _ in seen[1:calls + 1]]), temperature=temperature)
    return seen[1:calls + 1]


def measure(model, calls: list[tuple]) -> dict:
    """Per call: the decode's and the floor's CPU s per audio s, and the rows decoded."""
    decoder, rng = model.decoder, np.random.default_rng(1)
    out = {"decode": [], "floor": [], "products": [], "rows": []}
    counted = []
    cls = type(decoder.parts[0])
    original = cls.bars

    def counting(self, starts, first, steps, *a, **k):
        counted.append(len(first))
        return original(self, starts, first, steps, *a, **k)

    for z, temperature, style in calls:
        counted.clear()
        cls.bars = counting
        try:
            t0 = time.process_time()
            ids = decoder.decode(z, temperature, rng, None, style)
            spent = time.process_time() - t0
        finally:
            cls.bars = original
        audio = len(z) * ids.shape[2] * SECONDS_PER_STEP
        floor, products = _floor_pass(decoder, z, ids, temperature, rng)
        out["decode"].append(spent / audio)
        out["floor"].append(floor / audio)
        out["products"].append(products / audio)
        out["rows"].append(sum(counted) / len(decoder.parts))
    return out


def report(name: str, rounds: list[dict]) -> None:
    med = {k: [statistics.median(r[k]) for r in rounds] for k in rounds[0]}
    print(f"{name}:")
    print(f"  decode as the station runs it   {spread(med['decode'], '.4f')} CPU s per audio s, "
          f"{statistics.median(med['rows']):.0f} bar-rows a part a call (16 bars × 4 = 64 read once)")
    print(f"  floor: every bar once, one pass {spread(med['floor'], '.4f')}")
    print(f"  its layer products alone        {spread(med['products'], '.4f')}")
    ratio = [d / f for d, f in zip(med["decode"], med["floor"])]
    print(f"  decode ÷ floor                  {spread(ratio, '.2f')}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=6, help="model calls a round (4 sequences each)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--full-checkpoint", help="a full-size checkpoint folder (default: random weights)")
    ap.add_argument("--weights-seed", type=int, default=0)
    ap.add_argument("--skip-default", action="store_true")
    ap.add_argument("--walk-cache", help="an .npz keeping the full-size model's walk z's between runs")
    ap.add_argument("--glibc-default", action="store_true", help="leave glibc's allocator as it is")
    args = ap.parse_args()
    if not args.glibc_default:
        return_big_buffers()
    with Conditions():
        run(args)


def run(args) -> None:
    print(f"# {args.calls} model calls a round (batch 4, 16 bars, the station's walk at temperature "
          f"{args.temperature}), {args.rounds} rounds; full-size weights seed {args.weights_seed}; glibc's mmap "
          f"threshold {'left as it is' if args.glibc_default else 'fixed at 1 MiB, as in the station'}")
    s = Settings.from_env()
    if not args.skip_default:
        model = load_model(s.model, engine="numpy", batch_size=4, data=s.data, seed=1)
        calls = walk_calls(model, args.calls, args.temperature)
        report("default model", [measure(model, calls) for _ in range(args.rounds)])
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.full_checkpoint or tmp
        if not args.full_checkpoint:
            from radio.model.tf_engine import write_random_checkpoint
            write_random_checkpoint(Path(tmp), "hierdec-trio_16bar", {"batch_size": 4}, seed=args.weights_seed)
        model = load_model(folder, engine="numpy", batch_size=4, config="hierdec-trio_16bar", data=folder, seed=1)
        cache = Path(args.walk_cache) if args.walk_cache else None
        calls = walk_calls(model, args.calls, args.temperature, cache)
        weights = f"weights of {args.full_checkpoint}" if args.full_checkpoint else "random weights"
        report(f"full-size hierdec-trio_16bar ({weights})", [measure(model, calls) for _ in range(args.rounds)])


if __name__ == "__main__":
    main()
