"""The numpy engine against magenta's TensorFlow graph: load, decode, encode, memory.

Each engine runs in a process of its own (so RSS is that engine's alone), in this one run,
for the shipped default model and for a full-size hierdec-trio_16bar with random weights
(written once to a temporary folder; the numpy engine converts it into a temporary data
folder first, and that conversion is timed apart from the load).

    python bench/engine.py [--batch 4 --batch 16] [--no-full]

Figures: load s (wall; the numpy engine memory-maps its weights, so their pages come in
as they are first used: "1st dec s" is the wall time of the first 1-segment decode after
loading), decode CPU s per audio s (16 bars at the model's 120 qpm = 32 s
of audio a segment; temperature 0.5), encode CPU s per segment, peak RSS MB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SEGMENT_AUDIO_S = 16 * 4 * 60.0 / 120.0   # one decoded segment at the model's tempo


def child(engine: str, model: str | None, batches: list[int], repeats: int) -> dict:
    """Measured in this process: load, decode at each batch size, encode, peak RSS."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    sys.path.insert(0, str(ROOT))
    from radio.model import load_model, trio
    t = time.perf_counter()
    m = load_model(model, engine=engine, batch_size=max(batches))
    out = {"engine": engine, "load_s": time.perf_counter() - t}
    rng = np.random.default_rng(0)
    t = time.perf_counter()
    m.decode(rng.standard_normal((1, m.z_size)).astype(np.float32), 0.5)
    out["first_decode_s"] = time.perf_counter() - t  # numpy: pages of the mapped weights come in
    decode = {}
    for b in batches:
        z = rng.standard_normal((b, m.z_size)).astype(np.float32)
        m.decode(z[:1], 0.5)  # warm-up (TF: first session run)
        best = float("inf")
        for _ in range(repeats):
            if engine == "tf":  # TrioModel pads to its batch size: decode in its batches
                t = time.process_time()
                for i in range(0, b, m.batch_size):
                    m.decode(z[i:i + m.batch_size], 0.5)
            else:
                t = time.process_time()
                m.decode(z, 0.5)
            best = min(best, time.process_time() - t)
        decode[b] = best / (b * SEGMENT_AUDIO_S)
    out["decode_cpu_per_audio_s"] = decode
    ids = np.random.default_rng(1).integers(0, [[[90]], [[90]], [[512]]], size=(3, 16, 256))
    tensors = list(trio.ids_to_tensors(ids).astype(np.float32))
    t = time.process_time()
    m.encode(tensors)
    out["encode_cpu_s_per_segment"] = (time.process_time() - t) / len(tensors)
    out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["imports_tensorflow"] = "tensorflow" in sys.modules
    return out


def run_child(engine: str, model: str | None, batches: list[int], repeats: int, env: dict) -> dict:
    cmd = [sys.executable, __file__, "--child", engine, "--repeats", str(repeats)]
    cmd += [a for b in batches for a in ("--batch", str(b))]
    if model:
        cmd += ["--model", model]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(name: str, rows: list[dict]) -> None:
    print(f"\n{name}")
    print(f"  {'engine':7} {'load s':>7} {'1st dec s':>9} " + " ".join(f"{'dec@' + str(b):>9}" for b in rows[0]["decode_cpu_per_audio_s"])
          + f" {'enc s/seg':>9} {'RSS MB':>7} {'TF':>3}")
    for r in rows:
        print(f"  {r['engine']:7} {r['load_s']:7.2f} {r['first_decode_s']:9.2f} "
              + " ".join(f"{v:9.4f}" for v in r["decode_cpu_per_audio_s"].values())
              + f" {r['encode_cpu_s_per_segment']:9.3f} {r['rss_mb']:7.0f} {'yes' if r['imports_tensorflow'] else 'no':>3}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, action="append", help="decode batch sizes (default 4 and 16)")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--no-full", action="store_true", help="skip the full-size random model")
    p.add_argument("--child", choices=("numpy", "tf"), help=argparse.SUPPRESS)
    p.add_argument("--model", help=argparse.SUPPRESS)
    args = p.parse_args()
    batches = args.batch or [4, 16]
    if args.child:
        print(json.dumps(child(args.child, args.model, batches, args.repeats)))
        return 0
    print(f"bench/engine.py  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  "
          f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.2f}")
    print("decode: CPU s per audio s at temperature 0.5 (dec@B: B segments per call); "
          "encode: CPU s per 256-step segment, 16 at once")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "RADIO_DATA": tmp, "PYTHONPATH": str(ROOT), "TF_USE_LEGACY_KERAS": "1"}
        report("default model (radio/assets/model)",
               [run_child(e, None, batches, args.repeats, env) for e in ("numpy", "tf")])
        if not args.no_full:
            folder = Path(tmp) / "hierdec-trio_16bar"
            code = f"from radio.model.tf_engine import write_random_checkpoint; write_random_checkpoint({str(folder)!r})"
            subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
            code = (f"import time; from radio.model import weights; s, n, c, card = weights.locate({str(folder)!r}); "
                    "t = time.perf_counter(); weights.convert(s, n, c, card); print(time.perf_counter() - t)")
            done = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
            size = sum(f.stat().st_size for f in folder.glob("model.ckpt.*")) / 1e6
            print(f"\nfull-size hierdec-trio_16bar, random weights ({size:.0f} MB checkpoint): "
                  f"one-time conversion to .npz {float(done.stdout.split()[-1]):.1f} s (TensorFlow)")
            report("full-size hierdec-trio_16bar (z 512, encoder 2x2048, decoders 1024x2)",
                   [run_child(e, str(folder), batches, args.repeats, env) for e in ("numpy", "tf")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
