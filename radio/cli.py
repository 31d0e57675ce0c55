"""`radio` command line: serve, generate, doctor, build-corpus, train."""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import time
from pathlib import Path


def _settings(args, **extra):
    from .config import Settings
    return Settings.from_env(model=getattr(args, "model", None), seeds=getattr(args, "seeds", None),
                             data=getattr(args, "data", None), config=getattr(args, "config", None),
                             soundfont=getattr(args, "soundfont", None), **extra)


def cmd_serve(args) -> int:
    from aiohttp import web
    from .server import create_app
    from . import logs
    settings = _settings(args, host=args.host, port=args.port)
    logs.setup(settings.log_format)
    base = f"http://{settings.host}:{settings.port}"
    print(f"latent radio on {base}/  streams: {base}/stream.mp3 {base}/stream.ogg  "
          f"admin API: {'on' if settings.admin_token else 'off (set RADIO_ADMIN_TOKEN)'}", flush=True)
    web.run_app(create_app(settings), host=settings.host, port=settings.port, print=None)
    return 0


def cmd_generate(args) -> int:
    import numpy as np
    from . import output
    from .pipeline import Pipeline
    out = Path(args.out)
    if out.suffix.lower() not in (".mid", ".wav", ".mp3"):
        print(f"error: --out must end in .mid, .wav or .mp3 (got {out.name})", file=sys.stderr)
        return 2
    if args.bars < 1:
        print("error: --bars must be at least 1", file=sys.stderr)
        return 2
    settings = _settings(args, humanize=not args.no_humanize, seed=args.seed,
                         temperature=args.temperature)
    t0 = time.monotonic()
    pipeline = Pipeline(settings)
    segments = [pipeline.next_segment() for _ in range(math.ceil(args.bars / 16))]
    segments = output.trim_to_bars(segments, args.bars)
    if out.suffix.lower() == ".mid":
        output.write_midi(segments, out, settings.lead_program, settings.bass_program)
    else:
        pcm = np.concatenate([pipeline.render(s) for s in segments], axis=1)
        output.write_audio(pcm, out, settings.bitrate)
    seconds = sum(s.duration for s in segments)
    print(f"wrote {out}: {args.bars} bars, {seconds:.1f} s of music, in {time.monotonic() - t0:.1f} s")
    return 0


def cmd_doctor(args) -> int:
    from .doctor import run_checks
    return run_checks(_settings(args))


def cmd_corpus(args) -> int:
    from . import corpus
    paths = corpus.build(Path(args.out), args.songs, seed=args.seed, bars=args.bars)
    print(f"wrote {len(paths)} songs under {args.out}")
    return 0


def cmd_train(args) -> int:
    from . import model as model_lib, seeds, train
    config = model_lib.make_config(args.config, train.DEFAULT_HPARAMS)
    segments, reports = seeds.import_folder(Path(args.data), config.data_converter,
                                            hop_bars=args.hop_bars, progress=True)
    dropped = [r for r in reports if not r.segments]
    print(f"{len(segments)} segments from {len(reports) - len(dropped)} files ({len(dropped)} dropped)")
    if not segments:
        return 1
    train_set, held_out = train.split_by_file(segments, 0.1)
    work = Path(args.work)
    existing = next(p for p in [work, *work.parents] if p.exists())
    free = shutil.disk_usage(existing).free
    if free < 2 * 1024**3:
        print(f"error: only {free / 1024**3:.1f} GB free under {work}; training needs 2 GB", file=sys.stderr)
        return 1
    ckpt = train.train(train_set, work, args.config, train.DEFAULT_HPARAMS, steps=args.steps)
    card = model_lib.ModelCard(config=args.config, hparams=train.DEFAULT_HPARAMS,
                               steps=int(ckpt.rsplit("-", 1)[1]), data=[str(args.data)],
                               notes=f"{len(train_set)} training / {len(held_out)} held-out segments")
    train.export(ckpt, Path(args.out), card)
    print(f"exported {args.out} from {ckpt}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="radio", description="latent radio: endless generative trio music")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p):
        p.add_argument("--model", help="model folder, official checkpoint folder or tarball")
        p.add_argument("--config", help="TOML settings file (see deploy/radio.toml); RADIO_* and flags win")
        p.add_argument("--data", help="the station's data folder (seed sets live in DATA/seeds)")
        p.add_argument("--seeds", help="folder of seed sets, one subfolder of MIDI files per set")
        p.add_argument("--soundfont", help="a General MIDI .sf2 file")

    p = sub.add_parser("serve", help="run the station")
    common(p)
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("generate", help="write N bars to a .mid, .wav or .mp3 file")
    common(p)
    p.add_argument("--bars", type=int, default=32)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--temperature", type=float, default=None)
    p.add_argument("--no-humanize", action="store_true", help="straight grid, flat velocity")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("doctor", help="check library, soundfont, model and encoder")
    common(p)
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("build-corpus", help="write trio MIDI songs with mma (drums, bass) and a generated lead")
    p.add_argument("--out", required=True)
    p.add_argument("--songs", type=int, default=120)
    p.add_argument("--bars", type=int, default=32)
    p.add_argument("--seed", type=int, default=7)
    p.set_defaults(func=cmd_corpus)

    p = sub.add_parser("train", help="train a trio model on a MIDI folder and export it")
    p.add_argument("--data", required=True, help="folder of MIDI files")
    p.add_argument("--work", required=True, help="checkpoint folder (training resumes from it)")
    p.add_argument("--out", required=True, help="model folder to export (weights only)")
    p.add_argument("--config", default="hierdec-trio_16bar")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--hop-bars", type=int, default=4)
    p.set_defaults(func=cmd_train)

    args = parser.parse_args(argv)
    from .config import ConfigError
    from .model import ModelError
    from .renderer import RenderError
    try:
        return args.func(args)
    except (ConfigError, ModelError, RenderError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
