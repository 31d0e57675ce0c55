"""Model stage: encode/decode on the shipped model, and checkpoints in magenta's own layout."""

import tarfile

import numpy as np
import pytest

from radio import model as model_lib

SMALL = {"z_size": 16, "enc_rnn_size": [32], "dec_rnn_size": [32, 32], "batch_size": 2}


def test_encode_decode_shapes(model, seed_segments):
    """z has the card's size; each decoded row is a 16-bar trio of the three parts' instruments."""
    z = model.encode([s.tensor for s in seed_segments[:3]])
    assert z.shape == (3, model.z_size) and np.isfinite(z).all()
    decoded = model.decode(z, temperature=0.5)
    assert len(decoded) == 3
    for ns in decoded:
        assert ns.total_time <= 32.0 + 1e-6  # 16 bars at the converter's 120 qpm
        assert {n.instrument for n in ns.notes} <= {0, 1, 9}


def test_encoding_depends_on_input(model, seed_segments):
    """Different seeds land at different places; the same seed at the same place."""
    a, b = seed_segments[0].tensor, seed_segments[-1].tensor
    z = model.encode([a, b, a])
    assert np.allclose(z[0], z[2]) and not np.allclose(z[0], z[1])


def _magenta_checkpoint(tmp_path):
    """A hierdec-trio_16bar checkpoint written by magenta's own graph and Saver (random weights)."""
    tf = model_lib._tf()
    config = model_lib.make_config("hierdec-trio_16bar", SMALL)
    folder = tmp_path / "official"
    folder.mkdir()
    with tf.Graph().as_default():
        config.model.build(config.hparams, config.data_converter.output_depth, is_training=False)
        x = tf.placeholder(tf.float32, [2, 256, config.data_converter.input_depth])
        mu = config.model.encode(x, tf.constant([256, 256])).loc
        config.model.sample(2, max_length=256, z=mu, temperature=1.0)  # creates the decoder's variables
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            names = sorted(v.op.name for v in tf.global_variables())
            tf.train.Saver().save(sess, str(folder / "model.ckpt"))
            probe = np.zeros((2, 256, config.data_converter.input_depth), np.float32)
            probe[:, ::4, 0] = 1
            expected = sess.run(mu, {x: probe})
    tarball = tmp_path / "hierdec-trio_16bar.tar"
    with tarfile.open(tarball, "w") as tar:
        for f in folder.iterdir():
            tar.add(f, arcname=f.name)
    return tarball, names, probe, expected


def test_loads_checkpoint_in_magentas_layout(tmp_path):
    """A tarball named like the official one loads with no card; its weights are the ones used."""
    tarball, names, probe, expected = _magenta_checkpoint(tmp_path)
    # The names the official hierdec-trio_16bar checkpoint uses: three core decoders
    # (melody, bass, drums) under one conductor, a bidirectional encoder.
    for name in ("core_decoder/core_decoder_2/decoder/output_projection/kernel",
                 "decoder/hierarchical_level_0/cell_1/lstm_cell/kernel",
                 "encoder/cell_0/bidirectional_rnn/fw/multi_rnn_cell/cell_0/lstm_cell/kernel",
                 "encoder/mu/kernel", "global_step"):
        assert name in names
    m = model_lib.TrioModel(tarball, batch_size=2, hparams=SMALL)
    assert m.card.config == "hierdec-trio_16bar"
    assert np.allclose(m.encode(list(probe)), expected, atol=1e-5)


def test_clear_errors_for_bad_models(tmp_path):
    with pytest.raises(model_lib.ModelError, match="does not exist"):
        model_lib.TrioModel(tmp_path / "nope")
    (tmp_path / "mystery").mkdir()
    with pytest.raises(model_lib.ModelError, match="which config"):
        model_lib.TrioModel(tmp_path / "mystery")
    card_dir = tmp_path / "card"
    card_dir.mkdir()
    (card_dir / "model.json").write_text('{"config": "hierdec-trio_16bar", "colour": "red"}')
    with pytest.raises(model_lib.ModelError, match="bad keys"):
        model_lib.TrioModel(card_dir)
    with pytest.raises(model_lib.ModelError, match="unknown MusicVAE config"):
        model_lib.make_config("hierdec-quartet")
