#!/usr/bin/env python
"""How much of what the station plays copies the seed set's own songs (issue 28)?

A band case of bench/likeness.py (`--case freedoom2`, the default, or `openmsx`): the band's
odd usable files are the set (`fd2`, `omsx`), the even ones never reach any model. Every
4-bar window the station plays (song form, seeded runs) is set against every 4-bar window
of the set's own songs as imported (16-bar segments, each start bar), by the Jaccard index
of their lead and bass onsets (step in the window, pitch): 1 is a note-for-note copy; then
again with the songs' windows in every key (radio/offline/echo.py, what `radio learn`
judges). The even files, imported the same way, show how much one song of the band shares
with the band's other songs.

    TF_USE_LEGACY_KERAS=1 .venv/bin/python bench/copies.py [--case openmsx] [--model M] [--runs 12] [--temperature T]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import warnings
from pathlib import Path

import numpy as np
from likeness import BAND_CASES, import_seeds, station_run, usable

from radio.model import load_model
from radio.music import seeds as seedlib
from radio.offline import echo, likeness


def song_windows(folder: Path, converter) -> list[frozenset]:
    """Every 4-bar window (each start bar) of a set's 16-bar segments as imported."""
    return echo.song_windows(seg.sequence for seg in seedlib.import_folder(folder, converter)[0] if not seg.transpose)


def station_windows(data: Path, mix: dict, runs: int, bars: int, model: str | None) -> list[frozenset]:
    """The onsets of every 4-bar window of `runs` station runs (seeds 1..runs), as bench/likeness.py plays them."""
    return [w for k in range(1, runs + 1)
            for w in echo.played_windows(likeness.parts_from_segments(station_run(data, mix, k, bars, False, model)))]


def line(name: str, best: np.ndarray) -> None:
    print(f"  {name:34s} {len(best):4d} windows: median nearest {statistics.median(best):.2f}; "
          f"≥ 0.5 {echo.share(best, 0.5):.2f}, ≥ 0.8 {echo.share(best):.2f}, copies (1.0) {echo.share(best, 1.0):.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--case", choices=tuple(BAND_CASES), default="freedoom2", help="the band")
    ap.add_argument("--model", help="a model folder to play (default: the shipped one)")
    ap.add_argument("--runs", type=int, default=12)
    ap.add_argument("--bars", type=int, default=64)
    ap.add_argument("--temperature", type=float, default=1.0)
    args = ap.parse_args()
    warnings.filterwarnings("ignore", message="Tempo, Key or Time signature")   # pretty_midi, on real files
    band_data, band, _ = usable(args.case)
    set_name, names = BAND_CASES[args.case], sorted(band)
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as other:
        import_seeds({n: band_data[n] for n in names[0::2]}, Path(tmp), set_name)
        import_seeds({n: band_data[n] for n in names[1::2]}, Path(other), "heldout")   # never in the station's data
        converter = load_model(args.model).converter
        songs = song_windows(Path(tmp) / "seeds" / set_name, converter)
        held = song_windows(Path(other) / "seeds" / "heldout", converter)
        mix = {"sets": {set_name: 1}, "form": "song", "temperature": args.temperature, "style": 0.0}
        played = station_windows(Path(tmp), mix, args.runs, args.bars, args.model)
    print(f"# copies: {args.case}'s odd {len(names[0::2])} usable files as the set ({len(songs)} windows of its songs); "
          f"model {args.model or 'shipped'}, song form, T {args.temperature}, {args.runs} runs × {args.bars} bars")
    print("lead and bass onsets of each 4-bar window against the nearest window of the set's songs (Jaccard):")
    line("the station", echo.nearest(played, songs))
    line("the band's other songs (even files)", echo.nearest(held, songs))
    print(f"the same in any key (the songs' windows also moved ±1…±{echo.KEYS} semitones, as radio learn's echo):")
    keyed = echo.in_every_key(songs)
    line("the station", echo.nearest(played, keyed))
    line("the band's other songs (even files)", echo.nearest(held, keyed))


if __name__ == "__main__":
    main()
