#!/usr/bin/env python
"""Which line is a band's lead? The likeness bench's (the highest track, as band completion
finds it) against the seed import's (the top line bar by bar over every melodic track,
`seeds.merged_line`), on a real source's files, measured the same way: intervals between
consecutive notes less than half a bar apart (a longer rest starts a new phrase), how many
leap (> 5, > 7 semitones), and how much the line plays (notes a bar; bars with no note).
Also which of the import's leaps come where its line changes track.

    TF_USE_LEGACY_KERAS=1 .venv/bin/python bench/lead_lines.py [--source freedoom2]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from conditions import cpu_model

from radio.music import seeds
from radio.offline import bandfiles, likeness


def summary(name: str, intervals: list[int], notes: int, bars: int, empty: int) -> None:
    iv = np.array(intervals)
    print(f"  {name:<36} {len(iv):>6} intervals: > 5 st {np.mean(iv > 5):.2f}, > 7 st {np.mean(iv > 7):.2f}, "
          f"median {np.median(iv):.1f}; {notes / bars:.2f} notes a bar, {empty / bars:.2f} of bars empty")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", default="freedoom2", choices=[s.name for s in bandfiles.SOURCES])
    args = ap.parse_args()
    warnings.filterwarnings("ignore", message="Tempo, Key or Time signature")   # pretty_midi
    items = bandfiles.midi_items(bandfiles.by_name(args.source))
    if not items:
        raise SystemExit(f"{args.source}: install the Debian package {bandfiles.by_name(args.source).package}")
    bench_iv, import_iv, switch_iv = [], [], []
    count = {"bench": [0, 0, 0], "import": [0, 0, 0]}       # notes, bars, empty bars
    files = 0
    for name in sorted(items):
        try:
            ns = seeds.parse_midi(items[name])
        except seeds.SeedImportError:
            continue
        parts = likeness.parts_from_midi(items[name])
        roles = seeds.classify(seeds.describe_parts(ns))
        if parts is None or "lead" not in parts or not (roles.lead and roles.bass and roles.drums):
            continue
        files += 1
        line = likeness.one_line(parts["lead"], True)          # steps: 16 a bar
        bench_iv += [abs(b[2] - a[2]) for a, b in zip(line, line[1:]) if b[0] - a[1] <= 8]
        bars = max(e for _, e, _ in parts["lead"]) // 16 + 1
        played = {s // 16 for s, _, _ in line}
        count["bench"] = [count["bench"][0] + len(line), count["bench"][1] + bars,
                          count["bench"][2] + bars - len(played)]
        bar_s = 240.0 / (ns.tempos[0].qpm if ns.tempos else 120.0)
        merged, _ = seeds.merged_line(ns, roles.leads or [roles.lead], bar_s, True)
        for a, b in zip(merged, merged[1:]):
            if b.start - a.end <= bar_s / 2:
                (switch_iv if a.part != b.part else import_iv).append(abs(b.pitch - a.pitch))
        bars = int(max(n.end for n in merged) / bar_s) + 1
        played = {int(n.start / bar_s) for n in merged}
        count["import"] = [count["import"][0] + len(merged), count["import"][1] + bars,
                           count["import"][2] + bars - len(played)]
    print(f"# lead_lines --source {args.source}: {cpu_model()}; {files} files with drums, bass and lead")
    summary("the bench's lead (highest track)", bench_iv, *count["bench"])
    summary("the import's lead (merged line)", import_iv + switch_iv, *count["import"])
    leaps = sum(v > 5 for v in import_iv + switch_iv)
    print(f"  of the import's leaps over 5 semitones, {sum(v > 5 for v in switch_iv)} of {leaps} come where "
          f"the line changes track ({len(switch_iv)} changes)")


if __name__ == "__main__":
    main()
