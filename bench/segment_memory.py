#!/usr/bin/env python
"""The generator's memory per segment: the station's Pipeline in this process (default
settings and mix, a fresh data folder, glibc's mmap threshold set as the generator sets
it), N segments made and rendered one after another; per segment its length, tempo and
sound preset, then VmRSS and the high-water mark VmHWM (MB). Long segments (the ballad
set's 76 qpm: 50 s) are where rendering and mixing a segment whole peaked.

    PYTHONPATH=<tree> python bench/segment_memory.py [N]
"""

from __future__ import annotations

import os
import sys
import tempfile


def memory() -> tuple[int, int]:
    status = open("/proc/self/status").read()
    return tuple(int(status.split(key)[1].split()[0]) // 1024 for key in ("VmRSS:", "VmHWM:"))


def main() -> None:
    os.environ["RADIO_DATA"] = tempfile.mkdtemp(prefix="radio-segmem-")
    from radio.config import Settings
    from radio.generator.pipeline import Pipeline
    from radio.support.heap import return_big_buffers
    return_big_buffers()
    pipeline = Pipeline(Settings.from_env())
    print("ready: rss/hwm MB", memory(), flush=True)
    for i in range(int(sys.argv[1]) if len(sys.argv) > 1 else 24):
        segment = pipeline.next_segment()
        pcm = pipeline.render(segment)
        print(f"{i:3d} {segment.duration:5.1f} s  qpm {segment.qpm:5.1f}  {pipeline.sound.name:8s} rss/hwm MB {memory()}",
              flush=True)
        del pcm


if __name__ == "__main__":
    main()
