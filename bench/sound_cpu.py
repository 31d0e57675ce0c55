#!/usr/bin/env python
"""The sound stage's CPU alone (mixer: channel strips and room; master: loudness control,
glue compressor, limiter), on fixed parts, per preset: CPU s per audio s, median of
`--rounds` rounds over 30 s of a tone, a bass and a click track. The parts go in a second
at a time (the renderer's blocks) and the master takes 0.25 s chunks (the pacer's).
`--tree DIR` measures the sound stage of another checkout (a `git worktree` of the commit
before), for a before/after in one run: alternate the two, as machines drift. `--split`
also times each stage alone on the same audio: every strip's plugins, the room, the
master's K-weighting and its dynamics (what is left of the master is numpy and Python).

    .venv/bin/python bench/sound_cpu.py [--tree DIR] [--rounds 5] [--split]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from conditions import spread

SR, SECONDS = 44100, 30


def parts() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    t = np.arange(SR * SECONDS) / SR

    def tone(hz: float) -> np.ndarray:
        gate = np.sin(2 * np.pi * 2 * t) > 0         # on and off twice a second: the dynamics work
        x = (0.2 * np.sin(2 * np.pi * hz * t) * gate + 0.01 * rng.standard_normal(t.size)).astype(np.float32)
        return np.stack([x, np.roll(x, 37)])
    return {"lead": tone(440), "bass": tone(55), "drums": tone(1000)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tree", help="the checkout whose radio/ package to measure (default: this one)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--presets", default="default,rock,jazz")
    ap.add_argument("--split", action="store_true", help="also time each stage alone")
    args = ap.parse_args()
    tree = Path(args.tree or Path(__file__).parent.parent).resolve()
    sys.path.insert(0, str(tree))
    from conditions import Conditions

    from radio.sound.master import Master
    from radio.sound.mixer import Audio, Mixer
    from radio.sound.presets import resolve
    if not Path(sys.modules["radio"].__file__).resolve().is_relative_to(tree):
        raise SystemExit(f"radio came from {sys.modules['radio'].__file__}, not {tree}")
    with Conditions():
        print(f"sound stage of {tree}: CPU s per audio s, median (spread) of {args.rounds} rounds of {SECONDS} s")
        audio = parts()
        for name in args.presets.split(","):
            mixer, master = Mixer(resolve(name), SR), Master(SR)

            def stage():
                for i in range(0, SR * SECONDS, SR):
                    mixed = mixer.process({k: Audio(v[:, i:i + SR], SR) for k, v in audio.items()}).samples
                    for j in range(0, mixed.shape[1], SR // 4):
                        master.process(mixed[:, j:j + SR // 4])
            print(f"  {name:<10} {timed(stage, args.rounds)}")
            if args.split:
                split(Mixer(resolve(name), SR), Master(SR), audio, args.rounds)


def timed(run, rounds: int) -> str:
    """Median (spread) CPU s per audio s of `run()`, which processes SECONDS of audio."""
    cpu = []
    for _ in range(rounds):
        c = time.process_time()
        run()
        cpu.append((time.process_time() - c) / SECONDS)
    return spread(cpu, ".5f")


def split(mixer, master, audio: dict[str, np.ndarray], rounds: int) -> None:
    """Each stage alone, in the station's block sizes (1 s into the strips and the room,
    0.25 s into the master), on a fresh mixer and master of the preset."""
    import pedalboard as pb

    from radio.sound.loudness import KWeighting
    from radio.sound.mixer import Audio

    def blocks(board, pcm, size):
        return lambda: [board(pcm[:, i:i + size], SR, reset=False) for i in range(0, pcm.shape[1], size)]
    for part, strip in mixer.strips.items():
        for plugin in strip.board:
            run = blocks(pb.Pedalboard([plugin]), audio[part], SR)
            print(f"    {part:<6} {type(plugin).__name__:<17} {timed(run, rounds)}")
    send = sum(audio[part] * mixer.strips[part].strip.reverb for part in audio)
    print(f"    room   {'high-pass, reverb':<17} {timed(blocks(mixer.room_board, send, SR), rounds)}")
    mixed = np.concatenate([mixer.process({k: Audio(v[:, i:i + SR], SR) for k, v in audio.items()}).samples
                            for i in range(0, SR * SECONDS, SR)], axis=1)
    k = KWeighting(SR)
    run = blocks(lambda x, sr, reset: k.mean_square(x), mixed, SR // 4)
    print(f"    master {'K-weighting':<17} {timed(run, rounds)}")
    gained = mixed * np.float32(10 ** (master.gain_db / 20))      # the dynamics see the gained mix
    for plugin in master.board:
        run = blocks(pb.Pedalboard([plugin]), gained, SR // 4)
        print(f"    master {type(plugin).__name__:<17} {timed(run, rounds)}")
    run = lambda: [master.process(mixed[:, i:i + SR // 4]) for i in range(0, mixed.shape[1], SR // 4)]  # noqa: E731
    print(f"    master {'all of it':<17} {timed(run, rounds)}")


if __name__ == "__main__":
    main()
