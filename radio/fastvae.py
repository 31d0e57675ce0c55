"""A faster training graph for hierarchical trio models, on magenta's own variables.

magenta's HierarchicalLstmDecoder teaches each bar with its own decode loop (16 bars × 3
parts = 48 while-loops for hierdec-trio_16bar), and sums each sequence's loss with a
Python loop of slices (one op pair per sequence). With `disable_autoregression` the bars'
teacher-forced losses depend only on the conductor's embedding for that bar, so here all
bars go through the core decoders as one batch (bars × batch), and per-sequence sums are
one segment_sum. Variable names and shapes are unchanged: checkpoints move freely between
this graph and magenta's. Sampling is left to magenta: there each bar starts from the
previous bar's last output, so bars are not independent.
"""

from __future__ import annotations

from magenta.common import flatten_maybe_padded_sequences
import magenta.contrib.seq2seq as contrib_seq2seq
from magenta.models.music_vae import MusicVAE, lstm_models, lstm_utils
import tensorflow.compat.v1 as tf


class SummedCategoricalLstmDecoder(lstm_models.CategoricalLstmDecoder):
    """CategoricalLstmDecoder whose teacher-forced loss sums sequences in one op."""

    def reconstruction_loss(self, x_input, x_target, x_length, z=None, c_input=None):
        if c_input is not None or tf.get_static_value(self._sampling_probability) != 0.0:
            return super().reconstruction_loss(x_input, x_target, x_length, z, c_input)
        batch_size = int(x_input.shape[0])
        z = tf.zeros([batch_size, 0]) if z is None else z
        repeated_z = tf.tile(tf.expand_dims(z, axis=1), [1, tf.shape(x_input)[1], 1])
        helper = contrib_seq2seq.TrainingHelper(tf.concat([x_input, repeated_z], axis=2), x_length)
        decode_results = self._decode(z, helper=helper, input_shape=helper.inputs.shape[2:])
        flat_x_target = flatten_maybe_padded_sequences(x_target, x_length)
        flat_rnn_output = flatten_maybe_padded_sequences(decode_results.rnn_output, x_length)
        r_loss, metric_map = self._flat_reconstruction_loss(flat_x_target, flat_rnn_output)
        ids = tf.repeat(tf.range(batch_size), x_length)
        return tf.math.unsorted_segment_sum(r_loss, ids, batch_size), metric_map, decode_results


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
        lstm_models.BidirectionalLstmEncoder(),
        BatchedBarsDecoder(
            lstm_models.SplitMultiOutLstmDecoder(
                core_decoders=[SummedCategoricalLstmDecoder() for _ in range(3)],
                output_depths=[90, 90, 512]),  # melody, bass, drums, as in magenta's config
            level_lengths=[16, 16],
            disable_autoregression=True))


def with_batched_training(config_name: str, config):
    """`config` with the batched training graph if it is hierdec-trio_16bar's; any other
    config is returned as it is."""
    if config_name == "hierdec-trio_16bar":
        return config._replace(model=fast_hierdec_trio_model())
    return config
