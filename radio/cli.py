"""`radio` command line: serve, generate, complete, doctor, seeds, build-corpus, train, fetch-model."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .config import json_object
from .contracts import PRECISIONS
from .support import extras


def _settings(args, **extra):
    """The command's settings; a --mix of a learned set alone plays its model, unless --model."""
    from .config import Settings
    from .generator.models import settings_for
    s = Settings.from_env(model=getattr(args, "model", None), seeds=getattr(args, "seeds", None),
                          data=getattr(args, "data", None), config=getattr(args, "config", None),
                          soundfont=getattr(args, "soundfont", None), **extra)
    return s if getattr(args, "model", None) else settings_for(s, (extra.get("mix") or {}).get("sets"))


def cmd_serve(args) -> int:
    from aiohttp import web

    from .config import default_data_folder
    from .generator.mix import start_mix
    from .server.app import create_app, event_loop
    from .station.station import prepare_seeds
    from .support import logs
    settings = _settings(args, host=args.host, port=args.port)
    start_mix(settings, prepare_seeds(settings))  # a bad [mix] table stops the start here
    logs.setup(settings.log_format)
    old = Path("data")
    if settings.data == default_data_folder() and Path(settings.data).resolve() != old.resolve() \
            and ((old / "seeds").is_dir() or (old / "state.json").is_file()):
        print(f"note: ./data looks like a data folder from an earlier version (it was the default); "
              f"this station uses {settings.data}. To keep using it: --data {old.resolve()} (or "
              f"RADIO_DATA); to move it: mkdir -p {settings.data} && cp -a data/. {settings.data}/",
              flush=True)
    base = f"http://{settings.host}:{settings.port}"
    print(f"latent radio on {base}/  streams: {base}/stream.mp3 {base}/stream.ogg  "
          f"admin API: {'on' if settings.admin_token else 'off (set RADIO_ADMIN_TOKEN)'}", flush=True)
    web.run_app(create_app(settings), host=settings.host, port=settings.port, print=None,
                backlog=1024, loop=event_loop())
    return 0


def _output_kind_ok(out: Path) -> bool:
    """--out of generate and complete: MIDI, WAV or MP3, said plainly otherwise."""
    if out.suffix.lower() in (".mid", ".wav", ".mp3"):
        return True
    print(f"error: --out must end in .mid, .wav or .mp3 (got {out.name})", file=sys.stderr)
    return False


def cmd_generate(args) -> int:
    import numpy as np

    from .contracts import SAMPLE_RATE
    from .generator.pipeline import Pipeline
    from .music import midi
    out = Path(args.out)
    if args.songs is not None:
        from .album import write_album
        return write_album(args, out, _settings)
    if not _output_kind_ok(out):
        return 2
    if args.bars < 1:
        print("error: --bars must be at least 1", file=sys.stderr)
        return 2
    try:
        mix = json_object(args.mix) if args.mix else None
    except ValueError:
        print(f"error: --mix must be a JSON object, e.g. '{{\"mode\": \"loop\"}}' (got {args.mix})",
              file=sys.stderr)
        return 2
    settings = _settings(args, humanize=not args.no_humanize, seed=args.seed,
                         temperature=args.temperature, mix=mix, engine=args.engine)
    t0 = time.monotonic()
    pipeline = Pipeline(settings)
    segments = []
    while sum(s.bars for s in segments) < args.bars:      # songs' sections are 4–16 bars
        segments.append(pipeline.next_segment())
    segments = midi.trim_to_bars(segments, args.bars)
    if out.suffix.lower() == ".mid":
        sound = pipeline.sound_for(segments[0])
        midi.write_midi(segments, out, sound.lead.program, sound.bass.program)
    else:
        from .sound.master import master_whole
        from .station.encoder import write_audio
        pcm = np.concatenate([pipeline.render(s) for s in segments], axis=1)
        write_audio(master_whole(pcm, SAMPLE_RATE, settings.loudness_lufs), out, settings.bitrate)
    seconds = sum(s.duration for s in segments)
    print(f"wrote {out}: {args.bars} bars, {seconds:.1f} s of music, in {time.monotonic() - t0:.1f} s")
    return 0


def cmd_complete(args) -> int:
    """Completes a band around the kept part(s); every check runs before the model loads,
    and the output file appears only when the whole band is made."""
    from .band.complete import programs_for, to_midi
    from .band.loading import Band, check_model
    from .band.parts import PARTS, CompleteError, find_parts, parse_keep, read_input
    from .band.search import Search
    from .config import ASSETS
    from .model.card import config_of
    from .music.groove import Groove
    from .music.midi import sequence_bytes
    out = Path(args.out)
    if not _output_kind_ok(out):
        return 2
    if args.candidates < 1:
        print("error: --candidates must be at least 1 (default 64)", file=sys.stderr)
        return 2
    try:
        keep = parse_keep(args.keep)
        try:
            data = Path(args.input).read_bytes()
        except OSError as e:
            raise CompleteError(f"cannot read {args.input}: {e.strerror}") from None
        ns = read_input(data)
        kept = find_parts(ns, keep, args.track)
        settings = _settings(args, temperature=args.temperature, seed=args.seed)
        check_model(config_of(settings.model))
        for part in kept.values():
            print(f"keeping {part.describe()}")
        t0 = time.monotonic()
        seeds = settings.seed_folder() if settings.seed_folder().exists() else ASSETS / "seeds"
        band = Band(settings.model, seeds, settings.data)
        loaded = time.monotonic()
        result = band.complete(ns, kept, search=Search(candidates=args.candidates),
                               temperature=settings.temperature, seed=args.seed,
                               groove=None if args.no_humanize else Groove())
        made = time.monotonic()
    except CompleteError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    tmp = out.with_name(f".partial-{out.name}")  # same suffix: write_audio picks the format by it
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        if out.suffix.lower() == ".mid":
            tmp.write_bytes(sequence_bytes(to_midi(result, programs_for(settings))))
        else:
            from .band.render import render
            from .station.encoder import write_audio
            write_audio(render(result, settings), tmp, settings.bitrate)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    fit = ", ".join(f"{w.kept_nats_per_step:.2f}" for w in result.windows)
    print(f"wrote {out}: {result.bars} bars ({', '.join(r for r in PARTS if r not in kept)} new) "
          f"in {made - loaded:.1f} s after {loaded - t0:.1f} s of loading; kept part's "
          f"log-likelihood per step by window: {fit}")
    return 0


def cmd_doctor(args) -> int:
    from .doctor import run_checks
    return run_checks(_settings(args))


def cmd_corpus(args) -> int:
    extras.require("radio build-corpus", extras.CORPUS)
    from .offline import corpus
    t0 = time.monotonic()
    paths = corpus.build(Path(args.out), args.songs, seed=args.seed, bars=args.bars, game=not args.no_game)
    size = sum(p.stat().st_size for p in paths)
    print(f"wrote {len(paths)} songs ({size / 2**20:.1f} MB) and manifest.json under {args.out} "
          f"in {time.monotonic() - t0:.0f} s")
    return 0


def _converter(settings):
    """The data converter of the station's model, without loading its weights: both trio
    configs use the same one, here on note-seq alone (radio/model/convert.py, equal to
    magenta's), so seed commands need no TensorFlow."""
    from .model import weights
    from .model.convert import TrioConverter
    weights.locate(settings.model)  # a missing or non-trio model fails here, as before
    return TrioConverter()


def cmd_seeds(args) -> int:
    from .music.seedsets import SeedSetError, station_library
    settings = _settings(args)
    library = station_library(settings)
    try:
        if args.action == "import":
            from .sound.presets import PRESETS, set_sound_of_set
            if args.sound:          # checked before the (slow) import
                if args.sound not in PRESETS:
                    raise SeedSetError(f"--sound {args.sound!r}: use one of {', '.join(sorted(PRESETS))}")
            result = library.import_folder(Path(args.folder), args.set, _converter(settings),
                                           transpose=args.transpose)
            print(result.summary())
            if args.sound and (result.kept or result.duplicates):
                set_sound_of_set(library, args.set, args.sound)
                print(f"{args.set} plays with the {args.sound} sound preset")
            if not result.kept and not result.duplicates:
                print(f"error: nothing under {args.folder} gave a trio segment (drums, bass line "
                      "and lead, 4/4, 16 bars or more); see the lines above", file=sys.stderr)
                return 1
            return 0
        if args.action == "list":
            from .music.seedsets import unlearned
            from .sound.presets import sound_of_set
            summary = library.summary(lambda: _converter(settings))
            print(f"seed sets in {library.root}:")
            for name, info in summary.items():
                aug = f"  transposed ±{info['transpose']}" if info["transpose"] else ""
                missing = unlearned(library.manifest(name))
                model = "" if missing is None else "  model: learned" if not missing else \
                    f"  model: older than {len(missing)} of its files (run `radio learn {name}` again)"
                print(f"  {name:<20} {info['files']:>4} files {info['segments']:>6} segments  "
                      f"sound {sound_of_set(library, name)}{aug}{model}")
            return 0
        removed = library.remove(args.set, args.file)
        print(f"removed {len(removed)} file(s) from {args.set}" + ("" if args.file else " and the set"))
        return 0
    except SeedSetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


def cmd_train(args) -> int:
    extras.require("radio train")
    from .offline.train import command
    return command(args)


def cmd_learn(args) -> int:
    extras.require("radio learn")
    from .offline.learn import command
    return command(args, _settings(args))


def cmd_fetch_model(args) -> int:
    from .offline.fetch import fetch
    return fetch(args.name, Path(args.dest))


def main(argv=None) -> int:
    verbose = argparse.ArgumentParser(add_help=False)
    verbose.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                         help="show TensorFlow's and absl's logs and warnings (hidden by default)")
    parser = argparse.ArgumentParser(prog="radio", description="latent radio: endless generative trio music",
                                     parents=[verbose])
    sub = parser.add_subparsers(dest="command", required=True)

    def command(subparsers, name, *more, **kw):  # --verbose goes before or after the command
        return subparsers.add_parser(name, parents=[verbose, *more], **kw)

    training = argparse.ArgumentParser(add_help=False)   # radio train and radio learn
    training.add_argument("--precision", choices=PRECISIONS, default="auto",
                          help="matrix products: auto (bfloat16 on CPUs with AMX or AVX512-BF16, else float32)")

    def common(p):
        p.add_argument("--model", help="model folder, official checkpoint folder or tarball")
        p.add_argument("--config", help="TOML settings file (see deploy/radio.toml); RADIO_* and flags win")
        p.add_argument("--data", help="the station's data folder (seed sets live in DATA/seeds)")
        p.add_argument("--seeds", help="folder of seed sets, one subfolder of MIDI files per set")
        p.add_argument("--soundfont", help="a General MIDI .sf2 file")

    p = command(sub, "serve", help="run the station")
    common(p)
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.set_defaults(func=cmd_serve)

    p = command(sub, "generate", help="write N bars to a .mid, .wav or .mp3 file, or N songs to a folder")
    common(p)
    p.add_argument("--bars", type=int, default=32)
    p.add_argument("--out", required=True, help="OUT.mid, OUT.wav or OUT.mp3; with --songs a folder")
    p.add_argument("--songs", type=int, default=None, help="write N whole songs (an album) into the --out folder")
    p.add_argument("--format", choices=("mid", "wav", "mp3"), default="mid",
                   help="with --songs: audio besides each song's MIDI (default: MIDI only)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--temperature", type=float, default=None)
    p.add_argument("--no-humanize", action="store_true", help="straight grid, flat velocity")
    p.add_argument("--engine", choices=("numpy", "tf"), default=None,
                   help="model engine: radio/model's numpy engine (the default; seeded, no TensorFlow) "
                        "or magenta's TensorFlow graph")
    p.add_argument("--mix", help='style mix as JSON, e.g. \'{"sets": {"rock": 1}, "mode": "loop", '
                                 '"groove": {"swing": 0.2}}\' (fields: see radio/generator/mix.py)')
    p.set_defaults(func=cmd_generate)

    p = command(sub, "complete", help="keep your bass line (or lead, or drums) from a MIDI file; "
                                      "the model plays the other parts around it")
    common(p)
    p.add_argument("input", metavar="IN.mid", help="MIDI file in 4/4 holding the part(s) to keep")
    p.add_argument("--keep", required=True, help="bass, lead or drums, or two of them: bass,drums")
    p.add_argument("--out", required=True, help="OUT.mid, OUT.wav or OUT.mp3")
    p.add_argument("--candidates", type=int, default=64,
                   help="latent points scored in the first round of the search, per 16 bars (default 64)")
    p.add_argument("--temperature", type=float, default=None,
                   help="sampling temperature of the new parts (default: the station's)")
    p.add_argument("--track", type=int, help="the track (as listed) to keep when several qualify")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-humanize", action="store_true", help="new parts on the straight grid")
    p.set_defaults(func=cmd_complete)

    p = command(sub, "doctor", help="check library, soundfont, model and encoder")
    common(p)
    p.set_defaults(func=cmd_doctor)

    p = command(sub, "build-corpus", help="write the training corpus: folk tunes from music21 over mma "
                                          "grooves (and Hydrogen drums), plus freedoom1/Planet Blupi game MIDI")
    p.add_argument("--out", required=True)
    p.add_argument("--songs", type=int, default=0,
                   help="folk songs to write; 0 (default): one per distinct folk tune, ~2,650")
    p.add_argument("--no-game", action="store_true", help="leave out the game MIDI (DIR/game)")
    p.add_argument("--bars", type=int, default=32)
    p.add_argument("--seed", type=int, default=7)
    p.set_defaults(func=cmd_corpus)

    p = command(sub, "seeds", help="import, list and remove seed sets")
    seeds_sub = p.add_subparsers(dest="action", required=True)
    q = command(seeds_sub, "import", help="import every MIDI file under a folder into a set")
    common(q)
    q.add_argument("folder")
    q.add_argument("--set", required=True, help="set name: 1–40 of a-z 0-9 _ -")
    q.add_argument("--transpose", type=int, default=0,
                   help="augment: also train on the seeds moved ±1…±N semitones (0–6)")
    q.add_argument("--sound", help="the sound preset the set plays with (default: the preset named "
                                   "like the set, else default); see radio/sound/presets.py")
    q = command(seeds_sub, "list", help="sets with file and segment counts")
    common(q)
    q = command(seeds_sub, "remove", help="remove a set, or one file of it")
    common(q)
    q.add_argument("set")
    q.add_argument("file", nargs="?")
    p.set_defaults(func=cmd_seeds)

    p = command(sub, "train", training, help="train (or fine-tune) a trio model on seed sets and export it")
    p.add_argument("--data", help="the station's data folder (seed sets live in DATA/seeds)")
    p.add_argument("--seeds", help="folder of seed sets, one subfolder of MIDI files per set")
    p.add_argument("--sets", nargs="+", required=True,
                   help="seed set names (see `radio seeds list`) or folders of MIDI files")
    p.add_argument("--out", required=True, help="model folder to export (weights only, with model.json)")
    p.add_argument("--work", help="checkpoint folder; training resumes from it (default DATA/train/OUT)")
    p.add_argument("--config", default="hierdec-trio_16bar", help="MusicVAE config name")
    p.add_argument("--from", dest="from_model", help="fine-tune this model (ours or an official checkpoint)")
    p.add_argument("--steps", type=int, default=1000, help="global step to train to")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--hparams", help="JSON object of MusicVAE hparam overrides (recorded in the card)")
    p.add_argument("--keep", type=int, default=2, help="checkpoints kept in the work folder")
    p.add_argument("--held-out", type=float, default=0.1, help="share of files held out")
    p.add_argument("--eval-every", type=int, default=50, help="steps between held-out evaluations")
    p.add_argument("--hop-bars", type=int, default=4)
    p.add_argument("--weight", action="append", metavar="SET=SHARE",
                   help="draw this share of every batch from SET (e.g. game=0.5); repeatable")
    p.add_argument("--transpose", action="append", metavar="SET=K",
                   help="also train on SET moved ±1…±K semitones (drums stay); repeatable")
    p.add_argument("--stop-on", action="append", metavar="SET",
                   help="early stopping watches the held-out files of SET (default: all held-out)")
    p.add_argument("--patience", type=int, default=0,
                   help="stop after N evaluations without a better held-out loss and export the best step "
                        "(0: train to --steps)")
    p.add_argument("--echo-cap", type=float,
                   help="with --stop-on: stop instead once the walk's echo of those sets' songs has been "
                        "over this for --patience evaluations, exporting the last step at or under it")
    p.set_defaults(func=cmd_train)

    p = command(sub, "learn", training, help="fine-tune the station's model on one seed set (a band), stopping "
                                   "before it plays the set's own songs back")
    common(p)
    p.add_argument("set", help="the seed set to learn (see `radio seeds list`)")
    p.add_argument("--steps", type=int, default=1000, help="the most steps to train (the echo ends it sooner)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--eval-every", type=int, default=50, help="steps between judgements of what the walk plays")
    p.add_argument("--patience", type=int, default=1, help="judgements over the echo cap before it stops")
    p.add_argument("--echo-cap", type=float,
                   help="how much of the set's songs the walk may echo (offline/echo.py; default 0.35)")
    p.add_argument("--transpose", type=int, help="also learn the songs moved ±1…±K semitones (default 2; 0: none)")
    p.add_argument("--hparams", help="JSON object of hparam overrides (learning_rate 0.0003 unless given)")
    p.set_defaults(func=cmd_learn)

    p = command(sub, "fetch-model", help="get an official MusicVAE trio checkpoint")
    p.add_argument("name", help="e.g. hierdec-trio_16bar")
    p.add_argument("--dest", default="models", help="folder to put it in")
    p.set_defaults(func=cmd_fetch_model)

    args = parser.parse_args(argv)
    from .support import quiet
    quiet.setup(verbose=getattr(args, "verbose", False))  # before anything imports TensorFlow
    from .contracts import RadioError
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except RadioError as e:      # a refusal with its reason; anything else is a bug: traceback
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code


if __name__ == "__main__":
    sys.exit(main())
