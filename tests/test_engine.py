"""The numpy engine against magenta's TensorFlow graph (the reference), and on its own.

Greedy decoding compares token ids exactly: magenta's graph is built with its categorical
`_sample` replaced by the argmax (temperature → 0), the numpy engine runs at
temperature 0. Encoding compares posterior means.
"""

from __future__ import annotations

import contextlib
import sys

import numpy as np
import pytest

from radio.config import DEFAULT_MODEL_DIR
from radio.contracts import PARTS
from radio.model import sampling, trio, weights
from radio.model.numpy_engine import EngineError, NumpyTrioModel

FULL_SIZE = "hierdec-trio_16bar"
FLAT_SMALL = {"z_size": 64, "enc_rnn_size": [128, 128], "dec_rnn_size": [128, 128, 128]}


@contextlib.contextmanager
def greedy_magenta():
    """magenta's categorical decoders choosing the argmax while a graph is built."""
    import tensorflow.compat.v1 as tf
    from magenta.models.music_vae import lstm_models

    def one(self, rnn_output, temperature=1.0):
        return tf.one_hot(tf.argmax(rnn_output, axis=-1), self._output_depth)

    def multi(self, rnn_output, temperature=1.0):
        parts = tf.split(rnn_output, self._output_depths, axis=-1)
        return tf.concat([tf.one_hot(tf.argmax(p, axis=-1), d) for p, d in zip(parts, self._output_depths)], -1)

    saved = lstm_models.CategoricalLstmDecoder._sample, lstm_models.MultiOutCategoricalLstmDecoder._sample
    lstm_models.CategoricalLstmDecoder._sample, lstm_models.MultiOutCategoricalLstmDecoder._sample = one, multi
    try:
        yield
    finally:
        lstm_models.CategoricalLstmDecoder._sample, lstm_models.MultiOutCategoricalLstmDecoder._sample = saved


def tf_greedy_model(path=None, config=None, hparams=None):
    from radio.model.tf_engine import TrioModel
    with greedy_magenta():
        return TrioModel(path, batch_size=4, config=config, hparams=hparams)


def tf_greedy_ids(model, z: np.ndarray) -> np.ndarray:
    tensors = model._model.decode_to_tensors(z, length=model.steps, temperature=1.0)
    return trio.tensors_to_ids(tensors)


def latents(n: int, size: int, seed: int) -> np.ndarray:
    """Prior draws, and some at twice the norm (the walk's prior draws and far anchors)."""
    z = np.random.default_rng(seed).standard_normal((n, size)).astype(np.float32)
    z[n // 2:] *= 2
    return z


@pytest.fixture(scope="module")
def default_pair():
    return NumpyTrioModel(), tf_greedy_model()


@pytest.fixture(scope="module")
def full_size_pair(tmp_path_factory):
    """A full-size hierdec-trio_16bar (z 512, encoder 2×2048, decoders 1024×2), random weights."""
    from radio.model.tf_engine import write_random_checkpoint
    folder = tmp_path_factory.mktemp("ckpt") / FULL_SIZE
    write_random_checkpoint(folder, FULL_SIZE, seed=7)
    engine = NumpyTrioModel(folder)
    assert engine.weights.path.parent.parent.name != folder.name  # converted into the data folder
    return engine, tf_greedy_model(folder)


@pytest.fixture(scope="module")
def flat_pair(tmp_path_factory):
    """A flat-trio_16bar (3-layer decoder, 2-layer encoder) with random weights."""
    from radio.model.tf_engine import write_random_checkpoint
    folder = tmp_path_factory.mktemp("ckpt") / "flat-trio_16bar"
    # seeded: random weights can put two tokens' logits within float error of each other,
    # where the engines' rounding may pick either (a fresh draw did, once in many runs)
    write_random_checkpoint(folder, "flat-trio_16bar", FLAT_SMALL, seed=7)
    return NumpyTrioModel(folder), tf_greedy_model(folder, hparams=FLAT_SMALL)


def check_greedy(pair, z):
    engine, reference = pair
    ours, theirs = engine.decode_ids(z, temperature=0.0), tf_greedy_ids(reference, z)
    for p, part in enumerate(PARTS):
        same = (ours[p] == theirs[p]).all(axis=-1)
        assert same.all(), f"{part}: rows {np.nonzero(~same)[0]} differ from TensorFlow's greedy tokens"


def check_encode(pair, tensors):
    engine, reference = pair
    ours, theirs = engine.encode(tensors), reference.encode(tensors)
    assert ours.shape == theirs.shape
    assert np.abs(ours - theirs).max() <= 1e-4
    assert np.abs(ours - theirs).max() <= 1e-3 * np.abs(theirs).max()  # random weights give tiny mu


def test_greedy_decode_matches_tensorflow_default_model(default_pair):
    """The shipped model: greedy tokens identical to magenta's graph, 8 latents."""
    check_greedy(default_pair, latents(8, default_pair[0].z_size, 1))


def test_encode_matches_tensorflow_default_model(default_pair, seed_segments):
    """Posterior means within 1e-4 on real seed segments and on decoded ones, of two lengths."""
    engine, _ = default_pair
    decoded = trio.ids_to_tensors(engine.decode_ids(latents(2, engine.z_size, 2), 0.0))
    tensors = [s.tensor for s in seed_segments[:6]] + list(decoded) + [decoded[0][:128]]
    check_encode(default_pair, tensors)


def test_greedy_decode_matches_tensorflow_full_size(full_size_pair):
    """A full-size hierdec-trio_16bar with random weights: identical greedy tokens."""
    check_greedy(full_size_pair, latents(4, 512, 3))


def test_encode_matches_tensorflow_full_size(full_size_pair):
    engine, _ = full_size_pair
    check_encode(full_size_pair, list(trio.ids_to_tensors(engine.decode_ids(latents(4, 512, 4), 0.0))))


def test_greedy_decode_matches_tensorflow_flat(flat_pair):
    """A flat-trio_16bar with random weights: identical greedy tokens."""
    check_greedy(flat_pair, latents(4, FLAT_SMALL["z_size"], 5))


def test_encode_matches_tensorflow_flat(flat_pair):
    engine, _ = flat_pair
    check_encode(flat_pair, list(trio.ids_to_tensors(engine.decode_ids(latents(4, FLAT_SMALL["z_size"], 6), 0.0))))


def test_decoded_sequences_equal_magentas_converter(default_pair, converter):
    """trio.to_sequences is magenta's TrioConverter.from_tensors, note for note."""
    engine, _ = default_pair
    ids = engine.decode_ids(latents(4, engine.z_size, 7), temperature=1.0)
    ours, theirs = trio.to_sequences(ids), converter.from_tensors(trio.ids_to_tensors(ids))
    for a, b in zip(ours, theirs):
        assert a == b


def tf_teacher_forced(engine, z: np.ndarray, ids: np.ndarray):
    """magenta's hierarchical decoder teacher-forced on token ids [3, N, T] from z: its
    reconstruction loss [N], each part's summed cross-entropy [3, N] and each part's
    logits [N, T, depth], read from every core decoder call (bar by bar)."""
    import tensorflow.compat.v1 as tf
    from magenta.models.music_vae import lstm_models

    from radio.model.tf_engine import make_config
    target = trio.ids_to_tensors(ids).astype(np.float32)
    config = make_config(engine.card.config, engine.card.hparams)
    config.hparams.batch_size = len(z)  # the hierarchical decoder's batch
    recorded = []  # (variable scope, per-sequence loss, logits) of every core decoder call
    original = lstm_models.BaseLstmDecoder.reconstruction_loss

    def record(self, *args, **kwargs):
        out = original(self, *args, **kwargs)
        recorded.append((tf.get_variable_scope().name, out[0], out[2].rnn_output))
        return out

    lstm_models.BaseLstmDecoder.reconstruction_loss = record
    try:
        with tf.Graph().as_default():
            config.model.build(config.hparams, config.data_converter.output_depth, is_training=False)
            x_target = tf.constant(target)
            x_input = tf.pad(x_target[:, :-1], [(0, 0), (1, 0), (0, 0)])
            r_loss, _, _ = config.model.decoder.reconstruction_loss(
                x_input, x_target, tf.fill([len(z)], target.shape[1]), tf.constant(z))
            calls = [[(loss, logits) for scope, loss, logits in recorded if scope.endswith(f"core_decoder_{p}")]
                     for p in range(3)]
            assert all(len(c) == 16 for c in calls), "one call per bar and part"
            per_part = [tf.add_n([loss for loss, _ in c]) for c in calls]
            logits = [tf.concat([lg for _, lg in c], axis=1) for c in calls]
            with tf.Session() as sess:
                tf.train.Saver().restore(sess, str(weights.checkpoint_prefix(DEFAULT_MODEL_DIR)))
                return sess.run([r_loss, per_part, logits])
    finally:
        lstm_models.BaseLstmDecoder.reconstruction_loss = original


def test_log_likelihood_matches_tensorflow(default_pair):
    """Teacher-forced log p(part | z) is minus magenta's cross-entropy for that part (each
    core decoder's reconstruction loss, summed over the bars); the three parts add up to
    minus the hierarchical decoder's reconstruction loss; the per-step logits agree."""
    engine, _ = default_pair
    z = latents(4, engine.z_size, 8)
    ids = engine.decode_ids(z, temperature=1.0)
    r_loss, per_part, logits = tf_teacher_forced(engine, z, ids)
    total = np.zeros(len(z))
    for p, part in enumerate(PARTS):
        got = engine.log_likelihood(z, part, ids[p])
        np.testing.assert_allclose(got, -per_part[p], rtol=1e-4, atol=1e-3)
        np.testing.assert_allclose(engine.decoder.teacher_logits(z, p, ids[p]), logits[p], atol=1e-4)
        total += got
    np.testing.assert_allclose(total, -r_loss, rtol=1e-4, atol=1e-2)


def test_log_likelihood_prefers_the_decoded_part(default_pair):
    """Shapes and sense: (N,) values, one-hot input equals ids, and a row's own greedy
    tokens score higher than another row's."""
    engine, _ = default_pair
    z = latents(2, engine.z_size, 9)
    ids = engine.decode_ids(z, temperature=0.0)
    own = engine.log_likelihood(z, "bass", ids[1])
    assert own.shape == (2,) and (own < 0).all()
    onehot = np.eye(90, dtype=bool)[ids[1]]
    np.testing.assert_allclose(engine.log_likelihood(z, "bass", onehot), own, rtol=1e-6)
    swapped = engine.log_likelihood(z, "bass", ids[1][::-1])
    assert (own > swapped).all()
    with pytest.raises(EngineError, match="tokens must lie in"):
        engine.log_likelihood(z, "drums", np.full((2, 256), 600))


def test_sampling_frequencies_follow_softmax_over_temperature():
    """choose() draws token k with probability softmax(logits / T)_k: chi-square over
    100,000 draws for fixed logits, at two temperatures."""
    rng = np.random.default_rng(0)
    logits = np.random.default_rng(1).normal(0, 2, 12).astype(np.float32)
    for temperature in (0.5, 1.0):
        p = sampling.softmax(logits, temperature)
        draws = sampling.choose(np.tile(logits, (100_000, 1)), temperature, rng)
        counts = np.bincount(draws, minlength=len(logits))
        expected = p * len(draws)
        keep = expected > 5
        chi2 = (((counts - expected) ** 2 / expected)[keep]).sum()
        assert chi2 < 40, f"T={temperature}: chi-square {chi2:.1f} over {keep.sum() - 1} degrees of freedom"
    assert (sampling.choose(np.array([[0.0, 3.0, 3.0]]), 0.0, None) == [1]).all()


def test_decoder_first_step_distribution_matches_tensorflow_logits(default_pair):
    """The first token of each part, sampled by the engine at T = 0.7 for one z repeated
    4,000 times, against softmax(TF logits / T) at that step (chi-square)."""
    engine, _ = default_pair
    z = latents(1, engine.z_size, 10)
    temperature = 0.7
    _, _, logits = tf_teacher_forced(engine, z, engine.decode_ids(z, 0.0))
    logits = np.concatenate([lg[0, 0] for lg in logits])  # step 0 reads zeros whatever follows
    model = NumpyTrioModel(seed=3)
    first = model.decode_ids(np.repeat(z, 4000, axis=0), temperature, steps=1)[:, :, 0]
    for p, logit in enumerate(np.split(logits, np.cumsum(trio.DEPTHS)[:-1])):
        expected = sampling.softmax(logit, temperature) * first.shape[1]
        counts = np.bincount(first[p], minlength=trio.DEPTHS[p])
        keep = expected > 5
        assert counts[~keep].sum() <= max(20, 3 * expected[~keep].sum())
        chi2 = (((counts - expected) ** 2 / expected)[keep]).sum()
        dof = max(keep.sum() - 1, 1)
        assert chi2 < dof + 6 * np.sqrt(2 * dof) + 10, f"{PARTS[p]}: chi-square {chi2:.1f}, {dof} dof"


def test_sampling_is_seeded():
    """The same seed gives the same tokens; another seed other tokens."""
    z = latents(2, 128, 11)
    a, b, c = (NumpyTrioModel(seed=s).decode_ids(z, 1.0) for s in (5, 5, 6))
    assert (a == b).all() and (a != c).any()


def test_batched_decode_equals_one_by_one():
    """Decoding many z at once gives each row what decoding it alone gives (greedy)."""
    model = NumpyTrioModel()
    z = latents(6, model.z_size, 12)
    together = model.decode_ids(z, 0.0)
    alone = np.concatenate([model.decode_ids(z[i:i + 1], 0.0) for i in range(len(z))], axis=1)
    assert (together == alone).all()


def sequential_ids(decoder, z: np.ndarray, temperature: float, rng, steps: int) -> np.ndarray:
    """The reference for the decoder's bars side by side: bar after bar, step after step,
    as magenta's graph runs, the uniforms drawn step by step."""
    parts, n = len(decoder.parts), len(z)
    emb, starts = decoder.conduct(z), [None] * parts
    ids = np.zeros((parts, n, steps), np.int64)
    prev = np.full((parts, n), -1)
    for t in range(steps):
        bar, s = divmod(t, decoder.steps_per_bar)
        u = rng.random((parts, n)) if temperature > 0 else [None] * parts
        for p, part in enumerate(decoder.parts):
            if s == 0:
                starts[p] = part.start(emb[bar])
            prev[p] = sampling.choose(part.step(*starts[p], prev[p]), temperature, None, u[p])
        ids[:, :, t] = prev
    return ids


@pytest.mark.parametrize("held", [1.0, 0.0])
@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_bars_side_by_side_equal_bar_after_bar(temperature, held):
    """Bars decoded side by side from guessed first inputs, again where a guess proved
    wrong, give a sequential decode's tokens with the same seed: 4 sequences (side by
    side), 16 (bar after bar), 3 ending mid-bar; with a first pass over every bar (guesses
    held so far) and over every other bar (they failed)."""
    model = NumpyTrioModel()
    for n, steps in ((4, 256), (16, 256), (3, 40)):
        z = latents(n, model.z_size, 14)
        model.decoder.held = [held] * 3
        got = model.decoder.decode(z, temperature, np.random.default_rng(1), steps)
        assert got.shape == (3, n, steps)
        assert (got == sequential_ids(model.decoder, z, temperature, np.random.default_rng(1), steps)).all()


def test_bars_side_by_side_equal_bar_after_bar_full_size(full_size_pair):
    """The same for the full-size model (random weights: nearly every first guess is
    wrong, so from the second call on the first pass takes every other bar)."""
    engine, _ = full_size_pair
    for k in range(2):
        z = latents(4, 512, 15 + k)
        strides = engine.decoder.held[:]
        got = engine.decoder.decode(z, 1.0, np.random.default_rng(2))
        assert (got == sequential_ids(engine.decoder, z, 1.0, np.random.default_rng(2), 256)).all()
    assert max(strides) < 0.5          # the second call ran with a stride of 2


def test_interface_as_trio_model():
    """What the composer and pipeline call: batch_size, decode (NoteSequences at 120 qpm,
    16 bars), encode, sample, close; the weights come from the shipped model.npz."""
    model = NumpyTrioModel(batch_size=4)
    assert model.weights.path == DEFAULT_MODEL_DIR / weights.WEIGHTS_NAME
    seqs = model.decode(latents(4, model.z_size, 13), 0.5)
    assert len(seqs) == 4 and all(0 < s.total_time <= 32.0 + 1e-6 and s.tempos[0].qpm == 120 for s in seqs)
    assert {n.instrument for s in seqs for n in s.notes} <= {0, 1, 9}
    assert len(model.sample(2)) == 2
    assert model.encode([]).shape == (0, model.z_size)
    model.close()


def test_engine_imports_no_tensorflow(tmp_path):
    """Loading the shipped model and decoding imports neither tensorflow nor magenta."""
    import subprocess
    code = ("import sys, numpy as np\n"
            "from radio.model import load_model\n"
            "m = load_model()\n"
            "m.decode(np.zeros((2, m.z_size), np.float32))\n"
            "m.encode([np.zeros((256, 692), np.float32)])\n"
            "bad = [k for k in sys.modules if k.split('.')[0] in ('tensorflow', 'magenta')]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_stale_or_missing_weights_are_converted_into_the_data_folder(tmp_path, data_folder):
    """A model folder without model.npz (or with one from another checkpoint) converts
    once into <data>/models; a bad path names the problem."""
    import shutil
    folder = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL_DIR, folder)
    (folder / weights.WEIGHTS_NAME).unlink()
    source, npz, config, _ = weights.locate(folder)
    assert npz.parent == data_folder / "models" and not npz.exists()
    model = NumpyTrioModel(folder)
    assert model.weights.path == npz and npz.exists()
    z = latents(2, model.z_size, 14)
    assert (model.decode_ids(z, 0.0) == NumpyTrioModel().decode_ids(z, 0.0)).all()
    with pytest.raises(EngineError, match="does not exist"):
        NumpyTrioModel(tmp_path / "nope")


@pytest.mark.skipif(not __import__("os").environ.get("RADIO_TEST_FULL_FLAT"),
                    reason="a full-size flat-trio_16bar (1 GB of weights, minutes): RADIO_TEST_FULL_FLAT=1")
def test_greedy_decode_matches_tensorflow_full_size_flat(tmp_path):
    """flat-trio_16bar at full size (z 512, encoder 2×2048, decoder 3×2048), random weights."""
    from radio.model.tf_engine import write_random_checkpoint
    folder = tmp_path / "flat-trio_16bar"
    write_random_checkpoint(folder, "flat-trio_16bar")
    pair = NumpyTrioModel(folder), tf_greedy_model(folder)
    check_greedy(pair, latents(4, 512, 15))
    check_encode(pair, list(trio.ids_to_tensors(pair[0].decode_ids(latents(4, 512, 16), 0.0))))


def test_generate_with_numpy_engine_imports_no_tensorflow(tmp_path):
    """`radio generate --engine numpy` (seed import, walk, render) runs without importing
    tensorflow or magenta."""
    import subprocess
    out = tmp_path / "x.mid"
    code = ("import sys\n"
            "from radio.cli import main\n"
            f"assert main(['generate', '--engine', 'numpy', '--bars', '16', '--out', {str(out)!r}]) == 0\n"
            "bad = [k for k in sys.modules if k.split('.')[0] in ('tensorflow', 'magenta')]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
    assert out.stat().st_size > 0


def test_exported_model_folder_ships_its_npz(tmp_path, data_folder):
    """`radio train`'s export writes model.npz beside the checkpoint (compressed, no bigger
    than the checkpoint); the engine uses it as it is, converting nothing."""
    from radio.model.card import ModelCard
    from radio.offline import train
    card = ModelCard.read(DEFAULT_MODEL_DIR)
    out = train.export(str(weights.checkpoint_prefix(DEFAULT_MODEL_DIR)), tmp_path / "exported", card)
    npz = out / weights.WEIGHTS_NAME
    assert npz.is_file()
    assert npz.stat().st_size <= sum(p.stat().st_size for p in out.glob("model.ckpt.*"))
    assert weights.locate(out)[1] == npz
    z = latents(2, 128, 17)
    assert (NumpyTrioModel(out).decode_ids(z, 0.0) == NumpyTrioModel().decode_ids(z, 0.0)).all()


def test_flat_decoder_plays_a_style(flat_pair):
    """The flat decoder offsets each melodic part's logits as it goes (radio/model/style.py):
    a style too small to change a draw leaves the tokens alone, a strong one moves them."""
    from radio.model.style import LIMIT, MOVES, PartStyle, Style, counts
    engine, _ = flat_pair
    z = latents(8, FLAT_SMALL["z_size"], 9)
    plain = engine.decode_ids(z, 1.0, rng=np.random.default_rng(4))
    tiny = engine.decode_ids(z, 1.0, style=Style(lead=PartStyle(even=1e-9)), rng=np.random.default_rng(4))
    assert (plain == tiny).all()
    strong = engine.decode_ids(z, 1.0, style=Style(lead=PartStyle(even=LIMIT, odd=LIMIT)),
                               rng=np.random.default_rng(4))
    again = lambda ids: (lambda c: c[:2, 0].sum() / c[:2, 1].sum())(counts(ids[0]))   # strikes again
    assert again(plain) < 0.05 and again(strong) > 5 * again(plain)
    assert MOVES[:2] == ("even", "odd")
