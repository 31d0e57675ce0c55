"""A lean MusicVAE trio inference engine in numpy: the model stage without TensorFlow.

    from radio.engine import load_model
    model = load_model()                       # the shipped default model, numpy engine
    model = load_model(path, engine="tf")      # magenta's TensorFlow graph (radio.model)

Both engines answer the same calls (encode, decode, sample, close, converter, batch_size);
the numpy one adds `log_likelihood` and seeded sampling. Weights come from a converted
.npz (weights.py): the shipped model ships one; any other checkpoint is converted once,
with TensorFlow, into the data folder.
"""

from __future__ import annotations

ENGINES = ("numpy", "tf")


def load_model(path=None, engine: str = "numpy", **kwargs):
    """The model at `path` (default: the shipped one) on the chosen engine."""
    if engine == "numpy":
        from .model import NumpyTrioModel
        return NumpyTrioModel(path, **kwargs)
    if engine == "tf":
        from ..model import TrioModel
        kwargs.pop("seed", None)
        kwargs.pop("data", None)
        return TrioModel(path, **kwargs)
    raise ValueError(f"engine {engine!r}: use one of {', '.join(ENGINES)}")
