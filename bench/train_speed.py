#!/usr/bin/env python
"""Training throughput: magenta's hierdec-trio_16bar graph vs ours (radio/offline/fastvae.py).

Same config (the default model's hparams), same batch, same optimizer step (MusicVAE.train
+ Adam), random one-hot data, both graphs in one run; prints the median seconds per step
of each after warm-up, and their ratio. `--rounds N` (default 3) repeats the whole
measurement, both graphs built anew each round and taken in turn so load drift meets both,
and prints the median and spread of the rounds' figures (issue 31). --profile traces one
more step of our graph and prints where its time goes, by op type (summed over both cores,
so it can exceed the step). --threads N gives both sessions N intra- and inter-op threads
(default: TensorFlow's choice, one per core each; --inter N sets inter-op apart); --load N keeps N busy-loop processes
running all the while (how a loaded box slows each graph). --precision bfloat16 (or auto)
runs our graph's matrix products in bfloat16 as `radio train` does on a CPU with AMX or
AVX512-BF16 (radio/offline/precision.py); --magenta-precision the same for magenta's.

    .venv/bin/python bench/train_speed.py [--batch 32] [--steps 5] [--rounds 3] [--profile] [--only-fast]
                                          [--threads N] [--load N] [--precision auto] [--magenta-precision M]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import statistics
import subprocess
import sys
import time

import numpy as np
from conditions import Conditions, spread

from radio.model import tf_engine as model_lib
from radio.offline import precision as precision_lib
from radio.offline import train


def profile(tf, sess, step, top: int = 15) -> None:
    meta = tf.RunMetadata()
    t = time.monotonic()
    sess.run(step, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE), run_metadata=meta)
    wall = time.monotonic() - t
    by_type, by_part = collections.Counter(), collections.Counter()
    for dev in meta.step_stats.dev_stats:
        for node in dev.node_stats:
            kind = node.timeline_label.split("(")[0].split(" = ")[-1] if " = " in node.timeline_label \
                else node.node_name.split(":")[-1]
            by_type[kind] += node.all_end_rel_micros / 1e6
            by_part[part_of(node.node_name)] += node.all_end_rel_micros / 1e6
    total = sum(by_type.values())
    print(f"profile of one traced step ({wall:.2f} s wall, {total:.2f} s summed over ops):")
    for kind, sec in by_part.most_common():
        print(f"  {kind:<28} {sec:6.2f} s  {100 * sec / total:4.1f} %")
    print("  by op type:")
    for kind, sec in by_type.most_common(top):
        print(f"  {kind:<28} {sec:6.2f} s  {100 * sec / total:4.1f} %")


def part_of(name: str) -> str:
    """The model part an op belongs to, forward and backward together, from its scope."""
    name = name.removeprefix("gradients/")
    if name.startswith("encoder"):
        return "encoder (fw+bw)"
    if name.startswith("core_decoder"):
        return "core decoders (3 parts)"
    if name.startswith("decoder/hierarchical"):
        return "conductor"
    if "Adam" in name or name.startswith(("clip", "global_norm", "beta")):
        return "Adam, clipping"
    return "other (loss, KL, data)"


def seconds_per_step(fast: bool, hparams: dict, steps: int, trace: bool = False,
                     threads: int = 0, inter: int | None = None,
                     precision: str = "float32") -> tuple[list[float], float]:
    """(each timed step's seconds, seconds to build the graph and run its first step)"""
    tf = model_lib._tf()
    config = model_lib.make_config("hierdec-trio_16bar", hparams)
    if fast:
        from radio.offline.fastvae import with_batched_training
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
        config_proto = tf.ConfigProto(intra_op_parallelism_threads=threads,
                                      inter_op_parallelism_threads=threads if inter is None else inter)
        precision_lib.apply(config_proto, precision)
        with tf.Session(config=config_proto) as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(step)  # warm-up: graph optimisation happens on the first run
            build = time.monotonic() - t0
            times = []
            for _ in range(steps):
                t = time.monotonic()
                sess.run(step)
                times.append(time.monotonic() - t)
            if trace:
                profile(tf, sess, step)
    return times, build


def _line(name: str, times: list[float], batch: int, build: float) -> str:
    med = statistics.median(times)
    return (f"{name} {med:.2f} s/step median of {len(times)} (spread {min(times):.2f}–{max(times):.2f}; "
            f"{batch / med:.1f} segments/s), build+first step {build:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="trace a step of our graph: time by op type")
    parser.add_argument("--only-fast", action="store_true", help="skip magenta's graph")
    parser.add_argument("--rounds", type=int, default=3, help="whole measurements, each graph built anew")
    parser.add_argument("--threads", type=int, default=0, help="intra- and inter-op threads (0: TensorFlow's)")
    parser.add_argument("--inter", type=int, default=None, help="inter-op threads (default: as --threads)")
    parser.add_argument("--load", type=int, default=0, help="busy-loop processes running meanwhile")
    parser.add_argument("--precision", choices=precision_lib.CHOICES, default="float32",
                        help="our graph's matrix products, as `radio train --precision` (auto: bfloat16 where "
                             "the CPU has AMX or AVX512-BF16)")
    parser.add_argument("--magenta-precision", choices=precision_lib.CHOICES, default="float32",
                        help="the same for magenta's graph (magenta's own trainer runs float32)")
    args = parser.parse_args()
    hparams = {**train.DEFAULT_HPARAMS, "batch_size": args.batch}
    ours, theirs = precision_lib.resolve(args.precision), precision_lib.resolve(args.magenta_precision)
    with Conditions(), busy(args.load):
        print(f"hierdec-trio_16bar with {hparams}; session threads {args.threads or 'TensorFlow default'}"
              f"{'' if args.inter is None else f', inter-op {args.inter}'}; "
              f"{args.load} busy-loop process(es) beside it; matrix products: ours {ours}, magenta's {theirs} "
              f"(CPU bfloat16 unit: {'yes' if precision_lib.native_bfloat16() else 'no'})")
        slows, fasts = [], []
        for r in range(args.rounds):
            print(f"round {r + 1} of {args.rounds}")
            if not args.only_fast:
                slow, slow_build = seconds_per_step(False, hparams, args.steps, threads=args.threads,
                                                    inter=args.inter, precision=theirs)
                slows.append(statistics.median(slow))
                print(_line("  magenta graph:", slow, args.batch, slow_build), flush=True)
            fast, fast_build = seconds_per_step(True, hparams, args.steps, args.profile and r == 0, args.threads,
                                                args.inter, ours)
            fasts.append(statistics.median(fast))
            print(_line("  our graph:    ", fast, args.batch, fast_build), flush=True)
            if slows:
                print(f"  speed-up: {slows[-1] / fasts[-1]:.1f}× (medians)")
        print(f"over {args.rounds} rounds (median, spread of the rounds' medians):")
        if slows:
            print(f"  magenta graph {spread(slows)} s/step")
        print(f"  our graph     {spread(fasts)} s/step")
        if slows:
            print(f"  speed-up      {spread([s / f for s, f in zip(slows, fasts)])}×")


@contextlib.contextmanager
def busy(n: int):
    """`n` processes spinning on a core each (a loaded box), stopped on leaving."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        yield
    finally:
        for p in procs:
            p.kill()
            p.wait()


if __name__ == "__main__":
    main()
