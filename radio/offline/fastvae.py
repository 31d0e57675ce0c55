"""A faster training graph for hierarchical trio models, on magenta's own variables.

magenta's HierarchicalLstmDecoder teaches each bar with its own decode loop (16 bars × 3
parts = 48 while-loops for hierdec-trio_16bar), and sums each sequence's loss with a
Python loop of slices (one op pair per sequence). With `disable_autoregression` the bars'
teacher-forced losses depend only on the conductor's embedding for that bar, so here all
bars go through the core decoders as one batch (bars × batch), and per-sequence sums are
one segment_sum.

The LSTMs read their inputs without one-hot matrix products. The first layer of the
encoder and of each core decoder gets one-hot tokens (trio: lead 90, bass 90, drums 512
classes), and `onehot @ kernel` is a row of the kernel: here it is a gather of those rows
of the SAME kernel variable, done once for all time steps before the recurrence. Dense
inputs that do not change over time (the conductor's embedding of each bar) are
multiplied once per sequence, not once per step, and the inputs of upper layers once per
layer (teacher forcing: layer l sees all of layer l-1's outputs before it starts). The
loop itself does only `h @ kernel[inputs:]` and the gates, in LSTMBlockCell's order
(i, j, f, o; forget bias 1, no peepholes, no clipping). The encoder's forward and
backward directions share one loop (a batched product).

Variable names and shapes are magenta's: checkpoints move freely between this graph and
magenta's. Sampling is left to magenta: there each bar starts from the previous bar's
last output, so bars are not independent. Hparams this graph does not implement
(dropout, residual connections, scheduled sampling, control inputs) fall back to
magenta's code.
"""

from __future__ import annotations

import tensorflow.compat.v1 as tf
from magenta.common import flatten_maybe_padded_sequences
from magenta.models.music_vae import MusicVAE, lstm_models, lstm_utils

TRIO_DEPTHS = (90, 90, 512)  # lead, bass, drums: the trio converter's one-hot parts
FORGET_BIAS = 1.0            # LSTMBlockCell's default, which magenta's rnn_cell keeps


def _plain(hparams, is_training: bool, residual: bool) -> bool:
    """True when magenta's cells would be plain LSTMBlockCells (what this graph computes)."""
    return not residual and (hparams.dropout_keep_prob == 1.0 or not is_training)


def _lstm_variables(input_size: int, units: int):
    """An LSTMBlockCell's kernel and bias, named and shaped as magenta's cells make them
    (call inside the cell's variable scope, e.g. .../multi_rnn_cell/cell_0/lstm_cell)."""
    kernel = tf.get_variable("kernel", [input_size + units, 4 * units],
                             initializer=tf.glorot_uniform_initializer())
    bias = tf.get_variable("bias", [4 * units], initializer=tf.zeros_initializer())
    return kernel, bias


def onehot_ids(x, depths):
    """Token ids and values of `x` ([..., sum(depths)], at most one non-zero per part).

    Returns ids [..., parts] (row numbers into the concatenated parts) and values
    [..., parts] (the non-zero, or 0 where a part is empty, e.g. the first decoder input),
    so that `x @ W == sum_p W[ids[..., p]] * values[..., p]`. An input with two non-zeros
    in one part fails an assertion instead of training on a wrong product."""
    ids, values, checks, offset = [], [], [], 0
    for part in tf.split(x, list(depths), axis=-1):
        checks.append(tf.debugging.assert_less_equal(
            tf.math.count_nonzero(part, axis=-1), tf.constant(1, tf.int64),
            message="fastvae: an input part is not one-hot"))
        ids.append(tf.argmax(tf.abs(part), axis=-1, output_type=tf.int32) + offset)
        values.append(tf.reduce_sum(part, axis=-1))
        offset += part.shape[-1]
    with tf.control_dependencies(checks):
        return tf.stack(ids, axis=-1), tf.stack(values, axis=-1)


def gather_product(kernel, ids, values):
    """`onehot @ kernel[:rows]` as a sum of gathered kernel rows: [..., parts] → [..., 4H]."""
    rows = tf.gather(kernel, ids)                        # [..., parts, 4H]
    return tf.reduce_sum(rows * values[..., None], axis=-2)


def lstm_loop(pre, recurrent, c, h):
    """Runs the recurrence of an LSTMBlockCell whose input products are done.

    pre: [T, ..., N, 4H] time-major gate pre-activations (input product + bias);
    recurrent: [..., H, 4H], the kernel's rows for h; c, h: [..., N, H] initial state.
    Returns all outputs h [T, ..., N, H] and the final (c, h)."""
    steps = tf.shape(pre)[0]
    inputs = tf.TensorArray(tf.float32, size=steps).unstack(pre)
    outputs = tf.TensorArray(tf.float32, size=steps)

    def body(t, c, h, outputs):
        gates = inputs.read(t) + tf.matmul(h, recurrent)
        i, j, f, o = tf.split(gates, 4, axis=-1)
        c = tf.sigmoid(f + FORGET_BIAS) * c + tf.sigmoid(i) * tf.tanh(j)
        h = tf.sigmoid(o) * tf.tanh(c)
        return t + 1, c, h, outputs.write(t, h)

    _, c, h, outputs = tf.while_loop(lambda t, *_: t < steps, body, (0, c, h, outputs))
    return outputs.stack(), c, h


class GatherBidirectionalLstmEncoder(lstm_models.BidirectionalLstmEncoder):
    """BidirectionalLstmEncoder whose first layer gathers kernel rows of one-hot inputs."""

    def __init__(self, onehot_depths=TRIO_DEPTHS):
        self._onehot_depths = tuple(onehot_depths)

    def build(self, hparams, is_training=True, name_or_scope="encoder"):
        super().build(hparams, is_training, name_or_scope)
        self._sizes = list(hparams.enc_rnn_size)
        self._fast = _plain(hparams, is_training, hparams.residual_encoder)

    def encode(self, sequence, sequence_length):
        if not self._fast or int(sequence.shape[-1]) != sum(self._onehot_depths):
            return super().encode(sequence, sequence_length)
        batch, steps = int(sequence.shape[0]), tf.shape(sequence)[1]
        lengths = tf.cast(sequence_length, tf.int32)
        ids, values = onehot_ids(sequence, self._onehot_depths)        # [B, T, parts]
        rev = lambda t: tf.reverse_sequence(t, lengths, seq_axis=1, batch_axis=0)
        time_major = lambda t: tf.transpose(t, [1, 0] + list(range(2, t.shape.ndims)))
        below = None  # the layer below's outputs, [T, B, 2H] in input order
        with tf.variable_scope(self._name_or_scope, reuse=tf.AUTO_REUSE):
            for layer, units in enumerate(self._sizes):
                input_size = sum(self._onehot_depths) if layer == 0 else 2 * self._sizes[layer - 1]
                pres, recurrents = [], []
                for direction in ("fw", "bw"):
                    scope = f"cell_{layer}/bidirectional_rnn/{direction}/multi_rnn_cell/cell_0/lstm_cell"
                    with tf.variable_scope(scope):
                        kernel, bias = _lstm_variables(input_size, units)
                    if layer == 0:
                        i, v = (ids, values) if direction == "fw" else (rev(ids), rev(values))
                        pre = gather_product(kernel[:input_size], time_major(i), time_major(v))
                    else:
                        x = below if direction == "fw" else time_major(rev(time_major(below)))
                        pre = tf.reshape(tf.matmul(tf.reshape(x, [-1, input_size]), kernel[:input_size]),
                                         [steps, batch, 4 * units])
                    pres.append(pre + bias)
                    recurrents.append(kernel[input_size:])
                zeros = tf.zeros([2, batch, units])
                out, _, _ = lstm_loop(tf.stack(pres, axis=1), tf.stack(recurrents), zeros, zeros)
                fw, bw = out[:, 0], out[:, 1]                          # [T, B, H] each
                below = tf.concat([fw, time_major(rev(time_major(bw)))], axis=-1)
        # each direction's state after `length` steps (zeros for an empty sequence)
        last = tf.gather(tf.transpose(out, [2, 0, 1, 3]), tf.maximum(lengths - 1, 0), batch_dims=1)
        last = last * tf.cast(lengths > 0, tf.float32)[:, None, None]  # [B, 2, H]
        return tf.reshape(last, [batch, 2 * self._sizes[-1]])


class SummedCategoricalLstmDecoder(lstm_models.CategoricalLstmDecoder):
    """CategoricalLstmDecoder whose teacher-forced loss gathers one-hot inputs' kernel rows,
    multiplies the (per-sequence constant) z once, and sums sequences in one op."""

    def build(self, hparams, output_depth, is_training=True):
        super().build(hparams, output_depth, is_training)
        self._sizes = list(hparams.dec_rnn_size)
        self._fast = _plain(hparams, is_training, hparams.residual_decoder)

    def reconstruction_loss(self, x_input, x_target, x_length, z=None, c_input=None):
        if c_input is not None or tf.get_static_value(self._sampling_probability) != 0.0 \
                or not self._fast:
            return super().reconstruction_loss(x_input, x_target, x_length, z, c_input)
        batch, steps, depth = int(x_input.shape[0]), tf.shape(x_input)[1], int(x_input.shape[2])
        z = tf.zeros([batch, 0]) if z is None else z
        state = tf.nest.flatten(lstm_utils.initial_cell_state_from_embedding(
            self._dec_cell, z, name="decoder/z_to_initial_state"))  # c0, h0, c1, h1, ...
        ids, values = onehot_ids(x_input, [depth])                    # [N, T, 1]
        time_major = lambda t: tf.transpose(t, [1, 0] + list(range(2, t.shape.ndims)))
        with tf.variable_scope("decoder"):
            below = None  # [T, N, H]
            for layer, units in enumerate(self._sizes):
                input_size = depth + int(z.shape[-1]) if layer == 0 else self._sizes[layer - 1]
                with tf.variable_scope(f"multi_rnn_cell/cell_{layer}/lstm_cell"):
                    kernel, bias = _lstm_variables(input_size, units)
                if layer == 0:
                    pre = gather_product(kernel[:depth], time_major(ids), time_major(values))
                    pre += tf.matmul(z, kernel[depth:input_size]) + bias   # once a sequence
                else:
                    pre = tf.reshape(tf.matmul(tf.reshape(below, [-1, input_size]), kernel[:input_size]) + bias,
                                     [steps, batch, 4 * units])
                below, _, _ = lstm_loop(pre, kernel[input_size:], state[2 * layer], state[2 * layer + 1])
            logits = self._output_layer(tf.reshape(tf.transpose(below, [1, 0, 2]), [-1, self._sizes[-1]]))
        rnn_output = tf.reshape(logits, [batch, steps, self._output_depth])
        flat_x_target = flatten_maybe_padded_sequences(x_target, x_length)
        flat_rnn_output = flatten_maybe_padded_sequences(rnn_output, x_length)
        r_loss, metric_map = self._flat_reconstruction_loss(flat_x_target, flat_rnn_output)
        ids = tf.repeat(tf.range(batch), x_length)
        decode_results = lstm_utils.LstmDecodeResults(  # for show: training fetches none of it
            rnn_input=x_input, rnn_output=rnn_output, final_state=None, final_sequence_lengths=x_length,
            samples=tf.one_hot(tf.argmax(rnn_output, axis=-1), self._output_depth))
        return tf.math.unsorted_segment_sum(r_loss, ids, batch), metric_map, decode_results


class BatchedBarsDecoder(lstm_models.HierarchicalLstmDecoder):
    """HierarchicalLstmDecoder teaching all bars at once (needs disable_autoregression)."""

    def reconstruction_loss(self, x_input, x_target, x_length, z=None, c_input=None):
        if c_input is not None or self._hierarchical_encoder or len(self._level_lengths) != 2 \
                or 0 not in self._disable_autoregression:
            return super().reconstruction_loss(x_input, x_target, x_length, z, c_input)
        batch_size = int(x_input.shape[0])
        bars = self._level_lengths[0]
        x_length = lstm_utils.maybe_split_sequence_lengths(x_length, bars, self._total_length)
        embeddings = []

        def collect(embedding, hier_index):
            embeddings.append(embedding)  # the conductor's output for bar hier_index[0]

        z = tf.zeros([batch_size, 0]) if z is None else z
        self._hierarchical_decode(z, collect)

        flat_input = tf.reshape(self._reshape_to_hierarchy(x_input), [bars * batch_size, -1, x_input.shape[-1]])
        flat_target = tf.reshape(self._reshape_to_hierarchy(x_target), [bars * batch_size, -1, x_target.shape[-1]])
        flat_length = tf.reshape(self._reshape_to_hierarchy(x_length), [bars * batch_size])
        with tf.variable_scope("core_decoder", reuse=tf.AUTO_REUSE):
            r_loss, metric_map, decode_results = self._core_decoder.reconstruction_loss(
                flat_input, flat_target, flat_length, tf.concat(embeddings, axis=0))
        r_loss = tf.reduce_sum(tf.reshape(r_loss, [bars, batch_size]), axis=0)
        return r_loss, metric_map, decode_results


def fast_hierdec_trio_model() -> MusicVAE:
    """hierdec-trio_16bar's model object, with the batched training graph."""
    return MusicVAE(
        GatherBidirectionalLstmEncoder(TRIO_DEPTHS),
        BatchedBarsDecoder(
            lstm_models.SplitMultiOutLstmDecoder(
                core_decoders=[SummedCategoricalLstmDecoder() for _ in range(3)],
                output_depths=list(TRIO_DEPTHS)),
            level_lengths=[16, 16],
            disable_autoregression=True))


def with_batched_training(config_name: str, config):
    """`config` with the batched training graph if it is hierdec-trio_16bar's; any other
    config is returned as it is."""
    if config_name == "hierdec-trio_16bar":
        return config._replace(model=fast_hierdec_trio_model())
    return config
