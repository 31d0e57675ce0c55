"""How big and how quick the installs are (issue 27).

1. A fresh `make run`: deploy/install.sh run into a new venv with an empty pip cache (a
   cache of its own, so the machine's is left alone), then `radio serve` until /healthz
   says music plays: the seconds of each, and the venv's size.
2. The wheel: `python -m build`, then `pip install` of it into a new venv (pip resolves
   note-seq's whole dependency list), with the machine's pip cache: size and seconds.
3. The full venv (`make test`'s .venv, if there is one): its size.
4. `radio doctor` in the runtime venv: seconds, median of 3.

    .venv/bin/python bench/install.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from conditions import Conditions

ROOT = Path(__file__).parent.parent


def size_mb(path: Path) -> float:
    out = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True).stdout
    return int(out.split()[0]) / 2**20


def timed(cmd: list[str], **kw) -> float:
    t = time.monotonic()
    subprocess.run(cmd, check=True, **kw)
    return time.monotonic() - t


def seconds_to_music(radio: Path, env: dict, cwd: Path) -> float:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = time.monotonic()
    server = subprocess.Popen([str(radio), "serve", "--port", str(port)], env=env, cwd=cwd,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.monotonic() - t < 300:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    if r.status == 200:
                        return time.monotonic() - t
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit("no music within 300 s")
    finally:
        server.terminate()
        server.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", help="build in this folder and keep it (default: a temporary one)")
    args = ap.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="radio-install-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["RADIO_DATA"] = str(work / "data")
    with Conditions():
        measure(work, env)


def measure(work: Path, env: dict) -> None:
    run = work / "run-venv"
    cold = {**env, "PIP_CACHE_DIR": str(work / "pip-cache")}
    install = timed(["bash", str(ROOT / "deploy" / "install.sh"), str(run), "run"], env=cold, cwd=work)
    music = seconds_to_music(run / "bin" / "radio", env, work)
    print(f"make run, fresh (cold pip cache): install {install:.0f} s + first music {music:.1f} s "
          f"= {install + music:.0f} s; venv {size_mb(run):.0f} MB")

    doctor = [timed([str(run / "bin" / "radio"), "doctor"], env=env, cwd=work, capture_output=True)
              for _ in range(3)]
    print(f"radio doctor (runtime venv): median {statistics.median(doctor):.2f} s "
          f"({', '.join(f'{d:.2f}' for d in doctor)})")

    dist = work / "dist"
    build = timed([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
                  capture_output=True)
    wheel, = dist.glob("*.whl")
    wheel_venv = work / "wheel-venv"
    subprocess.run([sys.executable, "-m", "venv", str(wheel_venv)], check=True)
    pip = timed([str(wheel_venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)], cwd=work)
    tf = subprocess.run([str(wheel_venv / "bin" / "python"), "-c", "import tensorflow"], capture_output=True)
    print(f"wheel: {wheel.name} {wheel.stat().st_size / 2**20:.1f} MB, built in {build:.0f} s; "
          f"pip install (warm cache) {pip:.0f} s; venv {size_mb(wheel_venv):.0f} MB; "
          f"tensorflow importable: {tf.returncode == 0}")

    full = ROOT / ".venv"
    if (full / ".installed").exists():
        print(f"full venv (make test, {full}): {size_mb(full):.0f} MB")


if __name__ == "__main__":
    main()
