"""The LSTM arithmetic of magenta's cells, in numpy (float32).

magenta builds every RNN from `LSTMBlockCell`s (lstm_utils.rnn_cell): a kernel of shape
[inputs + units, 4 * units] applied to [x, h], a bias of [4 * units], gates in the order
(i, j, f, o), forget bias 1.0 added to f, no peepholes, no cell clipping:

    i, j, f, o = split([x, h] @ kernel + bias, 4)
    c' = sigmoid(f + 1) * c + sigmoid(i) * tanh(j)
    h' = sigmoid(o) * tanh(c')

Stacked layers are a `MultiRNNCell`: layer l's input is layer l-1's new h. Initial states
from an embedding (`initial_cell_state_from_embedding`) are one dense layer with tanh,
split in the order of the flattened state: c0, h0, c1, h1, ...
"""

from __future__ import annotations

import dataclasses

import numpy as np

FORGET_BIAS = 1.0  # LSTMBlockCell's default, which magenta keeps


def sigmoid(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def cell(gates: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One LSTMBlockCell step from its gate pre-activations [..., 4H] (input product,
    recurrent product and bias summed) and the previous c [..., H]; returns (c', h')."""
    i, j, f, o = np.split(gates, 4, axis=-1)
    c = sigmoid(f + FORGET_BIAS) * c + sigmoid(i) * np.tanh(j)
    return c, sigmoid(o) * np.tanh(c)


def dense(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    return x @ kernel + bias


@dataclasses.dataclass
class Layer:
    """One LSTMBlockCell's weights, its kernel split into input rows and recurrent rows
    (views of the one kernel, which is kept for [x, h] @ kernel in a single product)."""
    wx: np.ndarray       # [inputs, 4H]
    wh: np.ndarray       # [H, 4H]
    b: np.ndarray        # [4H]
    kernel: np.ndarray   # [inputs + H, 4H]

    @classmethod
    def from_arrays(cls, arrays: dict, scope: str) -> "Layer":
        kernel, bias = arrays[scope + "/kernel"], arrays[scope + "/bias"]
        units = bias.shape[0] // 4
        return cls(wx=kernel[:-units], wh=np.ascontiguousarray(kernel[-units:]), b=bias, kernel=kernel)

    @property
    def units(self) -> int:
        return self.wh.shape[0]

    def resident(self, inputs: bool = True) -> "Layer":
        """The same layer copied out of the memory-mapped weights file into the process's
        own memory, which the kernel backs with huge pages: a decoder step reads every
        kernel once, and through the file's 4 KiB pages the full-size decoder's steps took
        1.8 times as long at 4 rows (TLB misses; measured on the 2-core machine). With
        `inputs=False` only the recurrent rows: for a layer whose input product is taken
        once a bar, or a row at a time."""
        if not inputs:
            return dataclasses.replace(self, wh=np.array(self.wh))
        kernel = np.array(self.kernel)
        return Layer(wx=kernel[:-self.units], wh=kernel[-self.units:], b=np.array(self.b), kernel=kernel)


def stacked(arrays: dict, scope: str) -> list[Layer]:
    """The layers of a magenta decoder's MultiRNNCell under `scope`, bottom first."""
    layers: list[Layer] = []
    while f"{scope}/multi_rnn_cell/cell_{len(layers)}/lstm_cell/kernel" in arrays:
        layers.append(Layer.from_arrays(arrays, f"{scope}/multi_rnn_cell/cell_{len(layers)}/lstm_cell"))
    return layers


def initial_states(embedding: np.ndarray, kernel: np.ndarray, bias: np.ndarray,
                   sizes: list[int]) -> list[list[np.ndarray]]:
    """[[c0, h0], [c1, h1], ...] from tanh(embedding @ kernel + bias)."""
    flat = np.tanh(dense(embedding, kernel, bias))
    cuts = np.cumsum([s for s in sizes for _ in (0, 1)])[:-1]
    parts = np.split(flat, cuts, axis=-1)
    return [[parts[2 * k], parts[2 * k + 1]] for k in range(len(sizes))]
