#!/usr/bin/env python
"""Model + composer CPU s per audio s on the station's walk, batch 4, numpy engine seed 1.

    PYTHONPATH=<tree> python bench/walk_decode.py default|full BATCHES [CHECKPOINT]

full: a full-size hierdec-trio_16bar checkpoint folder (random weights: radio.model's
write_random_checkpoint). Prints the median over BATCHES model calls (4 walk steps each,
after one priming step) and each batch's figure. Run two trees one after another to
compare them on the same notes.
"""
import statistics
import sys
import time

from radio.config import ASSETS, Settings
from radio.generator.anchors import load_anchors
from radio.model import load_model
from radio.music.composer import LatentWalk

s = Settings.from_env()
full = sys.argv[1] == "full"
folder = sys.argv[3] if len(sys.argv) > 3 else "/tmp/full16"
m = (load_model(folder, engine="numpy", batch_size=4, config="hierdec-trio_16bar", data=folder, seed=1)
     if full else load_model(s.model, engine="numpy", batch_size=4, data=s.data, seed=1))
walk = LatentWalk(m, load_anchors(m, ASSETS / "seeds"), s.steps_per_leg, s.temperature, seed=1)
next(walk)
r = []
for _ in range(int(sys.argv[2])):
    c = time.process_time(); b = [next(walk) for _ in range(4)]; r.append((time.process_time() - c) / sum(x.duration for x in b))
print(sys.argv[1], f"median {statistics.median(r):.4f}", " ".join(f"{x:.4f}" for x in r))
