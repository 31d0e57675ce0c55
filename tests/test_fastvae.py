"""The batched-bars training graph: magenta's variables, magenta's loss and gradients."""

import numpy as np

from radio import model as model_lib

SMALL = {"z_size": 8, "enc_rnn_size": [16], "dec_rnn_size": [16, 16], "batch_size": 3}


def test_same_variables_loss_and_gradients():
    tf = model_lib._tf()
    from radio.fastvae import fast_hierdec_trio_model
    config = model_lib.make_config("hierdec-trio_16bar", SMALL)
    depth = config.data_converter.output_depth
    rng = np.random.default_rng(0)
    x = np.zeros((3, 256, depth), np.float32)
    for lo, n in ((0, 90), (90, 90), (180, 512)):  # one event per part per step
        x[np.arange(3)[:, None], np.arange(256)[None], lo + rng.integers(0, n, (3, 256))] = 1
    with tf.Graph().as_default():
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
        grads = [tf.gradients(tf.reduce_sum(loss), tf.trainable_variables()) for loss in (ref, got)]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            a, b, ga, gb = sess.run([ref, got, *grads])
    assert a.shape == b.shape == (3,)
    assert np.allclose(a, b, rtol=1e-6, atol=1e-4), (a, b)
    for u, v in zip(ga, gb):
        assert np.allclose(u, v, rtol=1e-4, atol=1e-6)
