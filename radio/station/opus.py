"""Encoder stage, second format: float32 PCM (2, frames) at 44.1 kHz → Ogg/Opus pages.

libopus (through PyAV) makes the packets; the Ogg pages are written here because a live
stream needs what a file muxer does not give: a page per chunk, flushed at once, and the
two header pages kept apart so every new listener gets them before joining mid-stream
(as Icecast does). Each page is a whole unit of the stream, like an MP3 frame.
"""

from __future__ import annotations

import struct

import numpy as np

from .encoder import EncodeError, Frame, to_int16

OPUS_RATE = 48000        # Opus always decodes at 48 kHz; granule positions count these
PACKET_SAMPLES = 960     # 20 ms packets


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else r << 1
        table.append(r & 0xFFFFFFFF)
    return table


_CRC = _crc_table()


def ogg_crc(data: bytes) -> int:
    """Ogg's CRC-32 (polynomial 0x04C11DB7, unreflected; zlib's crc32 is the reflected one)."""
    crc = 0
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC[(crc >> 24) ^ b]
    return crc


def ogg_page(packets: list[bytes], granule: int, serial: int, sequence: int, flags: int = 0) -> bytes:
    lacing = bytearray()
    for p in packets:
        lacing += b"\xff" * (len(p) // 255) + bytes([len(p) % 255])
    if len(lacing) > 255:
        raise EncodeError("too many packets for one Ogg page")
    head = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, granule, serial, sequence, 0, len(lacing))
    page = bytearray(head + lacing + b"".join(packets))
    page[22:26] = struct.pack("<I", ogg_crc(bytes(page)))
    return bytes(page)


def parse_pages(data: bytes) -> list[dict]:
    """Splits an Ogg byte stream into pages (for tests and checks): granule, sequence, packets."""
    pages, pos = [], 0
    while pos < len(data):
        if data[pos:pos + 4] != b"OggS":
            raise EncodeError(f"no Ogg page at byte {pos}")
        flags, granule, serial, seq, crc, nseg = struct.unpack_from("<BqIIIB", data, pos + 5)
        lacing = data[pos + 27:pos + 27 + nseg]
        size = 27 + nseg + sum(lacing)
        raw = bytearray(data[pos:pos + size])
        raw[22:26] = b"\0\0\0\0"
        pages.append({"flags": flags, "granule": granule, "serial": serial, "sequence": seq,
                      "crc_ok": ogg_crc(bytes(raw)) == crc, "size": size})
        pos += size
    return pages


class OggOpusEncoder:
    """One per stream, shared by all listeners: `header` once per listener, then pages."""

    def __init__(self, bitrate: int = 96, sample_rate: int = 44100, serial: int = 0x6C72):
        import av
        self._ctx = av.CodecContext.create("libopus", "w")
        self._ctx.sample_rate = OPUS_RATE
        self._ctx.layout = "stereo"
        self._ctx.format = "s16"
        self._ctx.bit_rate = bitrate * 1000
        self._ctx.open()
        self._resampler = av.AudioResampler(format="s16", layout="stereo", rate=OPUS_RATE,
                                            frame_size=PACKET_SAMPLES)
        self._in_rate = sample_rate
        self._serial = serial
        self._granule = 0
        self._sequence = 2
        opus_head = bytes(self._ctx.extradata)  # libopus's own OpusHead: carries its pre-skip
        vendor = b"latent radio (libopus)"
        opus_tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
        self.header = (ogg_page([opus_head], 0, serial, 0, flags=2)
                       + ogg_page([opus_tags], 0, serial, 1))
        self.bitrate = bitrate

    def encode(self, pcm: np.ndarray) -> list[Frame]:
        """Whole Ogg pages for the PCM given (what libopus has finished so far)."""
        import av
        if pcm.ndim != 2 or pcm.shape[0] != 2:
            raise EncodeError(f"expected PCM shaped (2, frames), got {pcm.shape}")
        frame = av.AudioFrame.from_ndarray(np.frombuffer(to_int16(pcm), "<i2").reshape(1, -1),
                                           format="s16", layout="stereo")
        frame.sample_rate = self._in_rate
        packets = []
        for f in self._resampler.resample(frame):
            packets += [bytes(p) for p in self._ctx.encode(f)]
        pages = []
        while packets:
            # ≤ 50 packets (1 s) a page keeps the lacing table under its 255 entries
            batch, packets = packets[:50], packets[50:]
            self._granule += PACKET_SAMPLES * len(batch)
            pages.append(Frame(ogg_page(batch, self._granule, self._serial, self._sequence),
                               PACKET_SAMPLES * len(batch) / OPUS_RATE))
            self._sequence += 1
        return pages
