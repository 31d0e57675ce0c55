#!/usr/bin/env python
"""Our training graph against magenta's on a trained model's own weights and real data.

Restores one checkpoint (default: the shipped model) into both graphs, encodes real seed
segments (the shipped `rock` and `jazz` seed sets, first --batch segments) and compares:
the encoder's output, the teacher-forced reconstruction loss given z = mu, and the
gradients of that loss for every trainable variable. Prints the largest differences.

    .venv/bin/python bench/fastvae_parity.py [--model radio/assets/model] [--batch 8]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from radio.config import DEFAULT_MODEL_DIR
from radio.model import tf_engine as model_lib
from radio.music import seeds

SEEDS = Path(model_lib.__file__).parent / "assets" / "seeds"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=str(DEFAULT_MODEL_DIR))
    ap.add_argument("--batch", type=int, default=8)
    args = ap.parse_args()
    tf = model_lib._tf()
    from radio.offline.fastvae import fast_hierdec_trio_model
    card, checkpoint = model_lib.resolve(args.model)
    checkpoint = model_lib.checkpoint_file(checkpoint)
    config = model_lib.make_config(card.config, {**card.hparams, "batch_size": args.batch})
    segments = []
    for name in ("rock", "jazz"):
        segments += seeds.import_folder(SEEDS / name, config.data_converter)[0]
    x = np.stack([s.tensor for s in segments[:args.batch]]).astype(np.float32)
    depth = x.shape[2]
    print(f"{args.model}: {card.config} {card.hparams}; {len(x)} real segments")
    with tf.Graph().as_default():
        inp, lengths = tf.constant(x), tf.fill([len(x)], x.shape[1])
        x_in = tf.pad(inp[:, :-1], [(0, 0), (1, 0), (0, 0)])
        ref_model, fast_model = config.model, fast_hierdec_trio_model()
        ref_model.build(config.hparams, depth, is_training=True)
        fast_model.build(config.hparams, depth, is_training=True)
        ref_enc = ref_model.encoder.encode(inp, lengths)
        mu = tf.layers.dense(ref_enc, config.hparams.z_size, name="encoder/mu")
        fast_enc = fast_model.encoder.encode(inp, lengths)
        ref_loss = ref_model.decoder.reconstruction_loss(x_in, inp, lengths, mu)[0]
        fast_loss = fast_model.decoder.reconstruction_loss(x_in, inp, lengths, mu)[0]
        variables = tf.trainable_variables()
        grads = [[tf.convert_to_tensor(g) for g in tf.gradients(tf.reduce_sum(loss) + tf.reduce_sum(enc), variables)]
                 for loss, enc in ((ref_loss, ref_enc), (fast_loss, fast_enc))]
        with tf.Session() as sess:
            tf.train.Saver(tf.global_variables()).restore(sess, checkpoint)
            a_enc, b_enc, a, b, ga, gb = sess.run([ref_enc, fast_enc, ref_loss, fast_loss, *grads])
    print(f"encoder output: max |diff| {np.abs(a_enc - b_enc).max():.2e} (values up to {np.abs(a_enc).max():.2f})")
    print(f"reconstruction loss per segment, magenta: {np.round(a, 4)}")
    print(f"                                  ours:    {np.round(b, 4)}")
    print(f"  max |diff| {np.abs(a - b).max():.2e}, max relative {np.max(np.abs(a - b) / np.abs(a)):.2e}")
    worst = max(((np.abs(u - w).max() / max(np.abs(u).max(), 1e-12), v.op.name) for v, u, w in zip(variables, ga, gb)))
    print(f"gradients ({len(variables)} variables): worst max|diff| / max|grad| {worst[0]:.2e} ({worst[1]})")


if __name__ == "__main__":
    main()
