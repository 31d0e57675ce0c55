"""The station's processes import note_seq without its notebook and audio helpers
(radio/support/lazy_imports.py), which still work when used."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("pandas", "pyarrow", "bokeh", "librosa", "IPython")


def _run(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_generators_imports_leave_the_heavy_helpers_out():
    got = _run(f"""
import json, sys
import radio.generator.loop, radio.generator.pipeline, radio.sound.renderer, radio.model, note_seq
seq = note_seq.NoteSequence()
seq.notes.add(pitch=60, velocity=90, start_time=0.0, end_time=0.5)
note_seq.sequence_proto_to_midi_file(seq, "/dev/null")
print(json.dumps({{"loaded": [m for m in {HEAVY!r} if m in sys.modules]}}))""")
    assert got["loaded"] == []


def test_the_deferred_helpers_load_on_first_use():
    got = _run("""
import json, sys, numpy as np
import radio, note_seq
before = "librosa" in sys.modules
wav = note_seq.audio_io.samples_to_wav_data(np.zeros(1600, np.float32), 16000)
back = note_seq.audio_io.wav_data_to_samples(wav, 16000)
from note_seq import notebook_utils
print(json.dumps({"before": before, "after": "librosa" in sys.modules, "samples": len(back),
                  "real": type(sys.modules["note_seq.audio_io"]).__name__,
                  "plot": callable(notebook_utils.plot_sequence)}))""")
    assert got == {"before": False, "after": True, "samples": 1600, "real": "module", "plot": True}
