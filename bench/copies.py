#!/usr/bin/env python
"""How much of what the station plays copies the seed set's own songs (issue 28)?

The freedoom2 case of bench/likeness.py: freedoom2's odd usable files are the set `fd2`, the
even ones never reach any model. Every 4-bar window the station plays (song form, seeded runs)
is set against every 4-bar window of the set's own songs as imported (16-bar segments, each
start bar), by the Jaccard index of their lead and bass onsets (step in the window, pitch):
1 is a note-for-note copy. The even files, imported the same way, show how much one song
of the band shares with the band's other songs.

    TF_USE_LEGACY_KERAS=1 .venv/bin/python bench/copies.py [--model M] [--runs 12] [--temperature T]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import types
import warnings
from pathlib import Path

import numpy as np
from likeness import import_seeds, station_run, usable

from radio.contracts import STEPS_PER_BAR
from radio.model import load_model
from radio.music import seeds as seedlib
from radio.offline import likeness

WINDOW = likeness.WINDOW_BARS * STEPS_PER_BAR
PITCHED = ("lead", "bass")


def onsets(window: likeness.Parts) -> frozenset:
    """(role, step, pitch) of the lead's and bass's onsets in one window (a window with fewer
    than likeness.MIN_ONSETS of them is left out, where likeness counts the drums too)."""
    return frozenset((role, s, p) for role in PITCHED for s, _, p in window.get(role, ()) if s >= 0)


def song_windows(folder: Path, converter) -> list[frozenset]:
    """Every 4-bar window (each start bar) of a set's 16-bar segments as imported."""
    out = []
    for seg in seedlib.import_folder(folder, converter)[0]:
        if seg.transpose:
            continue
        parts = likeness.parts_from_segments([types.SimpleNamespace(sequence=seg.sequence, qpm=120.0, bars=16)])
        notes = onsets(parts)
        for start in range(0, (16 - likeness.WINDOW_BARS + 1) * STEPS_PER_BAR, STEPS_PER_BAR):
            found = frozenset((r, s - start, p) for r, s, p in notes if start <= s < start + WINDOW)
            if len(found) >= likeness.MIN_ONSETS:
                out.append(found)
    return out


def station_windows(data: Path, mix: dict, runs: int, bars: int, model: str | None) -> list[frozenset]:
    """The onsets of every 4-bar window of `runs` station runs (seeds 1..runs), as bench/likeness.py plays them."""
    out = []
    for k in range(1, runs + 1):
        parts = likeness.parts_from_segments(station_run(data, mix, k, bars, False, model))
        out += [found for w in likeness.cut(parts) if len(found := onsets(w)) >= likeness.MIN_ONSETS]
    return out


def nearest(windows: list[frozenset], songs: list[frozenset]) -> np.ndarray:
    """Each window's highest Jaccard index against the songs' windows."""
    return np.array([max(len(w & s) / len(w | s) for s in songs) for w in windows])


def line(name: str, best: np.ndarray) -> None:
    print(f"  {name:34s} {len(best):4d} windows: median nearest {statistics.median(best):.2f}; "
          f"≥ 0.5 {np.mean(best >= 0.5):.2f}, ≥ 0.8 {np.mean(best >= 0.8):.2f}, copies (1.0) {np.mean(best >= 1):.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", help="a model folder to play (default: the shipped one)")
    ap.add_argument("--runs", type=int, default=12)
    ap.add_argument("--bars", type=int, default=64)
    ap.add_argument("--temperature", type=float, default=1.0)
    args = ap.parse_args()
    warnings.filterwarnings("ignore", message="Tempo, Key or Time signature")   # pretty_midi, on real files
    fd2_data, fd2, _ = usable("freedoom2")
    names = sorted(fd2)
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as other:
        import_seeds({n: fd2_data[n] for n in names[0::2]}, Path(tmp), "fd2")
        import_seeds({n: fd2_data[n] for n in names[1::2]}, Path(other), "heldout")   # never in the station's data
        converter = load_model(args.model).converter
        songs = song_windows(Path(tmp) / "seeds" / "fd2", converter)
        held = song_windows(Path(other) / "seeds" / "heldout", converter)
        mix = {"sets": {"fd2": 1}, "form": "song", "temperature": args.temperature, "style": 0.0}
        played = station_windows(Path(tmp), mix, args.runs, args.bars, args.model)
    print(f"# copies: freedoom2's odd {len(names[0::2])} usable files as the set ({len(songs)} windows of its songs); "
          f"model {args.model or 'shipped'}, song form, T {args.temperature}, {args.runs} runs × {args.bars} bars")
    print("lead and bass onsets of each 4-bar window against the nearest window of the set's songs (Jaccard):")
    line("the station", nearest(played, songs))
    line("the band's other songs (even files)", nearest(held, songs))


if __name__ == "__main__":
    main()
