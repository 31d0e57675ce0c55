#!/usr/bin/env python
"""Training throughput: magenta's hierdec-trio_16bar graph vs our batched-bars graph.

Same config (the default model's hparams unless --full), same batch, same optimizer step
(MusicVAE.train + Adam), random one-hot data; prints the median seconds per step of each
after warm-up, and their ratio.

    .venv/bin/python bench/train_speed.py [--batch 32] [--steps 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from radio import model as model_lib, train


def seconds_per_step(fast: bool, hparams: dict, steps: int) -> tuple[float, float]:
    tf = model_lib._tf()
    config = model_lib.make_config("hierdec-trio_16bar", hparams)
    if fast:
        from radio.fastvae import with_batched_training
        config = with_batched_training("hierdec-trio_16bar", config)
    batch, depth = hparams["batch_size"], config.data_converter.output_depth
    rng = np.random.default_rng(0)
    x = np.zeros((batch, 256, depth), np.float32)
    for lo, n in ((0, 90), (90, 90), (180, 512)):
        x[np.arange(batch)[:, None], np.arange(256)[None], lo + rng.integers(0, n, (batch, 256))] = 1
    t0 = time.monotonic()
    with tf.Graph().as_default():
        inp = tf.constant(x)
        config.model.build(config.hparams, depth, is_training=True)
        opt = config.model.train(input_sequence=inp, output_sequence=inp, control_sequence=None,
                                 sequence_length=tf.fill([batch], 256))
        step = opt.minimize(config.model.loss, global_step=config.model.global_step)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(step)  # warm-up: graph optimisation happens on the first run
            build = time.monotonic() - t0
            times = []
            for _ in range(steps):
                t = time.monotonic()
                sess.run(step)
                times.append(time.monotonic() - t)
    return statistics.median(times), build


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    hparams = {**train.DEFAULT_HPARAMS, "batch_size": args.batch}
    print(f"hierdec-trio_16bar with {hparams}")
    slow, slow_build = seconds_per_step(False, hparams, args.steps)
    print(f"magenta graph:  {slow:.2f} s/step ({args.batch / slow:.1f} segments/s), build+first step {slow_build:.0f} s")
    fast, fast_build = seconds_per_step(True, hparams, args.steps)
    print(f"batched graph:  {fast:.2f} s/step ({args.batch / fast:.1f} segments/s), build+first step {fast_build:.0f} s")
    print(f"speed-up: {slow / fast:.1f}×")


if __name__ == "__main__":
    main()
