"""Settings: the documented TOML example loads; environment and flags override the file;
every bad key or value stops the start with a message that names it."""

from pathlib import Path

import pytest

from radio.config import ConfigError, Settings

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
    mix = s.start_mix({"funk": [], "ska": []})
    assert mix.mode == "walk" and mix.groove == {"preset": "default", "ghost_notes": 0.1}
    assert mix.sets == {"funk": 1.0, "ska": 1.0}
    for table, message in (({"sets": {"punk": 1}}, "mix: sets: no seed set named 'punk'"),
                           ({"groove": {"swing": 2}}, "mix: groove: swing=2"),
                           ({"volume": 3}, "mix: unknown field(s) ['volume']")):
        with pytest.raises(ConfigError) as e:
            Settings.from_env(env={}, mix=table).start_mix({"funk": []})
        assert message in str(e.value)
    env = {"RADIO_MIX": '{"mode": "loop", "loop_bars": 2}'}
    assert Settings.from_env(env=env).start_mix({"funk": []}).loop_bars == 2
