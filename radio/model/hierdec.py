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
The conductor never sees tokens, so all bars' embeddings are computed first; each bar of
a part then starts from its own state, tied to the bar before only by its first input,
that bar's last token. Decoding therefore runs every bar of a part side by side (one
product per layer and step for all bars and rows, where a sequential decoder makes 16
times as many with a sixteenth of the rows: the full-size kernels are 48 MB a part and a
step, read from memory for a few rows each time). A bar's first input is first guessed
(token 0, no event), then the bars whose guess differs from the token their predecessor
ended on are decoded again, until none does: every bar has then read what a sequential
decoder feeds it, and sampled with the same uniforms (drawn ahead in its order), so the
tokens are a sequential decoder's. Where a part's guesses have mostly failed in earlier
calls, the first pass takes every other bar, so the bars between start from what their
predecessor really ended on. Teacher-forced scoring runs all bars of a part at once.
"""

from __future__ import annotations

import numpy as np

from . import sampling
from .lstm import Layer, cell, initial_states, stacked
from .style import Style, Tracker
from .trio import DEPTHS  # lead, bass, drums: the trio converter's one-hot parts

CONDUCTOR = "decoder/hierarchical_level_0"
CORE = "core_decoder/core_decoder_{part}/decoder"
# Below this many sequences a step's products cost mostly the reading of their kernels
# (full-size layer, one thread: 1.9 ms a row at 4 rows, 0.77 at 16, 0.48 at 64), so bars
# are decoded side by side; from it on, one bar after another (with random weights, the
# guesses cost as much as they saved at 16).
SIDE_BY_SIDE_BELOW = 16


class CoreDecoder:
    """One part's CategoricalLstmDecoder."""

    def __init__(self, arrays: dict, part: int):
        scope = CORE.format(part=part)
        self.depth = DEPTHS[part]
        self.layers = [layer.resident(inputs=k > 0) for k, layer in enumerate(stacked(arrays, scope))]
        self.init_kernel = arrays[f"{scope}/z_to_initial_state/kernel"]
        self.init_bias = arrays[f"{scope}/z_to_initial_state/bias"]
        self.out_kernel = np.array(arrays[f"{scope}/output_projection/kernel"])
        self.out_bias = arrays[f"{scope}/output_projection/bias"]
        wx = self.layers[0].wx
        # the one-hot input's rows of layer 0 (a product with a one-hot is a row), and a
        # zero row last, for "no token" (-1)
        self.token_rows = np.concatenate([wx[:self.depth], np.zeros((1, wx.shape[1]), np.float32)])
        self.emb_rows = wx[self.depth:]                         # [embedding, 4H]
        self.sizes = [layer.units for layer in self.layers]

    def start(self, emb: np.ndarray):
        """Initial [[c, h], ...] and the layer-0 gate part that is constant over the bar."""
        return initial_states(emb, self.init_kernel, self.init_bias, self.sizes), \
            emb @ self.emb_rows + self.layers[0].b

    def step(self, states: list, emb_pre: np.ndarray, prev: np.ndarray) -> np.ndarray:
        """One step from the previous tokens `prev` [N] (-1: none); updates `states` and
        returns the logits [N, depth]."""
        c, h = states[0]
        states[0] = list(cell(emb_pre + self.token_rows[prev] + h @ self.layers[0].wh, c))
        below = states[0][1]
        for k, layer in enumerate(self.layers[1:], start=1):
            c, h = states[k]
            states[k] = list(cell(np.concatenate([below, h], axis=-1) @ layer.kernel + layer.b, c))
            below = states[k][1]
        return below @ self.out_kernel + self.out_bias

    def bars(self, starts: tuple, first: np.ndarray, steps: int, temperature: float,
             uniforms: np.ndarray | None, styled: tuple | None = None) -> np.ndarray:
        """Tokens [N, steps] of N bars from their `start` (states, emb_pre) and first
        inputs `first` [N], choosing with `uniforms` [N, steps] when sampling; `styled`
        (PartStyle, Tracker of these rows) offsets the logits and follows the notes."""
        (states, emb_pre), prev = starts, first
        out = np.zeros((len(first), steps), np.int64)
        for s in range(steps):
            logits = self.step(states, emb_pre, prev)
            if styled is not None:
                logits = styled[1].offsets(logits, styled[0], s)
            out[:, s] = prev = sampling.choose(logits, temperature, None,
                                               None if uniforms is None else uniforms[:, s])
            if styled is not None:
                styled[1].update(prev)
        return out


class HierarchicalDecoder:
    def __init__(self, arrays: dict, bars: int = 16, steps_per_bar: int = 16):
        self.bars, self.steps_per_bar = bars, steps_per_bar
        self.conductor = []
        while f"{CONDUCTOR}/cell_{len(self.conductor)}/lstm_cell/kernel" in arrays:
            layer = Layer.from_arrays(arrays, f"{CONDUCTOR}/cell_{len(self.conductor)}/lstm_cell")
            self.conductor.append(layer.resident(inputs=bool(self.conductor)))   # cell_0 reads zeros
        self.cond_kernel = arrays[f"{CONDUCTOR}/initial_state/kernel"]
        self.cond_bias = arrays[f"{CONDUCTOR}/initial_state/bias"]
        self.z_size = self.cond_kernel.shape[0]
        self.parts = [CoreDecoder(arrays, p) for p in range(len(DEPTHS))]
        # per part, the running share of bars whose first-input guess (token 0) held: it
        # picks how the next call's first pass spreads over the bars (tokens never depend on it)
        self.held = [0.5] * len(self.parts)

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
               steps: int | None = None, style: Style | None = None) -> np.ndarray:
        """Token ids [parts, N, steps] decoded from z [N, z_size]: greedy at temperature
        <= 0, else sampled from softmax(logits / temperature) with `rng`. All bars at
        once, again where a bar's first input proved wrong (see the module doc); a part
        with a `style` (radio/model/style.py) bar after bar, as its offsets follow the
        part's notes across bars (with a neutral style, the same tokens)."""
        z = np.asarray(z, np.float32)
        n, total = len(z), self.length if steps is None else steps
        spb, parts = self.steps_per_bar, len(self.parts)
        bars = -(-total // spb)
        emb = self.conduct(z)[:bars].reshape(bars * n, -1)          # row b * n + i: bar b of sequence i
        uniforms = None
        if temperature is not None and temperature > 0:             # drawn as step after step would
            drawn = np.zeros((bars * spb, parts, n))
            drawn[:total] = rng.random((total, parts, n))
            uniforms = drawn.reshape(bars, spb, parts, n).transpose(2, 0, 3, 1).reshape(parts, bars * n, spb)
        ids = np.zeros((parts, bars * n, spb), np.int64)
        bar = np.arange(bars)[:, None]
        for p, part in enumerate(self.parts):
            states, emb_pre = part.start(emb)
            if style is not None and style.part(p) is not None:
                self._bar_after_bar(p, (states, emb_pre), ids, n, total, temperature, uniforms, style.part(p))
                continue
            read = np.full(bars * n, -2)                # the first input each bar read; -2: none yet
            side_by_side = n < SIDE_BY_SIDE_BELOW
            window, guessed, first_pass = (bars if side_by_side else 1), None, None
            # When a part's guesses mostly fail, the first pass takes every other bar: the
            # second then starts the bars between from what those ended on, and the third
            # redoes the first pass's bars whose guess failed. 32 + 32 + 28 rows instead of
            # 64 + 60 for 4 sequences with every guess wrong (25.9 ms against 29.2 ms of
            # products a step, full-size layers, one thread).
            stride = 2 if side_by_side and bars > 2 and self.held[p] < 0.5 else 1
            while True:
                first = np.concatenate([np.full(n, -1), ids[p, :-n, -1]])   # bar 0: no token
                wrong = (first != read).reshape(bars, n)
                if not wrong.any():
                    break
                if guessed is not None and guessed.any():
                    # how far to look ahead: the share of last pass's guesses that held
                    held = (guessed & ~wrong).sum() / guessed.sum()
                    window = int(min(bars, max(1, round(2 * window * held))))
                earliest = wrong.argmax(axis=0)          # per sequence: its bars before are final
                todo = wrong & (bar < earliest + window)
                if first_pass is None:
                    todo &= bar % stride == 0
                # guesses from a decoded bar before (not from token 0) tell how far to trust them
                decoded = np.concatenate([np.zeros((1, n), bool), (read != -2).reshape(bars, n)[:-1]])
                guessed = todo & (bar > earliest) & decoded
                todo = np.nonzero(todo.reshape(-1))[0]
                length = spb if todo[0] < (bars - 1) * n else total - (bars - 1) * spb
                ids[p, todo, :length] = part.bars(
                    ([[c[todo], h[todo]] for c, h in states], emb_pre[todo]), first[todo], length,
                    temperature, None if uniforms is None else uniforms[p, todo, :length])
                read[todo] = first[todo]
                if first_pass is None:
                    first_pass = (todo, read[todo])
            # how often the first pass's token-0 guesses held, for the next call's stride
            todo, guess = first_pass       # `first` now holds every bar's final first input
            if (todo >= n).any():
                self.held[p] = 0.5 * self.held[p] + 0.5 * float(np.mean((guess == first[todo])[todo >= n]))
        return ids.reshape(parts, bars, n, spb).transpose(0, 2, 1, 3).reshape(parts, n, -1)[:, :, :total]

    def _bar_after_bar(self, p: int, starts: tuple, ids: np.ndarray, n: int, total: int,
                       temperature: float, uniforms: np.ndarray | None, style) -> None:
        """Part p's bars one after another into `ids` (rows bar-major), offset by `style`."""
        (states, emb_pre), spb, track = starts, self.steps_per_bar, Tracker(n)
        first = np.full(n, -1)                                    # bar 0: no token
        for b in range(-(-total // spb)):
            rows = slice(b * n, (b + 1) * n)
            length = min(spb, total - b * spb)
            ids[p, rows, :length] = self.parts[p].bars(
                ([[c[rows], h[rows]] for c, h in states], emb_pre[rows]), first, length, temperature,
                None if uniforms is None else uniforms[p, rows, :length], (style, track))
            first = ids[p, rows, spb - 1]

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
        logits = np.zeros((bars * n, spb, dec.depth), np.float32)
        for s in range(spb):
            logits[:, s] = dec.step(states, emb_pre, inputs[:, s])
        logits = logits.reshape(bars, n, spb, dec.depth).transpose(1, 0, 2, 3).reshape(n, bars * spb, dec.depth)
        return logits[:, :total]
