#!/usr/bin/env python
"""Our seed import against magenta's own TrioConverter, on the same real band MIDI.

Both read the same files (by default the band MIDI Debian ships, see radio/offline/bandfiles.py,
extracted to a temporary folder; or --folder DIR with one sub-folder per source), with the
converter the station builds from the model's config (radio/model/tf_engine.py: make_config of the
model card's config and hparams). Ours: `seeds.import_files` (parts found by role, skyline
and bar-by-bar merged lead and bass, drum tracks merged; non-overlapping 16-bar windows).
Magenta's: `converter.to_tensors(file)` as is (parts by program number: melody 0–31, bass
32–39; every 16-bar slice a bar apart, at most max_tensors_per_notesequence a file).

Prints, per source and in all: files, files kept and segments kept by each; then the files
one keeps and the other drops.

    .venv/bin/python bench/import_compare.py [--model DIR] [--folder DIR] [-v]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from radio.config import ASSETS
from radio.model.tf_engine import make_config, resolve
from radio.music import seeds
from radio.offline import bandfiles


def magenta_count(path: Path, converter) -> int:
    try:
        ns = seeds.read_midi(path)
    except seeds.SeedImportError:
        return 0
    try:
        return len(converter.to_tensors(ns).inputs)
    except Exception:  # noqa: BLE001  (magenta raises on some odd files; it keeps nothing then)
        return 0


def compare(folder: Path, converter, verbose: bool = False) -> list[tuple]:
    rows = []
    for source in sorted(p for p in folder.iterdir() if p.is_dir()):
        files = seeds.midi_files(source)
        _, reports = seeds.import_files(files, converter)
        ours = {Path(r.path).name: r for r in reports}
        theirs = {p.name: magenta_count(p, converter) for p in files}
        rows.append((source.name, len(files),
                     sum(r.segments > 0 for r in reports), sum(r.segments for r in reports),
                     sum(n > 0 for n in theirs.values()), sum(theirs.values()),
                     sorted(n for n in theirs if theirs[n] and not ours[n].segments),
                     sorted(n for n in theirs if not theirs[n] and ours[n].segments)))
        if verbose:
            for name, r in ours.items():
                print(f"  {source.name}: {r.line()}   | magenta: {theirs[name]} segment(s)")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=str(ASSETS / "model"))
    parser.add_argument("--folder", help="one sub-folder of .mid files per source "
                                         "(default: the Debian band MIDI, extracted)")
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per file")
    args = parser.parse_args()
    card, _ = resolve(Path(args.model))
    converter = make_config(card.config, card.hparams).data_converter
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.folder) if args.folder else Path(tmp)
        if not args.folder:
            for source in bandfiles.SOURCES:
                bandfiles.extract(source, folder)
        t0 = time.time()
        rows = compare(folder, converter, args.verbose)
    print(f"model {args.model} ({card.config}); converter: slice {converter._slice_bars} bars, "
          f"gap {converter._gap_bars} bars, at most {converter.max_tensors_per_notesequence} "
          f"tensors a file; {time.time() - t0:.0f} s")
    print("\n| source | files | ours: files kept | ours: segments | magenta: files kept "
          "| magenta: segments |\n|---|---|---|---|---|---|")
    for name, n, ok, segs, mok, msegs, _, _ in rows:
        print(f"| {name} | {n} | {ok} | {segs} | {mok} | {msegs} |")
    total = [sum(r[i] for r in rows) for i in range(1, 6)]
    print("| all | " + " | ".join(map(str, total)) + " |")
    print("\nours: non-overlapping 16-bar windows; magenta: 16-bar slices one bar apart, "
          "capped per file, so segment counts are not like for like")
    for name, *_, lost, gained in rows:
        print(f"{name}: magenta keeps, we drop: {', '.join(lost) or '—'}; "
              f"we keep, magenta drops: {', '.join(gained) or '—'}")
    ok = all(r[2] >= r[4] for r in rows)
    print(f"\ngoal (per source, ours keeps at least as many files as magenta): {'PASS' if ok else 'FAIL'}")


if __name__ == "__main__":
    main()
