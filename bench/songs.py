#!/usr/bin/env python
"""Song structure in numbers: the real band set beside the station's songs.

Real songs bring phrases back, hold a groove and stay in a key; a string of unrelated
segments does none of it. For each song this prints (radio/offline/songstats.py):

- copies: the share of the lead's 4-bar windows (≥ 4 notes) that another window of the
  song copies nearly (Jaccard ≥ 0.8 on step and pitch; transposed copies do not count);
- drums / bass: the median Jaccard of consecutive bars' onset steps;
- key fit: the share of lead notes in the best major or natural-minor scale, and the key;
- minutes: a real file's last note end; a station song's segments' durations summed.

then medians with the 10th–90th percentile range. The reference is the held-out real band
set freedoom2 (Debian package freedoom): MIDI files that are not 4/4 or whose onsets miss
the grid their tempo map gives (MUS conversions) are skipped, with the reason. `--station N` adds N station songs (the song form: consecutive
segments sharing `segment.song["id"]`, from section 0), built on the CPU.

    TF_USE_LEGACY_KERAS=1 .venv/bin/python bench/songs.py [--station 8] [--mix '{"form": "song"}']
        [--seed 0] [--no-humanize]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import warnings

import numpy as np
from conditions import cpu_model

from radio.offline import bandfiles, songstats

Row = dict  # name, copies, drums, bass, fit, key, minutes (None where a figure has no value)
FIGURES = ("copies", "drums", "bass", "fit", "minutes")
MIN_ON_GRID = 0.6   # real files sit ≥ 0.87 on the grid; a wrong grid gives ~0.3 (chance)


def figures(name: str, parts: dict[str, list[tuple[int, int]]], minutes: float) -> Row:
    lead = parts.get("lead", [])
    fit, key = songstats.key_fit(lead) if lead else (None, "-")
    return {"name": name, "copies": songstats.near_copy_share(lead),
            "drums": songstats.median_bar_similarity(parts.get("drums", [])),
            "bass": songstats.median_bar_similarity(parts.get("bass", [])),
            "fit": fit, "key": key, "minutes": minutes}


def real_songs(source_name: str = "freedoom2") -> tuple[list[Row], dict[str, str]]:
    """Rows for the source's MIDI files, and {name: why} for those skipped: not 4/4 or
    empty, or off the grid its tempo map gives (its steps would be noise)."""
    from radio.band.parts import CompleteError, read_input
    source = bandfiles.by_name(source_name)
    if not source.path.exists():
        raise SystemExit(f"{source.path} is missing: install the Debian package {source.package}")
    rows, skipped = [], {}
    for name, data in bandfiles.midi_items(source).items():
        try:
            ns = read_input(data)
        except CompleteError as e:
            skipped[name] = str(e).split(";")[0]
            continue
        on_grid = songstats.grid_share(data)
        if on_grid < MIN_ON_GRID:
            skipped[name] = f"off the 16th grid: {on_grid:.0%} of onsets on it (tempo marking is not the music's)"
            continue
        rows.append(figures(name, songstats.from_midi_file(data), max(n.end_time for n in ns.notes) / 60))
    return rows, skipped


def segment_parts(seg, offset: int) -> dict[str, list[tuple[int, int]]]:
    """A segment's notes on the song's grid: `offset` steps in, through its tempo (ramp too)."""
    from radio.contracts import PARTS, part_of
    to_beats = getattr(seg, "beat_at", lambda s: s * seg.qpm / 60.0)
    out: dict[str, list[tuple[int, int]]] = {p: [] for p in PARTS}
    for n in seg.sequence.notes:
        out[part_of(n)].append((offset + round(to_beats(n.start_time) * 4), n.pitch))
    return out


def station_songs(count: int, mix: dict, seed: int, humanize: bool) -> list[Row]:
    """`count` whole station songs: from a section 0 to the next section 0 (or new song id)."""
    from radio.config import Settings
    from radio.generator.pipeline import Pipeline
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        p = Pipeline(Settings(data=tmp, seed=seed, mix=mix, humanize=humanize))
        song_id, name, parts, bars, seconds = None, "", None, 0, 0.0
        for _ in range(count * 200):                     # a cap, should songs never end
            seg = p.next_segment()
            song = getattr(seg, "song", None)
            if song is None:
                raise SystemExit("segments carry no .song: is the mix's form 'song'?")
            sid = song.get("id")   # section 0 starts a song even where ids are missing
            if parts is not None and (song["section"] == 0 or sid != song_id):
                rows.append(figures(name, parts, seconds / 60))
                if len(rows) == count:
                    break
                parts = None
            if song["section"] == 0:     # a song joined after its start is not whole: skipped
                song_id, parts, bars, seconds = sid, {}, 0, 0.0
                name = str(song.get("title") or f"song {sid}")[:11]
            if parts is None:
                continue
            for role, notes in segment_parts(seg, 16 * bars).items():
                parts.setdefault(role, []).extend(notes)
            bars, seconds = bars + seg.bars, seconds + seg.duration
    return rows


def _cell(v, fmt: str = "{:.2f}") -> str:
    return "-" if v is None else fmt.format(v)


def print_table(title: str, rows: list[Row], per_song: bool = True) -> None:
    print(f"\n{title}: {len(rows)} songs")
    print(f"{'song':<12}{'copies':>8}{'drums':>8}{'bass':>8}{'key fit':>9}  {'key':<9}{'min':>6}")
    for r in rows if per_song else []:
        print(f"{r['name']:<12}{_cell(r['copies']):>8}{_cell(r['drums']):>8}{_cell(r['bass']):>8}"
              f"{_cell(r['fit']):>9}  {r['key']:<9}{_cell(r['minutes'], '{:.1f}'):>6}")
    cells = []
    for f in FIGURES:
        vals = [r[f] for r in rows if r[f] is not None]
        if not vals:
            cells.append(f"{f} -")
            continue
        p10, med, p90 = np.percentile(vals, [10, 50, 90])
        cells.append(f"{f} {med:.2f} [{p10:.2f}–{p90:.2f}] (n={len(vals)})")
    print("median [p10–p90]: " + "; ".join(cells))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--station", type=int, default=0, help="also measure N station songs")
    ap.add_argument("--mix", default='{"form": "song"}', help="the station's mix, JSON")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--humanize", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--quiet", action="store_true", help="medians only, no per-song rows")
    args = ap.parse_args()
    warnings.filterwarnings("ignore", message="Tempo, Key or Time signature")  # pretty_midi, per file

    rows, skipped = real_songs()
    print(f"# songs bench: {cpu_model()}; freedoom2 {len(rows)} songs used, {len(skipped)} skipped"
          + (f"; station {args.station} songs, mix {args.mix}, seed {args.seed}, "
             f"humanize {args.humanize}" if args.station else ""))
    print_table("freedoom2 (real band, held out)", rows, not args.quiet)
    for name, why in skipped.items():
        print(f"  skipped {name}: {why}")
    if args.station:
        mix = json.loads(args.mix)
        print_table(f"station (mix {json.dumps(mix)})",
                    station_songs(args.station, mix, args.seed, args.humanize), not args.quiet)


if __name__ == "__main__":
    main()
