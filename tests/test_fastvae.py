"""The fast training graph: magenta's variables, magenta's loss and gradients."""

import numpy as np

from radio.model import tf_engine as model_lib

SMALL = {"z_size": 8, "enc_rnn_size": [16], "dec_rnn_size": [16, 16], "batch_size": 3}
PARTS = ((0, 90), (90, 90), (180, 512))  # lead, bass, drums in the trio converter's 692


def trio_batch(batch, rng, steps=256):
    x = np.zeros((batch, steps, 692), np.float32)
    for lo, n in PARTS:  # one event per part per step
        x[np.arange(batch)[:, None], np.arange(steps)[None], lo + rng.integers(0, n, (batch, steps))] = 1
    return x


def dense(tf, grads):
    return [tf.convert_to_tensor(g) for g in grads]  # gathers give IndexedSlices


def close(a, b, rtol, atol):
    """Largest |a - b| and whether it is within atol + rtol·|a|."""
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b))), bool(np.allclose(b, a, rtol=rtol, atol=atol))


def grads_close(u, w, rel=1e-3):
    """Same gradient up to float32 summation order: the error of a sum over 768 steps scales
    with the size of its terms, not of the result, so an element near zero can differ by
    more than rtol allows (3.3e-6 on a 0.06-sized bias once in CI). A wrong graph is off by
    the gradient's own size, a thousand times this bound."""
    u, w = np.asarray(u), np.asarray(w)
    return float(np.max(np.abs(u - w))) <= rel * float(np.max(np.abs(u))) + 1e-7


def test_decoder_same_variables_loss_and_gradients():
    tf = model_lib._tf()
    from radio.offline.fastvae import fast_hierdec_trio_model
    config = model_lib.make_config("hierdec-trio_16bar", SMALL)
    depth = config.data_converter.output_depth
    rng = np.random.default_rng(0)
    x = trio_batch(3, rng)
    with tf.Graph().as_default():
        tf.set_random_seed(1)
        inp = tf.constant(x)
        lengths = tf.constant([256, 256, 256])
        z = tf.constant(rng.normal(size=(3, 8)).astype(np.float32))
        x_in = tf.pad(inp[:, :-1], [(0, 0), (1, 0), (0, 0)])  # teacher forcing, as MusicVAE does
        config.model.build(config.hparams, depth, is_training=True)
        ref, _, _ = config.model.decoder.reconstruction_loss(x_in, inp, lengths, z)
        names = sorted(v.op.name for v in tf.global_variables())
        fast = fast_hierdec_trio_model()
        fast.build(config.hparams, depth, is_training=True)
        got, _, _ = fast.decoder.reconstruction_loss(x_in, inp, lengths, z)
        assert sorted(v.op.name for v in tf.global_variables()) == names  # nothing new: shared
        variables = tf.trainable_variables()
        grads = [dense(tf, tf.gradients(tf.reduce_sum(loss), variables)) for loss in (ref, got)]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            a, b, ga, gb = sess.run([ref, got, *grads])
    assert a.shape == b.shape == (3,)
    diff, ok = close(a, b, rtol=1e-6, atol=1e-4)
    assert ok, (a, b, diff)
    for v, u, w in zip(variables, ga, gb):
        assert grads_close(u, w), (v.op.name, np.max(np.abs(u - w)), np.max(np.abs(u)))


def test_encoder_same_variables_outputs_and_gradients():
    """Two layers, and sequences of full, partial and zero length (the state at `length`)."""
    tf = model_lib._tf()
    from magenta.models.music_vae import lstm_models

    from radio.offline.fastvae import GatherBidirectionalLstmEncoder
    config = model_lib.make_config("hierdec-trio_16bar", {**SMALL, "enc_rnn_size": [16, 12]})
    rng = np.random.default_rng(1)
    x = trio_batch(3, rng)
    x[1, 200:] = 0  # padding after the end, as short sequences have it
    x[2] = 0
    with tf.Graph().as_default():
        tf.set_random_seed(2)
        inp, lengths = tf.constant(x), tf.constant([256, 200, 0])
        ref_encoder, fast_encoder = lstm_models.BidirectionalLstmEncoder(), GatherBidirectionalLstmEncoder()
        ref_encoder.build(config.hparams, is_training=True)
        ref = ref_encoder.encode(inp, lengths)
        names = sorted(v.op.name for v in tf.global_variables())
        fast_encoder.build(config.hparams, is_training=True)
        got = fast_encoder.encode(inp, lengths)
        assert sorted(v.op.name for v in tf.global_variables()) == names
        variables = tf.trainable_variables()
        probe = tf.constant(rng.normal(size=(3, 24)).astype(np.float32))  # a loss using every unit
        grads = [dense(tf, tf.gradients(tf.reduce_sum(out * probe), variables)) for out in (ref, got)]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            a, b, ga, gb = sess.run([ref, got, *grads])
    assert a.shape == b.shape == (3, 24)
    assert np.abs(a).max() > 0.01 and not a[2].any()  # the outputs say something; empty: zeros
    diff, ok = close(a, b, rtol=1e-5, atol=1e-6)
    assert ok, diff
    for v, u, w in zip(variables, ga, gb):
        assert grads_close(u, w), (v.op.name, np.max(np.abs(u - w)), np.max(np.abs(u)))


def test_training_graph_has_magentas_variables():
    """The whole training graph (Adam slots too) creates exactly magenta's variables, by
    name and shape: checkpoints of either graph restore into the other. Two encoder
    layers, as the official hierdec-trio_16bar checkpoint has."""
    tf = model_lib._tf()
    from radio.offline.fastvae import with_batched_training
    found = []
    for fast in (False, True):
        config = model_lib.make_config("hierdec-trio_16bar", {**SMALL, "enc_rnn_size": [16, 16]})
        if fast:
            config = with_batched_training("hierdec-trio_16bar", config)
        with tf.Graph().as_default():
            inp = tf.zeros([3, 256, 692])
            config.model.build(config.hparams, 692, is_training=True)
            opt = config.model.train(input_sequence=inp, output_sequence=inp, control_sequence=None,
                                     sequence_length=tf.fill([3], 256))
            opt.minimize(config.model.loss)
            found.append(sorted((v.op.name, tuple(v.shape.as_list())) for v in tf.global_variables()))
    assert found[0] == found[1]


def test_a_part_that_is_not_one_hot_is_refused():
    tf = model_lib._tf()
    import pytest

    from radio.offline.fastvae import onehot_ids
    x = np.zeros((2, 4, 5), np.float32)
    x[:, :, 1] = 1
    x[1, 3, 2] = 1  # two events in the first part
    with tf.Graph().as_default():
        ids, values = onehot_ids(tf.constant(x), [3, 2])
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match="not one-hot"):
                sess.run(ids)
