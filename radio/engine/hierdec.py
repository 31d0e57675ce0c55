"""hierdec-trio_16bar's HierarchicalLstmDecoder, in numpy.

As magenta builds it (lstm_models.HierarchicalLstmDecoder with
disable_autoregression=True over a SplitMultiOutLstmDecoder of three
CategoricalLstmDecoders):
- The conductor, an LSTM stack under `decoder/hierarchical_level_0`, starts from
  tanh(dense(z)) (`initial_state`) and runs one step per bar on a zero input of width 1;
  its top h at bar b is that bar's embedding. Its state runs on across bars.
- Each part (lead 90, bass 90, drums 512 classes) has its own core decoder under
  `core_decoder/core_decoder_{p}/decoder`, re-initialised at every bar from
  tanh(dense(embedding)) (`z_to_initial_state`). Its input at each step is
  [previous token one-hot, embedding]; the first step of bar 0 sees zeros, the first step
  of bar b > 0 sees that part's last token of bar b-1 (magenta's `start_inputs`).
  `output_projection` gives the logits.
The conductor never sees tokens, so all bars' embeddings are computed first. Decoding
runs the three parts together (their LSTMs have the same sizes: one batched product per
layer and step); teacher-forced scoring runs all bars of a part at once.
"""

from __future__ import annotations

import numpy as np

from . import sampling
from .lstm import Layer, cell, initial_states, stacked

DEPTHS = (90, 90, 512)            # lead, bass, drums: the trio converter's one-hot parts
PARTS = ("lead", "bass", "drums")
CONDUCTOR = "decoder/hierarchical_level_0"
CORE = "core_decoder/core_decoder_{part}/decoder"


class CoreDecoder:
    """One part's CategoricalLstmDecoder."""

    def __init__(self, arrays: dict, part: int):
        scope = CORE.format(part=part)
        self.depth = DEPTHS[part]
        self.layers = stacked(arrays, scope)
        self.init_kernel = arrays[f"{scope}/z_to_initial_state/kernel"]
        self.init_bias = arrays[f"{scope}/z_to_initial_state/bias"]
        self.out_kernel = arrays[f"{scope}/output_projection/kernel"]
        self.out_bias = arrays[f"{scope}/output_projection/bias"]
        self.token_rows = self.layers[0].wx[:self.depth]      # [depth, 4H]
        self.emb_rows = self.layers[0].wx[self.depth:]        # [embedding, 4H]
        self.sizes = [layer.units for layer in self.layers]

    def start(self, emb: np.ndarray):
        """Initial [[c, h], ...] and the layer-0 gate part that is constant over the bar."""
        return initial_states(emb, self.init_kernel, self.init_bias, self.sizes), \
            emb @ self.emb_rows + self.layers[0].b


class HierarchicalDecoder:
    def __init__(self, arrays: dict, bars: int = 16, steps_per_bar: int = 16):
        self.bars, self.steps_per_bar = bars, steps_per_bar
        self.conductor = []
        while f"{CONDUCTOR}/cell_{len(self.conductor)}/lstm_cell/kernel" in arrays:
            self.conductor.append(Layer.from_arrays(arrays, f"{CONDUCTOR}/cell_{len(self.conductor)}/lstm_cell"))
        self.cond_kernel = arrays[f"{CONDUCTOR}/initial_state/kernel"]
        self.cond_bias = arrays[f"{CONDUCTOR}/initial_state/bias"]
        self.z_size = self.cond_kernel.shape[0]
        self.parts = [CoreDecoder(arrays, p) for p in range(len(DEPTHS))]
        sizes = {tuple(p.sizes) for p in self.parts}
        if len(sizes) != 1:
            raise ValueError(f"the parts' decoders differ in size: {sizes}")
        # stacked over parts for the batched products of decoding
        layers = list(zip(*(p.layers for p in self.parts)))
        self.wh0 = np.stack([lay.wh for lay in layers[0]])                   # [P, H, 4H]
        self.upper = [(np.stack([np.concatenate([lay.wx, lay.wh]) for lay in group]),   # [P, 2H, 4H]
                       np.stack([lay.b for lay in group])[:, None, :])
                      for group in layers[1:]]
        self.offsets = np.cumsum((0,) + DEPTHS[:-1])[:, None]                       # [P, 1]
        table = np.concatenate([p.token_rows for p in self.parts])
        self.no_token = len(table)                                                   # a zero row
        self.token_table = np.concatenate([table, np.zeros((1, table.shape[1]), np.float32)])

    @property
    def length(self) -> int:
        return self.bars * self.steps_per_bar

    def conduct(self, z: np.ndarray) -> np.ndarray:
        """Each bar's embedding [bars, N, H] from z [N, z_size]."""
        states = initial_states(z, self.cond_kernel, self.cond_bias, [lay.units for lay in self.conductor])
        out = []
        for _ in range(self.bars):
            below = None
            for k, layer in enumerate(self.conductor):
                c, h = states[k]
                gates = h @ layer.wh + layer.b                      # the input is zeros
                if below is not None:
                    gates = gates + below @ layer.wx
                states[k] = list(cell(gates, c))
                below = states[k][1]
            out.append(below)
        return np.stack(out)

    def decode(self, z: np.ndarray, temperature: float = 0.0, rng: np.random.Generator | None = None,
               steps: int | None = None) -> np.ndarray:
        """Token ids [parts, N, steps] decoded from z [N, z_size]: greedy at temperature
        <= 0, else sampled from softmax(logits / temperature) with `rng`."""
        z = np.asarray(z, np.float32)
        n, total = len(z), self.length if steps is None else steps
        emb = self.conduct(z)
        ids = np.zeros((len(self.parts), n, total), np.int64)
        prev = np.full((len(self.parts), n), -1)
        for bar in range(-(-total // self.steps_per_bar)):
            starts = [p.start(emb[bar]) for p in self.parts]
            states = [[np.stack([s[0][k][i] for s in starts]) for i in (0, 1)] for k in range(len(self.upper) + 1)]
            emb_pre = np.stack([s[1] for s in starts])                               # [P, N, 4H]
            for t in range(bar * self.steps_per_bar, min(total, (bar + 1) * self.steps_per_bar)):
                rows = self.token_table[np.where(prev >= 0, prev + self.offsets, self.no_token)]
                c, h = states[0]
                states[0] = list(cell(emb_pre + rows + np.matmul(h, self.wh0), c))
                below = states[0][1]
                for k, (kernel, bias) in enumerate(self.upper, start=1):
                    c, h = states[k]
                    states[k] = list(cell(np.matmul(np.concatenate([below, h], axis=-1), kernel) + bias, c))
                    below = states[k][1]
                for p, part in enumerate(self.parts):
                    logits = below[p] @ part.out_kernel + part.out_bias
                    prev[p] = sampling.choose(logits, temperature, rng)
                ids[:, :, t] = prev
        return ids

    def teacher_logits(self, z: np.ndarray, part: int, tokens: np.ndarray) -> np.ndarray:
        """Logits [N, T, depth] of part `part` reading `tokens` [N, T] (teacher forcing:
        step t sees token t-1, bar 0 starts from zeros), conditioned on z [N, z_size]."""
        z = np.asarray(z, np.float32)
        tokens = np.asarray(tokens, np.int64)
        n, total = tokens.shape
        bars, spb = -(-total // self.steps_per_bar), self.steps_per_bar
        dec = self.parts[part]
        emb = self.conduct(z)[:bars].reshape(bars * n, -1)                         # bar-major
        states, emb_pre = dec.start(emb)
        padded = np.full((n, bars * spb), -1)
        padded[:, :total] = tokens
        inputs = np.concatenate([np.full((n, 1), -1), padded[:, :-1]], axis=1)    # shifted by one
        inputs = inputs.reshape(n, bars, spb).transpose(1, 0, 2).reshape(bars * n, spb)
        table = np.concatenate([dec.token_rows, np.zeros((1, dec.token_rows.shape[1]), np.float32)])
        logits = np.zeros((bars * n, spb, dec.depth), np.float32)
        for s in range(spb):
            x = inputs[:, s]
            below = None
            for k, layer in enumerate(dec.layers):
                c, h = states[k]
                if k == 0:
                    gates = emb_pre + table[np.where(x >= 0, x, dec.depth)] + h @ layer.wh
                else:
                    gates = below @ layer.wx + h @ layer.wh + layer.b
                states[k] = list(cell(gates, c))
                below = states[k][1]
            logits[:, s] = below @ dec.out_kernel + dec.out_bias
        logits = logits.reshape(bars, n, spb, dec.depth).transpose(1, 0, 2, 3).reshape(n, bars * spb, dec.depth)
        return logits[:, :total]
