"""Model stage: encode/decode on the shipped model, and checkpoints in magenta's own layout."""

import tarfile

import numpy as np
import pytest

from radio.model import tf_engine as model_lib

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


def _official_tarball(tmp_path):
    """hierdec-trio_16bar.tar holding a checkpoint written by magenta's own graph and Saver."""
    folder = tmp_path / "official"
    names = model_lib.write_random_checkpoint(folder, "hierdec-trio_16bar", SMALL)
    tarball = tmp_path / "hierdec-trio_16bar.tar"
    with tarfile.open(tarball, "w") as tar:
        for f in folder.iterdir():
            tar.add(f, arcname=f.name)
    return tarball, names


def test_loads_checkpoint_in_magentas_layout(tmp_path):
    """A tarball named like the official one loads with no card; its weights are the ones used."""
    tarball, names = _official_tarball(tmp_path)
    # The names the official hierdec-trio_16bar checkpoint uses: three core decoders
    # (melody, bass, drums) under one conductor, a bidirectional encoder.
    for name in ("core_decoder/core_decoder_2/decoder/output_projection/kernel",
                 "decoder/hierarchical_level_0/cell_1/lstm_cell/kernel",
                 "encoder/cell_0/bidirectional_rnn/fw/multi_rnn_cell/cell_0/lstm_cell/kernel",
                 "encoder/mu/kernel", "global_step"):
        assert name in names
    m = model_lib.TrioModel(tarball, batch_size=2, hparams=SMALL)
    assert m.card.config == "hierdec-trio_16bar"
    # The restored weights are the saved ones, not a fresh initialisation.
    tf = model_lib._tf()
    kernel = "encoder/mu/kernel"
    saved = tf.train.load_checkpoint(str(tmp_path / "official" / "model.ckpt")).get_tensor(kernel)
    with m._model._sess.graph.as_default():
        variable = [v for v in tf.global_variables() if v.op.name == kernel][0]
        restored = m._model._sess.run(variable)
    assert np.array_equal(saved, restored)
    z = m.encode([np.eye(256, m.converter.input_depth, dtype=bool)])
    assert z.shape == (1, 16) and np.isfinite(z).all()


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
