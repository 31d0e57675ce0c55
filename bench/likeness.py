#!/usr/bin/env python
"""Likeness: how easily a classifier tells the station's 4-bar windows from a real band's.

The issue's question is whether the station, fed one band's songs, writes music that band
could have written. Listening cannot be repeated or compared across changes; this bench can.
It cuts real MIDI (parts by role) and station output into 4-bar windows, puts ~34
compositional figures on each (radio/offline/likeness.py: no velocity, timing, tempo or
sound) and prints

- likeness: the out-of-fold ROC AUC of a gradient-boosted classifier telling station windows
  from real ones (5 folds grouped by file / station run, mean over 3 fold seeds), beside the
  floor: the same for the real set's files split odd/even by sorted name (what two halves of
  one band score). 0.5 is indistinguishable, 1.0 told apart every time;
- the 8 figures that separate most alone (univariate AUC) with both sides' medians;
- band attribution: a multi-class classifier trained on real sets only (grouped folds; its
  out-of-fold hit rate per class shown), applied to the station's windows: the share
  attributed to each class;
- the station's bars judged against the music it plays (musicstats.band_stats, as
  bench/model_quality.py): a band's set against that band's own figures (each within
  ±0.15, a median ±1: freedoom2 has kicks in 95 % of bars), the default mix against GOALS.

`--case freedoom2`: freedoom2's usable songs sorted by name; the odd ones (1st, 3rd, ...)
become a seed set `fd2` in a temporary data folder, the even ones are the held-out reference.
The station plays `{"sets": {"fd2": 1}}`; the band class is all of freedoom2's usable songs.
`--case openmsx` is the same with OpenTTD's OpenMSX songs (set `omsx`; in no corpus either):
a second band, to see whether what a learn does for freedoom2 holds for another.
`--case default`: the default mix against freedoom2 + freedink pooled (freedink has no drums,
so its windows' drum figures are NaN; the AUC against freedoom2 alone is printed too).
`--with-set freedoom1:W` adds a real band's songs as a set named after it, played at weight W
beside the shipped sets' 1 (what the default mix would be with a band among its sets);
repeat it for several bands (freedoom1, blupi, openmsx). `--real openmsx` scores a real band's
own files in place of the station (each file a run; `--blocks` takes them `--runs` at a time in
name order): where real, human-composed music stands against the same reference. `--broad`
also scores against freedoom2 + freedink + OpenMSX (three unlike bands in no corpus).
`--source seeds` scores the seed sets' own segments as imported (freedoom2's odd half, or the
ten shipped sets in the default case): the ceiling, what no model can beat while it plays
those sets; `--source anchors` scores them decoded from their own encodings (no walk).
Real files not 4/4, empty, or whose onsets miss their tempo map's grid (MUS conversions) are
skipped. Station output is not humanized unless `--humanize` (swing would move 16ths by up to
half a step); TensorFlow-free numpy engine, but sampling varies run to run.

    TF_USE_LEGACY_KERAS=1 .venv/bin/python bench/likeness.py --case freedoom2|openmsx [--form song]
        [--runs 6] [--bars 64] [--humanize] [--model DIR]
        [--source station|anchors|seeds] [--temperature T] [--style S] [--learn [--learn-args "..."]]
    TF_USE_LEGACY_KERAS=1 .venv/bin/python bench/likeness.py --case default [--with-set freedoom1:10]
        [--real openmsx --runs 6 --blocks 4] [--broad] [--source seeds|anchors]
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from conditions import cpu_model

from radio.offline import bandfiles, likeness, musicstats, songstats

MIN_ON_GRID = 0.6            # real files sit ≥ 0.87 on their grid; a wrong grid gives ~0.3
BANDS = tuple(s.name for s in bandfiles.SOURCES if not s.held_out)   # may be sets; never the reference
BAND_CASES = {"freedoom2": "fd2", "openmsx": "omsx"}   # a band case's source → its seed set's name
ISSUE = ("bass_notes_per_bar", "bass_silence", "bass_interval", "lead_range", "lead_length_variety")


Blocks = dict[str, np.ndarray]   # file or station run → its windows' figures (rows of FEATURES)


def usable(source: str) -> tuple[dict[str, bytes], Blocks, int]:
    """({name: MIDI bytes}, {name: window rows}) of a source's usable files, sorted by name,
    and how many were skipped (not 4/4, empty, unreadable, or off the grid)."""
    items = bandfiles.midi_items(bandfiles.by_name(source))
    if not items:
        raise SystemExit(f"{source}: install the Debian package {bandfiles.by_name(source).package}")
    data, parts = {}, {}
    for name in sorted(items):
        p = likeness.parts_from_midi(items[name])
        if p is not None and (songstats.grid_share(items[name]) or 0) >= MIN_ON_GRID:
            data[name], parts[name] = items[name], likeness.window_rows(p)
    return data, parts, len(items) - len(parts)


def rows(blocks: Blocks) -> tuple[np.ndarray, list[str]]:
    """The groups' (files', runs') window rows stacked, and each row's group."""
    groups = [g for g, block in blocks.items() for _ in range(len(block))]
    return np.vstack(list(blocks.values())), groups


def import_seeds(files: dict[str, bytes], data: Path, set_name: str) -> None:
    folder = data / f"incoming-{set_name}"
    folder.mkdir(parents=True)
    for name, body in files.items():
        (folder / f"{name.lower()}.mid").write_bytes(body)
    done = subprocess.run([sys.executable, "-m", "radio", "seeds", "import", str(folder), "--set", set_name,
                           "--data", str(data)], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"seed import failed:\n{done.stdout}\n{done.stderr}")


def learn(data: Path, set_name: str, model: str | None, extra: list[str]) -> str:
    """`radio learn` on the imported set; prints its held-out curve and time; the model folder."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "radio", "learn", set_name, "--data", str(data),
                           *(["--model", model] if model else []), *extra], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"radio learn failed:\n{done.stdout}\n{done.stderr[-2000:]}")
    for line in done.stdout.splitlines():
        if line.startswith(("exported", "held-out loss", set_name)):
            print(f"# learn: {line}")
    print(f"# learn: {time.perf_counter() - t0:.0f} s in all (graph build, steps, evaluations, export)")
    return str(data / "models" / set_name)


def station_run(data: Path, mix: dict, seed: int, bars: int, humanize: bool, model: str | None) -> list:
    """One station run (its seed) of at least `bars` bars: the segments, in order."""
    from radio.config import Settings
    from radio.generator.pipeline import Pipeline
    p = Pipeline(Settings(data=str(data), seed=seed, mix=mix, humanize=humanize,
                          **({"model": model} if model else {})))
    segments, made = [], 0
    while made < bars:
        segments.append(p.next_segment())
        made += segments[-1].bars
    return segments


def station(data: Path, mix: dict, runs: int, bars: int, humanize: bool, model: str | None,
            joined: list | None = None) -> Blocks:
    """`runs` station runs (seeds 1..runs) of at least `bars` bars each, as window rows per run;
    each run as one NoteSequence appended to `joined` (for musicstats.band_stats)."""
    out = {}
    for k in range(1, runs + 1):
        segments = station_run(data, mix, k, bars, humanize, model)
        out[f"run {k}"] = likeness.window_rows(likeness.parts_from_segments(segments))
        if joined is not None:
            joined.append(musicstats.joined(segments))
    return out


def anchors(folders: list[Path], source: str, temperature: float, model: str | None) -> Blocks:
    """Not the walk: the sets' own 16-bar segments decoded straight from their encodings
    (`anchors`) or as imported (`seeds`, the ceiling), four segments to a pseudo-run."""
    import types

    from radio.model import load_model
    from radio.music import seeds as seedlib
    m = load_model(model)
    segs = [s for folder in folders for s in seedlib.import_folder(folder, m.converter)[0]]
    if source == "anchors":
        z = m.encode([s.tensor for s in segs])
        seqs = [q for i in range(0, len(z), 4) for q in m.decode(z[i:i + 4], temperature)]
    else:
        seqs = [s.sequence for s in segs]
    return {f"anchors {k}": likeness.window_rows(likeness.parts_from_segments(
        [types.SimpleNamespace(sequence=q, qpm=120.0, bars=16) for q in seqs[k:k + 4]]))
        for k in range(0, len(seqs), 4)}


def split_half(parts: Blocks) -> tuple[Blocks, Blocks]:
    names = sorted(parts)
    return ({n: parts[n] for n in names[0::2]}, {n: parts[n] for n in names[1::2]})


def separating(a: np.ndarray, b: np.ndarray, top: int = 8) -> list[tuple[str, float, float, float]]:
    """The `top` figures that alone separate `b` from `a` most: (name, univariate AUC of
    b over a, median of a, median of b), by |AUC - 0.5|; NaN rows left out per figure."""
    from sklearn.metrics import roc_auc_score
    out = []
    for i, name in enumerate(likeness.FEATURES):
        va, vb = a[:, i][~np.isnan(a[:, i])], b[:, i][~np.isnan(b[:, i])]
        if va.size and vb.size:
            y = np.r_[np.zeros(va.size), np.ones(vb.size)]
            out.append((name, float(roc_auc_score(y, np.r_[va, vb])), float(np.median(va)), float(np.median(vb))))
    return sorted(out, key=lambda r: -abs(r[1] - 0.5))[:top]


def auc_line(label: str, a: tuple, b: tuple) -> float:
    aucs = likeness.likeness_auc(a[0], b[0], a[1], b[1])
    print(f"{label}: AUC {np.mean(aucs):.3f} (fold seeds {', '.join(f'{x:.3f}' for x in aucs)})")
    return float(np.mean(aucs))


def likeness_report(name: str, ref: Blocks, floor_set: Blocks, floor_name: str,
                    runs: Blocks) -> tuple[np.ndarray, np.ndarray]:
    real, st = rows(ref), rows(runs)
    auc_line(f"likeness, station vs {name}", real, st)
    a, b = split_half(floor_set)
    auc_line(f"floor, {floor_name} odd vs even files ({len(a)} vs {len(b)})", rows(a), rows(b))
    print("  (two halves of one band: the method's chance level; grouped folds over few, unlike files"
          " score same-source halves below 0.5)")
    print(f"\nmost separating figures alone (univariate AUC of station over {name}; medians):")
    print(f"  {'figure':<24}{'AUC':>7}{name[:14]:>16}{'station':>10}")
    for feat, auc, med_a, med_b in separating(real[0], st[0]):
        print(f"  {feat:<24}{auc:>7.3f}{med_a:>16.2f}{med_b:>10.2f}")
    return real[0], st[0]


def block_report(real: tuple, runs: Blocks, size: int, blocks: int) -> None:
    """The likeness AUC of each block of `size` station runs against the same reference, and
    their median: one figure at the issue's run count that one lucky block does not make."""
    if blocks < 2 or len(runs) < size * blocks:
        return
    names = list(runs)                              # seeds 1..size·blocks in order
    aucs = []
    for b in range(blocks):
        st = rows({n: runs[n] for n in names[b * size:(b + 1) * size]})
        aucs.append(float(np.mean(likeness.likeness_auc(real[0], st[0], real[1], st[1]))))
    print(f"likeness per block of {size} runs: " + ", ".join(f"{a:.3f}" for a in aucs)
          + f"; median {np.median(aucs):.3f} (spread {min(aucs):.3f}–{max(aucs):.3f})")


def band_report(classes: dict[str, Blocks], runs: Blocks) -> None:
    """Trains on the real classes only; prints out-of-fold hits per class and the station's shares."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    blocks = {c: rows(p) for c, p in classes.items()}
    names = list(blocks)
    X = np.vstack([blocks[c][0] for c in names])
    y = np.concatenate([np.full(len(blocks[c][0]), i) for i, c in enumerate(names)])
    groups = [f"{c}:{g}" for c in names for g in blocks[c][1]]
    hits = likeness.out_of_fold(X, y, groups).argmax(1) == y
    print("\nband classifier (real windows only; out-of-fold share of each class's windows "
          "attributed to it): " + ", ".join(f"{c} {hits[y == i].mean():.2f} (n={int((y == i).sum())})"
                                            for i, c in enumerate(names)))
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1, "openmp"):      # as likeness.out_of_fold: more threads, far slower
        picked = HistGradientBoostingClassifier(random_state=0).fit(X, y).predict(rows(runs)[0])
    print("station windows attributed to: " + ", ".join(f"{c} {np.mean(picked == i):.2f}"
                                                        for i, c in enumerate(names)))


def issue_figures(name: str, real: np.ndarray, st: np.ndarray) -> None:
    print(f"\nthe issue's figures, median per 4-bar window ({name} vs station):")
    for feat in ISSUE:
        i = likeness.FEATURES.index(feat)
        print(f"  {feat:<22}{np.nanmedian(real[:, i]):>8.2f}{np.nanmedian(st[:, i]):>10.2f}")


def trio_sequences(files: dict[str, bytes]) -> list:
    """The files' 16-bar trio segments as our import finds them (parts by role, 120 qpm)."""
    from radio.model.convert import TrioConverter
    from radio.music import seeds as seedlib
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for name, body in files.items():
            paths.append(Path(tmp) / f"{name.lower()}.mid")
            paths[-1].write_bytes(body)
        segments, _ = seedlib.import_files(paths, TrioConverter())
    return [s.sequence for s in segments]


def own_goals(name: str, reference: list, runs: list, goals: dict | None) -> None:
    """musicstats.band_stats of the station's runs beside the reference's; goals: the default
    mix's GOALS, or (None) ranges around the reference band's own figures."""
    ref, st = musicstats.band_stats(reference, bars=16), musicstats.band_stats(runs)
    goals = musicstats.goals_like(ref) if goals is None else goals
    print(f"\nbars (musicstats.band_stats; {name} as imported, 16-bar segments):")
    print(f"  {'figure':<36}{name[:14]:>14}{'station':>10}   goal")
    for stat, value in st.items():
        if stat not in goals:      # the reference lacks the figure (e.g. no drums): no goal
            print(f"  {stat:<36}{ref[stat]:>14.2f}{value:>10.2f}   none")
            continue
        lo, hi = goals[stat]
        verdict = "pass" if musicstats.meets(stat, value, goals) else "FAIL"
        print(f"  {stat:<36}{ref[stat]:>14.2f}{value:>10.2f}   {lo:.2f}–{hi:.2f} {verdict}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--case", choices=(*BAND_CASES, "default"), default="freedoom2")
    ap.add_argument("--form", choices=("morph", "song"), default="morph", help="the station's form")
    ap.add_argument("--runs", type=int, default=6, help="station runs, seeds 1..N")
    ap.add_argument("--blocks", type=int, default=1,
                    help="play blocks × runs runs and also print the likeness AUC of each block of --runs "
                         "(seeds 1..runs, runs+1..2·runs, ...) with their median: the AUC grows with the "
                         "number of station windows, so only same-size blocks compare")
    ap.add_argument("--bars", type=int, default=64, help="bars per station run")
    ap.add_argument("--humanize", action="store_true", help="play station output through the performer")
    ap.add_argument("--model", help="a model folder to play (default: the shipped model)")
    ap.add_argument("--source", choices=("station", "anchors", "seeds"), default="station",
                    help="the station's walk, the seed sets' segments decoded from their own encodings "
                         "(no walk), or the segments as imported (the ceiling); the seed sets are the band's "
                         "odd half, or in the default case the shipped ten")
    ap.add_argument("--temperature", type=float, default=1.0,
                    help="decoding temperature: the station mix's, or with --source anchors the decoder's")
    ap.add_argument("--style", type=float, default=0.0,
                    help="the mix's style: how far the sets' own manner moves the model's (0, the default: none)")
    ap.add_argument("--with-set", metavar="SOURCE:WEIGHT", action="append", default=[],
                    help="default case: also import a real band's songs (freedoom1, blupi or openmsx, never "
                         "the reference) as a seed set named after it, played at WEIGHT beside the shipped "
                         "sets' 1; repeat for several bands")
    ap.add_argument("--real", metavar="SOURCE", choices=BANDS,
                    help="default case: in place of the station, a real band's own files, each file a run "
                         "(blocks of --runs files in name order): where real music stands on this bench")
    ap.add_argument("--broad", action="store_true",
                    help="default case: also score against a broader reference, freedoom2 + freedink + OpenMSX "
                         "(unlike bands no model has heard; the issue's figures stay on freedoom2 + freedink)")
    ap.add_argument("--learn", action="store_true",
                    help="band case: first `radio learn` the seed set (fd2 or omsx: its own model, fine-tuned from "
                         "--model or the shipped one), then play it")
    ap.add_argument("--learn-args", default="", help="more flags for radio learn, e.g. \"--hparams '{...}'\"")
    args = ap.parse_args()
    if args.runs < 1 or args.blocks < 1:
        ap.error("--runs and --blocks: at least 1")
    if args.source != "station" and (args.with_set or args.real):
        ap.error("--source anchors|seeds: the seed sets alone, without --with-set or --real")
    if args.real and (args.case != "default" or args.with_set):
        ap.error("--real: the default case, without --with-set")
    bands = {}
    for spec in args.with_set:
        source, _, weight = spec.partition(":")
        if args.case != "default" or source not in BANDS:
            ap.error(f"--with-set: the default case, with one of {', '.join(BANDS)} (the reference stays out "
                     "of every set)")
        try:
            bands[source] = float(weight)
        except ValueError:
            ap.error(f"--with-set {spec}: WEIGHT must be a number, e.g. freedoom1:10")
    if args.broad and (args.case != "default" or args.real == "openmsx" or "openmsx" in bands):
        ap.error("--broad: the default case, with OpenMSX in the reference only (not a set, not --real)")
    warnings.filterwarnings("ignore", message="Tempo, Key or Time signature")   # pretty_midi
    t0 = time.perf_counter()
    fd2_data, fd2, fd2_skipped = usable("freedoom2")
    _, fd1, _ = usable("freedoom1")
    _, blupi, _ = usable("blupi")
    with tempfile.TemporaryDirectory() as tmp:
        if args.case in BAND_CASES:
            set_name = BAND_CASES[args.case]
            band_data, band, band_skipped = (fd2_data, fd2, fd2_skipped) if args.case == "freedoom2" \
                else usable(args.case)
            names = sorted(band)
            seeds, held = names[0::2], names[1::2]
            import_seeds({n: band_data[n] for n in seeds}, Path(tmp), set_name)
            mix = {"sets": {set_name: 1}, "form": args.form, "temperature": args.temperature, "style": args.style}
            if args.learn:
                args.model = learn(Path(tmp), set_name, args.model, shlex.split(args.learn_args))
        else:
            mix = {"form": args.form, "temperature": args.temperature, "style": args.style}
            if bands:
                for source in bands:
                    import_seeds(usable(source)[0], Path(tmp), source)
                shipped = sorted(p.name for p in (Path(tmp) / "seeds").iterdir() if p.is_dir() and p.name not in bands)
                mix["sets"] = {**{name: 1 for name in shipped}, **bands}
        t1 = time.perf_counter()
        joined: list = []
        if args.real:
            runs = usable(args.real)[1]
            mix = {"real band": args.real}
        elif args.source == "station":
            runs = station(Path(tmp), mix, args.runs * args.blocks, args.bars, args.humanize, args.model, joined)
        else:
            from radio.config import ASSETS
            folders = ([Path(tmp) / "seeds" / set_name] if args.case in BAND_CASES
                       else sorted(p for p in (ASSETS / "seeds").iterdir() if p.is_dir()))
            runs = anchors(folders, args.source, args.temperature, args.model)
            if args.case == "default":
                mix = {"source": args.source, "sets": [f.name for f in folders]}
        t2 = time.perf_counter()
    st_rows = rows(runs)
    played = (f"{args.runs} runs × {args.bars} bars" if args.source == "station" and not args.real
              else f"{len(runs)} {'files' if args.real else 'pseudo-runs of four 16-bar segments'}")
    if args.case in BAND_CASES:
        ref, held_name = {n: band[n] for n in held}, f"held-out {set_name}"
        print(f"# likeness --case {args.case} --form {args.form}: {cpu_model()}; {args.case} {len(band)} usable "
              f"({band_skipped} skipped): seeds = odd {len(seeds)} files, reference = even {len(ref)} files, "
              f"{len(rows(ref)[0])} windows; station mix {mix}, {played}, "
              f"{len(st_rows[0])} windows, humanize {args.humanize}, model {args.model or 'shipped'}"
              + (f"; source {args.source}" + (f" at T {args.temperature}" if args.source == "anchors" else "")
                 if args.source != "station" else ""))
        real, st = likeness_report(held_name, ref, band, args.case, runs)
        block_report(rows(ref), runs, args.runs, args.blocks)
        band_report({"freedoom1": fd1, "blupi": blupi, "freedoom2": fd2, args.case: band}, runs)
        print(f"(band class {args.case} = all its usable songs, seed half and held-out half)")
        issue_figures(held_name, real, st)
        if joined:      # a mix of a band's set is judged against that band's own figures
            own_goals(held_name, trio_sequences({n: band_data[n] for n in held}), joined, None)
    else:
        dink_data, dink, dink_skipped = usable("freedink")
        ref = {**{f"fd2/{n}": p for n, p in fd2.items()}, **{f"dink/{n}": p for n, p in dink.items()}}
        print(f"# likeness --case default --form {args.form}: {cpu_model()}; reference freedoom2 {len(fd2)} + "
              f"freedink {len(dink)} usable files ({fd2_skipped} + {dink_skipped} skipped), {len(rows(ref)[0])} "
              f"windows; station mix {mix}, {played}, {len(st_rows[0])} windows, "
              f"humanize {args.humanize}, model {args.model or 'shipped'}")
        real, st = likeness_report("fd2+freedink", ref, ref, "fd2+freedink", runs)
        block_report(rows(ref), runs, args.runs, args.blocks)
        auc_line("likeness, station vs freedoom2 alone (all three parts)", rows(fd2), st_rows)
        if args.broad:
            broad = {**ref, **{f"omsx/{n}": p for n, p in usable("openmsx")[1].items()}}
            auc_line(f"likeness, station vs freedoom2 + freedink + OpenMSX ({len(broad)} files)", rows(broad), st_rows)
            block_report(rows(broad), runs, args.runs, args.blocks)
        band_report({"freedoom1": fd1, "blupi": blupi, "freedoom2": fd2, "freedink": dink}, runs)
        issue_figures("fd2+freedink", real, st)
        if joined:      # the default mix: the GOALS bands
            pooled = {**{f"fd2_{n}": b for n, b in fd2_data.items()},
                      **{f"dink_{n}": b for n, b in dink_data.items()}}
            own_goals("fd2+freedink", trio_sequences(pooled), joined, musicstats.GOALS)
    print(f"\n# times: reading real MIDI{' + seed import' if args.case in BAND_CASES else ''} {t1 - t0:.0f} s, "
          f"station {t2 - t1:.0f} s, classifiers {time.perf_counter() - t2:.0f} s")


if __name__ == "__main__":
    main()
