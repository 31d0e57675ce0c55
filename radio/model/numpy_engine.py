"""`NumpyTrioModel`: the TensorFlow engine's calls (tf_engine.TrioModel: encode, decode,
sample, close, converter) on numpy alone, plus teacher-forced scoring (`log_likelihood`).

Decoding is batched: all rows of z go through together (and a hierdec part's bars side
by side, hierdec.py), so the walk can hand over as many steps as it likes. Sampling is
seeded: `seed` fixes the Generator; every decode call draws from it in turn.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from ..contracts import PARTS
from . import trio, weights
from .card import ModelCard, ModelError
from .encoder import BidirectionalEncoder
from .flat import FlatDecoder
from .hierdec import HierarchicalDecoder
from .sampling import log_softmax
from .style import Style


def limit_blas_threads(threads: int) -> None:
    """Caps BLAS threads for the process: the engine's products are small (a few rows
    times a kernel), where a multi-threaded BLAS spins more than it works (measured on 2
    cores: 3 ms for a 4×256 by 256×1024 product with OpenBLAS's default, 0.1 ms with 1)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=threads, user_api="blas")


class EngineError(ModelError):
    """A model the numpy engine cannot run; the message names the fix."""


class NumpyTrioModel:
    """Encode trio tensors to z, decode z to trio NoteSequences, sample from the prior.

    Decoded sequences are timed at the converter's 120 qpm. Calls are serialised by a lock
    (numpy releases the GIL in its products; one model, used from worker threads). Sizes
    come from the weights; `hparams` only amends the card (TrioModel's signature)."""

    def __init__(self, path: Path | str | None = None, batch_size: int = 4,
                 config: str | None = None, hparams: dict | None = None,
                 seed: int | None = None, data: Path | str | None = None,
                 weights_file: Path | str | None = None, threads: int | None = 1,
                 loaded: weights.Weights | None = None):
        try:        # `loaded`: weights already in memory (training judges its session's)
            w = loaded or (weights.load_npz(weights_file) if weights_file else weights.load(path, config, data))
        except ModelError as e:          # the model's own, or its weights' (WeightsError)
            raise EngineError(str(e)) from None
        self.weights = w
        if threads:
            limit_blas_threads(threads)
        card = dict(w.card) or {"config": w.config}
        self.card = ModelCard(**{k: v for k, v in card.items() if k in ModelCard.__dataclass_fields__})
        if hparams:
            self.card.hparams = {**self.card.hparams, **hparams}
        try:            # the style its card says it plays in (a learned set's): model/card.py
            self.own_style = Style.from_dict(self.card.style) if self.card.style else None
        except (TypeError, AttributeError):
            raise EngineError(f"{path}: the card's style {str(self.card.style)[:200]} is not "
                              "{\"lead\": {move: offset}, \"bass\": {...}}") from None
        self.batch_size = batch_size
        self.encoder = BidirectionalEncoder(w.arrays)
        if w.config == "hierdec-trio_16bar":
            self.decoder = HierarchicalDecoder(w.arrays)
        elif w.config == "flat-trio_16bar":
            self.decoder = FlatDecoder(w.arrays)
        else:
            raise EngineError(f"config {w.config!r}: the numpy engine runs hierdec-trio_16bar and flat-trio_16bar")
        self.z_size = self.encoder.z_size
        self.steps = self.decoder.length
        self.rng = np.random.default_rng(seed)
        self._lock = threading.Lock()
        self._converter = None

    @property
    def converter(self):
        """The trio data converter for seed files: convert.py's (note-seq only,
        equal to magenta's; tests/test_convert.py)."""
        if self._converter is None:
            from .convert import TrioConverter
            self._converter = TrioConverter()
        return self._converter

    def encode(self, tensors: Sequence[np.ndarray]) -> np.ndarray:
        """Posterior means for converter tensors of shape (steps, depth); returns (n, z)."""
        batch = [np.asarray(t, np.float32) for t in tensors]
        if not batch:
            return np.zeros((0, self.z_size), np.float32)
        lengths = np.array([len(t) for t in batch])
        x = np.zeros((len(batch), max(lengths.max(), 1), self.encoder.input_depth), np.float32)
        for i, t in enumerate(batch):
            x[i, :len(t)] = t
        with self._lock:
            mu, _ = self.encoder.encode(x, lengths)
        return mu

    def decode_ids(self, z: np.ndarray, temperature: float = 0.5, steps: int | None = None,
                   style: Style | None = None, rng: np.random.Generator | None = None,
                   own: bool = True) -> np.ndarray:
        """Token ids [3 parts, n, steps] for each row of z (n, z_size), played in the card's
        style (unless `own` is False: the weights' manner, which styles are fitted against)
        plus `style` (radio/model/style.py); drawn from `rng` (default the model's own)."""
        z = np.asarray(z, np.float32).reshape(-1, self.z_size)
        if own and self.own_style is not None:
            style = self.own_style.plus(style)
        with self._lock:
            return self.decoder.decode(z, temperature, self.rng if rng is None else rng, steps, style)

    def decode_to_tensors(self, z: np.ndarray, temperature: float = 0.5) -> np.ndarray:
        """Converter tensors [n, steps, 692] (bool), as TrainedModel.decode_to_tensors."""
        return trio.ids_to_tensors(self.decode_ids(z, temperature))

    def decode(self, z: np.ndarray, temperature: float = 0.5, style: Style | None = None) -> list:
        """Trio NoteSequences for each row of z (n, z_size)."""
        return trio.to_sequences(self.decode_ids(z, temperature, style=style))

    def sample(self, n: int, temperature: float = 0.5) -> list:
        """n trio NoteSequences decoded from z drawn from the prior N(0, I)."""
        z = self.rng.standard_normal((n, self.z_size)).astype(np.float32)
        return self.decode(z, temperature)

    def log_likelihood(self, z: np.ndarray, part: str | int, tokens: np.ndarray) -> np.ndarray:
        """log p(tokens | z) of one part under the hierarchical decoder, teacher forced.

        z: (N, z_size); part: 'lead', 'bass' or 'drums'; tokens: that part's token ids
        (N, steps) or (steps,) for every row (lead/bass 0–89, drums 0–511, as
        `trio.tensors_to_ids` gives them), or its one-hot (N, steps, depth). Returns (N,)
        natural-log probabilities: the negative of magenta's per-part cross-entropy summed
        over steps (at temperature 1)."""
        if not isinstance(self.decoder, HierarchicalDecoder):
            raise EngineError("log_likelihood scores one part under a hierarchical (hierdec) model; "
                              f"this one is {self.card.config}")
        p = trio.part_index(part)
        z = np.asarray(z, np.float32).reshape(-1, self.z_size)
        tokens = np.asarray(tokens)
        onehot = tokens.ndim == 3 or (tokens.ndim == 2 and tokens.dtype.kind in "bf"
                                      and tokens.shape[-1] == trio.DEPTHS[p])
        if onehot:  # of all rows, or of one for every row
            tokens = np.argmax(tokens, axis=-1)
        tokens = np.broadcast_to(tokens.reshape(-1, tokens.shape[-1]), (len(z), tokens.shape[-1])).astype(np.int64)
        if tokens.min(initial=0) < 0 or tokens.max(initial=0) >= trio.DEPTHS[p]:
            raise EngineError(f"{PARTS[p]} tokens must lie in 0..{trio.DEPTHS[p] - 1}")
        with self._lock:
            logits = self.decoder.teacher_logits(z, p, tokens)
        logp = np.take_along_axis(log_softmax(logits), tokens[..., None], axis=-1)[..., 0]
        return logp.sum(axis=-1)

    def close(self) -> None:
        """Nothing to free but the arrays (kept for TrioModel's interface)."""
