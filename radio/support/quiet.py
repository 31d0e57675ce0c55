"""TensorFlow's start-up chatter (oneDNN, cudart, cuInit, absl, deprecation warnings):
silenced for every `radio` command unless `--verbose`, in this one place.

`setup()` must run before TensorFlow is imported; the first call decides (the CLI calls it
with its --verbose flag, radio/model/tf_engine.py with the default when it is imported).
TensorFlow's native libraries log a few lines while they load, before absl::InitializeLog,
where TF_CPP_MIN_LOG_LEVEL does not reach them; `loading()` holds back file descriptor 2
for the duration of that import (done by radio/model/tf_engine.py, the one runtime module
that imports TensorFlow) and then passes on every line that is not one of those native
log lines, so another thread's log lines or an error are delayed by the import, never
lost. That module also turns TensorFlow's own loggers down once it is imported.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
import warnings

VERBOSE: bool | None = None  # None: not set up yet
# pretty_midi warns about the odd real-world file (tempo events on other tracks); the
# import's own line per file already says what became of it
NOISY = ("tensorflow", "tf_keras", "keras", "magenta", "tensorflow_probability", "absl",
         "note_seq", "google.protobuf", "numba", "pretty_midi")

# absl's native log lines (I0000 00:00:1795651656.230055 8503 port.cc:153] ...), the note
# absl prints before them, and the second line of TensorFlow's CPU-feature notice
NATIVE_LOG = re.compile(rb"[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w.]+:\d+\] "
                        rb"|WARNING: All log messages before absl::InitializeLog\(\) is called"
                        rb"|To enable the following instructions: .*rebuild TensorFlow")


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
    with tempfile.TemporaryFile() as held:
        try:
            os.dup2(held.fileno(), 2)
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            kept = [line for line in held.read().splitlines(keepends=True) if not NATIVE_LOG.match(line)]
            if kept:
                os.write(2, b"".join(kept))
