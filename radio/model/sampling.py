"""Choosing a token from logits, as magenta's decoders do, but seeded.

magenta samples each step from `OneHotCategorical(logits=logits / temperature)` (hierdec's
core decoders) or `Categorical(logits / temperature)` (the flat trio's three heads): the
distribution softmax(logits / T). Here the draw is inverse-CDF with one uniform number
per row from a numpy Generator, so a seed gives the same music every run. Temperature
0 (or below) is greedy decoding, the limit T → 0: the argmax, the first on a tie as in
tf.argmax.
"""

from __future__ import annotations

import numpy as np


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    x = np.asarray(logits, np.float64) / temperature
    x = x - x.max(axis=-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    x = np.asarray(logits, np.float64)
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def choose(logits: np.ndarray, temperature: float, rng: np.random.Generator | None,
           uniforms: np.ndarray | None = None) -> np.ndarray:
    """One token id per row of logits [N, D]: argmax when temperature <= 0, else a draw
    from softmax(logits / temperature), with `uniforms` [N] in [0, 1) when given (drawn
    ahead, so a decoder may take its steps in another order), else N drawn from `rng`."""
    if temperature is None or temperature <= 0:
        return np.argmax(logits, axis=-1)
    cdf = np.cumsum(softmax(logits, temperature), axis=-1)
    u = (rng.random(len(cdf)) if uniforms is None else uniforms) * cdf[:, -1]
    return np.minimum((cdf < u[:, None]).sum(axis=-1), cdf.shape[-1] - 1)
