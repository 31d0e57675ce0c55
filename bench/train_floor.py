#!/usr/bin/env python
"""The arithmetic floor of one training step: how fast could any graph train this model here?

Counts the multiply-adds of one MusicVAE hierdec-trio_16bar training step (teacher-forced
forward pass; the backward pass costs about twice the forward) from the hparams, and times
float32 matrix products of the step's own shapes on this machine. Floor = FLOPs / measured
rate: a graph cannot train faster than that without doing less arithmetic.

    .venv/bin/python bench/train_floor.py [--batch 32]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from radio.offline import train

DEPTHS = {"lead": 90, "bass": 90, "drums": 512}     # the trio converter's one-hot parts
STEPS, BARS = 256, 16


def lstm(rows: int, inputs: int, units: int) -> float:
    return 2.0 * rows * (inputs + units) * 4 * units  # one step: [x, h] @ W → 4 gates


def step_flops(hp: dict, batch: int, gather: bool = False) -> dict[str, float]:
    """Forward multiply-adds ×2 of magenta's graph, or (gather=True) of radio/offline/fastvae.py's,
    where one-hot inputs are kernel-row gathers (no FLOPs to speak of) and the conductor's
    embedding is multiplied once per bar instead of once per step."""
    enc = hp["enc_rnn_size"][0]
    dec = hp["dec_rnn_size"]
    z = hp["z_size"]
    depth = 0 if gather else sum(DEPTHS.values())
    out = {"encoder (bidirectional, 256 steps)": 2 * STEPS * lstm(batch, depth, enc)}
    # conductor: 16 steps of a dec[0]-layer stack on z; its output (dec[-1]) feeds each bar
    out["conductor (16 steps)"] = BARS * sum(lstm(batch, (z if i == 0 else dec[i - 1]), u)
                                             for i, u in enumerate(dec))
    core = 0.0
    for d in DEPTHS.values():  # all bars at once: batch × 16 rows, 16 steps a bar
        rows = batch * BARS
        first = lstm(rows, 0 if gather else d + dec[-1], dec[0])
        rest = sum(lstm(rows, dec[i - 1], u) for i, u in enumerate(dec) if i)
        core += 16 * (first + rest + 2.0 * rows * dec[-1] * d)
        if gather:
            core += 2.0 * rows * dec[-1] * 4 * dec[0]  # the bar's embedding, once
    out["core decoders (3 parts, 16 bars × 16 steps)"] = core
    return out


def sgemm_rate(m: int, k: int, n: int, seconds: float = 2.0) -> float:
    a = np.random.default_rng(0).normal(size=(m, k)).astype(np.float32)
    b = np.random.default_rng(1).normal(size=(k, n)).astype(np.float32)
    a @ b
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        a @ b
        reps += 1
    return 2.0 * m * k * n * reps / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args()
    hp = train.DEFAULT_HPARAMS
    print(f"hparams {hp}, batch {args.batch}")
    totals = {}
    for gather, name in ((False, "magenta's graph (one-hot products)"), (True, "our graph (gathers)")):
        flops = step_flops(hp, args.batch, gather)
        print(name)
        for k, v in flops.items():
            print(f"  forward {k}: {v / 1e9:.1f} GFLOP")
        totals[name] = 3 * sum(flops.values())
        print(f"  one training step (forward + backward ≈ 3 × forward): {totals[name] / 1e9:.0f} GFLOP")
    shapes = {"encoder step": (args.batch, sum(DEPTHS.values()) + hp["enc_rnn_size"][0], 4 * hp["enc_rnn_size"][0]),
              "decoder step (all bars)": (args.batch * BARS, 90 + 2 * hp["dec_rnn_size"][0], 4 * hp["dec_rnn_size"][0])}
    rates = {name: sgemm_rate(*shape) for name, shape in shapes.items()}
    for name, r in rates.items():
        print(f"  float32 matmul of a {name} {shapes[name]}: {r / 1e9:.0f} GFLOPS")
    best = max(rates.values())
    for name, total in totals.items():
        print(f"floor of {name} at the best of these rates: {total / best:.2f} s/step")
    print("(magenta's graph and ours are measured by bench/train_speed.py)")


if __name__ == "__main__":
    main()
