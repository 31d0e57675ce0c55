#!/usr/bin/env python
"""The end-to-end figures docs/measured.md quotes, measured as a user would see them.

1. `radio generate --bars 32` to .wav and .mid: length, longest silence, notes per part.
2. `radio serve` as a subprocess: seconds from start to the first audio byte of
   /stream.mp3, then an 8 s read decoded by ffmpeg (sounding seconds, longest silence).

    .venv/bin/python bench/station_smoke.py
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import note_seq

from radio.offline.audiostats import decode_with_ffmpeg, longest_silence, sounding_seconds


def generate(tmp: Path) -> None:
    for suffix in (".wav", ".mid"):
        out = tmp / f"x{suffix}"
        t = time.monotonic()
        subprocess.run([sys.executable, "-m", "radio", "generate", "--bars", "32", "--out", str(out),
                        "--data", str(tmp / "data")],
                       check=True, capture_output=True)
        took = time.monotonic() - t
        if suffix == ".wav":
            pcm = decode_with_ffmpeg(out.read_bytes())
            print(f"generate 32 bars → wav: {pcm.shape[1] / 44100:.1f} s of audio in {took:.1f} s wall; "
                  f"sounding {sounding_seconds(pcm):.1f} s; longest silence {longest_silence(pcm):.2f} s")
        else:
            ns = note_seq.midi_file_to_note_sequence(str(out))
            drums = sum(n.is_drum for n in ns.notes)
            bass = sum(not n.is_drum and 32 <= n.program <= 39 for n in ns.notes)
            lead = len(ns.notes) - drums - bass
            print(f"generate 32 bars → mid: {ns.total_time:.1f} s; notes: drums {drums}, bass {bass}, lead {lead}")


def serve(data: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "radio", "serve", "--port", str(port),
                             "--data", str(data)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except OSError:
                if time.monotonic() - t0 > 60:
                    raise
                time.sleep(0.1)
        print(f"serve: /healthz answered {time.monotonic() - t0:.1f} s after start")
        with urllib.request.urlopen(base + "/stream.mp3", timeout=300) as r:
            first = r.read(1)
            t_first = time.monotonic() - t0
            data, end = bytearray(first), time.monotonic() + 8.0
            while time.monotonic() < end:
                data += r.read1(16384)
        pcm = decode_with_ffmpeg(bytes(data))
        print(f"serve: first audio byte {t_first:.1f} s after start; 8 s read → {pcm.shape[1] / 44100:.1f} s "
              f"of audio, {sounding_seconds(pcm):.1f} s sounding, longest silence {longest_silence(pcm):.2f} s")
    finally:
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        serve(Path(tmp) / "data")
