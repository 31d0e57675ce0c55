"""The golden check's recorder: what the pipeline makes for a fixed seed and mix on a small
pinned model (tests/golden/model, random weights, never retrained), kept in
tests/golden/<case>.npz and compared by tests/test_golden.py.

Per case, two segments: every note (part, pitch, velocity, onset, end, program) and the
audio after the master (master_whole, as `radio generate` writes files): three 0.1 s
windows of samples (int16: a quantisation step is 3e-5, under the 1e-4 tolerance) and
the RMS of every 1024-frame block of the whole segment.

    .venv/bin/python tests/golden_cases.py model   # once: writes the pinned model (TensorFlow)
    .venv/bin/python tests/golden_cases.py write [CASE …]   # records the cases from the current code
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

GOLDEN = Path(__file__).parent / "golden"
MODEL = GOLDEN / "model"
SEED = 7
SEGMENTS = 2
BLOCK = 1024
WINDOW_S = 0.1
# A hierdec trio small enough to keep in the repo and to run in seconds.
HPARAMS = {"z_size": 16, "enc_rnn_size": [32], "dec_rnn_size": [32, 32], "batch_size": 4}
CASES = {  # recorded before playing styles (radio/model/style.py): those cases play without one
    "walk": {"form": "morph", "style": 0},       # the endless walk: no songs
    "loop": {"mode": "loop", "loop_bars": 4, "style": 0},
    "band": {"mode": "band", "keep": {"bass": "rock/rock_0017_8beat_tune"}, "style": 0},
    "styled": {"form": "morph", "style": 1},     # the walk in its sets' style
}


def write_model() -> None:
    import json

    from radio.model import weights
    from radio.model.tf_engine import write_random_checkpoint
    write_random_checkpoint(MODEL, "hierdec-trio_16bar", HPARAMS)
    card = {"config": "hierdec-trio_16bar", "hparams": HPARAMS, "steps": 0,
            "notes": "random weights for the golden check (tests/golden_cases.py); never retrain"}
    (MODEL / "model.json").write_text(json.dumps(card, indent=2) + "\n")
    source, npz, config, card = weights.locate(MODEL, data=MODEL)
    weights.convert(source, MODEL / weights.WEIGHTS_NAME, config, card)


def notes_of(segment) -> np.ndarray:
    """(n, 7) float64: instrument, is_drum, program, pitch, velocity, onset, end."""
    return np.array([(n.instrument, n.is_drum, n.program, n.pitch, n.velocity, n.start_time, n.end_time)
                     for n in segment.sequence.notes], np.float64).reshape(-1, 7)


def audio_of(pcm: np.ndarray, sample_rate: int) -> dict:
    n = pcm.shape[1]
    w = int(WINDOW_S * sample_rate)
    starts = [n // 4, n // 2, 3 * n // 4]
    windows = np.stack([pcm[:, s:s + w] for s in starts])
    blocks = pcm[:, : n // BLOCK * BLOCK].reshape(2, -1, BLOCK)
    return {"windows": np.round(windows * 32767).astype(np.int16),
            "rms": np.sqrt((blocks.astype(np.float64) ** 2).mean(axis=2)).astype(np.float32),
            "frames": np.array(n)}


def run(case: str, data: Path) -> dict:
    """The case's two segments from a fresh pipeline on the pinned model: arrays by name."""
    from radio.config import Settings
    from radio.contracts import SAMPLE_RATE
    from radio.generator.pipeline import Pipeline
    from radio.sound.master import master_whole
    settings = Settings(model=str(MODEL), data=str(data), seed=SEED, mix=CASES[case])
    settings.check()
    pipeline = Pipeline(settings)
    out = {}
    try:
        for i in range(SEGMENTS):
            segment = pipeline.next_segment()
            pcm = master_whole(pipeline.render(segment), SAMPLE_RATE, settings.loudness_lufs)
            out[f"notes{i}"] = notes_of(segment)
            out[f"qpm{i}"] = np.array(segment.qpm)
            out.update({f"{k}{i}": v for k, v in audio_of(pcm, SAMPLE_RATE).items()})
    finally:
        pipeline.close()
    return out


def main(argv: list[str]) -> None:
    import tempfile
    if argv[1:] == ["model"]:
        write_model()
    elif argv[1:2] == ["write"]:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as data:
            for case in argv[2:] or CASES:
                np.savez_compressed(GOLDEN / f"{case}.npz", **run(case, Path(data)))
                print(f"wrote {GOLDEN / case}.npz")
    else:
        sys.exit("usage: tests/golden_cases.py model|write")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent.parent))
    main(sys.argv)
