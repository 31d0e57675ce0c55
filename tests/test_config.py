"""Settings: the documented TOML example loads; environment and flags override the file;
every bad key or value stops the start with a message that names it."""

from pathlib import Path

import pytest

from radio.config import ConfigError, Settings, default_data_folder
from radio.generator.mix import start_mix

EXAMPLE = Path(__file__).parent.parent / "deploy" / "radio.toml"


def test_the_example_file_loads_and_env_and_flags_win(tmp_path):
    s = Settings.from_env(env={}, config=EXAMPLE)
    assert s.host == "0.0.0.0" and s.data == "/var/lib/latent-radio" and s.temperature == 1.0
    s = Settings.from_env(env={"RADIO_CONFIG": str(EXAMPLE), "RADIO_PORT": "9000"}, port=None, bitrate=192)
    assert s.port == 9000 and s.bitrate == 192 and s.log_format == "json"


@pytest.mark.parametrize("text,message", [
    ('prot = 8000', "unknown key 'prot'; did you mean 'port'?"),
    ('port = "8000"', "port = '8000' should be a int"),
    ('humanize = 1', "humanize = 1 should be a bool"),
    ('temperature = 5', "temperature=5.0: use a value in (0, 2]"),
    ('bitrate = 100', "bitrate=100: use an MPEG-1 Layer III rate"),
    ('log_format = "xml"', "log_format='xml'"),
    ('icecast = "icecast://host/radio"', "icecast://source:PASSWORD@HOST:PORT/NAME"),
    ('admin_token = "short"', "admin_token: use at least 12 characters"),
    ('port = ', "not valid TOML"),
    ('mix = 3', "mix = 3 should be a dict"),
])
def test_bad_settings_name_the_key_and_the_fix(tmp_path, text, message):
    path = tmp_path / "radio.toml"
    path.write_text(text + "\n")
    with pytest.raises(ConfigError) as e:
        Settings.from_env(env={}, config=path)
    assert message in str(e.value)


def test_missing_file_and_bad_environment_are_clear(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        Settings.from_env(env={}, config=tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="RADIO_PORT='http' is not a valid int"):
        Settings.from_env(env={"RADIO_PORT": "http"})


def test_the_mix_table_is_checked_against_the_seed_sets(tmp_path):
    s = Settings.from_env(env={}, config=EXAMPLE)
    mix = start_mix(s, {"funk": [], "ska": []})
    assert mix.mode == "walk" and mix.groove == {"preset": "default", "ghost_notes": 0.1}
    assert mix.sets == {"funk": 1.0, "ska": 1.0}
    for table, message in (({"sets": {"punk": 1}}, "mix: sets: no seed set named 'punk'"),
                           ({"groove": {"swing": 2}}, "mix: groove: swing=2"),
                           ({"volume": 3}, "mix: unknown field(s) ['volume']")):
        with pytest.raises(ConfigError) as e:
            start_mix(Settings.from_env(env={}, mix=table), {"funk": []})
        assert message in str(e.value)
    env = {"RADIO_MIX": '{"mode": "loop", "loop_bars": 2}'}
    assert start_mix(Settings.from_env(env=env), {"funk": []}).loop_bars == 2


def test_config_is_a_leaf_and_the_data_folder_is_per_user(tmp_path):
    """Importing the settings loads nothing else of the station; the default data folder is
    $XDG_DATA_HOME/latent-radio whatever the working directory; RADIO_DATA still wins."""
    import subprocess
    import sys
    probe = ("import sys, radio.config; print(sorted(m for m in sys.modules if m.startswith('radio.')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent.parent).stdout
    # contracts (the error base) and the package's note_seq hook (support/lazy_imports.py, run by radio/__init__.py)
    assert out.strip() == "['radio.config', 'radio.contracts', 'radio.support', 'radio.support.lazy_imports']"
    assert default_data_folder({"XDG_DATA_HOME": str(tmp_path)}) == str(tmp_path / "latent-radio")
    assert default_data_folder({}) == str(Path.home() / ".local" / "share" / "latent-radio")
    assert Settings.from_env(env={}).data == default_data_folder()
    assert Settings.from_env(env={"RADIO_DATA": str(tmp_path)}).data == str(tmp_path)


def test_serve_names_an_old_data_folder_in_the_working_directory(tmp_path):
    """`radio serve` started where an old ./data is, with the default data folder, says so."""
    import os
    import subprocess
    import sys
    (tmp_path / "data" / "seeds").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k != "RADIO_DATA"}
    env.update(XDG_DATA_HOME=str(tmp_path / "xdg"), RADIO_PORT="1", RADIO_HOST="256.0.0.1",
               PYTHONPATH=str(Path(__file__).parent.parent))
    proc = subprocess.run([sys.executable, "-m", "radio", "serve", "--port", "1"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert "./data looks like a data folder from an earlier version" in proc.stdout, proc.stdout + proc.stderr
    assert str(tmp_path / "xdg" / "latent-radio") in proc.stdout
    assert (tmp_path / "xdg" / "latent-radio" / "seeds" / "rock").is_dir()   # copied at start
