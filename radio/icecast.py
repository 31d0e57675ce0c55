"""Scale-out: push both streams to an Icecast server as a source client.

Configured by one URL, `icecast://source:PASSWORD@HOST:PORT/NAME`, which feeds the mounts
`/NAME.mp3` and `/NAME.ogg`. Each mount is an HTTP PUT (Icecast ≥ 2.4) whose socket is
handed to the format's Broadcaster like any listener's, so pushing costs what one more
listener costs. Stream titles go to the MP3 mount through Icecast's admin `updinfo` (Ogg
carries its own tags). When Icecast goes away the push reconnects with backoff
(1 s doubling to 30 s); the station never waits for it.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import logging
import urllib.parse

from . import redact

log = logging.getLogger("radio.icecast")
CONTENT_TYPES = {"mp3": "audio/mpeg", "ogg": "audio/ogg"}


class IcecastConfigError(ValueError):
    pass


@dataclasses.dataclass(frozen=True)
class Target:
    host: str
    port: int
    user: str
    password: str = dataclasses.field(repr=False)   # never shown: see radio/redact.py
    name: str = ""

    @classmethod
    def parse(cls, url: str) -> "Target":
        shown = redact.url(url)          # messages never carry the password
        try:
            u = urllib.parse.urlsplit(url)
            port = u.port
        except ValueError as e:            # a bad port, a bad IPv6 literal
            raise IcecastConfigError(f"icecast={shown!r}: {redact.url(str(e))}; "
                                     f"expected icecast://source:PASSWORD@HOST:PORT/NAME") from None
        if u.scheme not in ("icecast", "http") or not u.hostname or not u.password:
            raise IcecastConfigError(
                f"icecast={shown!r}: expected icecast://source:PASSWORD@HOST:PORT/NAME")
        name = u.path.strip("/")
        if not name or "/" in name:
            raise IcecastConfigError(f"icecast={shown!r}: give one mount name after the port, e.g. /radio")
        return cls(u.hostname, port or 8000, urllib.parse.unquote(u.username or "source"),
                   urllib.parse.unquote(u.password), name)

    def auth(self) -> str:
        return "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()


class IcecastPush:
    """One task per format: connect, PUT, hand the socket to the broadcaster, repeat."""

    def __init__(self, target: Target, streams: dict, name: str, description: str, bitrates: dict):
        self.target, self.streams = target, streams
        self.name, self.description, self.bitrates = name, description, bitrates
        self.connected = {fmt: False for fmt in streams}
        self.reconnects = 0
        self._title_sent = ""

    async def run(self) -> None:
        await asyncio.gather(*(self._push(fmt) for fmt in self.streams), self._titles())

    async def _push(self, fmt: str) -> None:
        backoff = 1.0
        while True:
            try:
                writer = await self._connect(fmt)
            except (OSError, asyncio.TimeoutError, ConnectionError) as e:
                log.warning("icecast %s: %s; retrying in %.0f s", fmt, e, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                self.reconnects += 1
                continue
            backoff = 1.0
            self.connected[fmt] = True
            log.info("icecast %s: pushing to /%s.%s", fmt, self.target.name, fmt)
            listener = self.streams[fmt].subscribe(writer.transport, chunked=False)
            try:
                await listener.done
            finally:
                self.connected[fmt] = False
                self.streams[fmt].unsubscribe(listener)
                writer.close()
            log.warning("icecast %s: connection lost", fmt)

    async def _connect(self, fmt: str) -> asyncio.StreamWriter:
        t = self.target
        reader, writer = await asyncio.wait_for(asyncio.open_connection(t.host, t.port), 10)
        writer.write((f"PUT /{t.name}.{fmt} HTTP/1.1\r\nHost: {t.host}:{t.port}\r\n"
                      f"Authorization: {t.auth()}\r\nContent-Type: {CONTENT_TYPES[fmt]}\r\n"
                      f"Ice-Name: {self.name}\r\nIce-Description: {self.description}\r\n"
                      f"Ice-Public: 0\r\nIce-Audio-Info: bitrate={self.bitrates[fmt]}\r\n"
                      f"Expect: 100-continue\r\n\r\n").encode())
        status = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        code = status.split(b" ", 2)[1:2]
        if code not in ([b"100"], [b"200"]):
            writer.close()
            raise ConnectionError(f"Icecast refused the source: {status.splitlines()[0].decode(errors='replace')}")
        return writer

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
                raise ConnectionError(f"Icecast refused the title update: {status.decode(errors='replace').strip()}")
        finally:
            writer.close()


def local_config(port: int, logdir: str, password: str, owner: str = "") -> str:
    """A minimal Icecast 2.4 config for a loopback server (the tests and bench/load.py run
    one); deploy/icecast.xml is the documented example for operators."""
    return f"""<icecast>
  <limits><clients>20000</clients><sources>4</sources><queue-size>524288</queue-size>
    <client-timeout>30</client-timeout><header-timeout>15</header-timeout>
    <source-timeout>10</source-timeout><burst-size>65535</burst-size></limits>
  <authentication><source-password>{password}</source-password>
    <admin-user>admin</admin-user><admin-password>{password}</admin-password></authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket><port>{port}</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <paths><basedir>/usr/share/icecast2</basedir><logdir>{logdir}</logdir>
    <webroot>/usr/share/icecast2/web</webroot><adminroot>/usr/share/icecast2/admin</adminroot></paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>2</loglevel></logging>
  <security><chroot>0</chroot>{owner}</security>
</icecast>
"""


def run_local_server(port: int, logdir, password: str):
    """Starts Debian's icecast2 on loopback (as nobody when we are root: it refuses root)."""
    import os
    import subprocess
    from pathlib import Path
    logdir = Path(logdir)
    owner = "<changeowner><user>nobody</user><group>nogroup</group></changeowner>" if os.getuid() == 0 else ""
    logdir.chmod(0o777)
    conf = logdir / "icecast.xml"
    conf.write_text(local_config(port, str(logdir), password, owner))
    return subprocess.Popen(["icecast2", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
