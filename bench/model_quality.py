#!/usr/bin/env python
"""How much a trio model has learned, against the same architecture with random weights
and against the data.

Held-out data: the shipped seed sets (the default model trains on a corpus built with
another seed, so it never saw them), or --data FOLDER.
- reconstruction accuracy per part: encode, decode greedily, share of the 256 steps whose
  event (note-on, hold, rest / drum pattern) matches the input;
- on --samples draws from the prior (temperature 0.5) and on walk midpoints (halfway
  between consecutive held-out encodings, what the station plays): all three parts
  sounding, drum onsets on the eighth-note grid, distinct pitches per bar in lead and
  bass, share of lead/bass bars holding ≤ 1 pitch (the article's complaint), notes per
  bar; each beside the same statistic of the data.

    .venv/bin/python bench/model_quality.py [--model DIR] [--data FOLDER] [--samples 100]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from radio import musicstats, seeds
from radio.composer import slerp
from radio.config import ASSETS
from radio.model import TrioModel, write_random_checkpoint

PARTS = {"lead": slice(0, 90), "bass": slice(90, 180), "drums": slice(180, 692)}


def reconstruction(model: TrioModel, tensors: list[np.ndarray]) -> dict[str, float]:
    z = model.encode(tensors)
    out = []
    for i in range(0, len(z), model.batch_size):
        chunk = z[i:i + model.batch_size]
        with model._lock:
            out += list(model._model.decode_to_tensors(chunk, length=256, temperature=1e-4))
    acc = {}
    for part, sl in PARTS.items():
        hits = [np.mean(np.argmax(x[:, sl], 1) == np.argmax(y[:, sl], 1)) for x, y in zip(tensors, out)]
        acc[part] = float(np.mean(hits))
    return acc


def walk_midpoints(model: TrioModel, tensors) -> list:
    z = model.encode(tensors)
    mids = np.stack([slerp(z[i], z[(i + 1) % len(z)], 0.5) for i in range(len(z))])
    return [seq for i in range(0, len(mids), model.batch_size)
            for seq in model.decode(mids[i:i + model.batch_size], temperature=0.5)]


def samples(model: TrioModel, n: int) -> list:
    out = []
    while len(out) < n:
        out += model.sample(model.batch_size, temperature=0.5)
    return out[:n]


def measure(model: TrioModel, tensors, n: int) -> dict:
    return {"recon": reconstruction(model, tensors),
            "prior": musicstats.summary(samples(model, n)),
            "walk": musicstats.summary(walk_midpoints(model, tensors))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=str(ASSETS / "model"))
    parser.add_argument("--data", default=str(ASSETS / "seeds"))
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--no-random", action="store_true", help="skip the random-weights baseline")
    args = parser.parse_args()
    trained = TrioModel(args.model, batch_size=4)
    segments, _ = seeds.import_folder(Path(args.data), trained.converter)
    tensors = [s.tensor.astype(np.float32) for s in segments]
    data = musicstats.summary(s.sequence for s in segments)
    print(f"model {args.model} ({trained.card.steps} steps); held-out data {args.data}: "
          f"{len(tensors)} segments; {args.samples} prior samples")
    results = {"trained": measure(trained, tensors, args.samples)}
    if args.no_random:
        results["random"] = {k: {s: float("nan") for s in v} for k, v in results["trained"].items()}
    else:
        with tempfile.TemporaryDirectory() as tmp:
            write_random_checkpoint(Path(tmp), trained.card.config, {**trained.card.hparams, "batch_size": 4})
            rnd = TrioModel(tmp, batch_size=4, config=trained.card.config, hparams=trained.card.hparams)
            results["random"] = measure(rnd, tensors, args.samples)
    print("\n| | trained | random weights | data |\n|---|---|---|---|")
    rec = {k: results[k]["recon"] for k in results}
    print("| reconstruction accuracy lead / bass / drums | "
          + " | ".join(" / ".join(f"{rec[k][p]:.3f}" for p in PARTS) for k in ("trained", "random")) + " | 1 |")
    for source in ("prior", "walk"):
        for stat, value in data.items():
            row = [results[k][source][stat] for k in ("trained", "random")]
            print(f"| {source}: {stat} | {row[0]:.2f} | {row[1]:.2f} | {value:.2f} |")


if __name__ == "__main__":
    main()
