"""Encoder stage: MP3 that ffmpeg decodes, 128 kbps CBR, cut into whole frames."""

import subprocess

import numpy as np

from radio.offline.audiostats import decode_with_ffmpeg
from radio.station.encoder import FrameSplitter, Mp3Encoder, frame_length


def _tone(seconds=3.0, hz=440.0):
    t = np.arange(int(seconds * 44100)) / 44100
    return np.stack([0.3 * np.sin(2 * np.pi * hz * t)] * 2).astype(np.float32)


def test_mp3_decodes_to_the_same_tone(tmp_path):
    enc = Mp3Encoder(128)
    frames = enc.encode(_tone()) + enc.flush()
    data = b"".join(f.data for f in frames)
    pcm = decode_with_ffmpeg(data)
    assert abs(pcm.shape[1] / 44100 - 3.0) < 0.1
    spectrum = np.abs(np.fft.rfft(pcm[0, 10000:50000]))
    assert abs(np.argmax(spectrum) * 44100 / 40000 - 440) < 3
    path = tmp_path / "t.mp3"
    path.write_bytes(data)
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=bit_rate,sample_rate,channels",
                            "-of", "csv=p=0", str(path)], capture_output=True, text=True).stdout.strip()
    assert probe == "44100,2,128000"


def test_frames_are_whole_and_timed(tmp_path):
    enc = Mp3Encoder(128)
    frames = enc.encode(_tone(1.0))
    assert all(f.data[:2] == b"\xff\xfb" and len(f.data) in (417, 418) for f in frames)
    assert all(abs(f.seconds - 1152 / 44100) < 1e-12 for f in frames)
    assert frame_length(frames[0].data[:4])[0] == len(frames[0].data)
    # Byte-at-a-time feeding gives the same frames: nothing lost or split at chunk edges.
    splitter, again = FrameSplitter(), []
    for b in b"".join(f.data for f in frames):
        again += splitter.feed(bytes([b]))
    assert [f.data for f in again] == [f.data for f in frames]
