"""Parts rendered apart: one FluidSynth per part, or one synth with an output group per channel?

The sound stage needs lead, bass and drums as separate stereo signals. FluidSynth gives
them two ways: three synths (one per part; FluidSynth shares a soundfont's samples between
synths of one process), or one synth with `synth.audio-groups` = 16 rendered through
`fluid_synth_process` into 32 buffers. Each runs in a fresh process on the same 30 s of
trio events; printed: RSS after loading, CPU seconds per audio second.

    .venv/bin/python bench/render_split.py [--soundfont FILE]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CODE = r"""
import ctypes, json, sys, time
import numpy as np, fluidsynth, psutil
mode, sf = sys.argv[1], sys.argv[2]
SR, SECONDS = 44100, 30
rng = np.random.default_rng(0)
events = []
for i in range(120):
    t = i * 0.25
    events += [(t, 9, 36 if i % 2 == 0 else 42, 100), (t, 9, 38 if i % 4 == 2 else 42, 90)]
    if i % 2 == 0:
        events.append((t, 1, 36 + int(rng.integers(0, 12)), 90))
    events.append((t, 0, 60 + int(rng.integers(0, 12)), 90))
proc = psutil.Process()
rss0 = proc.memory_info().rss
opts = {"synth.polyphony": 64, "synth.chorus.active": 0, "synth.reverb.active": 0}
if mode == "groups":
    s = fluidsynth.Synth(gain=0.3, samplerate=float(SR), channels=16,
                         **opts, **{"synth.audio-groups": 16, "synth.audio-channels": 16})
    sid = s.sfload(sf)
    for ch, bank, prog in ((0, 0, 81), (1, 0, 33), (9, 128, 0)):
        s.program_select(ch, sid, bank, prog)
    fl = fluidsynth._fl
    fl.fluid_synth_process.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p,
                                       ctypes.c_int, ctypes.POINTER(ctypes.POINTER(ctypes.c_float))]
    def advance(n):
        buf = np.zeros((32, n), np.float32)
        ptrs = (ctypes.POINTER(ctypes.c_float) * 32)(*[buf[i].ctypes.data_as(ctypes.POINTER(ctypes.c_float)) for i in range(32)])
        fl.fluid_synth_process(s.synth, n, 0, None, 32, ptrs)
    def noteon(ch, p, v):
        s.noteon(ch, p, v)
else:
    synths = {}
    for ch, bank, prog in ((0, 0, 81), (1, 0, 33), (9, 128, 0)):
        s = fluidsynth.Synth(gain=0.3, samplerate=float(SR), channels=16, **opts)
        s.program_select(ch, s.sfload(sf), bank, prog)
        synths[ch] = s
    def advance(n):
        for s in synths.values():
            s.get_samples(n)
    def noteon(ch, p, v):
        synths[ch].noteon(ch, p, v)
rss1 = proc.memory_info().rss
t0, pos = time.process_time(), 0
for t, ch, p, v in events + [(SECONDS, None, 0, 0)]:
    at = int(t * SR)
    if at > pos:
        advance(at - pos)
        pos = at
    if ch is not None:
        noteon(ch, p, v)
print(json.dumps({"rss_mb": (rss1 - rss0) / 1e6, "cpu_per_s": (time.process_time() - t0) / SECONDS}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--soundfont", default="/usr/share/sounds/sf2/FluidR3_GM.sf2")
    args = ap.parse_args()
    print(f"soundfont {args.soundfont}, 30 s of drums + bass + lead, fresh process each")
    for mode, what in (("groups", "one synth, 16 output groups"), ("three", "three synths, one per part")):
        out = subprocess.run([sys.executable, "-c", CODE, mode, args.soundfont], capture_output=True, text=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"  {what:<30} load +{r['rss_mb']:.0f} MB RSS, {r['cpu_per_s']:.4f} CPU s per audio s")


if __name__ == "__main__":
    main()
