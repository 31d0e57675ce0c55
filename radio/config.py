"""Station settings: one object, defaults that work offline, RADIO_* environment overrides.

It imports nothing of the package but contracts (the error base; tests/test_layering.py
checks) and does nothing but read and check settings (no folders made, no files copied; the station does that when
it starts). Which sound presets and soundfonts exist is the sound stage's to check
(radio/generator/mix.py `start_mix`, radio/sound/soundfonts.py).

Secrets stay out of messages: two settings hold one, `admin_token` and the password in the
`icecast` URL; every message that quotes a setting's value goes through `shown_value`, a
URL through `shown_url`.
"""

from __future__ import annotations

import base64
import dataclasses
import difflib
import ipaddress
import os
import re
import urllib.parse
from pathlib import Path

from .contracts import BadValue, RadioError

ASSETS = Path(__file__).parent / "assets"
DEFAULT_MODEL_DIR = ASSETS / "model"     # the model that ships with the package
SECRET_FIELDS = {"admin_token"}
HIDDEN = "***"
# scheme://user:password@host → scheme://user:***@host (the user may be empty)
_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/@:\s]*):(?P<password>[^@\s]*)@")


class ConfigError(RadioError):
    """A setting that cannot work; the message names the setting and the fix."""
    status = 400


def shown_url(text: str) -> str:
    """`text` with the password of every URL in it replaced by ***."""
    return _USERINFO.sub(lambda m: f"{m['head']}:{HIDDEN}@", str(text))


def shown_value(field: str, raw) -> str:
    """How a message may quote setting `field`'s value `raw` (a repr)."""
    if field in SECRET_FIELDS:
        return HIDDEN
    return repr(shown_url(raw)) if isinstance(raw, str) else repr(raw)


def parse_networks(spec: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """The networks of a setting like "127.0.0.1, 10.0.0.0/8" (`trusted_proxies`);
    ValueError names a bad entry. IPv4-mapped IPv6 networks count as their IPv4 one."""
    out = []
    for item in (s.strip() for s in (spec or "").split(",")):
        if not item:
            continue
        try:
            net = ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ConfigError(f"trusted_proxies: {item!r} is not an address or network "
                             f"(e.g. 127.0.0.1 or 10.0.0.0/8)") from None
        if isinstance(net, ipaddress.IPv6Network) and net.network_address.ipv4_mapped is not None \
                and net.prefixlen >= 96:
            net = ipaddress.ip_network(f"{net.network_address.ipv4_mapped}/{net.prefixlen - 96}")
        out.append(net)
    return tuple(out)


def default_data_folder(env=os.environ) -> str:
    """The per-user data folder: $XDG_DATA_HOME/latent-radio (~/.local/share/latent-radio).
    Never the working directory; RADIO_DATA, `data` in TOML or --data choose another."""
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "latent-radio")


@dataclasses.dataclass(frozen=True)
class IcecastTarget:
    """Where the Icecast push goes: icecast://source:PASSWORD@HOST:PORT/NAME."""
    host: str
    port: int
    user: str
    password: str = dataclasses.field(repr=False)   # never shown: see shown_url
    name: str = ""

    @classmethod
    def parse(cls, url: str) -> "IcecastTarget":
        shown = shown_url(url)          # messages never carry the password
        try:
            u = urllib.parse.urlsplit(url)
            port = u.port
        except ValueError as e:            # a bad port, a bad IPv6 literal
            raise ConfigError(f"icecast={shown!r}: {shown_url(str(e))}; "
                              f"expected icecast://source:PASSWORD@HOST:PORT/NAME") from None
        if u.scheme not in ("icecast", "http") or not u.hostname or not u.password:
            raise ConfigError(f"icecast={shown!r}: expected icecast://source:PASSWORD@HOST:PORT/NAME")
        name = u.path.strip("/")
        if not name or "/" in name:
            raise ConfigError(f"icecast={shown!r}: give one mount name after the port, e.g. /radio")
        return cls(u.hostname, port or 8000, urllib.parse.unquote(u.username or "source"),
                   urllib.parse.unquote(u.password), name)

    def auth(self) -> str:
        return "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()


def json_object(raw: str) -> dict:
    """A JSON object from text (RADIO_MIX, --mix, --hparams); ValueError otherwise."""
    import json
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise BadValue("not a JSON object")
    return value


@dataclasses.dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    model: str = str(DEFAULT_MODEL_DIR)
    engine: str = "numpy"               # numpy (radio/model, no TensorFlow) or tf (magenta's graph)
    data: str = dataclasses.field(default_factory=default_data_folder)  # seed sets, state, history
    seeds: str = ""                     # empty: <data>/seeds, first filled from the shipped sets
    soundfont: str = ""                 # empty: the first GM soundfont radio/sound/soundfonts.py finds
    temperature: float = 1.0            # sampling temperature; chosen by bench/model_quality.py
    steps_per_leg: int = 8              # walk steps from one anchor to the next
    qpm: float = 0.0                    # 0: follow the seeds' tempi
    lead_program: int = -1              # a GM program 0–127 for every style; -1: the sound preset's
    bass_program: int = -1
    sound: str = ""                     # a sound preset for every style; empty: each set's own
    loudness_lufs: float = -16.0        # integrated loudness of the stream and of generated files
    plugins: dict = dataclasses.field(default_factory=dict)  # part → VST3 file, TOML only
    humanize: bool = True
    seed: int = 0
    bitrate: int = 128                  # MP3 kbps, CBR
    opus_bitrate: int = 96              # Ogg/Opus kbps
    admin_token: str = dataclasses.field(default="", repr=False)   # empty: the admin API is off
    history_segments: int = 32          # played segments kept for /api/history and MIDI
    name: str = "latent radio"          # what players show (icy-name)
    description: str = "drums, bass and lead from a walk through a MusicVAE latent space"  # icy-description
    icecast: str = dataclasses.field(default="", repr=False)   # icecast://source:PASSWORD@HOST:PORT/NAME
    hls: bool = True                    # HLS segments + playlist in <data>/hls, served at /hls/
    lead_segments: int = 2              # segments the generator keeps ahead of playback
    watchdog_seconds: float = 60.0      # a segment overdue this long (and 3× the median) restarts the generator
    burst_seconds: float = 2.0          # audio a new listener gets at once
    log_format: str = "json"            # json: one object per line, for log collectors; or text
    trusted_proxies: str = ""           # addresses/networks whose X-Forwarded-For is believed, e.g. "127.0.0.1"
    origins: str = ""                   # browser origins besides our own that may vote, e.g. "https://a.example"
    mix: dict = dataclasses.field(default_factory=dict)  # the starting style mix (radio/generator/mix.py)
    channels: dict = dataclasses.field(default_factory=dict)  # [channels.<name>] tables (station/channels.py)
    max_channels: int = 4               # channels one server runs, `main` included

    @classmethod
    def from_env(cls, env=os.environ, config: str | Path | None = None, **overrides) -> "Settings":
        """Defaults, then the TOML file (`config` or RADIO_CONFIG), then RADIO_* variables,
        then `overrides` (command-line flags); checked as a whole."""
        config = config or env.get("RADIO_CONFIG")
        values = cls.read_toml(Path(config)) if config else {}
        for f in dataclasses.fields(cls):
            raw = env.get("RADIO_" + f.name.upper())
            if raw is None:
                continue
            try:
                values[f.name] = (raw.lower() in ("1", "true", "yes")) if f.type == "bool" else \
                    {"int": int, "float": float, "dict": json_object}.get(f.type, str)(raw)
            except ValueError:
                raise ConfigError(f"RADIO_{f.name.upper()}={shown_value(f.name, raw)} "
                                  f"is not a valid {f.type}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        settings.check()
        return settings

    @classmethod
    def read_toml(cls, path: Path) -> dict:
        """The settings of a TOML file (flat keys, as in deploy/radio.toml); every unknown
        key or wrong type is an error naming the key and the fix."""
        import tomllib
        try:
            with open(path, "rb") as f:
                data = tomllib.load(f)
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist (RADIO_CONFIG / --config)") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: not valid TOML ({e})") from None
        fields = {f.name: f.type for f in dataclasses.fields(cls)}
        types = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,), "dict": (dict,)}
        for key, value in data.items():
            if key not in fields:
                close = difflib.get_close_matches(key, fields, n=1)
                raise ConfigError(f"{path}: unknown key {key!r}" + (f"; did you mean {close[0]!r}?" if close else
                                  f"; known keys: {', '.join(fields)}"))
            if isinstance(value, bool) and fields[key] != "bool" or not isinstance(value, types[fields[key]]):
                raise ConfigError(f"{path}: {key} = {shown_value(key, value)} should be a {fields[key]}")
        return {k: float(v) if fields[k] == "float" else v for k, v in data.items()}

    def origin_list(self) -> list[str]:
        """The `origins` setting as a list (trailing slashes dropped)."""
        return [o.strip().rstrip("/") for o in self.origins.split(",") if o.strip()]

    def proxy_networks(self) -> tuple:
        """The `trusted_proxies` setting, parsed (parse_networks)."""
        return parse_networks(self.trusted_proxies)

    def seed_folder(self) -> Path:
        return Path(self.seeds) if self.seeds else Path(self.data) / "seeds"

    def check(self) -> None:
        for name in ("lead_program", "bass_program"):
            if not -1 <= getattr(self, name) <= 127:
                raise ConfigError(f"{name}={getattr(self, name)}: a GM program is 0–127 (-1: the sound preset's)")
        if not -40.0 <= self.loudness_lufs <= -5.0:
            raise ConfigError(f"loudness_lufs={self.loudness_lufs}: use -40 to -5 LUFS (streams sit at -14 to -16)")
        for part, path in self.plugins.items():
            if part not in ("lead", "bass", "drums") or not isinstance(path, str):
                raise ConfigError(f"plugins.{part}: use lead, bass or drums = \"/path/to/plugin.vst3\"")
            if not Path(path).exists():
                raise ConfigError(f"plugins.{part}: {path} does not exist")
        if self.engine not in ("numpy", "tf"):
            raise ConfigError(f"engine={self.engine!r}: use numpy (no TensorFlow) or tf (magenta's graph)")
        if not 0 < self.temperature <= 2:
            raise ConfigError(f"temperature={self.temperature}: use a value in (0, 2]")
        if self.steps_per_leg < 1:
            raise ConfigError("steps_per_leg must be at least 1")
        if self.bitrate not in (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320):
            raise ConfigError(f"bitrate={self.bitrate}: use an MPEG-1 Layer III rate such as 128")
        if not 6 <= self.opus_bitrate <= 510:
            raise ConfigError(f"opus_bitrate={self.opus_bitrate}: Opus takes 6–510 kbps")
        if self.admin_token and len(self.admin_token) < 12:
            raise ConfigError("admin_token: use at least 12 characters (or leave it empty to turn the admin API off)")
        if self.log_format not in ("json", "text"):
            raise ConfigError(f"log_format={self.log_format!r}: use \"json\" or \"text\"")
        if self.icecast:
            IcecastTarget.parse(self.icecast)
        if self.watchdog_seconds < 1:
            raise ConfigError(f"watchdog_seconds={self.watchdog_seconds}: use at least 1 (default 60)")
        self.proxy_networks()
        for origin in self.origin_list():
            if not re.fullmatch(r"https?://[^/\s]+", origin):
                raise ConfigError(f"origins: {origin!r} is not an origin; use scheme://host[:port], "
                                  f"comma-separated, e.g. https://radio.example")
        if not 1 <= self.max_channels <= 64:
            raise ConfigError(f"max_channels={self.max_channels}: use 1–64 (each channel runs its own generator)")
        if not 1 <= self.port <= 65535:
            raise ConfigError(f"port={self.port}: use 1–65535")
