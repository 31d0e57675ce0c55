"""What the `train` extra adds, found without importing it: the station, `radio generate`,
`complete`, `seeds` and `doctor` run on the runtime install alone (numpy engine, no
TensorFlow on disk); training, the corpus builder and the TensorFlow engine need more."""

from __future__ import annotations

import importlib.metadata
import importlib.util

from ..contracts import RadioError

TENSORFLOW = ("tensorflow", "tf_keras", "tensorflow_probability", "tf_slim", "magenta")
CORPUS = ("music21",)
HOW = ("add it with `make train-deps` in the repository, or `pip install 'latent-radio[train]'` "
       "then `pip install --no-deps magenta==2.1.4`")


class ExtraMissing(RadioError):
    """A command needs the `train` extra, which this install lacks; the message says how to add it."""
    exit_code = 3


def missing(modules=TENSORFLOW) -> list[str]:
    """The modules of `modules` that are not installed (looked up, not imported)."""
    return [m for m in modules if importlib.util.find_spec(m) is None]


def require(what: str, modules=TENSORFLOW) -> None:
    """Raises ExtraMissing naming `what` (e.g. "radio train") unless `modules` are installed."""
    gone = missing(modules)
    if gone:
        raise ExtraMissing(f"{what} needs the train extra ({', '.join(gone)} not installed); {HOW}")


def training() -> str:
    """One line for `radio doctor`: whether training is available, with its versions."""
    gone = missing(TENSORFLOW + CORPUS)
    if gone:
        return f"not installed (the station does not need it; {', '.join(gone)} missing); to train, {HOW}"
    versions = {d: importlib.metadata.version(d) for d in ("tensorflow", "magenta", "music21")}
    return "available: " + ", ".join(f"{d} {v}" for d, v in versions.items())
