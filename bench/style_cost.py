#!/usr/bin/env python3
"""What a mix's playing style (radio/model/style.py) costs the model: CPU seconds of the walk's
decoding per second of audio, without a style and with the default mix's, median of rounds.

A styled lead and bass decode bar after bar (their offsets follow the notes across bars),
where the unstyled decoder runs a part's bars side by side; the drums are unchanged.

    TF_USE_LEGACY_KERAS=1 .venv/bin/python bench/style_cost.py [--rounds 3] [--segments 16] [--full]

`--full` measures a full-size hierdec-trio_16bar too (random weights, seed 0: its fitted
style is arbitrary, its cost is what counts).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from conditions import Conditions, spread

from radio.config import ASSETS, Settings
from radio.generator.anchors import load_anchors
from radio.generator.styles import Styles
from radio.model import load_model
from radio.model.tf_engine import write_random_checkpoint
from radio.music.composer import LatentWalk


def cost(model, anchors, style, segments: int, seed: int) -> float:
    """Model + composer CPU seconds per audio second over `segments` walk steps."""
    walk = LatentWalk(model, anchors, 8, 1.0, seed=seed)
    walk.style = style
    next(walk)                      # primes the lookahead: from here each batch is one model call
    cpu, audio = 0.0, 0.0
    for _ in range(segments):
        c0 = time.process_time()
        segment = next(walk)
        cpu += time.process_time() - c0
        audio += segment.duration
    return cpu / audio


def rounds(label: str, model, anchors, args) -> None:
    style = Styles(model).for_mix(anchors, {}, 1.0)
    print(f"\n{label}, numpy engine, batch {model.batch_size}; the default mix's style: "
          f"{style.to_dict() if style else None}", flush=True)
    figures = {"no style": [], "default mix's style": []}
    for r in range(args.rounds):
        for name, s in (("no style", None), ("default mix's style", style)):
            figures[name].append(cost(model, anchors, s, args.segments, seed=r))
        print(f"  round {r + 1}: " + ", ".join(f"{k} {v[-1]:.5f}" for k, v in figures.items()), flush=True)
    print(f"model+composer CPU s per audio s, median of {args.rounds} (spread):")
    for name, v in figures.items():
        print(f"  {name:<22}{spread(v, '.5f')}")
    base, styled = (statistics.median(v) for v in figures.values())
    print(f"  ratio {styled / base:.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--segments", type=int, default=16, help="walk steps a round (batches of 4)")
    parser.add_argument("--full", action="store_true", help="a full-size model too (random weights)")
    args = parser.parse_args()
    with Conditions():
        settings = Settings()
        model = load_model(settings.model, engine="numpy", seed=1)
        rounds("shipped model", model, load_anchors(model, ASSETS / "seeds"), args)
        if args.full:
            with tempfile.TemporaryDirectory() as tmp:
                write_random_checkpoint(Path(tmp), "hierdec-trio_16bar", {"batch_size": 4}, seed=0)
                full = load_model(tmp, engine="numpy", config="hierdec-trio_16bar", data=tmp, seed=1)
                rounds("full-size hierdec-trio_16bar (random weights, seed 0)", full,
                       load_anchors(full, ASSETS / "seeds"), args)


if __name__ == "__main__":
    main()
