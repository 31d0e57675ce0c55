"""HLS: MP3 frames remuxed into MPEG-TS segments and a sliding live playlist that ffmpeg
plays end to end; the folder stays bounded however long the stream runs."""

import subprocess

import numpy as np

from radio.offline.audiostats import decode_with_ffmpeg
from radio.station.encoder import Mp3Encoder
from radio.station.hls import PLAYLIST, HlsWriter


def test_segments_play_in_ffmpeg_and_the_folder_stays_bounded(tmp_path):
    writer = HlsWriter(tmp_path, target_seconds=6.0, keep=6)
    encoder = Mp3Encoder(128)
    t = np.arange(44100 * 90) / 44100
    hz = np.where(t < 45, 440.0, 660.0)
    pcm = np.stack([0.3 * np.sin(2 * np.pi * np.cumsum(hz) / 44100)] * 2).astype(np.float32)
    for i in range(0, pcm.shape[1], 11025):                 # 0.25 s chunks, as the pacer sends
        frames = encoder.encode(pcm[:, i:i + 11025])
        if frames:
            writer.add(b"".join(f.data for f in frames), sum(f.seconds for f in frames))
    lines = (tmp_path / PLAYLIST).read_text().splitlines()
    assert lines[0] == "#EXTM3U" and "#EXT-X-MEDIA-SEQUENCE:8" in lines
    names = [line for line in lines if line.endswith(".ts")]
    assert len(names) == 6 and all((tmp_path / n).exists() for n in names)
    assert len(list(tmp_path.glob("*.ts"))) <= 6 + 3          # 14 cut, old ones deleted
    proc = subprocess.run(["ffmpeg", "-v", "warning", "-live_start_index", "0", "-i",
                           str(tmp_path / PLAYLIST), "-t", "30", "-f", "mp3", "-"],
                          capture_output=True, timeout=60)
    assert proc.returncode == 0 and b"Non-monotonous" not in proc.stderr, proc.stderr.decode()[-500:]
    out = decode_with_ffmpeg(proc.stdout)
    assert out.shape[1] / 44100 >= 29.5                       # 30 s of continuous audio
    spectrum = np.abs(np.fft.rfft(out[0, -44100:]))
    assert abs(np.argmax(spectrum) - 660) < 3                 # the window is the stream's end
