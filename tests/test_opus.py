"""Ogg/Opus encoder: pages with valid CRCs that ffmpeg decodes to the same tone, from the
start and from any page after the headers (how a listener joins mid-stream)."""

import subprocess

import numpy as np

from radio.offline.audiostats import decode_with_ffmpeg
from radio.station.opus import OPUS_RATE, OggOpusEncoder, ogg_crc, parse_pages


def _tone(seconds=4.0, hz=440.0):
    t = np.arange(int(seconds * 44100)) / 44100
    return np.stack([0.3 * np.sin(2 * np.pi * hz * t)] * 2).astype(np.float32)


def test_ogg_crc_matches_the_reference_check_value():
    # CRC-32/MPEG-2 without its final xor and init 0 (Ogg's variant) of "123456789"
    assert ogg_crc(b"123456789") == 0x89A1897F


def test_opus_pages_decode_whole_and_joined_mid_stream(tmp_path):
    enc = OggOpusEncoder(96)
    pcm = _tone()
    pages = []
    for i in range(16):                                  # fed in 0.25 s chunks, as the pacer does
        pages += enc.encode(pcm[:, i * 11025:(i + 1) * 11025])
    stream = enc.header + b"".join(p.data for p in pages)
    parsed = parse_pages(stream)
    assert all(p["crc_ok"] for p in parsed) and parsed[0]["flags"] == 2     # BOS first
    assert [p["sequence"] for p in parsed] == list(range(len(parsed)))
    granules = [p["granule"] for p in parsed[2:]]
    assert granules == sorted(granules) and abs(granules[-1] / OPUS_RATE - sum(p.seconds for p in pages)) < 1e-9
    for data, seconds in ((stream, 3.9), (enc.header + b"".join(p.data for p in pages[6:]), 2.4)):
        proc = subprocess.run(["ffmpeg", "-v", "warning", "-i", "pipe:0", "-f", "null", "-"],
                              input=data, capture_output=True)
        assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr.decode()
        out = decode_with_ffmpeg(data)
        assert out.shape[1] / 44100 >= seconds
        spectrum = np.abs(np.fft.rfft(out[0, 20000:60000]))
        assert abs(np.argmax(spectrum) * 44100 / 40000 - 440) < 3


def test_a_format_is_encoded_only_while_taken_and_comes_back_with_its_burst():
    """encoding.py: nobody on the Ogg stream, no Opus encoding; its first listener gets a
    fresh encoder started from the last 2 s (a header equal to the one listeners were sent,
    pages that decode to the tone); LINGER seconds after its last listener it stops."""
    import functools

    from radio.station.encoder import Mp3Encoder
    from radio.station.encoding import LINGER, Encoding
    enc = Encoding({"mp3": functools.partial(Mp3Encoder, 128), "ogg": functools.partial(OggOpusEncoder, 96)},
                   burst_seconds=2.0, sample_rate=44100)
    pcm, tick = _tone(seconds=20.0, hz=330.0), 11025
    blocks = [pcm[:, i:i + tick] for i in range(0, pcm.shape[1], tick)]
    for block in blocks[:12]:                            # 3 s: MP3 (HLS) only
        chunks, stopped = enc.encode(block, {"mp3"})
        assert [c.format for c in chunks] in (["mp3"], []) and not stopped
    assert enc.running == ("mp3",) and enc.started == {"mp3": 1, "ogg": 0}
    chunks, _ = enc.encode(blocks[12], {"mp3", "ogg"})   # a listener on the Ogg stream
    burst = next(c for c in chunks if c.format == "ogg")
    assert 2.0 <= burst.seconds <= 2.25                  # the kept 2 s and this tick, less what libopus holds
    data = OggOpusEncoder(96).header + burst.data
    assert all(p["crc_ok"] for p in parse_pages(data))
    out = decode_with_ffmpeg(data)
    spectrum = np.abs(np.fft.rfft(out[0, 10000:50000]))
    assert out.shape[1] / 44100 >= 1.9 and abs(np.argmax(spectrum) * 44100 / 40000 - 330) < 3
    stopped_at = None
    for i, block in enumerate(blocks[13:], 13):          # the listener left
        _, stopped = enc.encode(block, {"mp3"})
        if stopped:
            stopped_at = i
            break
    assert stopped == ["ogg"] and stopped_at - 12 == int(LINGER * 4) and enc.running == ("mp3",)
    enc.encode(blocks[stopped_at + 1], {"mp3", "ogg"})
    assert enc.started == {"mp3": 1, "ogg": 2}
