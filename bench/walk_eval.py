#!/usr/bin/env python
"""How the endless walk sounds, in numbers: seams, style, repetition, humanization.

- Seams, over a walk of --minutes of music (default mix, humanized, as the station plays
  it): the longest all-parts silence at a seam (and inside the seeds, for scale); lead/bass
  notes cut and struck again at a seam (held to the end, same pitch at the next start), and
  the notes tied over instead; seams where the drums play within the beat either side; the
  change in notes per bar across seams versus between bars inside segments.
- In-style: for a mix of one set at a time, each output segment is encoded again and its
  nearest seed segment found: the share nearer its own set's seeds than any other set's,
  and the mean distances (own, other).
- Repetition: share of segments whose notes (part, pitch, sixteenth) overlap an earlier
  segment's by ≥ 90 % (Jaccard); loop mode is reported beside, exempt by design.
- Humanization: velocity spread and onset distance from the grid per part, before/after.

    .venv/bin/python bench/walk_eval.py [--minutes 10] [--per-set 8] [--model DIR] [--engine numpy|tf]
        [--in-style-only --runs 12]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from radio.config import ASSETS, Settings
from radio.generator.anchors import load_anchors
from radio.model import load_model
from radio.music.composer import LatentWalk
from radio.music.groove import Groove
from radio.music.performer import humanization_stats, humanize
from radio.music.segment import MODEL_QPM, retime


def sounding_gaps(notes, start: float, end: float) -> float:
    """Longest stretch in [start, end] where no note sounds (drums count 0.2 s)."""
    spans = sorted((n.start_time, n.end_time if not n.is_drum else n.start_time + 0.2) for n in notes)
    longest, t = 0.0, start
    for s, e in spans:
        if e <= t:
            continue
        if s > t:
            longest = max(longest, min(s, end) - t)
        t = max(t, e)
        if t >= end:
            break
    return max(longest, end - t) if t < end else longest


def seam_stats(segments) -> dict:
    gaps, restruck, pulse, across, within = [], 0, 0, [], []
    for prev, nxt in zip(segments, segments[1:]):
        beat_prev, beat_next = 60.0 / prev.qpm, 60.0 / (nxt.start_qpm or nxt.qpm)
        # silence around the seam: the last beat of prev and the first of next, in one timeline
        tail = [n for n in prev.sequence.notes if n.end_time > prev.duration - beat_prev or
                (n.is_drum and n.start_time > prev.duration - beat_prev - 0.2)]
        shifted = [_Note(n.start_time + prev.duration, n.end_time + prev.duration, n.is_drum)
                   for n in nxt.sequence.notes if n.start_time < beat_next]
        gaps.append(sounding_gaps([_Note(n.start_time, n.end_time, n.is_drum) for n in tail] + shifted,
                                  prev.duration - beat_prev, prev.duration + beat_next))
        held = {(n.instrument, n.pitch) for n in prev.sequence.notes if not n.is_drum
                and prev.duration - 0.05 <= n.end_time <= prev.duration + 0.01}
        restruck += sum(1 for n in nxt.sequence.notes if not n.is_drum and n.start_time < 0.05
                        and (n.instrument, n.pitch) in held)
        pulse += any(n.is_drum and n.start_time > prev.duration - beat_prev for n in prev.sequence.notes) and \
            any(n.is_drum and n.start_time < beat_next for n in nxt.sequence.notes)
        across.append(abs(_bar_counts(prev)[-1] - _bar_counts(nxt)[0]))
    for s in segments:
        counts = _bar_counts(s)
        within += [abs(a - b) for a, b in zip(counts, counts[1:])]
    return {"seams": len(segments) - 1, "longest silence at a seam (s)": max(gaps),
            "cut and re-struck": restruck, "seams with drums on both sides": pulse,
            "notes/bar change across seams": float(np.mean(across)),
            "notes/bar change between bars": float(np.mean(within))}


class _Note:
    def __init__(self, start, end, is_drum):
        self.start_time, self.end_time, self.is_drum = start, end, is_drum


def _bar_counts(segment) -> list[int]:
    counts = [0] * segment.bars
    for n in segment.sequence.notes:
        bar = int(segment.beat_at(n.start_time) // 4)
        if 0 <= bar < segment.bars:
            counts[bar] += 1
    return counts


def note_set(segment) -> set:
    return {(n.is_drum, n.instrument, n.pitch, round(segment.beat_at(n.start_time) * 4))
            for n in segment.sequence.notes}


def repetition(segments, threshold: float = 0.9) -> float:
    sets = [note_set(s) for s in segments]
    dup = sum(any(len(a & b) / max(1, len(a | b)) >= threshold for b in sets[:i]) for i, a in enumerate(sets))
    return dup / len(segments)


def in_style(model, anchors, per_set: int, seed: int, temperature: float) -> dict:
    sets = sorted({a.set for a in anchors})
    Z = np.stack([a.z for a in anchors])
    labels = np.array([a.set for a in anchors])
    nearer, own_d, other_d = [], [], []
    for s in sets:
        walk = LatentWalk(model, anchors, steps_per_leg=4, temperature=temperature, seed=seed,
                          weights={s: 1.0}, qpm=MODEL_QPM)
        outs = [next(walk) for _ in range(per_set)]
        tensors = []
        for seg in outs:
            t = model.converter.to_tensors(retime(seg.sequence, MODEL_QPM, seg.qpm)).inputs
            if t:
                tensors.append(np.asarray(t[0], np.float32))
        z = model.encode(tensors)
        for zi in z:
            d = np.linalg.norm(Z - zi, axis=1)
            own, other = d[labels == s].min(), d[labels != s].min()
            nearer.append(own < other)
            own_d.append(own)
            other_d.append(other)
    return {"sets": len(sets), "segments": len(nearer), "nearer own set": float(np.mean(nearer)),
            "mean distance to own set": float(np.mean(own_d)),
            "mean distance to other sets": float(np.mean(other_d))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--per-set", type=int, default=8)
    ap.add_argument("--model", default=str(ASSETS / "model"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--temperature", type=float, default=None, help="default: the station's")
    ap.add_argument("--seeds", default=str(ASSETS / "seeds"), help="seed sets (one folder a set)")
    ap.add_argument("--in-style-only", action="store_true", help="skip the walks, seams and seed data")
    ap.add_argument("--engine", choices=("numpy", "tf"), default="numpy",
                    help="numpy: seeded, so a seed gives the same figure every run (tf's sampling is not)")
    ap.add_argument("--runs", type=int, default=1, help="in-style runs, seeds --seed … --seed+runs-1")
    args = ap.parse_args()
    t0 = time.monotonic()
    settings = Settings.from_env(data=tempfile.mkdtemp(), temperature=args.temperature)
    model = load_model(args.model, engine=args.engine, batch_size=4, seed=args.seed,
                       data=tempfile.mkdtemp())
    anchors = load_anchors(model, Path(args.seeds))
    print(f"model {args.model} ({model.card.steps} steps); {len(anchors)} seed segments in "
          f"{len({a.set for a in anchors})} sets")

    print(f"temperature {settings.temperature}")
    for mode in () if args.in_style_only else ("walk", "loop"):
        walk = LatentWalk(model, anchors, settings.steps_per_leg, settings.temperature, seed=args.seed,
                          mode=mode)
        raw, played, seconds = [], [], 0.0
        while seconds < args.minutes * 60:
            s = next(walk)
            raw.append(s)
            played.append(humanize(s, Groove(), seed=args.seed))
            seconds += s.duration
        print(f"\n{mode}: {len(played)} segments, {seconds / 60:.1f} min, {walk.ties} notes tied over seams")
        for k, v in seam_stats(played).items():
            print(f"  {k}: {v:.3f}" if isinstance(v, float) else f"  {k}: {v}")
        print(f"  near-duplicate segments (≥ 90 % shared notes): {repetition(played):.3f}")
        if mode == "walk":
            before = [humanization_stats(s) for s in raw]
            after = [humanization_stats(s) for s in played]
            print("  humanization, mean per segment (before → after):")
            for part in ("lead", "bass", "drums"):
                print(f"    {part:5s} velocity std {np.mean([b[part]['velocity_std'] for b in before]):5.2f} → "
                      f"{np.mean([a[part]['velocity_std'] for a in after]):5.2f};  onset distance from grid "
                      f"{np.mean([b[part]['onset_deviation_ms'] for b in before]):5.2f} → "
                      f"{np.mean([a[part]['onset_deviation_ms'] for a in after]):5.2f} ms")

    if not args.in_style_only:
        seeds_gap = max(sounding_gaps(list(seq.notes), 0, 32.0) for _, seq in _seed_sequences(model))
        print(f"\nseed data: longest all-parts silence inside a seed segment {seeds_gap:.2f} s (at 120 qpm)")
        across, within = _seed_density_changes(model)
        print(f"seed data: notes/bar change across a 16-bar boundary inside a song {across:.3f}, "
              f"between bars {within:.3f}")
    print("\nin-style (one set at a time):")
    shares = []
    for seed in range(args.seed, args.seed + args.runs):
        if seed != args.seed and args.engine == "numpy":
            model.rng = np.random.default_rng(seed)
        print(f" seed {seed}:")
        for k, v in in_style(model, anchors, args.per_set, seed, settings.temperature).items():
            print(f"  {k}: {v:.3f}" if isinstance(v, float) else f"  {k}: {v}")
            if k == "nearer own set":
                shares.append(v)
    if len(shares) > 1:
        print(f" nearer own set over {len(shares)} seeds: median {np.median(shares):.3f}, "
              f"mean {np.mean(shares):.3f}, min {min(shares):.3f}, max {max(shares):.3f}")
    print(f"\n{time.monotonic() - t0:.0f} s")


def _seed_sequences(model):
    from radio.music import seeds
    from radio.music.seedsets import SeedLibrary
    for _, path in SeedLibrary(ASSETS / "seeds").files():
        for s in seeds.import_files([path], model.converter)[0]:
            yield (path, s.start_bar), s.sequence


def _seed_density_changes(model) -> tuple[float, float]:
    """The same density measure on the seeds: across the 16-bar boundary between a song's
    consecutive segments, and between bars inside them (what the seams are judged against)."""
    def counts(seq):
        c = [0] * 16
        for n in seq.notes:
            if 0 <= int(n.start_time // 2.0) < 16:
                c[int(n.start_time // 2.0)] += 1
        return c
    by_key = dict(_seed_sequences(model))
    across, within = [], []
    for (path, bar), seq in by_key.items():
        c = counts(seq)
        within += [abs(a - b) for a, b in zip(c, c[1:])]
        nxt = by_key.get((path, bar + 16))
        if nxt is not None:
            across.append(abs(c[-1] - counts(nxt)[0]))
    return float(np.mean(across)), float(np.mean(within))


if __name__ == "__main__":
    main()
