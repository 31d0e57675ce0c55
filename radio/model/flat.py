"""flat-trio_16bar's MultiOutCategoricalLstmDecoder, in numpy.

One LSTM stack under `decoder` for all three parts: it starts from tanh(dense(z))
(`z_to_initial_state`), reads [previous step's three one-hots (zeros at step 0), z] and
its `output_projection` gives 692 logits, split into lead (90), bass (90) and drums (512),
each chosen on its own.
"""

from __future__ import annotations

import numpy as np

from . import sampling
from .lstm import cell, initial_states, stacked
from .style import Style, Tracker
from .trio import DEPTHS

SCOPE = "decoder"


class FlatDecoder:
    def __init__(self, arrays: dict, length: int = 256):
        self.steps = length
        self.layers = stacked(arrays, SCOPE)
        self.init_kernel = arrays[f"{SCOPE}/z_to_initial_state/kernel"]
        self.init_bias = arrays[f"{SCOPE}/z_to_initial_state/bias"]
        self.out_kernel = arrays[f"{SCOPE}/output_projection/kernel"]
        self.out_bias = arrays[f"{SCOPE}/output_projection/bias"]
        depth = sum(DEPTHS)
        self.token_rows = np.concatenate([self.layers[0].wx[:depth],
                                          np.zeros((1, self.layers[0].wx.shape[1]), np.float32)])
        self.no_token = depth
        self.z_rows = self.layers[0].wx[depth:]
        self.z_size = self.z_rows.shape[0]
        self.offsets = np.cumsum((0,) + DEPTHS[:-1])
        self.cuts = np.cumsum(DEPTHS)[:-1]

    @property
    def length(self) -> int:
        return self.steps

    def decode(self, z: np.ndarray, temperature: float = 0.0, rng: np.random.Generator | None = None,
               steps: int | None = None, style: Style | None = None) -> np.ndarray:
        """Token ids [parts, N, steps], as HierarchicalDecoder.decode."""
        z = np.asarray(z, np.float32)
        n, total = len(z), self.length if steps is None else steps
        states = initial_states(z, self.init_kernel, self.init_bias, [lay.units for lay in self.layers])
        z_pre = z @ self.z_rows + self.layers[0].b
        ids = np.zeros((len(DEPTHS), n, total), np.int64)
        prev = np.full((len(DEPTHS), n), -1)
        styled = {p: (style.part(p), Tracker(n)) for p in range(len(DEPTHS))
                  if style is not None and style.part(p) is not None}
        for t in range(total):
            rows = self.token_rows[np.where(prev >= 0, prev + self.offsets[:, None], self.no_token)].sum(axis=0)
            below = None
            for k, layer in enumerate(self.layers):
                c, h = states[k]
                if k == 0:
                    gates = z_pre + rows + h @ layer.wh
                else:
                    gates = below @ layer.wx + h @ layer.wh + layer.b
                states[k] = list(cell(gates, c))
                below = states[k][1]
            logits = np.split(below @ self.out_kernel + self.out_bias, self.cuts, axis=-1)
            for p, part_logits in enumerate(logits):
                if p in styled:
                    part_logits = styled[p][1].offsets(part_logits, styled[p][0], t)
                prev[p] = sampling.choose(part_logits, temperature, rng)
                if p in styled:
                    styled[p][1].update(prev[p])
            ids[:, :, t] = prev
        return ids
