#!/usr/bin/env python
"""How much a trio model has learned, against the same architecture with random weights.

On the shipped seed set (songs the default model never trained on):
- reconstruction accuracy per part: encode, decode greedily, share of the 256 steps whose
  event (note-on, hold, rest / drum pattern) matches the input;
- on what the station plays (decodes halfway between consecutive seeds) and on 16 samples
  from the prior: share with all three parts sounding, and the share of bars where lead
  or bass plays a single pitch or nothing (the shared article's complaint).

    .venv/bin/python bench/model_quality.py [--model DIR]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from radio import seeds
from radio.composer import slerp
from radio.config import ASSETS
from radio.model import TrioModel, write_random_checkpoint

PARTS = {"lead": slice(0, 90), "bass": slice(90, 180), "drums": slice(180, 692)}


def reconstruction(model: TrioModel, tensors: list[np.ndarray]) -> dict[str, float]:
    z = model.encode(tensors)
    with model._lock:
        out = model._model.decode_to_tensors(z, length=256, temperature=1e-4)
    acc = {}
    for part, sl in PARTS.items():
        hits = [np.mean(np.argmax(x[:, sl], 1) == np.argmax(y[:, sl], 1)) for x, y in zip(tensors, out)]
        acc[part] = float(np.mean(hits))
    return acc


def single_pitch_bars(sequences) -> float:
    """Share of (lead or bass) bars with at most one distinct pitch; 2 s a bar at 120 qpm."""
    single = []
    for ns in sequences:
        for inst in (0, 1):
            for bar in range(16):
                pitches = {x.pitch for x in ns.notes if not x.is_drum and x.instrument == inst
                           and bar * 2.0 <= x.start_time < (bar + 1) * 2.0}
                single.append(len(pitches) <= 1)
    return float(np.mean(single))


def sequence_stats(samples) -> dict[str, float]:
    all_three = sum({("drums" if x.is_drum else ("bass" if x.instrument == 1 else "lead"))
                     for x in ns.notes} == {"drums", "bass", "lead"} for ns in samples)
    return {"all three parts": all_three / len(samples), "bars with ≤1 pitch": single_pitch_bars(samples)}


def walk_stats(model: TrioModel, tensors) -> dict[str, float]:
    """What the station plays: decodes halfway between consecutive seed encodings (slerp)."""
    z = model.encode(tensors)
    mids = np.stack([slerp(z[i], z[(i + 1) % len(z)], 0.5) for i in range(len(z))])
    return sequence_stats(model.decode(mids, temperature=0.5))


def report(name: str, model: TrioModel, tensors) -> None:
    rec = reconstruction(model, tensors)
    print(f"{name}\n  reconstruction accuracy: " + ", ".join(f"{k} {v:.3f}" for k, v in rec.items()))
    for label, stats in (("walk midpoints", walk_stats(model, tensors)),
                         ("prior samples", sequence_stats(model.sample(16, temperature=0.5)))):
        print(f"  {label}: " + ", ".join(f"{k} {v:.2f}" for k, v in stats.items()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=str(ASSETS / "model"))
    args = parser.parse_args()
    trained = TrioModel(args.model, batch_size=4)
    segments, _ = seeds.import_folder(ASSETS / "seeds", trained.converter)
    tensors = [s.tensor.astype(np.float32) for s in segments]
    print(f"{len(tensors)} held-out seed segments; model {args.model} ({trained.card.steps} steps)")
    print(f"seed data: bars with ≤1 pitch {single_pitch_bars(s.sequence for s in segments):.2f}")
    report("trained", trained, tensors)
    with tempfile.TemporaryDirectory() as tmp:
        write_random_checkpoint(Path(tmp), trained.card.config, {**trained.card.hparams, "batch_size": 4})
        report("same architecture, random weights",
               TrioModel(tmp, batch_size=4, config=trained.card.config, hparams=trained.card.hparams), tensors)


if __name__ == "__main__":
    main()
