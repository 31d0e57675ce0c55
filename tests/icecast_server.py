"""A real Icecast server on loopback for the tests and bench/load.py: Debian's icecast2
with a minimal config (deploy/icecast.xml is the documented example for operators)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def local_config(port: int, logdir: str, password: str, owner: str = "") -> str:
    """A minimal Icecast 2.4 config for a loopback server."""
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
    logdir = Path(logdir)
    owner = "<changeowner><user>nobody</user><group>nogroup</group></changeowner>" if os.getuid() == 0 else ""
    logdir.chmod(0o777)
    conf = logdir / "icecast.xml"
    conf.write_text(local_config(port, str(logdir), password, owner))
    return subprocess.Popen(["icecast2", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
