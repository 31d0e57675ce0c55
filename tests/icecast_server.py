"""A real Icecast server on loopback for the tests and bench/load.py: Debian's icecast2
with a minimal config (deploy/icecast.xml is the documented example for operators)."""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

RELAY_EXAMPLE = Path(__file__).parent.parent / "deploy" / "scale-out" / "icecast-relay.xml"


def local_config(port: int, logdir: str, password: str, owner: str = "") -> str:
    """A minimal Icecast 2.4 config for a loopback server."""
    return f"""<icecast>
  <limits><clients>20000</clients><sources>4</sources><queue-size>524288</queue-size>
    <client-timeout>30</client-timeout><header-timeout>15</header-timeout>
    <source-timeout>10</source-timeout><burst-size>65535</burst-size></limits>
  <authentication><source-password>{password}</source-password><relay-password>{password}</relay-password>
    <admin-user>admin</admin-user><admin-password>{password}</admin-password></authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket><port>{port}</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <paths><basedir>/usr/share/icecast2</basedir><logdir>{logdir}</logdir>
    <webroot>/usr/share/icecast2/web</webroot><adminroot>/usr/share/icecast2/admin</adminroot></paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>2</loglevel></logging>
  <security><chroot>0</chroot>{owner}</security>
</icecast>
"""


def _owner() -> str:
    return "<changeowner><user>nobody</user><group>nogroup</group></changeowner>" if os.getuid() == 0 else ""


def run_local_server(port: int, logdir, password: str):
    """Starts Debian's icecast2 on loopback (as nobody when we are root: it refuses root)."""
    return _run(local_config(port, str(logdir), password, _owner()), logdir)


def run_relay(port: int, logdir, master_port: int, password: str):
    """deploy/scale-out/icecast-relay.xml as shipped, on loopback: only its addresses,
    paths and password changed."""
    root = ET.parse(RELAY_EXAMPLE).getroot()
    for path, value in (("master-server", "127.0.0.1"), ("master-server-port", str(master_port)),
                        ("master-password", password), ("hostname", "127.0.0.1"),
                        ("listen-socket/port", str(port)), ("paths/logdir", str(logdir)), ("logging/loglevel", "2")):
        root.find(path).text = value
    ET.SubElement(root.find("listen-socket"), "bind-address").text = "127.0.0.1"
    if _owner():
        root.find("security").append(ET.fromstring(_owner()))
    return _run(ET.tostring(root, encoding="unicode"), logdir)


def _run(config: str, logdir):
    logdir = Path(logdir)
    logdir.chmod(0o777)
    conf = logdir / "icecast.xml"
    conf.write_text(config)
    return subprocess.Popen(["icecast2", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
