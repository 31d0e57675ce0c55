"""Scale-out: push both streams to an Icecast server as a source client.

Configured by one URL, `icecast://source:PASSWORD@HOST:PORT/NAME`, which feeds the mounts
`/NAME.mp3` and `/NAME.ogg`. Each mount is an HTTP PUT (Icecast ≥ 2.4). The push is a
sink (sinks.py): the station's outputs hand it each chunk, which it writes to the mount's
socket, so pushing costs what one more listener costs; while a mount is not connected its
`write` raises, so /healthz names it and /metrics counts it. Stream titles go to the MP3 mount through Icecast's admin `updinfo` (Ogg
carries its own tags). When Icecast goes away the push reconnects with backoff
(1 s doubling to 30 s); the station never waits for it.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse

from ..config import IcecastTarget
from .sinks import SinkError

log = logging.getLogger("radio.icecast")
CONTENT_TYPES = {"mp3": "audio/mpeg", "ogg": "audio/ogg"}


class IcecastError(SinkError, ConnectionError):
    """The Icecast server is not taking our audio (not connected, refused, fell behind)."""


class IcecastPush:
    """One task per format: connect, PUT, take the chunks until the socket closes, repeat.
    `streams` (format → Broadcaster) gives the formats and the MP3 title."""

    MAX_BUFFER_SECONDS = 10.0      # Icecast this far behind: drop the connection and reconnect

    def __init__(self, target: IcecastTarget, streams: dict, name: str, description: str, bitrates: dict):
        self.target, self.streams = target, streams
        self.name = "icecast"                  # as an output (sinks.py)
        self.station_name, self.description, self.bitrates = name, description, bitrates
        self.formats = tuple(streams)
        self.connected = {fmt: False for fmt in streams}
        self.reconnects = 0
        self._writers: dict[str, asyncio.StreamWriter] = {}
        self._title_sent = ""

    def write(self, chunk) -> None:
        """The Sink protocol: the chunk to its mount; raises while that mount is down."""
        writer = self._writers.get(chunk.format)
        if writer is None or writer.transport.is_closing():
            raise IcecastError(f"icecast /{self.target.name}.{chunk.format} is not connected (reconnecting)")
        limit = self.MAX_BUFFER_SECONDS * self.bitrates[chunk.format] * 125
        if writer.transport.get_write_buffer_size() > limit:
            writer.transport.abort()
            raise IcecastError(f"icecast /{self.target.name}.{chunk.format} fell "
                                  f"{self.MAX_BUFFER_SECONDS:g} s behind; reconnecting")
        writer.write(chunk.data)

    def close(self) -> None:
        for writer in list(self._writers.values()):
            writer.close()

    async def run(self) -> None:
        await asyncio.gather(*(self._push(fmt) for fmt in self.streams), self._titles())

    async def _push(self, fmt: str) -> None:
        backoff = 1.0
        while True:
            try:
                reader, writer = await self._connect(fmt)
            except (OSError, asyncio.TimeoutError, ConnectionError) as e:
                log.warning("icecast %s: %s; retrying in %.0f s", fmt, e, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                self.reconnects += 1
                continue
            backoff = 1.0
            self.connected[fmt] = True
            log.info("icecast %s: pushing to /%s.%s", fmt, self.target.name, fmt)
            writer.write(self.streams[fmt].opening())   # the Ogg header first, then the burst
            self._writers[fmt] = writer
            try:
                while await reader.read(4096):      # Icecast says nothing more; EOF: it went away
                    pass
            except (OSError, ConnectionError):
                pass
            finally:
                self.connected[fmt] = False
                self._writers.pop(fmt, None)
                writer.close()
            log.warning("icecast %s: connection lost", fmt)

    async def _connect(self, fmt: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        t = self.target
        reader, writer = await asyncio.wait_for(asyncio.open_connection(t.host, t.port), 10)
        writer.write((f"PUT /{t.name}.{fmt} HTTP/1.1\r\nHost: {t.host}:{t.port}\r\n"
                      f"Authorization: {t.auth()}\r\nContent-Type: {CONTENT_TYPES[fmt]}\r\n"
                      f"Ice-Name: {self.station_name}\r\nIce-Description: {self.description}\r\n"
                      f"Ice-Public: 0\r\nIce-Audio-Info: bitrate={self.bitrates[fmt]}\r\n"
                      f"Expect: 100-continue\r\n\r\n").encode())
        status = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        code = status.split(b" ", 2)[1:2]
        if code not in ([b"100"], [b"200"]):
            writer.close()
            raise IcecastError(f"Icecast refused the source: {status.splitlines()[0].decode(errors='replace')}")
        return reader, writer

    async def _titles(self) -> None:
        """Sends the MP3 stream's title to Icecast whenever it changes."""
        while True:
            await asyncio.sleep(1.0)
            title = self.streams["mp3"].title
            if title == self._title_sent or not self.connected.get("mp3"):
                continue
            try:
                await self._update_title(title)
                self._title_sent = title
            except (OSError, asyncio.TimeoutError, ConnectionError) as e:
                log.warning("icecast title update failed: %s", e)

    async def _update_title(self, title: str) -> None:
        t = self.target
        query = urllib.parse.urlencode({"mount": f"/{t.name}.mp3", "mode": "updinfo", "song": title,
                                        "charset": "UTF-8"})  # Icecast assumes latin-1
        reader, writer = await asyncio.wait_for(asyncio.open_connection(t.host, t.port), 5)
        try:
            writer.write(f"GET /admin/metadata?{query} HTTP/1.0\r\nAuthorization: {t.auth()}\r\n\r\n".encode())
            status = await asyncio.wait_for(reader.readline(), 5)
            if b" 200 " not in status:
                raise IcecastError(f"Icecast refused the title update: {status.decode(errors='replace').strip()}")
        finally:
            writer.close()
