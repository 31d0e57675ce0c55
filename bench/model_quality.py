#!/usr/bin/env python
"""The station measured against real band music (issue 13), and how much a trio model has
learned (--legacy: the previous table, against random weights).

Default table, each row computed the same way (radio/musicstats.band_stats) on
(a) the station as a listener hears it: two 64-bar runs of `radio generate --bars 64`
    (default mix, humanized; seeds 0 and 1), read on the sixteenth grid through the tempo map;
(b) real band files HELD OUT from training: freedoom2 + freedink (radio/offline/bandfiles.py),
    cut into 16-bar segments by our import (parts found by role);
(c) the shipped seed sets (radio/assets/seeds);
plus the model's reconstruction loss (magenta's r_loss: nats per 16-bar segment, z drawn
from the posterior, as training reports held_out_r_loss) on (b) and (c). Each row prints its
goal range and whether the station meets it.

    .venv/bin/python bench/model_quality.py [--model DIR] [--bars 64] [--runs 2] [--engine tf|numpy]
    .venv/bin/python bench/model_quality.py --legacy [--model DIR] [--data FOLDER] [--samples 100]

--legacy:

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
import time
from pathlib import Path

import numpy as np

from radio.config import ASSETS
from radio.model.tf_engine import TrioModel, write_random_checkpoint
from radio.music import seeds
from radio.music.composer import slerp
from radio.offline import musicstats

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


HELD_OUT_SOURCES = ("freedoom2", "freedink")  # never trained on (the corpus uses freedoom1)


def station_runs(model: TrioModel, model_dir: str, bars: int, runs: int, temperature: float | None = None,
                 engine: str = "tf") -> list:
    """`radio generate --bars N --seed k` for k in range(runs), each as one trio NoteSequence
    at 120 qpm: every note placed by its beat through the segment's tempo map. engine "tf"
    decodes with `model` (unseeded sampling); "numpy" loads the station's own engine, seeded
    with k, so each run repeats exactly."""
    from radio.config import Settings
    from radio.generator.pipeline import Pipeline
    from radio.music import midi as output
    out = []
    for seed in range(runs):
        with tempfile.TemporaryDirectory() as data:
            settings = Settings.from_env(model=model_dir, data=data, seed=seed, humanize=True,
                                         temperature=temperature, engine=engine)
            pipeline = Pipeline(settings, model=model if engine == "tf" else None)
            segments = []
            while sum(s.bars for s in segments) < bars:      # a song's sections are 4–16 bars
                segments.append(pipeline.next_segment())
            out.append(musicstats.joined(output.trim_to_bars(segments, bars)))
    return out


def reconstruction_loss(model_dir: str, tensors: list[np.ndarray], batch: int = 8) -> float:
    """Mean r_loss of the model on `tensors` (magenta's training loss graph, no update)."""
    from radio.model import tf_engine as model_lib
    card, ckpt = model_lib.resolve(model_dir)
    ckpt = model_lib.checkpoint_file(ckpt)
    tf = model_lib._tf()                # TensorFlow as the engine imports it (quiet, magenta's configs)
    config = model_lib.make_config(card.config, {**card.hparams, "batch_size": batch})
    with tf.Graph().as_default():
        tf.set_random_seed(0)
        config.model.build(config.hparams, config.data_converter.output_depth, is_training=False)
        x = tf.placeholder(tf.float32, [batch, config.hparams.max_seq_len, config.data_converter.input_depth])
        lens = tf.placeholder(tf.int32, [batch])
        _, scalars = config.model._compute_model_loss(x, x, lens, None)
        names = {name for name, _ in tf.train.list_variables(ckpt)}
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            tf.train.Saver([v for v in tf.global_variables() if v.op.name in names]).restore(sess, ckpt)
            losses = []
            for i in range(0, len(tensors), batch):
                chunk = tensors[i:i + batch]
                padded = np.stack(chunk + [chunk[0]] * (batch - len(chunk))).astype(np.float32)
                r = sess.run(scalars["losses/r_loss"], {x: padded, lens: np.full(batch, padded.shape[1])})
                losses += list(r[:len(chunk)])
    return float(np.mean(losses))


def band_table(args) -> None:
    from radio.offline import bandfiles
    model = TrioModel(args.model, batch_size=4)
    t0 = time.time()
    runs = station_runs(model, args.model, args.bars, args.runs, args.temperature, args.engine)
    with tempfile.TemporaryDirectory() as tmp:
        files = [p for s in bandfiles.SOURCES if s.name in HELD_OUT_SOURCES
                 for p in bandfiles.extract(s, Path(tmp))]
        real, reports = seeds.import_files(files, model.converter)
    shipped, _ = seeds.import_folder(ASSETS / "seeds", model.converter)
    columns = {
        "station": musicstats.band_stats(runs, bars=args.bars),
        "real band files": musicstats.band_stats([s.sequence for s in real], bars=16),
        "shipped seeds": musicstats.band_stats([s.sequence for s in shipped], bars=16),
    }
    per_run = [musicstats.band_stats([r], bars=args.bars) for r in runs]
    loss = {"real band files": reconstruction_loss(args.model, [s.tensor for s in real]),
            "shipped seeds": reconstruction_loss(args.model, [s.tensor for s in shipped])}
    print(f"model {args.model} ({model.card.steps} steps); station: {args.runs} run(s) of "
          f"{args.bars} bars (seeds 0…{args.runs - 1}, {args.engine} engine, default mix, temperature "
          f"{args.temperature or 'default'}, humanized); real band files "
          f"(held out: {' + '.join(HELD_OUT_SOURCES)}): {sum(r.segments > 0 for r in reports)} of "
          f"{len(files)} files, {len(real)} segments; shipped seeds: {len(shipped)} segments; "
          f"{time.time() - t0:.0f} s")
    print("\n| | station (runs) | real band files | shipped seeds | goal | station meets it |"
          "\n|---|---|---|---|---|---|")
    for stat, (lo, hi) in musicstats.GOALS.items():
        fmt = "{:.0f}" if "median" in stat else "{:.2f}"
        goal = f"{fmt.format(lo)}–{fmt.format(hi)}" if hi < 1 or "median" in stat else f"≥ {fmt.format(lo)}"
        if stat == "lead silent bars":
            goal = f"≤ {hi:.2f}"
        station = columns["station"][stat]
        runs_text = " / ".join(fmt.format(r[stat]) for r in per_run)
        print(f"| {stat} | {fmt.format(station)} ({runs_text}) | "
              f"{fmt.format(columns['real band files'][stat])} | {fmt.format(columns['shipped seeds'][stat])} "
              f"| {goal} | {'pass' if musicstats.meets(stat, station) else 'FAIL'} |")
    print(f"| held-out reconstruction loss (r_loss, nats/segment) | — | {loss['real band files']:.1f} "
          f"| {loss['shipped seeds']:.1f} | lower after retraining | — |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=str(ASSETS / "model"))
    parser.add_argument("--bars", type=int, default=64, help="bars per station run")
    parser.add_argument("--runs", type=int, default=2, help="station runs (seeds 0, 1, …)")
    parser.add_argument("--temperature", type=float, default=None,
                        help="the mix's sampling temperature for the station runs (default: the settings')")
    parser.add_argument("--engine", choices=("tf", "numpy"), default="tf",
                        help="station runs' decoder: tf (magenta's graph, unseeded) or numpy (radio/model, "
                        "the station's default, seeded by the run)")
    parser.add_argument("--legacy", action="store_true", help="the previous table: reconstruction "
                        "accuracy, prior samples and walk midpoints against random weights")
    parser.add_argument("--data", default=str(ASSETS / "seeds"), help="--legacy: held-out data")
    parser.add_argument("--samples", type=int, default=100, help="--legacy: prior samples")
    parser.add_argument("--no-random", action="store_true", help="--legacy: skip the random-weights baseline")
    args = parser.parse_args()
    if not args.legacy:
        band_table(args)
        return
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
