"""`radio fetch-model`: official MusicVAE trio checkpoints, or a clear word on where to get them.

The checkpoints live on Google's magentadata bucket. Many machines that run the station
cannot reach it (ours cannot), so a failed download prints where to fetch the file by hand
and where to put it, and never a traceback.
"""

from __future__ import annotations

import os
import sys
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

# RADIO_CHECKPOINT_BASE points at a mirror (a folder served over HTTP holding the tarballs).
BASE = "https://storage.googleapis.com/magentadata/models/music_vae/checkpoints"
OFFICIAL = ("hierdec-trio_16bar", "flat-trio_16bar")


def fetch(name: str, dest: Path, timeout: float = 15.0) -> int:
    if name not in OFFICIAL:
        print(f"error: no official trio checkpoint named {name!r}; known: {', '.join(OFFICIAL)}",
              file=sys.stderr)
        return 2
    url = f"{os.environ.get('RADIO_CHECKPOINT_BASE', BASE).rstrip('/')}/{name}.tar"
    target = Path(dest) / f"{name}.tar"
    if target.is_file() and tarfile.is_tarfile(target):
        print(f"{target} is already here; use it with --model {target}")
        return 0
    from tqdm import tqdm
    part = target.with_name(target.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            target.parent.mkdir(parents=True, exist_ok=True)
            total = int(response.headers.get("Content-Length") or 0) or None
            with open(part, "wb") as f, tqdm(total=total, unit="B", unit_scale=True, desc=name) as bar:
                while chunk := response.read(1 << 20):
                    f.write(chunk)
                    bar.update(len(chunk))
    except (urllib.error.URLError, OSError, TimeoutError) as e:
        part.unlink(missing_ok=True)
        reason = getattr(e, "reason", e)
        print(f"cannot download {name}: {reason}\n"
              f"This machine cannot reach {url.split('/')[2]}. On a machine that can:\n"
              f"    curl -LO {url}\n"
              f"then copy {name}.tar to {target} here (or anywhere) and run, e.g.\n"
              f"    radio serve --model {target}\n"
              f"The tarball loads as it is: no card needed, the config comes from its name.",
              file=sys.stderr)
        return 1
    if not tarfile.is_tarfile(part):
        part.unlink()
        print(f"error: {url} did not return a tarball", file=sys.stderr)
        return 1
    part.replace(target)
    print(f"saved {target}; use it with --model {target}")
    return 0
