"""Training: seed segments → a MusicVAE checkpoint in magenta's layout → a weights-only model folder.

magenta's `get_dataset` crashes on current TensorFlow, so batches come from the
converter's tensors (the seeds stage) through a tf.data pipeline of our own. The graph and
the loss are magenta's (`model.train`), so checkpoints load wherever magenta's do.
Training resumes from the newest checkpoint in its work folder; no summaries are written
(magenta's wrote 80–130 MB a run), and only the last few checkpoints are kept.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import signal
import threading
import time
from pathlib import Path

import numpy as np

from ..config import ASSETS
from ..contracts import CARD_NAME, MIDI_SUFFIXES, TRIO_CONFIGS, RadioError
from ..model import tf_engine as model_lib
from ..model.card import ModelCard
from ..music import seeds
from ..music.seeds import SeedSegment
from ..music.seedsets import MAX_TRANSPOSE
from . import precision as precision_lib
from .trainplan import (
    EarlyStop,
    EchoStop,
    check_sets,
    eval_indices,
    parse_pairs,
    sampling_probabilities,
    set_of,
    split_by_file,
)

# The default model: hierdec-trio_16bar's layout, scaled to train on two CPU cores.
DEFAULT_HPARAMS = {
    "z_size": 128,
    "enc_rnn_size": [256],
    "dec_rnn_size": [256, 256],
    "free_bits": 48,
    "max_beta": 0.2,
    "batch_size": 32,
    "learning_rate": 0.002,
}


def _arrays(segments: list[SeedSegment]):
    # kept one-hot as bool and cast a batch at a time: as float32, 17k segments take 11 GB
    x = np.stack([s.tensor for s in segments]).astype(bool)
    lengths = np.full(len(segments), x.shape[1], np.int32)
    return x, lengths


class TrainError(RadioError):
    """Training cannot start or go on; the message says why and what to do."""


@dataclasses.dataclass
class TrainResult:
    checkpoint: str
    step: int
    metrics: dict            # held-out means and the last training loss
    seconds: float           # wall time of this run's training steps (not the graph build)
    steps_run: int
    build_seconds: float     # graph build, restore or warm start
    interrupted: bool = False  # stopped by Ctrl-C before `steps` (saved all the same)
    best_step: int | None = None   # with early stopping: the step exported
    stopped_early: bool = False
    curve: list = dataclasses.field(default_factory=list)   # with early stopping: [step, watched loss]


def _checkpoint_bytes(tf) -> int:
    """Bytes one checkpoint of the current graph takes: every variable, Adam slots included."""
    return sum(4 * int(np.prod(v.shape.as_list())) for v in tf.global_variables())


def _check_space(folder: Path, need: int, what: str) -> None:
    free = shutil.disk_usage(next(p for p in [folder, *folder.parents] if p.exists())).free
    if free < need:
        raise TrainError(f"only {free / 2**20:.0f} MB free under {folder}; {what} needs "
                         f"{need / 2**20:.0f} MB. Free some space or pass a --work folder on another disk.")


def _summary_tensors(tf) -> dict:
    """magenta's training graph keeps its scalars only as summaries; take their inputs."""
    out = {}
    for summary in tf.get_collection(tf.GraphKeys.SUMMARIES):
        op = summary.op
        tag = tf.get_static_value(op.inputs[0])
        if tag is not None:
            tag = np.asarray(tag).item()  # a 0-d array of bytes
            out[tag.decode() if isinstance(tag, bytes) else str(tag)] = op.inputs[1]
    return out


def _warm_start(tf, sess, checkpoint: str) -> int:
    """Loads a model's weights (not its optimizer state) into the new graph."""
    reader = tf.train.load_checkpoint(checkpoint)
    shapes = reader.get_variable_to_shape_map()
    mine = {v.op.name: v for v in tf.global_variables()
            if "Adam" not in v.op.name and v.op.name not in ("global_step", "beta1_power", "beta2_power")}
    missing = sorted(n for n in mine if n not in shapes)
    wrong = sorted(n for n, v in mine.items() if n in shapes and list(shapes[n]) != v.shape.as_list())
    if missing or wrong:
        raise TrainError(f"--from {checkpoint}: it does not fit this architecture "
                         f"({len(missing)} variables missing, {len(wrong)} of another shape, e.g. "
                         f"{(missing + wrong)[0]}); train with the hparams of its model card")
    tf.train.Saver(mine).restore(sess, checkpoint)
    return len(mine)


def train(segments: list[SeedSegment], work_dir: Path, config_name: str = "hierdec-trio_16bar",
          hparams: dict | None = None, steps: int = 1000, keep: int = 2,
          threads: int = 0, progress: bool = True, fast: bool = True,
          held_out: list[SeedSegment] | None = None, init_from: str | None = None,
          eval_every: int = 100, save_every_s: float = 120.0, probabilities: np.ndarray | None = None,
          watched: list[SeedSegment] | None = None, patience: int = 0,
          precision: str = "float32", judge=None, echo_cap: float | None = None) -> TrainResult:
    """Trains (or resumes) in work_dir until global step `steps`.

    Resumes from the newest checkpoint in work_dir; otherwise starts from `init_from`'s
    weights (fine-tuning) or from random ones. Keeps the last `keep` checkpoints, saves
    every `save_every_s` seconds, at the end and on Ctrl-C, and refuses to start (or to
    save) when the disk cannot take it. `fast` swaps in the batched-bars training graph
    (radio/offline/fastvae.py) for hierdec-trio_16bar: same variables and loss, all bars in one batch,
    gathers instead of one-hot products. `probabilities` weights each segment's draw
    (trainplan.sampling_probabilities). With `patience`, the held-out loss on `watched` (all
    held-out segments when None) decides: the best step is kept in work_dir/best, training
    stops after `patience` evaluations without a better one, and that best step is returned.
    `precision` "bfloat16" runs the matrix products in bfloat16 (offline/precision.py).
    With `judge` (offline/echo.py's EchoJudge) the echo of the training songs decides instead:
    the weights are judged on the numpy engine at each evaluation, and training stops once
    the echo has been over `echo_cap` for `patience` evaluations (trainplan.EchoStop).
    """
    tf = model_lib._tf()
    from tqdm import tqdm
    config = model_lib.make_config(config_name, hparams or {})
    if fast:
        from .fastvae import with_batched_training
        config = with_batched_training(config_name, config)
    hp = config.hparams
    x, lengths = _arrays(segments)
    if len(x) < hp.batch_size:
        raise TrainError(f"{len(x)} training segments are fewer than one batch of {hp.batch_size}; "
                         "add files, use --transpose on import, or lower the batch size")
    work_dir = Path(work_dir)
    t0 = time.monotonic()
    with tf.Graph().as_default():
        # Placeholders fed from numpy: a tf.data pipeline over in-memory arrays would embed
        # them in the graph, and the saved graph would weigh gigabytes.
        depth = x.shape[2]
        inputs = tf.placeholder(tf.float32, [hp.batch_size, x.shape[1], depth], name="inputs")
        lens = tf.placeholder(tf.int32, [hp.batch_size], name="lengths")
        model = config.model
        model.build(hp, config.data_converter.output_depth, is_training=True)
        optimizer = model.train(input_sequence=inputs, output_sequence=inputs,
                                control_sequence=None, sequence_length=lens)
        scalars = _summary_tensors(tf)
        grads, var_list = zip(*optimizer.compute_gradients(model.loss))
        clipped, _ = tf.clip_by_global_norm(grads, hp.grad_clip)
        train_op = optimizer.apply_gradients(zip(clipped, var_list), global_step=model.global_step)
        ckpt_bytes = _checkpoint_bytes(tf)
        # room for the kept checkpoints, the one being written, and the exported weights
        _check_space(work_dir, (keep + 1) * ckpt_bytes + ckpt_bytes // 3 + 64 * 2**20, "training")
        work_dir.mkdir(parents=True, exist_ok=True)
        saver = tf.train.Saver(max_to_keep=keep)
        eval_ops = {k: tf.reduce_mean(scalars[k]) for k in ("losses/r_loss", "losses/kl_bits") if k in scalars}
        session_config = tf.ConfigProto(intra_op_parallelism_threads=threads,
                                        inter_op_parallelism_threads=threads)
        precision_lib.apply(session_config, precision)
        with tf.Session(config=session_config) as sess:
            latest = tf.train.latest_checkpoint(str(work_dir))
            if latest:
                saver.restore(sess, latest)
            else:
                sess.run(tf.global_variables_initializer())
                if init_from:
                    _warm_start(tf, sess, init_from)
            step = start = int(sess.run(model.global_step))

            def save():
                _check_space(work_dir, ckpt_bytes + 16 * 2**20, "saving a checkpoint")
                # the graph's own count: Ctrl-C can land after a step ran, before we counted it
                return saver.save(sess, str(work_dir / "model.ckpt"), global_step=model.global_step)

            def eval_batches(segs, batches: int) -> list:
                """The batches an evaluation of `segs` feeds, built once for the whole run."""
                if not segs:
                    return []
                idx = eval_indices(len(segs), hp.batch_size, batches)
                ex, el = _arrays([segs[i] for i in idx])
                return [(ex[b], el[b]) for b in np.split(np.arange(len(idx)), len(idx) // hp.batch_size)]

            held_batches, watched_batches = eval_batches(held_out, 4), eval_batches(watched, 8)

            def evaluate(batches, prefix="held_out_") -> dict:
                if not batches or not eval_ops:
                    return {}
                values = [sess.run(eval_ops, {inputs: bx.astype(np.float32), lens: bl}) for bx, bl in batches]
                return {prefix + k.split("/")[-1]: round(float(np.mean([v[k] for v in values])), 3)
                        for k in eval_ops}

            watch = watched if watched else held_out
            if judge is not None:
                stopper = EchoStop(work_dir / "best", max(patience, 1), cap=echo_cap)
            else:
                stopper = EarlyStop(work_dir / "best", patience) if patience and watch else None
            best_saver = tf.train.Saver(max_to_keep=1) if stopper else None
            weights_now = _weights_now(tf, sess, config_name, hparams or {}) if judge is not None else None

            def measure(at: int, decide: bool = True) -> dict:
                out = evaluate(held_batches)
                if stopper is not None and decide:
                    if judge is not None:
                        seen = {"echo": judge.judge(weights_now())}
                    else:
                        seen = evaluate(watched_batches, "watched_") if watched else \
                            {"watched_r_loss": out.get("held_out_r_loss")}
                    out.update(seen)
                    value = seen.get("echo", seen.get("watched_r_loss"))
                    if value is not None and stopper.update(at, value, out):
                        _check_space(work_dir, ckpt_bytes + 16 * 2**20, "saving the best checkpoint")
                        best_saver.save(sess, str(work_dir / "best" / "model.ckpt"), global_step=model.global_step)
                return out

            # also when there is nothing left to train: the card wants it; a resumed run's
            # first figures are not another evaluation for early stopping
            metrics = measure(step, decide=not latest or stopper is None or stopper.best_step < 0)
            bar = tqdm(total=steps, initial=step, desc="train", unit="step", disable=not progress,
                       dynamic_ncols=True)
            rng = np.random.default_rng(step)
            last_save = t_loop = time.monotonic()
            path = latest
            loss = float("nan")
            interrupted = False
            ctrl_c = _CtrlC()
            try:
                while step < steps and not ctrl_c.pressed and not (stopper and stopper.done):
                    idx = rng.choice(len(x), hp.batch_size, replace=False, p=probabilities)
                    _, loss = sess.run([train_op, model.loss],
                                       {inputs: x[idx].astype(np.float32), lens: lengths[idx]})
                    step += 1
                    if step % eval_every == 0 or step == steps:
                        metrics = measure(step)
                    bar.update(1)
                    bar.set_postfix(loss=f"{loss:.1f}", **{k.replace("held_out_", "ho_"): v
                                                          for k, v in metrics.items()})
                    if time.monotonic() - last_save > save_every_s:
                        path, last_save = save(), time.monotonic()
                interrupted = ctrl_c.pressed
            except KeyboardInterrupt:
                interrupted = True   # saved below and exported by the caller, like a finished run
            finally:
                ctrl_c.restore()
                t_end = time.monotonic()
                bar.close()
                if step > start or path is None:
                    path = save()  # on success, on Ctrl-C and on errors alike: nothing is lost
                step = int(sess.run(model.global_step))
    metrics = {**metrics, "train_loss": round(float(loss), 3)} if step > start else metrics
    result = TrainResult(path, step, metrics, t_end - t_loop, step - start, t_loop - t0, interrupted)
    if stopper is not None and stopper.best_step >= 0:
        best = tf.train.latest_checkpoint(str(work_dir / "best"))
        if best:
            result.checkpoint, result.best_step = best, stopper.best_step
            result.stopped_early = stopper.done
            result.curve = list(stopper.curve)
            # the exported step's figures, not the last evaluation's
            result.metrics = {**stopper.metrics, "best_step": stopper.best_step, "last_step": step,
                              "last_watched_r_loss": metrics.get("watched_r_loss"),
                              "last_train_loss": metrics.get("train_loss")}
    return result


def _weights_now(tf, sess, config_name: str, hparams: dict):
    """A function giving the session's weights as a numpy-engine model, the variables a
    checkpoint's conversion would keep, straight from memory (nothing is written)."""
    from ..model.numpy_engine import NumpyTrioModel
    from ..model.weights import Weights
    variables = [v for v in tf.global_variables()
                 if v.dtype.base_dtype == tf.float32 and model_lib.is_weight(v.op.name)]
    card = {"config": config_name, "hparams": hparams}

    def model() -> NumpyTrioModel:
        arrays = dict(zip((v.op.name for v in variables), sess.run(variables)))
        return NumpyTrioModel(loaded=Weights(config_name, hparams, arrays, card, Path()), seed=0, threads=None)
    return model


class _CtrlC:
    """Ctrl-C ends training after the step under way (then it saves and is exported, as a
    finished run is); a second Ctrl-C interrupts at once. Without it the KeyboardInterrupt
    lands wherever the main thread is, inside TensorFlow's session.run most of the time,
    and the save that follows uses that session (suspected in one CI run where `radio
    train` did not exit within 120 s of a Ctrl-C)."""

    def __init__(self):
        self.pressed = False
        self._old = None
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._on_sigint)

    def _on_sigint(self, signum, frame) -> None:
        if self.pressed:
            raise KeyboardInterrupt
        self.pressed = True

    def restore(self) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
            self._old = None


def export(checkpoint: str, out_dir: Path, card: ModelCard) -> Path:
    """Copies model weights only (no optimizer slots) into a model folder with its card."""
    tf = model_lib._tf()
    reader = tf.train.load_checkpoint(checkpoint)
    names = [n for n in reader.get_variable_to_shape_map() if "Adam" not in n and "beta1_power" not in n
             and "beta2_power" not in n]
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with tf.Graph().as_default():
        variables = [tf.Variable(reader.get_tensor(n), name=n) for n in sorted(names)]
        with tf.Session() as sess:
            sess.run(tf.variables_initializer(variables))
            tf.train.Saver(variables, write_version=tf.train.SaverDef.V2).save(
                sess, str(tmp / "model.ckpt"), write_meta_graph=False)
    # Saver records absolute paths; the folder moves, so name the checkpoint relatively.
    (tmp / "checkpoint").write_text('model_checkpoint_path: "model.ckpt"\n'
                                    'all_model_checkpoint_paths: "model.ckpt"\n')
    card.write(tmp)
    # the numpy engine's weights beside the checkpoint, so the folder serves without a
    # conversion (radio/model/weights.py); compressed, it is smaller than the checkpoint
    from ..model import weights
    weights.convert(tmp / "model.ckpt", tmp / weights.WEIGHTS_NAME, card.config,
                    json.loads((tmp / CARD_NAME).read_text()), compress=True)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.replace(out_dir)
    return out_dir


def set_folders(names: list[str], library_root: Path) -> dict[str, Path]:
    """Seed set names (in the station's library) or folders → {set name: folder}.

    A folder holding MIDI files is one set; a folder of folders (a corpus) is one set per
    subfolder."""
    out: dict[str, Path] = {}
    for name in names:
        path = Path(name)
        for root in (Path(library_root), ASSETS / "seeds"):  # the station's sets, then the shipped ones
            if not path.is_dir() and (root / name).is_dir():
                path = root / name
        if not path.is_dir():
            known = sorted(p.name for p in Path(library_root).iterdir() if p.is_dir()) \
                if Path(library_root).is_dir() else []
            raise TrainError(f"--sets {name}: neither a seed set ({', '.join(known) or 'none yet'}) "
                             "nor a folder; add one with `radio seeds import DIR --set NAME`")
        subsets = sorted(p for p in path.iterdir() if p.is_dir())
        if subsets and not any(f.suffix.lower() in MIDI_SUFFIXES for f in path.iterdir()):
            out.update({p.name: p for p in subsets})
        else:
            out[path.name] = path
    return out


def load_sets(folders: dict[str, Path], converter, hop_bars: int = 4, progress: bool = True,
              transpose: dict[str, int] | None = None):
    """Segments of every set, each with its manifest's transposition (or `transpose`'s, per
    set); returns (segments, lines)."""
    from ..music.seedsets import read_manifest
    segments, lines = [], []
    for name, folder in folders.items():
        transpose_set = (transpose or {}).get(name)
        if transpose_set is None:      # the set's own, read only where the command names none
            transpose_set = int(read_manifest(folder).get("transpose", 0))
        found, reports = seeds.import_folder(folder, converter, hop_bars, progress, transpose_set)
        kept = sum(1 for r in reports if r.segments)
        lines.append(f"{name}: {len(found)} segments from {kept}/{len(reports)} files"
                     + (f" (transposed ±{transpose_set})" if transpose_set else ""))
        segments += [dataclasses.replace(s, source=f"{name}/{s.source}") for s in found]
    return segments, lines


def command(args) -> int:
    """`radio train`: the sets read and split, the model trained (or fine-tuned `--from` a
    model) and exported with its card."""
    import sys

    from ..config import Settings, json_object
    settings = Settings.from_env(data=args.data, seeds=args.seeds)
    if args.from_model:
        card, checkpoint = model_lib.resolve(args.from_model)
        checkpoint = model_lib.checkpoint_file(checkpoint)
        config_name, hparams = card.config, dict(card.hparams)
    else:
        checkpoint, config_name, hparams = None, args.config, dict(DEFAULT_HPARAMS)
    if args.hparams:
        try:
            extra = json_object(args.hparams)
        except ValueError:
            print(f"error: --hparams must be a JSON object, e.g. '{{\"z_size\": 64}}' (got {args.hparams})",
                  file=sys.stderr)
            return 2
        hparams.update(extra)
    if args.batch_size:
        hparams["batch_size"] = args.batch_size
    config = model_lib.make_config(config_name, hparams)
    folders = set_folders(args.sets, settings.seed_folder())
    shares = parse_pairs(args.weight, "--weight")
    transpose = {k: int(v) for k, v in parse_pairs(args.transpose, "--transpose", int).items()}
    for named, what in ((shares, "--weight"), (transpose, "--transpose"), (args.stop_on or [], "--stop-on")):
        check_sets(named, set(folders), what)
    if any(not 0 <= k <= MAX_TRANSPOSE for k in transpose.values()):
        raise TrainError(f"--transpose {transpose}: use 0…{MAX_TRANSPOSE} semitones")
    if config_name in TRIO_CONFIGS:
        # the same tensors as magenta's converter (tests/test_convert.py), and it moves a
        # converted window for --transpose instead of converting each copy again
        from ..model.convert import TrioConverter
        converter = TrioConverter()
    else:
        converter = config.data_converter
    segments, lines = load_sets(folders, converter, hop_bars=args.hop_bars, transpose=transpose)
    print("\n".join(lines))
    if not segments:
        print("error: no trio segments in these sets", file=sys.stderr)
        return 1
    train_set, held_out = split_by_file(segments, args.held_out)
    probabilities = sampling_probabilities(train_set, shares)
    watched = [s for s in held_out if set_of(s) in args.stop_on] if args.stop_on else None
    if args.stop_on and not watched:
        raise TrainError(f"--stop-on {', '.join(args.stop_on)}: none of their files is held out; "
                         "these sets need two files or more")
    echo_cap = args.echo_cap
    judge = None
    if echo_cap is not None:
        if not args.stop_on:     # a corpus' 15,000 segments in 13 keys would be millions of windows
            raise TrainError("--echo-cap judges the songs of the sets named by --stop-on (a band's, not a corpus')")
        from .echo import EchoJudge
        judge = EchoJudge([s for s in train_set if set_of(s) in args.stop_on])
    print(f"{len(train_set)} training / {len(held_out)} held-out segments (held out by file, per set)"
          + (f"; stops once the walk's echo of {len(judge.tensors)} training segments passes {echo_cap}"
             if judge else f"; early stop on {len(watched)} held-out segments of {', '.join(args.stop_on)}"
             if watched else "")
          + (f"; batch shares {shares}" if shares else ""))
    work = Path(args.work) if args.work else Path(settings.data) / "train" / Path(args.out).name
    precision = precision_lib.resolve(args.precision)
    if precision != "float32":
        unit = "this CPU multiplies it natively" if precision_lib.native_bfloat16() else "emulated here: slower"
        print(f"matrix products in {precision} ({unit}; --precision float32 turns it off)")
    result = train(train_set, work, config_name, hparams, steps=args.steps, keep=args.keep,
                   held_out=held_out, init_from=checkpoint, eval_every=args.eval_every,
                   probabilities=probabilities, watched=watched, patience=args.patience, precision=precision,
                   judge=judge, echo_cap=echo_cap)
    rate = result.steps_run / result.seconds if result.seconds else 0.0
    rule = (f"the walk's echo of the training songs (the last step at or under {echo_cap})" if judge else
            f"the held-out loss of {', '.join(args.stop_on or ['all sets'])}")
    epoch_s = len(train_set) / hparams.get("batch_size", config.hparams.batch_size) / rate if rate else 0.0
    card = ModelCard(
        config=config_name, hparams=hparams, steps=result.step if result.best_step is None else result.best_step,
        data=[f"{name}: {folder}" for name, folder in folders.items()],
        metrics={**result.metrics, **({"steps_per_second": round(rate, 3), "seconds_per_epoch": round(epoch_s, 1)}
                                      if result.steps_run else {}),
                 **({"held_out_curve": result.curve} if result.curve else {})},
        notes=f"{len(train_set)} training / {len(held_out)} held-out segments (split by file, per set)"
              + (f"; batch shares {shares}" if shares else "")
              + (f"; transposed {transpose}" if transpose else "")
              + (f"; best step {result.best_step} by {rule} (patience {args.patience} evaluations of "
                 f"{args.eval_every} steps)" if result.best_step is not None else "")
              + (f"; fine-tuned from {args.from_model}" if args.from_model else "")
              + (f"; matrix products in {precision}" if precision != "float32" else ""))
    export(result.checkpoint, Path(args.out), card)
    disk = sum(f.stat().st_size for f in work.rglob("*") if f.is_file())
    kept = f"best step {result.best_step} of {result.step}" if result.best_step is not None else f"step {result.step}"
    if result.stopped_early:
        kept += (f", stopped early: the echo was over {echo_cap} in {args.patience} evaluation(s)" if judge else
                 f", stopped early: no better held-out loss in {args.patience} evaluations")
    print(f"exported {args.out} ({kept}; graph built in {result.build_seconds:.0f} s; "
          f"{result.steps_run} steps in {result.seconds:.0f} s, "
          f"{rate:.2f} steps/s, {epoch_s:.0f} s per epoch; checkpoints {disk / 2**20:.0f} MB in {work}); "
          f"held-out: {result.metrics}")
    if result.interrupted:
        print(f"stopped by Ctrl-C at step {result.step}; run the same command again to go on", file=sys.stderr)
        return 130
    return 0
