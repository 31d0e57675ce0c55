"""Channels: which stations one server runs, and the settings each plays.

`main` always runs: today's URLs are its, its folder is the data folder itself and it
plays the top-level settings. Every other channel is a `[channels.<name>]` table in the
TOML (title, description, mix) or one an admin added through the API. A channel's state,
history, votes and HLS live in <data>/channels/<name>/; the seed sets, models and caches
are shared. What the API adds, changes or removes is kept in <data>/channels.json and wins
over the TOML, channel by channel, until removed (a removal is kept too, so the TOML does
not bring the channel back at the next start); `radio doctor` shows which applies.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import urllib.parse
from pathlib import Path

from ..config import ConfigError, Settings

MAIN = "main"
NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
# first path segments the server routes itself: a channel named so would be unreachable
RESERVED = frozenset({"api", "hls", "static", "metrics", "healthz", "stream", "listen", "channels", "openapi",
                      "favicon.ico", "robots.txt"})
FIELDS = ("title", "description", "mix")
BOOK = "channels.json"


class ChannelError(ConfigError):
    """A channel that cannot be: the message names the channel and the field."""


@dataclasses.dataclass(frozen=True)
class ChannelSpec:
    name: str
    title: str
    description: str
    mix: dict

    def to_json(self) -> dict:
        return {"name": self.name, "title": self.title, "description": self.description, "mix": self.mix}


def check_name(name) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ChannelError(f"channel name {name!r:.60}: use 1–32 of a-z 0-9 - (lower case, not starting with -)")
    if name in RESERVED:
        raise ChannelError(f"channel name {name!r} is a path the server uses itself; choose another")
    return name


def parse(name, table, base: Settings, where: str = "channels") -> ChannelSpec:
    """A channel from a table (TOML, JSON): unknown fields and wrong types are refused by name."""
    check_name(name)
    if not isinstance(table, dict):
        raise ChannelError(f"{where}.{name}: expected a table of {', '.join(FIELDS)}")
    for key, value in table.items():
        if key not in FIELDS:
            raise ChannelError(f"{where}.{name}.{key!s:.40}: unknown field; use {', '.join(FIELDS)}")
        kind = dict if key == "mix" else str
        if not isinstance(value, kind) or kind is str and not 0 < len(value.strip()) <= 200:
            raise ChannelError(f"{where}.{name}.{key}: expected {'a table' if kind is dict else '1–200 characters'}")
    default_title = base.name if name == MAIN else f"{base.name} · {name}"
    return ChannelSpec(name, table.get("title", default_title).strip(),
                       table.get("description", base.description).strip(),
                       dict(table.get("mix", base.mix if name == MAIN else {})))


def folder_of(settings: Settings, name: str) -> Path:
    return Path(settings.data) if name == MAIN else Path(settings.data) / "channels" / name


def settings_for(settings: Settings, spec: ChannelSpec) -> Settings:
    """The settings a channel's station plays: its own folder, title, description, mix and
    Icecast mount (the configured mount, then -<name>); the seed folder stays the shared one."""
    icecast = settings.icecast
    if icecast and spec.name != MAIN:
        url = urllib.parse.urlsplit(icecast)
        icecast = urllib.parse.urlunsplit(url._replace(path=f"/{url.path.strip('/')}-{spec.name}"))
    return dataclasses.replace(settings, data=str(folder_of(settings, spec.name)), seeds=str(settings.seed_folder()),
                               name=spec.title, description=spec.description, mix=dict(spec.mix),
                               icecast=icecast, channels={})


class ChannelBook:
    """The channels there should be: main, the TOML's tables, then the API's entries."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.path = Path(settings.data) / BOOK
        if not isinstance(settings.channels, dict):
            raise ChannelError("channels: expected [channels.<name>] tables")
        self.toml = {name: parse(name, table, settings) for name, table in settings.channels.items()}
        self.saved = self._load()       # name → spec, or None: removed through the API
        if len(self.specs()) > settings.max_channels:
            raise ChannelError(f"channels: {len(self.specs())} channels (main included) are over "
                               f"max_channels={settings.max_channels}; raise it or remove some")

    def _load(self) -> dict:
        try:
            raw = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as e:
            raise ChannelError(f"{self.path}: not a channel list ({str(e)[:100]}); fix or remove it") from None
        if not isinstance(raw, dict):
            raise ChannelError(f"{self.path}: not a channel list; fix or remove it")
        return {name: None if table is None else parse(name, table, self.settings, where=str(self.path))
                for name, table in raw.items()}

    def specs(self) -> dict[str, ChannelSpec]:
        """Name → spec, main first."""
        out = {MAIN: parse(MAIN, {}, self.settings)}
        out.update(self.toml)
        for name, spec in self.saved.items():
            if spec is None:
                out.pop(name, None)
            else:
                out[name] = spec
        if MAIN not in out:             # a book that removed main (by hand): main still plays
            out = {MAIN: parse(MAIN, {}, self.settings), **out}
        return {MAIN: out.pop(MAIN), **out}

    def sources(self) -> dict[str, str]:
        """Name → where its definition comes from (radio doctor)."""
        out = {MAIN: "settings", **{name: "toml" for name in self.toml}}
        for name, spec in self.saved.items():
            out[name] = "api (removed)" if spec is None else "api"
        return out

    def put(self, spec: ChannelSpec) -> None:
        self.saved[spec.name] = spec
        self._save()

    def remove(self, name: str) -> None:
        self.saved[name] = None
        self._save()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({n: None if s is None else {k: v for k, v in s.to_json().items() if k != "name"}
                                   for n, s in self.saved.items()}, indent=1))
        os.replace(tmp, self.path)


# What one more channel costs, measured by bench/channels.py on 2 cores (bench/results/
# channels-*-2026-12-05-xeon.txt): the machine's available memory fell by ~260 MB per channel
# (its RSS grew by 305–319 MB, counting shared pages again), and a channel with a listener
# kept the box 0.024 of a core busy (its generator, master and MP3 encoder); rounded up.
CHANNEL_MB = 300
CHANNEL_CPU = 0.03
SERVER_MB = 200             # the server process itself, before its channels


def capacity(cores: int | None = None, available_mb: float | None = None) -> tuple[int, str]:
    """(about how many channels this machine holds, "memory" or "CPU": what runs out first),
    keeping a fifth of the CPU and of the memory for listeners and the system."""
    cores = cores or len(os.sched_getaffinity(0))
    if available_mb is None:
        available_mb = _available_mb()
    by_memory = int(max(0.0, 0.8 * available_mb - SERVER_MB) // CHANNEL_MB)
    by_cpu = int(0.8 * cores / CHANNEL_CPU)
    return min(by_memory, by_cpu), "memory" if by_memory < by_cpu else "CPU"


def _available_mb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0
