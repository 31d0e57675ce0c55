"""MusicVAE's BidirectionalLstmEncoder and the dense `encoder/mu` layer, in numpy.

Layer l runs a forward and a backward LSTM (the backward one over each sequence reversed
within its length, as tf.reverse_sequence does); layer l+1 reads both outputs in input
order. The embedding is the last layer's forward h after `length` steps and backward h
after its `length` steps (zeros for an empty sequence), then mu = dense(embedding).
"""

from __future__ import annotations

import numpy as np

from .lstm import Layer, cell

SCOPE = "encoder/cell_{layer}/bidirectional_rnn/{direction}/multi_rnn_cell/cell_0/lstm_cell"


def _reverse(x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """x [N, T, ...] with each row's first `length` steps reversed, the rest left zero."""
    out = np.zeros_like(x)
    for n, length in enumerate(lengths):
        out[n, :length] = x[n, :length][::-1]
    return out


def _onehot_rows(x: np.ndarray) -> np.ndarray | None:
    """Indices [N, T, k] of the ones when every step of x has the same number k of
    entries, all exactly 1 (the trio's three one-hot parts); None otherwise."""
    nonzero = x != 0
    counts = nonzero.sum(axis=-1)
    if counts.size == 0 or not (counts == counts.flat[0]).all() or not (x[nonzero] == 1).all():
        return None
    k = int(counts.flat[0])
    return np.nonzero(nonzero)[-1].reshape(x.shape[0], x.shape[1], k)


class BidirectionalEncoder:
    def __init__(self, arrays: dict):
        self.layers = []
        layer = 0
        while SCOPE.format(layer=layer, direction="fw") + "/kernel" in arrays:
            self.layers.append(tuple(Layer.from_arrays(arrays, SCOPE.format(layer=layer, direction=d))
                                     for d in ("fw", "bw")))
            layer += 1
        self.mu_kernel, self.mu_bias = arrays["encoder/mu/kernel"], arrays["encoder/mu/bias"]
        self.sigma_kernel, self.sigma_bias = arrays["encoder/sigma/kernel"], arrays["encoder/sigma/bias"]
        self.input_depth = self.layers[0][0].wx.shape[0]
        self.z_size = self.mu_bias.shape[0]

    def _input_product(self, layer: Layer, x: np.ndarray) -> np.ndarray:
        """x @ wx + b for all steps at once; one-hot inputs as a sum of kernel rows."""
        ids = _onehot_rows(x) if x.shape[-1] == self.input_depth else None
        if ids is not None:
            pre = np.zeros(x.shape[:2] + (layer.wx.shape[1],), np.float32)
            for k in range(ids.shape[-1]):  # one part at a time: no [N, T, parts, 4H] temporary
                pre += layer.wx[ids[..., k]]
        else:
            pre = (x.reshape(-1, x.shape[-1]) @ layer.wx).reshape(x.shape[0], x.shape[1], -1)
        return pre + layer.b

    def embed(self, x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """The encoder's output [N, 2H] for inputs x [N, T, depth] (zero-padded)."""
        x = np.asarray(x, np.float32)
        lengths = np.asarray(lengths, np.int64)
        n, steps = x.shape[:2]
        valid = (np.arange(steps)[None, :] < lengths[:, None]).astype(np.float32)  # [N, T]
        full = bool((lengths == steps).all())  # no padding: no masking
        below = x
        for fw, bw in self.layers:
            units = fw.units
            pres = (self._input_product(fw, below), self._input_product(bw, _reverse(below, lengths)))
            h = [np.zeros((n, units), np.float32), np.zeros((n, units), np.float32)]
            c = [np.zeros((n, units), np.float32), np.zeros((n, units), np.float32)]
            out = np.zeros((2, n, steps, units), np.float32)
            for t in range(steps):
                keep = valid[:, t, None] > 0
                for d, layer in enumerate((fw, bw)):  # two products, no stacked copy of the kernels
                    c_new, h_new = cell(pres[d][:, t] + h[d] @ layer.wh, c[d])
                    if full:
                        c[d], h[d] = c_new, h_new
                        out[d, :, t] = h_new
                    else:
                        c[d], h[d] = np.where(keep, c_new, c[d]), np.where(keep, h_new, h[d])
                        out[d, :, t] = h_new * keep
            below = np.concatenate([out[0], _reverse(out[1], lengths)], axis=-1)
        return np.concatenate([h[0], h[1]], axis=-1)

    def encode(self, x: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior (mu, sigma) [N, z] as magenta's MusicVAE.encode: sigma = softplus."""
        e = self.embed(x, lengths)
        mu = e @ self.mu_kernel + self.mu_bias
        sigma = np.logaddexp(0.0, e @ self.sigma_kernel + self.sigma_bias).astype(np.float32)
        return mu.astype(np.float32), sigma
