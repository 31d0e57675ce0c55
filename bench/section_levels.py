#!/usr/bin/env python
"""Where each segment's loudness sits against the target as the station masters it: the
default mix (song form, seeded), every segment rendered and mixed by the pipeline, the
master cued at a change of style as the generator and the station cue it, and fed the
pacer's 0.25 s chunks. Prints per segment its song section, length, loudness into the
master (BS.1770 gated, as settled_gain reads it) and the median short-term loudness
(3 s windows) of the whole segment, its first 10 s and its last 10 s.

Within a style the master's slow control keeps a section's own dynamics (sound/master.py):
this shows how far a short, thin section (a song's intro or outro) sits under the target.

    TF_USE_LEGACY_KERAS=1 .venv/bin/python bench/section_levels.py [--segments 24] [--seed 1]
"""

from __future__ import annotations

import argparse
import tempfile

import numpy as np
from conditions import Conditions

from radio.config import Settings
from radio.generator.pipeline import Pipeline
from radio.sound.loudness import program_lufs, short_term_lufs
from radio.sound.master import Master, settled_gain

SR = 44100
CHUNK = SR // 4


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--segments", type=int, default=24)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    with Conditions(), tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data=tmp, seed=args.seed)
        pipeline, master = Pipeline(settings), Master(SR, settings.loudness_lufs)
        out, bounds, rows, passage = [], [0], [], None
        for _ in range(args.segments):
            segment = pipeline.next_segment()
            pcm = pipeline.render(segment)
            here = (pipeline.sound.name, pipeline.mix.label())
            master.cue(settled_gain(pcm, SR, settings.loudness_lufs) if here != passage else None, passage=here)
            passage = here
            out += [master.process(pcm[:, i:i + CHUNK]) for i in range(0, pcm.shape[1], CHUNK)]
            bounds.append(bounds[-1] + pcm.shape[1])
            song = segment.meta().get("song") or {}
            rows.append((pipeline.sound.name, song.get("name", "-"), segment.duration, program_lufs(pcm, SR)))
        st = short_term_lufs(np.concatenate(out, axis=1))      # window i covers [i, i + 3) s
        print(f"default mix, song form, seed {args.seed}, target {settings.loudness_lufs} LUFS; "
              "short-term loudness medians, LUFS")
        print(f"{'seg':>3} {'sound':<8} {'section':<8} {'s':>5} {'into master':>11} {'whole':>7} {'first 10 s':>10} "
              f"{'last 10 s':>9}")
        under = {}
        for k, (sound, section, seconds, level) in enumerate(rows):
            a, b = bounds[k] // SR, bounds[k + 1] // SR - 2
            whole, first, last = (float(np.median(st[lo:hi])) for lo, hi in ((a, b), (a, a + 8), (max(a, b - 10), b)))
            under.setdefault(section, []).append(settings.loudness_lufs - whole)
            level = float("nan") if level is None else level
            print(f"{k:>3} {sound:<8} {section:<8} {seconds:>5.1f} {level:>11.1f} "
                  f"{whole:>7.2f} {first:>10.2f} {last:>9.2f}")
        print("under the target by section (median of its segments' whole-segment medians, LU): "
              + ", ".join(f"{s} {np.median(v):.1f} ({len(v)})" for s, v in sorted(under.items())))


if __name__ == "__main__":
    main()
