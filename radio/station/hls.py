"""HLS output: the MP3 stream cut into MPEG-TS segments plus a live playlist, written to a
folder that any web server or CDN can serve (the station serves it too, at /hls/).

The MP3 frames the station already encodes are remuxed (PyAV, no second encode) into
~6 s `.ts` files with continuous timestamps. The playlist is a sliding window of the last
`keep` segments, replaced atomically; older segment files are deleted, so the folder
never grows.
"""

from __future__ import annotations

import io
import mimetypes
import os
from pathlib import Path

PLAYLIST = "live.m3u8"
# what a static file server should say (Python's table calls .ts a Qt translation file)
mimetypes.add_type("video/mp2t", ".ts")
mimetypes.add_type("application/vnd.apple.mpegurl", ".m3u8")


class HlsWriter:
    def __init__(self, folder: Path, target_seconds: float = 6.0, keep: int = 6):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("seg-*.ts"):  # a previous run's segments are stale
            old.unlink()
        self.target = target_seconds
        self.keep = keep
        self.sequence = 0
        self.segments: list[tuple[str, float]] = []
        self._frames: list[bytes] = []
        self._seconds = 0.0
        self._elapsed = 0.0          # stream seconds written, for the TS timestamps

    def add(self, data: bytes, seconds: float) -> None:
        """Whole MP3 frames, as published; a segment is cut when ≥ target seconds gather."""
        job = self.gather(data, seconds)
        if job is not None:
            self.cut(*job)

    def gather(self, data: bytes, seconds: float) -> tuple[bytes, float] | None:
        """Collects frames; returns (frames, seconds) for `cut` once a segment's worth gathered."""
        self._frames.append(data)
        self._seconds += seconds
        if self._seconds < self.target:
            return None
        job = b"".join(self._frames), self._seconds
        self._frames, self._seconds = [], 0.0
        return job

    def cut(self, data: bytes, seconds: float) -> None:
        """Writes one segment and the playlist (blocking: the station calls it off the event
        loop). The folder is made again if it was removed; a failed write raises, and the
        stream's timestamps run on past the segment it lost."""
        name = f"seg-{self.sequence:08d}.ts"
        start, self._elapsed = self._elapsed, self._elapsed + seconds
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / name).write_bytes(remux_to_ts(data, start))
        self.segments.append((name, seconds))
        self.sequence += 1
        while len(self.segments) > self.keep:
            self.segments.pop(0)
        # deleted only 3 segments after it left the playlist: a player that read the
        # previous playlist may still fetch it
        stale = self.folder / f"seg-{self.sequence - self.keep - 3:08d}.ts"
        stale.unlink(missing_ok=True)
        self._write_playlist()

    def _write_playlist(self) -> None:
        first = self.sequence - len(self.segments)
        lines = ["#EXTM3U", "#EXT-X-VERSION:3",
                 f"#EXT-X-TARGETDURATION:{int(max(s for _, s in self.segments) + 0.999)}",
                 f"#EXT-X-MEDIA-SEQUENCE:{first}"]
        for name, seconds in self.segments:
            lines += [f"#EXTINF:{seconds:.3f},", name]
        tmp = self.folder / f".{PLAYLIST}.tmp"
        tmp.write_text("\n".join(lines) + "\n")
        os.replace(tmp, self.folder / PLAYLIST)


def remux_to_ts(mp3: bytes, start_seconds: float) -> bytes:
    """MP3 frames → an MPEG-TS file whose timestamps start at `start_seconds`."""
    import av
    out_buf = io.BytesIO()
    with av.open(io.BytesIO(mp3), format="mp3") as src, \
            av.open(out_buf, "w", format="mpegts") as dst:
        audio = src.streams.audio[0]
        stream = dst.add_stream_from_template(audio)
        offset = None
        for packet in src.demux(audio):
            if packet.dts is None:
                continue
            if offset is None:
                offset = int(round(start_seconds / packet.time_base)) - packet.pts
            packet.pts += offset
            packet.dts += offset
            packet.stream = stream
            dst.mux(packet)
    return out_buf.getvalue()
