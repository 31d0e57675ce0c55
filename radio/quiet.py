"""TensorFlow's start-up chatter (oneDNN, cudart, cuInit, absl, deprecation warnings):
silenced for every `radio` command unless `--verbose`, in this one place.

`setup()` must run before TensorFlow is imported; the first call decides (the CLI calls it
with its --verbose flag, radio.model calls it with the default on import). TensorFlow's
native libraries log a few lines while they load, before absl::InitializeLog, where
TF_CPP_MIN_LOG_LEVEL does not reach them; `loading()` sends file descriptor 2 to
/dev/null for the duration of that import (radio.model._tf is the only place TensorFlow is
imported). Anything else on stderr, errors included, is left alone.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings

VERBOSE: bool | None = None  # None: not set up yet
NOISY = ("tensorflow", "tf_keras", "keras", "magenta", "tensorflow_probability", "absl",
         "note_seq", "google.protobuf", "numba")


def setup(verbose: bool = False) -> None:
    global VERBOSE
    if VERBOSE is not None:
        return
    VERBOSE = verbose
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # magenta needs Keras 2 behaviour
    if verbose:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    for module in NOISY:
        warnings.filterwarnings("ignore", module=module.replace(".", r"\.") + r"(\..*)?$")
        logging.getLogger(module).setLevel(logging.ERROR)


@contextlib.contextmanager
def loading():
    """Native writes to stderr go to /dev/null inside the block (quiet mode only)."""
    if VERBOSE is not False:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def quiet_imported() -> None:
    """After TensorFlow's import: its Python loggers down to errors (quiet mode only)."""
    if VERBOSE is False:
        from absl import logging as absl_logging
        absl_logging.set_verbosity(absl_logging.ERROR)
        import tensorflow.compat.v1 as tf
        tf.logging.set_verbosity(tf.logging.ERROR)
