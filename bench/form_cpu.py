"""CPU seconds per audio second of the generator's chain, songs against the endless drift.

The station's own pipeline (default model, numpy engine, default mix, humanized) makes
and renders segments until `--seconds` of audio, once with `"form": "song"` and once with
`"form": "morph"`, in turn, `--runs` times each, counting from the pipeline's first segment
(its model loaded before): a song decodes all its sections when it starts, so a run should
hold several songs (600 s: about three). Prints the medians and the ratio (issue 25: songs
may cost at most 10 % more, as the sections that return are decoded once).

    .venv/bin/python bench/form_cpu.py [--seconds 240] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from conditions import Conditions

from radio.config import Settings
from radio.generator.pipeline import Pipeline


def cpu_per_audio_second(form: str, seconds: float, seed: int) -> tuple[float, float]:
    """(CPU s per audio s of the whole chain, of which decoding)"""
    with tempfile.TemporaryDirectory() as data:
        p = Pipeline(Settings(data=data, seed=seed, mix={"form": form}))
        try:
            audio = cpu = decode = 0.0
            while audio < seconds:
                t0 = time.process_time()
                segment = p.next_segment()
                t1 = time.process_time()
                p.render(segment)
                t2 = time.process_time()
                audio, cpu, decode = audio + segment.duration, cpu + t2 - t0, decode + t1 - t0
        finally:
            p.close()
    return cpu / audio, decode / audio


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=600.0, help="audio seconds per run")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    print(f"# {args.seconds:.0f} s of audio a run, {args.runs} runs per form, in turn; CPU = process time "
          f"(all threads)")
    results: dict[str, list[tuple[float, float]]] = {"song": [], "morph": []}
    with Conditions():
        for run in range(args.runs):
            for form in results:
                results[form].append(cpu_per_audio_second(form, args.seconds, seed=run + 1))
                total, dec = results[form][-1]
                print(f"run {run + 1} {form:<5} {total:.4f} CPU s per audio s (decode {dec:.4f})", flush=True)
    med = {f: (statistics.median(t for t, _ in r), statistics.median(d for _, d in r)) for f, r in results.items()}
    for form, (total, dec) in med.items():
        spread = [t for t, _ in results[form]]
        print(f"median {form:<5} {total:.4f} CPU s per audio s (decode {dec:.4f}; "
              f"spread {min(spread):.4f}–{max(spread):.4f})")
    print(f"song / morph: {med['song'][0] / med['morph'][0]:.2f}")


if __name__ == "__main__":
    main()
