#!/usr/bin/env python
"""CPU seconds per second of audio, per stage and for the whole chain.

Runs the real chain (walk → decode → humanize → FluidSynth (one synth per part) → sound
stage (channel strips, room, master) → LAME and libopus: both, as the station encodes
them while it has an Ogg listener; with none it skips Opus, bench/encode_heard.py) as the
station runs it: rendered and mixed a second at a time (generator/pipeline.py), the master
on 0.25 s chunks, glibc's mmap threshold fixed as both station processes fix it
(support/heap.py; `--glibc-default` leaves it alone). On the default model
and on a full-size hierdec-trio_16bar with random weights (written in magenta's layout to a
temporary folder). Prints medians over batches of walk steps; each batch makes exactly one
model call (the walk is primed with one segment first: it decodes a batch ahead; the numpy
engine samples with seed 1, so two versions of the engine play the same notes). Beside
them, the standalone tools on the same notes (bench/standalone.py: the fluidsynth CLI on
the segments written as MIDI, then lame and opusenc), and the ratio. Goal for the full-size
whole chain: at or under the standalone tools, with the model ≤ 0.015 CPU s per audio s.
`--rounds N` (default 3) measures each model N times and ends with the median and spread
of the rounds' figures (issue 31); the full-size model's random weights come from
`--weights-seed` (default 0), so every run measures the same weights.

    .venv/bin/python bench/chain_cpu.py [--segments 8] [--batch 4] [--rounds 3] [--skip-full] [--skip-tools]
                                        [--engine numpy|tf] [--weights-seed 0] [--glibc-default]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from conditions import Conditions, spread
from standalone import CHAIN_MP3, CHAIN_OPUS, Tools

from radio.config import ASSETS, Settings
from radio.generator.anchors import load_anchors
from radio.model import load_model
from radio.model.tf_engine import write_random_checkpoint
from radio.music.composer import LatentWalk
from radio.music.performer import humanize
from radio.sound.master import Master
from radio.sound.mixer import Audio, Mixer
from radio.sound.presets import resolve
from radio.sound.renderer import Renderer
from radio.station.encoder import Mp3Encoder
from radio.station.opus import OggOpusEncoder
from radio.support.heap import return_big_buffers

TOOLS_TOTAL = "tools total"
TOOLS_MATCHED = "tools total, station's synth settings"
TOOLS_SAME = "tools, station's synth settings, encoding the chain's audio"
LESS_SOUND = "whole run less the sound stage"
WHOLE_RUN = "whole chain, whole run"
CHAIN = ("model+composer", "performer", "renderer", "sound stage", "encoders", "whole chain")


def _timed(blocks, spent: list[float]):
    """`blocks`, passed on, with the CPU time spent making them added to spent[0]."""
    it = iter(blocks)
    while True:
        c = time.process_time()
        block = next(it, None)
        spent[0] += time.process_time() - c
        if block is None:
            return
        yield block


def measure(model, settings: Settings, segments: int, tools: bool = True) -> tuple[dict[str, float], float]:
    anchors = load_anchors(model, ASSETS / "seeds")
    walk = LatentWalk(model, anchors, settings.steps_per_leg, settings.temperature, seed=1)
    sound = resolve("default")
    renderer, mixer, master = Renderer(settings.soundfont or None, sound), Mixer(sound, 44100), Master(44100)
    encoders = [Mp3Encoder(settings.bitrate), OggOpusEncoder(settings.opus_bitrate)]
    ratios: dict[str, list[float]] = {k: [] for k in CHAIN}
    notes, everything, totals = [], [], [0.0, 0.0, 0.0]   # played segments; audio s, chain and sound CPU s
    mastered = []                                      # the chain's output, for the tools' encoders
    folder = tempfile.TemporaryDirectory()
    standalone = Tools(Path(folder.name), sound, settings.soundfont or None, settings.bitrate,
                       settings.opus_bitrate) if tools else None
    if standalone:
        print(f"  standalone: {standalone.describe()}", flush=True)
    next(walk)  # primes the walk's lookahead: from here each batch of segments is one model call
    for _ in range(max(1, segments // model.batch_size)):
        c0 = time.process_time()
        batch = [next(walk) for _ in range(model.batch_size)]
        c1 = time.process_time()
        played = [humanize(s) for s in batch]
        c2 = time.process_time()
        # rendered and mixed a second at a time, as the station's generator does
        # (pipeline.render): whole-segment arrays would cost page faults the station avoids
        rendering, mixes = [0.0], []
        for s in played:
            blocks = ({k: Audio(v, 44100) for k, v in b.items()} for b in _timed(renderer.blocks(s, 44100), rendering))
            mixes.append(mixer.process_blocks(blocks, renderer.frames(s)).samples)
        # 0.25 s chunks through the master, as the station's pacer
        pcm = [[master.process(mixed[:, i:i + 11025]) for i in range(0, mixed.shape[1], 11025)] for mixed in mixes]
        c4 = time.process_time()
        c3 = c2 + rendering[0]          # the renderer's share of the interleaved blocks; the rest is sound
        for chunks in pcm:
            for encoder in encoders:
                for chunk in chunks:
                    encoder.encode(chunk)
        c5 = time.process_time()
        audio = sum(s.duration for s in batch)
        notes += [len(s.sequence.notes) for s in batch]
        totals[0] += audio
        totals[1] += c5 - c0
        totals[2] += c4 - c3
        for key, cpu in (("model+composer", c1 - c0), ("performer", c2 - c1), ("renderer", c3 - c2),
                         ("sound stage", c4 - c3), ("encoders", c5 - c4), ("whole chain", c5 - c0)):
            ratios[key].append(cpu / audio)
        everything += played
        mastered += [np.concatenate(chunks, axis=1) for chunks in pcm]
    renderer.close()
    medians = {k: statistics.median(v) for k, v in ratios.items()}
    medians[WHOLE_RUN] = totals[1] / totals[0]
    medians[LESS_SOUND] = (totals[1] - totals[2]) / totals[0]
    if standalone:
        # one fluidsynth run over every segment, end to end as the station plays them (a
        # run per batch played each file to its end: +3 to +6 s a file); every tool's CPU
        # over the chain's seconds, the CLI's trailing silence taken out (standalone.py)
        figures, wav_s = standalone.measure(everything, np.concatenate(mastered, axis=1))
        medians["audio s"], medians["WAV s"] = totals[0], wav_s
        encoders = figures["mp3 encoder"] + figures["opus encoder"]
        figures[TOOLS_TOTAL] = figures["fluidsynth (defaults)"] + encoders
        figures[TOOLS_MATCHED] = figures["fluidsynth (station's settings)"] + encoders
        # the same job as the chain's renderer and encoders, less its sound stage
        figures[TOOLS_SAME] = figures["fluidsynth (station's settings)"] + figures[CHAIN_MP3] + figures[CHAIN_OPUS]
        medians.update(figures)
    folder.cleanup()
    return medians, statistics.median(notes)


def report(name: str, load_s: float, measured: tuple[dict[str, float], float]) -> None:
    figures, notes = measured
    print(f"\n{name}  (load {load_s:.1f} s; {notes:.0f} notes per 16-bar segment, median)")
    for key, value in figures.items():
        if key in ("audio s", "WAV s"):
            continue
        if key in (WHOLE_RUN, LESS_SOUND):
            print(f"  {key:<15} {value:.4f} CPU s per audio s (all batches' CPU over all their audio)")
            continue
        if key == "fluidsynth (defaults)":
            print(f"  standalone tools, same notes end to end in one run (their WAV {figures['WAV s']:.1f} s, "
                  f"the chain's {figures['audio s']:.1f} s):")
        print(f"  {key:<15} {value:.4f} CPU s per audio s" if key in CHAIN else
              f"    {key:<48} {value:.4f} CPU s per audio s")
    if TOOLS_TOTAL in figures:
        chain = figures[WHOLE_RUN]
        print(f"  whole chain (whole run) / tools total: {chain / figures[TOOLS_TOTAL]:.2f} "
              f"({chain / figures[TOOLS_MATCHED]:.2f} against the tools with the station's synth settings)")
        print(f"  whole chain less its sound stage (work the tools do not do) / the tools encoding the "
              f"chain's audio: {figures[LESS_SOUND] / figures[TOOLS_SAME]:.2f}")


SUMMARY = ("model+composer", "whole chain", WHOLE_RUN)


def rounds(name: str, load_s: float, model, settings: Settings, args) -> None:
    """`args.rounds` measurements of one model, each reported, then their median and spread."""
    done = []
    for r in range(args.rounds):
        done.append(measure(model, settings, args.segments, not args.skip_tools))
        report(f"{name}, round {r + 1} of {args.rounds}", load_s, done[-1])
        held = getattr(getattr(model, "decoder", None), "held", None)
        if held:      # hierdec: a failed guess costs a bar's decode again (radio/model/hierdec.py)
            print("  first-input guesses held (running share; lead, bass, drums): "
                  + ", ".join(f"{h:.2f}" for h in held))
    print(f"\n{name}: over {args.rounds} rounds, median (spread) CPU s per audio s")
    keys = SUMMARY + ((TOOLS_TOTAL,) if TOOLS_TOTAL in done[0][0] else ())
    for key in keys:
        values = [figures[key] for figures, _ in done]
        print(f"  {key:<22} {spread(values, '.4f')}")
    if TOOLS_TOTAL in done[0][0]:
        ratios = [f[WHOLE_RUN] / f[TOOLS_TOTAL] for f, _ in done]
        print(f"  {'whole run / tools':<22} {spread(ratios)}")
        same = [f[LESS_SOUND] / f[TOOLS_SAME] for f, _ in done]
        print(f"  {'less sound / tools on the chain audio':<22} {spread(same)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--segments", type=int, default=8, help="walk steps per model (batches of 4)")
    parser.add_argument("--skip-full", action="store_true", help="only the default model")
    parser.add_argument("--batch", type=int, default=4, help="walk steps decoded per model call")
    parser.add_argument("--engine", choices=("numpy", "tf"), default="numpy")
    parser.add_argument("--skip-tools", action="store_true", help="without the standalone tools' figures")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per model")
    parser.add_argument("--weights-seed", type=int, default=0, help="the full-size model's random weights")
    parser.add_argument("--full-checkpoint", help="a folder with a full-size checkpoint to reuse (same weights "
                        "across runs); default: random weights written to a temporary folder")
    parser.add_argument("--glibc-default", action="store_true",
                        help="leave glibc's allocator as it is (the station fixes its mmap threshold)")
    args = parser.parse_args()
    if not args.glibc_default:
        return_big_buffers()            # as the station's generator and server processes do
    with Conditions():
        settings = Settings.from_env()
        print(f"medians over batches of {args.batch} walk steps (16 bars each)")

        t = time.monotonic()
        default = load_model(settings.model, engine=args.engine, batch_size=args.batch, data=settings.data, seed=1)
        rounds(f"default model, {args.engine} engine ({default.card.hparams})", time.monotonic() - t,
               default, settings, args)

        if not args.skip_full:
            with tempfile.TemporaryDirectory() as tmp:
                folder = args.full_checkpoint or tmp
                if not args.full_checkpoint:
                    print(f"\nwriting a full-size hierdec-trio_16bar checkpoint (random weights, seed "
                          f"{args.weights_seed})…", flush=True)
                    write_random_checkpoint(Path(tmp), "hierdec-trio_16bar", {"batch_size": args.batch},
                                            seed=args.weights_seed)
                t = time.monotonic()
                full = load_model(folder, engine=args.engine, batch_size=args.batch, config="hierdec-trio_16bar",
                                  data=folder, seed=1)
                rounds(f"full-size hierdec-trio_16bar (z 512, enc 2048×2, dec 1024×2), {args.engine} engine",
                       time.monotonic() - t, full, settings, args)


if __name__ == "__main__":
    main()
