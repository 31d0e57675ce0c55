"""The model and the seed encodings completion runs on, loaded once."""

from __future__ import annotations

import numpy as np

from ..model.numpy_engine import EngineError, NumpyTrioModel
from ..music import seeds
from ..music.seedsets import SeedLibrary
from .complete import Completion, complete
from .parts import CompleteError


def check_model(config_name: str) -> None:
    if not config_name.startswith("hierdec-"):
        raise CompleteError(
            f"the model is {config_name}: completion needs a hierarchical (hierdec) trio model, "
            "whose decoder writes each part on its own given z. A flat trio model decodes the "
            "three parts together, step by step, so one part cannot be scored alone; use "
            "hierdec-trio_16bar (the default model is one)")


def seed_anchors(model, folder) -> np.ndarray:
    """Encodings of every 16-bar trio segment of a seed folder (one subfolder a set)."""
    paths = [p for _, p in SeedLibrary(folder).files()]
    segments, _ = seeds.import_files(paths, model.converter)
    if not segments:
        return np.zeros((0, model.z_size), np.float32)
    return model.encode([s.tensor for s in segments])


class Band:
    """The model and the seed encodings, loaded once (per CLI run, or per API worker
    process), so that `complete` is cheap to run many times.

    The model is the numpy engine (radio/model/numpy_engine.py): it encodes, decodes with
    a seeded generator, and scores a part teacher-forced (`log_likelihood`), with forward
    passes only; no TensorFlow. A checkpoint without a converted .npz beside it is
    converted once into `data`/models (the station's data folder)."""

    def __init__(self, model_path=None, seed_folder=None, data=None):
        try:
            self.model = NumpyTrioModel(model_path, data=data)
        except EngineError as e:
            raise CompleteError(str(e)) from None
        check_model(self.model.card.config)
        self.anchors = seed_anchors(self.model, seed_folder) if seed_folder else None

    def complete(self, ns, kept, seed: int = 0, **kw) -> Completion:
        self.model.rng = np.random.default_rng([seed, 17])   # same input and seed: same band
        return complete(ns, kept, self.model, self.model, self.anchors, seed=seed, **kw)
