"""The model stage: a MusicVAE trio model behind one set of calls, on one of two engines.

    from radio.model import load_model
    model = load_model()                       # the shipped default model, numpy engine
    model = load_model(path, engine="tf")      # magenta's TensorFlow graph (tf_engine.py)

Both engines answer the same calls (encode, decode, sample, close, converter, batch_size);
the numpy one (numpy_engine.py: encoder, lstm, hierdec, flat, sampling) adds
`log_likelihood` and seeded sampling, and needs no TensorFlow. Its weights come from a
converted .npz (weights.py): the shipped model ships one; any other checkpoint is
converted once, with TensorFlow, into the data folder. card.py: model folders and cards;
trio.py and convert.py: the trio tokens and the seed files' converter.
"""

from __future__ import annotations

ENGINES = ("numpy", "tf")


def load_model(path=None, engine: str = "numpy", **kwargs):
    """The model at `path` (default: the shipped one) on the chosen engine."""
    if engine == "numpy":
        from .numpy_engine import NumpyTrioModel
        return NumpyTrioModel(path, **kwargs)
    if engine == "tf":
        from ..support import extras
        extras.require("the TensorFlow engine (--engine tf)")
        from .tf_engine import TrioModel
        kwargs.pop("seed", None)
        kwargs.pop("data", None)
        return TrioModel(path, **kwargs)
    from .card import ModelError
    raise ModelError(f"engine {engine!r}: use one of {', '.join(ENGINES)}")
