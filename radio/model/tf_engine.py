"""The TensorFlow engine: magenta's own MusicVAE graph behind the model stage's calls
(encode, decode, sample, converter), and the checkpoint tools that need TensorFlow
(a random checkpoint for tests, a checkpoint converted to the numpy engine's .npz).

The package's one runtime module that imports TensorFlow (and magenta); the offline tools
(radio/offline) are the others. tests/test_layering.py checks both. Model folders and
their cards: card.py.
"""

from __future__ import annotations

import copy
import sys
import tarfile
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from ..contracts import TRIO_CONFIGS
from ..support import quiet
from .card import ModelCard, ModelError, find_model

# Before TensorFlow is first imported: Keras 2 behaviour for magenta, and quiet logs (the
# CLI has already decided with its --verbose flag; then this call does nothing).
quiet.setup()

def _tf():
    """TensorFlow (compat.v1), imported once with magenta's configs, its start-up chatter
    held back (support/quiet.py) and its loggers down to errors unless --verbose."""
    if "magenta.models.music_vae.configs" not in sys.modules:
        with quiet.loading():
            from magenta.models.music_vae import configs  # noqa: F401  (imports TF once)
        _quiet_loggers()
    import tensorflow.compat.v1 as tf
    return tf


def _quiet_loggers() -> None:
    """After TensorFlow's import: its Python loggers down to errors (quiet mode only)."""
    if quiet.VERBOSE is False:
        from absl import logging as absl_logging
        absl_logging.set_verbosity(absl_logging.ERROR)
        import tensorflow.compat.v1 as tf
        tf.logging.set_verbosity(tf.logging.ERROR)


def make_config(name: str, hparams: dict | None = None):
    """A private copy of magenta's named config with hparam overrides applied."""
    _tf()
    from magenta.models.music_vae import configs
    if name not in configs.CONFIG_MAP:
        raise ModelError(f"unknown MusicVAE config {name!r}; trio configs: {', '.join(TRIO_CONFIGS)}")
    config = copy.deepcopy(configs.CONFIG_MAP[name])
    if hparams:
        bad = set(hparams) - set(config.hparams.values())
        if bad:
            raise ModelError(f"hparams {sorted(bad)} do not exist in config {name!r}")
        config.hparams.override_from_dict(hparams)
    return config


def resolve(path: Path | str | None, config: str | None = None) -> tuple[ModelCard, str]:
    """Finds the card and the checkpoint path for a model folder, official folder or tarball."""
    path, card = find_model(path, config)
    if path.is_file():
        return card, str(path)
    _tf()
    import tensorflow.compat.v1 as tf
    ckpt = tf.train.latest_checkpoint(str(path))
    if ckpt is None:
        index = sorted(path.glob("*.index"))
        if not index:
            raise ModelError(f"{path}: no checkpoint (*.index) inside")
        ckpt = str(index[-1])[: -len(".index")]
    return card, ckpt


def checkpoint_file(checkpoint: str) -> str:
    """A checkpoint path TensorFlow can read: a tarball (official checkpoints come as one)
    is unpacked once next to itself, into `<name>.unpacked/`."""
    path = Path(checkpoint)
    if not path.is_file() or not tarfile.is_tarfile(path):
        return checkpoint
    out = path.with_name(path.name + ".unpacked")
    if not out.exists():
        tmp = path.with_name(path.name + ".unpacking")
        with tarfile.open(path) as tar:
            tar.extractall(tmp, filter="data")
        tmp.replace(out)
    index = sorted(out.rglob("*.index"))
    if not index:
        raise ModelError(f"{path}: the tarball holds no checkpoint (*.index)")
    return str(index[-1])[: -len(".index")]


def write_random_checkpoint(folder: Path, config_name: str = "hierdec-trio_16bar",
                            hparams: dict | None = None, seed: int | None = None) -> list[str]:
    """Writes a randomly initialised checkpoint with magenta's own graph and Saver, so its
    variable layout is exactly an official checkpoint's; `seed` makes the weights the same
    every time. For tests and timing; returns the variable names."""
    tf = _tf()
    config = make_config(config_name, hparams)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with tf.Graph().as_default():
        if seed is not None:
            tf.set_random_seed(seed)
        config.model.build(config.hparams, config.data_converter.output_depth, is_training=False)
        batch = config.hparams.batch_size
        x = tf.placeholder(tf.float32, [batch, config.hparams.max_seq_len, config.data_converter.input_depth])
        mu = config.model.encode(x, tf.fill([batch], config.hparams.max_seq_len)).loc
        config.model.sample(batch, max_length=config.hparams.max_seq_len, z=mu,
                            temperature=1.0)  # decoder variables (flat configs need a temperature)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            tf.train.Saver().save(sess, str(folder / "model.ckpt"))
            return sorted(v.op.name for v in tf.global_variables())


class TrioModel:
    """Encode trio tensors to z, decode z to trio NoteSequences, sample from the prior.

    Calls are serialised by a lock: one TensorFlow session, used from worker threads.
    Decoded sequences are timed at the converter's 120 qpm.
    """

    def __init__(self, path: Path | str | None = None, batch_size: int = 4,
                 config: str | None = None, hparams: dict | None = None,
                 checkpoint: str | None = None):
        if checkpoint is None:
            card, checkpoint = resolve(path, config)
        else:
            card = ModelCard(config=config or "hierdec-trio_16bar")
        if hparams:
            card.hparams = {**card.hparams, **hparams}
        self.card = card
        self.config = make_config(card.config, card.hparams)
        self.batch_size = batch_size
        from magenta.models.music_vae import TrainedModel
        try:
            self._model = TrainedModel(self.config, batch_size=batch_size,
                                       checkpoint_dir_or_path=checkpoint)
        except Exception as e:
            raise ModelError(f"cannot load checkpoint {checkpoint} as {card.config} "
                             f"with hparams {card.hparams}: {str(e).splitlines()[0][:300]}") from None
        self._lock = threading.Lock()
        self.converter = self._model._config.data_converter
        self.z_size = self.config.hparams.z_size
        self.steps = self.config.hparams.max_seq_len

    def encode(self, tensors: Sequence[np.ndarray]) -> np.ndarray:
        """Posterior means for converter tensors of shape (steps, depth); returns (n, z)."""
        batch = [np.asarray(t, np.float32) for t in tensors]
        with self._lock:
            _, mu, _ = self._model.encode_tensors(batch, [len(t) for t in batch])
        return mu.astype(np.float32)

    def decode(self, z: np.ndarray, temperature: float = 0.5, style=None) -> list:
        """Trio NoteSequences for each row of z (n, z_size). magenta's graph samples inside
        TensorFlow: a set's playing style (radio/model/style.py) is the numpy engine's, and
        the station passes none to this one (generator/styles.py)."""
        z = np.asarray(z, np.float32)
        with self._lock:
            return self._model.decode(z, length=self.steps, temperature=temperature)

    def close(self) -> None:
        """Frees the TensorFlow session (a restarted generator loads a fresh model)."""
        with self._lock:
            self._model._sess.close()

    def sample(self, n: int, temperature: float = 0.5) -> list:
        with self._lock:
            return self._model.sample(n=n, length=self.steps, temperature=temperature)


def is_weight(name: str) -> bool:
    """A variable inference needs: not an optimizer slot, not Adam's step powers (the float
    ones; the step counter is an int)."""
    return "/Adam" not in name and not name.startswith(("beta1_power", "beta2_power"))


def read_checkpoint(source: Path | str) -> dict[str, np.ndarray]:
    """Every float variable of a checkpoint (a prefix, or a tarball, unpacked once) as
    float32 arrays by magenta's names, without optimizer slots; for weights.convert."""
    quiet.setup()
    with quiet.loading():
        import tensorflow as tf  # the plain library: magenta's graph is not needed
    _quiet_loggers()
    prefix = checkpoint_file(str(source)) if Path(source).is_file() else str(source)
    try:
        reader = tf.train.load_checkpoint(prefix)
    except Exception as e:  # noqa: BLE001  (TF raises its own many kinds)
        raise ModelError(f"cannot read checkpoint {prefix}: {str(e).splitlines()[0][:300]}") from None
    dtypes = reader.get_variable_to_dtype_map()
    arrays = {}
    for name in sorted(reader.get_variable_to_shape_map()):
        # optimizer slots and the step counter are not needed for inference
        if dtypes[name] != tf.float32 or not is_weight(name):
            continue
        arrays[name] = np.ascontiguousarray(reader.get_tensor(name), np.float32)
    return arrays
