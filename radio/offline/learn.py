"""`radio learn SET`: the station's model fine-tuned on one band's songs, in one command.

It holds out a quarter of the set's files (one at least), fine-tunes from the model the
station plays and every `eval_every` steps judges what the walk would play: it stops once
that echoes the set's own training songs more than `ECHO_CAP` (offline/echo.py) and exports
the last step under it. The held-out songs' reconstruction loss is still scored and kept as
the curve, but no longer decides: it is best near step 100 (LEARNING_RATE 0.0001) while
the station goes on playing closer to the band's unseen songs for 2,000 steps, and the cost
of going on is the set's phrases played back (docs/training.md). The model goes to
`<data>/models/<set>`, never into the repository, and the set's manifest names it. Ctrl-C
keeps the work folder, and the same command goes on from there; a finished run removes it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
from pathlib import Path

from ..contracts import RadioError

HELD_OUT = 0.25
# 0.0003 gets where 0.0001 took 2,000 steps (training loss 60) in 600, about 8 minutes on
# 2 cores (bench/results/learn-echo-2026-12-06-xeon.txt); 0.002, the card's, wrecks a set
# of 15 songs in 10 steps (learn-fd2-2026-12-03-epyc.txt).
LEARNING_RATE = 0.0003
# The station played none of freedoom2's phrases back up to an echo of 0.34 and did from
# 0.49 (the shipped model: 0.14): bench/results/learn-echo-2026-12-06-xeon.txt.
ECHO_CAP = 0.35
# Copies of each song moved ±1 and ±2 semitones: at a like echo the station plays closer to
# the band than without them (pooled likeness 0.871 at echo 0.23, against 0.897 at 0.32).
TRANSPOSE = 2


class LearnError(RadioError):
    """A set that cannot be learned; the message says why and what to do."""


def model_folder(data: Path, set_name: str) -> Path:
    return Path(data) / "models" / set_name


def own_style(folder: Path, set_name: str, files, temperature: float) -> None:
    """Writes into the learned model's card the set's playing style under it (generator/
    styles.py: the set's own moves against what the model plays from their encodings), so
    the station plays the set in it by default. Fine-tuning alone gives the bass the band's
    drive but lets the lead wander over 19-23 semitones in 4 bars (the band 8.5); in the
    set's style it spans 12-13 (bench/results/learn-style-2026-12-05-xeon.txt)."""
    from ..generator.anchors import encode_file
    from ..generator.styles import Styles
    from ..model import load_model
    from ..model.card import ModelCard
    model = load_model(str(folder), engine="numpy", seed=0)
    anchors = [a for path in files for a in encode_file(model, set_name, Path(path))]
    style = Styles(model).of_set(set_name, anchors, temperature)
    if style is None or style.neutral:
        return
    card = ModelCard.read(folder)
    card.style = style.to_dict()
    card.write(folder)
    print(f"{set_name}'s playing style, which its model now plays in: {card.style}")


def command(args, settings) -> int:
    """`radio learn`: `args` the command's flags, `settings` the station's (its model, data
    folder and seed sets)."""
    from ..music.seedsets import station_library
    from . import train
    library = station_library(settings)
    files = library.learnable(args.set)         # SeedSetError: no such set, too few files
    out, work = model_folder(settings.data, args.set), Path(settings.data) / "train" / f"learn-{args.set}"
    from ..config import json_object
    try:
        hparams = {"learning_rate": LEARNING_RATE, **(json_object(args.hparams) if args.hparams else {})}
    except ValueError:
        raise LearnError(f"--hparams must be a JSON object, e.g. '{{\"learning_rate\": 0.0005}}' "
                         f"(got {args.hparams})") from None
    plan = argparse.Namespace(
        data=settings.data, seeds=str(settings.seed_folder()), sets=[args.set], out=str(out), work=str(work),
        config="hierdec-trio_16bar", from_model=str(settings.model), steps=args.steps, batch_size=args.batch_size,
        hparams=json.dumps(hparams), keep=1, held_out=HELD_OUT, eval_every=args.eval_every, hop_bars=4, weight=None,
        transpose=[f"{args.set}={TRANSPOSE if args.transpose is None else args.transpose}"], stop_on=[args.set],
        patience=args.patience, precision=args.precision, echo_cap=ECHO_CAP if args.echo_cap is None else args.echo_cap)
    code = train.command(plan)
    if code != 0:
        return code             # Ctrl-C: the work folder stays, and the same command goes on
    own_style(out, args.set, files, settings.temperature)
    with library.update_manifest(args.set) as manifest:
        manifest["model"] = {"folder": str(out), "from": str(settings.model),
                             "made": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                             "files": sorted(p.name for p in files)}
    shutil.rmtree(work, ignore_errors=True)
    curve = json.loads((out / "model.json").read_text()).get("metrics", {}).get("held_out_curve", [])
    print("by step, the walk's echo of the set's songs and the held-out loss of its unseen ones: "
          + ", ".join(f"{step}: {echo:g}, {loss:g}" for step, echo, loss in curve))
    print(f"{args.set} learned: {out} (named in the set's manifest; the work folder is removed)")
    return 0
