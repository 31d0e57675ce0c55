"""Training: seed segments → a MusicVAE checkpoint in magenta's layout → a weights-only model folder.

magenta's `get_dataset` crashes on current TensorFlow, so batches come from the
converter's tensors (the seeds stage) through a tf.data pipeline of our own. The graph and
the loss are magenta's (`model.train`), so checkpoints load wherever magenta's do.
Training resumes from the newest checkpoint in its work folder.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import numpy as np

from . import model as model_lib
from .seeds import SeedSegment

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


def split_by_file(segments: list[SeedSegment], held_out: float, seed: int = 0):
    """Held-out files, not segments: windows of one song are near-duplicates."""
    files = sorted({s.source for s in segments})
    random.Random(seed).shuffle(files)
    k = max(1, int(len(files) * held_out)) if held_out > 0 and len(files) > 1 else 0
    test = set(files[:k])
    return ([s for s in segments if s.source not in test], [s for s in segments if s.source in test])


def _arrays(segments: list[SeedSegment]):
    x = np.stack([s.tensor for s in segments]).astype(np.float32)
    lengths = np.full(len(segments), x.shape[1], np.int32)
    return x, lengths


def train(segments: list[SeedSegment], work_dir: Path, config_name: str = "hierdec-trio_16bar",
          hparams: dict | None = None, steps: int = 1000, keep: int = 2,
          threads: int = 0, progress: bool = True, fast: bool = True) -> Path:
    """Trains (or resumes) in work_dir until `steps`; returns the newest checkpoint path.

    `fast` swaps in the batched-bars training graph (radio/fastvae.py) for
    hierdec-trio_16bar: same variables and loss, fewer ops.
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
        raise ValueError(f"{len(x)} segments are fewer than one batch of {hp.batch_size}")
    work_dir.mkdir(parents=True, exist_ok=True)
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
        grads, var_list = zip(*optimizer.compute_gradients(model.loss))
        clipped, _ = tf.clip_by_global_norm(grads, hp.grad_clip)
        train_op = optimizer.apply_gradients(zip(clipped, var_list), global_step=model.global_step)
        session_config = tf.ConfigProto(intra_op_parallelism_threads=threads,
                                        inter_op_parallelism_threads=threads)
        scaffold = tf.train.Scaffold(saver=tf.train.Saver(max_to_keep=keep))
        with tf.train.MonitoredTrainingSession(
                checkpoint_dir=str(work_dir), scaffold=scaffold, save_checkpoint_secs=120,
                save_summaries_steps=None, save_summaries_secs=None, log_step_count_steps=None,
                config=session_config) as sess:
            step = sess.run(model.global_step)
            bar = tqdm(total=steps, initial=step, desc="train", unit="step", disable=not progress)
            rng = np.random.default_rng(step)
            while step < steps:
                idx = rng.choice(len(x), hp.batch_size, replace=False)
                _, loss = sess.run([train_op, model.loss], {inputs: x[idx], lens: lengths[idx]})
                step += 1
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.2f}")
            bar.close()
    return tf.train.latest_checkpoint(str(work_dir))


def export(checkpoint: str, out_dir: Path, card: model_lib.ModelCard) -> Path:
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
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.replace(out_dir)
    return out_dir
