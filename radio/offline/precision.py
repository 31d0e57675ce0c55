"""Matrix-product precision for training: bfloat16 where the CPU multiplies it natively.

CPUs with AMX or AVX512-BF16 (Intel Sapphire Rapids and later, AMD Zen 4 and later) multiply
bfloat16 matrices in hardware; TensorFlow's oneDNN rewrite (`auto_mixed_precision_onednn_
bfloat16`) then runs the graph's matrix products in bfloat16 and keeps the variables,
the loss and the optimizer in float32. On an Intel Xeon with AMX our training step went
from 1.29 to 0.99 s at batch 32 (3.04× magenta's step), and a `radio learn` reached the
same held-out loss (1,505 against 1,507-1,515 in float32; the model, scored in float32,
1,510 against 1,511: bench/results/train-bfloat16-2026-12-05-xeon.txt). Elsewhere bfloat16
would be emulated, slower than float32, so `auto` keeps float32 there.
"""

from __future__ import annotations

import functools
from pathlib import Path

from ..contracts import PRECISIONS as CHOICES
from ..contracts import BadValue

NATIVE_FLAGS = {"amx_bf16", "avx512_bf16"}


@functools.cache
def _cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


def native_bfloat16(cpuinfo: str | None = None) -> bool:
    """True when the CPU's flags (Linux /proc/cpuinfo, read once a process) include a
    bfloat16 matrix unit."""
    if cpuinfo is None:
        cpuinfo = _cpuinfo()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return bool(NATIVE_FLAGS & set(line.partition(":")[2].split()))
    return False


def resolve(choice: str, cpuinfo: str | None = None) -> str:
    """"float32" or "bfloat16" for a --precision choice."""
    if choice not in CHOICES:
        raise BadValue(f"--precision {choice!r}: use one of {', '.join(CHOICES)}")
    if choice == "auto":
        return "bfloat16" if native_bfloat16(cpuinfo) else "float32"
    return choice


def apply(session_config, precision: str) -> None:
    """Sets a tf.ConfigProto's graph rewrite for `precision` ("float32" leaves it as it is)."""
    if precision == "bfloat16":
        from tensorflow.core.protobuf import rewriter_config_pb2
        session_config.graph_options.rewrite_options.auto_mixed_precision_onednn_bfloat16 = \
            rewriter_config_pb2.RewriterConfig.ON
