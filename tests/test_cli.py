"""The `radio` command as a user runs it: files written, measured; bad arguments refused."""

import os
import re
import subprocess
import sys

import note_seq
import pytest

from radio.offline.audiostats import decode_with_ffmpeg, longest_silence


def radio(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "radio", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_generate_wav_and_mid(tmp_path, artifacts):
    """32 bars of audio with no silence over 2 s; the MIDI of the same bars holds all three parts."""
    wav, mid = tmp_path / "x.wav", tmp_path / "x.mid"
    r = radio("generate", "--bars", "32", "--out", str(wav))
    assert r.returncode == 0, r.stderr[-2000:]
    r = radio("generate", "--bars", "32", "--out", str(mid))
    assert r.returncode == 0, r.stderr[-2000:]
    (artifacts / "generate-32.wav").write_bytes(wav.read_bytes())
    ns = note_seq.midi_file_to_note_sequence(str(mid))
    bar_seconds = [4 * 60 / t.qpm for t in ns.tempos]
    assert 32 * min(bar_seconds) - 0.05 <= ns.total_time <= 32 * max(bar_seconds) + 0.05
    drums = [n for n in ns.notes if n.is_drum]
    bass = [n for n in ns.notes if not n.is_drum and 32 <= n.program <= 39]
    lead = [n for n in ns.notes if not n.is_drum and not 32 <= n.program <= 39]
    assert drums and bass and lead, (len(drums), len(bass), len(lead))
    pcm = decode_with_ffmpeg(wav.read_bytes())
    seconds = pcm.shape[1] / 44100
    assert 32 * min(bar_seconds) - 0.1 <= seconds <= 32 * max(bar_seconds) + 0.1
    assert longest_silence(pcm) < 2.0, longest_silence(pcm)


def test_generate_mp3(tmp_path):
    out = tmp_path / "x.mp3"
    r = radio("generate", "--bars", "4", "--out", str(out))
    assert r.returncode == 0, r.stderr[-2000:]
    assert decode_with_ffmpeg(out.read_bytes()).shape[1] / 44100 > 4.0


def test_generate_songs_writes_an_album(tmp_path):
    """--songs N: N whole songs, titled, as MIDI files (2–6 min each, every part), and an M3U."""
    out = tmp_path / "album"
    r = radio("generate", "--songs", "2", "--out", str(out), "--seed", "3")
    assert r.returncode == 0, r.stderr[-2000:]
    files = sorted(out.glob("*.mid"))
    lines = (out / "album.m3u").read_text().splitlines()
    assert lines[0] == "#EXTM3U" and lines[2::2] == [f.name for f in files] and len(files) == 2
    assert files[0].name.startswith("01 - ") and files[0].stem[5:] != files[1].stem[5:]
    for f in files:
        ns = note_seq.midi_file_to_note_sequence(str(f))
        assert 120 <= ns.total_time <= 360, (f.name, ns.total_time)
        assert {n.is_drum for n in ns.notes} == {True, False}
    r = radio("generate", "--songs", "1", "--out", str(tmp_path / "x.mid"))
    assert r.returncode == 2 and "is a folder" in r.stderr


def test_bad_arguments_are_refused_clearly(tmp_path):
    r = radio("generate", "--bars", "4", "--out", str(tmp_path / "x.ogg"))
    assert r.returncode == 2 and "must end in .mid, .wav or .mp3" in r.stderr
    r = radio("generate", "--bars", "4", "--out", str(tmp_path / "x.wav"), "--model", str(tmp_path / "nope"))
    assert r.returncode == 1 and "does not exist" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "x.wav").exists()


def test_doctor_checks_everything():
    r = radio("doctor")
    assert r.returncode == 0, r.stdout + r.stderr
    for part in ("fluidsynth", "soundfont", "sound presets", "encoder", "seeds", "engine", "channels", "training",
                 "ffmpeg"):
        assert f"ok    {part}" in r.stdout
    assert "ok    channels: 1 of max_channels=4: main (settings); this machine holds about" in r.stdout
    r = radio("doctor", "--soundfont", "/nonexistent.sf2")
    assert r.returncode == 1 and "FAIL  soundfont" in r.stdout


def test_fetch_model_offline_says_where_to_get_it(tmp_path):
    env = {**os.environ, "RADIO_CHECKPOINT_BASE": "http://127.0.0.1:9/checkpoints"}  # nothing listens
    r = subprocess.run([sys.executable, "-m", "radio", "fetch-model", "hierdec-trio_16bar", "--dest", str(tmp_path)],
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "curl -LO http://127.0.0.1:9/checkpoints/hierdec-trio_16bar.tar" in r.stderr
    assert f"--model {tmp_path}/hierdec-trio_16bar.tar" in r.stderr
    assert not list(tmp_path.iterdir())  # no partial file left behind
    r = subprocess.run([sys.executable, "-m", "radio", "fetch-model", "mel_2bar"], capture_output=True, text=True)
    assert r.returncode == 2 and "known: hierdec-trio_16bar, flat-trio_16bar" in r.stderr


NOISE = re.compile(r"tensorflow|absl|onednn|cudart|cuda|cuinit|^[IWEF]\d{4} |deprecat|tf_keras",
                   re.IGNORECASE | re.MULTILINE)


def test_commands_are_quiet_unless_verbose(tmp_path):
    """A command that loads TensorFlow prints none of its start-up logs; --verbose shows them."""
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "GRPC_VERBOSITY")}
    runs = {}
    for flags in ((), ("--verbose",)):
        out = tmp_path / f"x{len(flags)}.mid"
        r = subprocess.run([sys.executable, "-m", "radio", *flags, "generate", "--engine", "tf", "--bars", "16", "--out", str(out),
                            "--data", str(tmp_path / "data")], capture_output=True, text=True, timeout=600, env=env)
        assert r.returncode == 0 and out.exists(), r.stderr[-2000:]
        runs[flags] = r.stderr
    assert not NOISE.search(runs[()]), runs[()][-2000:]
    assert len(NOISE.findall(runs[("--verbose",)])) >= 2, runs[("--verbose",)][-2000:]


def test_loading_keeps_other_stderr_lines(capfd, monkeypatch):
    """While TensorFlow loads, only its native log lines are dropped: the rest comes out after."""
    from radio.support import quiet
    monkeypatch.setattr(quiet, "VERBOSE", False)
    with quiet.loading():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
                    b"I0000 00:00:1795651656.230055    8503 port.cc:153] oneDNN custom operations are on.\n"
                    b"a log line of another thread\n"
                    b"an error\n")
    assert capfd.readouterr().err == "a log line of another thread\nan error\n"


def test_no_command_writes_in_the_working_directory(tmp_path, song_dir):
    """With no data folder named (no RADIO_DATA, no --data), `radio complete` on a model
    whose numpy weights are not converted yet and `radio doctor` on the same model put what
    they make in the per-user data folder ($XDG_DATA_HOME/latent-radio), and the band where
    --out says; the working directory stays empty."""
    import json
    from pathlib import Path

    from radio.model.tf_engine import write_random_checkpoint
    small = {"z_size": 8, "enc_rnn_size": [16], "dec_rnn_size": [16, 16]}
    model = tmp_path / "small-model"
    write_random_checkpoint(model, "hierdec-trio_16bar", small)
    (model / "model.json").write_text(json.dumps({"config": "hierdec-trio_16bar", "hparams": small}))
    work, xdg, out = tmp_path / "work", tmp_path / "xdg", tmp_path / "out" / "band.mid"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("RADIO_DATA", "XDG_DATA_HOME", "RADIO_SEEDS")}
    env.update(XDG_DATA_HOME=str(xdg), PYTHONPATH=str(Path(__file__).parent.parent))
    song = sorted(song_dir.glob("*.mid"))[0]
    for args in (["complete", str(song), "--keep", "bass", "--model", str(model), "--candidates", "4",
                  "--out", str(out)], ["doctor", "--model", str(model)]):
        r = subprocess.run([sys.executable, "-m", "radio", *args], cwd=work, env=env, capture_output=True,
                           text=True, timeout=600)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert sorted(work.iterdir()) == []
    assert out.is_file()
    assert len(list((xdg / "latent-radio" / "models").glob("small-model-*.npz"))) == 1


def test_a_command_that_needs_the_train_extra_names_how_to_add_it():
    """Looked up without importing: what is missing is named, with the command that adds it."""
    from radio.support import extras
    with pytest.raises(extras.ExtraMissing, match="radio train needs the train extra .no_such_module_zz not "
                                                  "installed.; add it with `make train-deps`"):
        extras.require("radio train", ("no_such_module_zz", "json"))
    assert extras.missing(("json", "no_such_module_zz")) == ["no_such_module_zz"]
    assert extras.training().startswith("available: tensorflow 2.21.0")     # make test's venv has it
