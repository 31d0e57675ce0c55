"""`radio train`: held-out metrics, bounded disk, resume after Ctrl-C, fine-tuning, export."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from radio import cli
from radio.model import tf_engine as model_lib
from radio.offline import train

TINY = '{"z_size": 8, "enc_rnn_size": [16], "dec_rnn_size": [16, 16]}'


def _weights(folder: Path) -> dict:
    tf = model_lib._tf()
    reader = tf.train.load_checkpoint(str(folder / "model.ckpt"))
    return {n: reader.get_tensor(n) for n in reader.get_variable_to_shape_map()}


@pytest.fixture(scope="module")
def sets(tmp_path_factory, song_dir):
    """Two seed sets of real mma songs."""
    root = tmp_path_factory.mktemp("sets")
    songs = sorted(song_dir.glob("*.mid"))
    for name, files in (("one", songs[:2]), ("two", songs[2:])):
        (root / name).mkdir()
        for f in files:
            (root / name / f.name).write_bytes(f.read_bytes())
    return root


def _train(tmp_path, sets, *extra):
    return cli.main(["train", "--sets", str(sets), "--out", str(tmp_path / "model"),
                     "--work", str(tmp_path / "work"), "--hparams", TINY, "--batch-size", "4",
                     "--eval-every", "2", "--keep", "2", *extra])


def test_train_export_resume(tmp_path, sets, capsys):
    assert _train(tmp_path, sets, "--steps", "4") == 0
    out = capsys.readouterr().out
    assert "one: " in out and "two: " in out and "held out by file" in out
    card = json.loads((tmp_path / "model" / "model.json").read_text())
    assert card["steps"] == 4 and card["hparams"]["z_size"] == 8
    assert card["metrics"]["held_out_r_loss"] > 0 and "held_out_kl_bits" in card["metrics"]
    assert card["metrics"]["steps_per_second"] > 0
    weights = _weights(tmp_path / "model")
    assert weights and not [n for n in weights if "Adam" in n or "power" in n]  # no optimizer slots
    # resumed, not restarted: 4 more steps to 8, and only the last 2 checkpoints kept
    assert _train(tmp_path, sets, "--steps", "8") == 0
    assert "4 steps in" in capsys.readouterr().out
    assert json.loads((tmp_path / "model" / "model.json").read_text())["steps"] == 8
    assert len(list((tmp_path / "work").glob("model.ckpt-*.index"))) == 2
    assert not list((tmp_path / "work").glob("events.*"))  # no summaries filling the disk
    m = model_lib.TrioModel(tmp_path / "model", batch_size=2)  # the export loads and decodes
    assert len(m.decode(np.zeros((2, 8), np.float32))) == 2


def test_fine_tune_starts_from_the_given_weights(tmp_path, sets, capsys):
    base = tmp_path / "base"
    model_lib.write_random_checkpoint(base, hparams=json.loads(TINY) | {"batch_size": 4})
    model_lib.ModelCard(config="hierdec-trio_16bar", hparams=json.loads(TINY) | {"batch_size": 4}).write(base)
    # in bfloat16 products, as on a CPU with AMX (float32 weights all the same)
    assert cli.main(["train", "--sets", str(sets / "one"), "--from", str(base), "--out", str(tmp_path / "tuned"),
                     "--work", str(tmp_path / "work"), "--steps", "2", "--precision", "bfloat16"]) == 0
    assert "matrix products in bfloat16" in capsys.readouterr().out
    before, after = _weights(base), _weights(tmp_path / "tuned")
    assert set(after) <= set(before)
    # two Adam steps at lr 0.002 move each weight by at most ~0.004: a fresh init would not match
    for name, value in after.items():
        if name != "global_step":
            assert np.abs(value - before[name]).max() < 0.01, name
    notes = json.loads((tmp_path / "tuned" / "model.json").read_text())["notes"]
    assert "fine-tuned from" in notes and "matrix products in bfloat16" in notes
    assert all(v.dtype in (np.float32, np.int64) for v in after.values())
    # a model of another shape is refused with the reason
    capsys.readouterr()
    assert cli.main(["train", "--sets", str(sets / "one"), "--from", str(base), "--out", str(tmp_path / "x"),
                     "--work", str(tmp_path / "work2"), "--steps", "2", "--hparams", '{"z_size": 16}']) == 1
    assert "does not fit this architecture" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_refuses_to_fill_the_disk(tmp_path, sets, monkeypatch, converter):
    import shutil
    segments, _ = train.load_sets({"one": sets / "one"}, converter, progress=False)
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(train.shutil, "disk_usage", lambda p: usage._replace(free=5 * 2**20))
    with pytest.raises(train.TrainError, match=r"only 5 MB free .* training needs \d+ MB"):
        train.train(segments, tmp_path / "work", hparams=json.loads(TINY) | {"batch_size": 4},
                    steps=2, progress=False)
    assert not (tmp_path / "work").exists()


def test_ctrl_c_saves_and_training_resumes(tmp_path, sets):
    env = {**os.environ, "RADIO_DATA": str(tmp_path / "data")}
    args = [sys.executable, "-m", "radio", "train", "--sets", str(sets), "--out", str(tmp_path / "m"),
            "--work", str(tmp_path / "work"), "--hparams", TINY, "--batch-size", "4", "--steps", "100000"]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = ""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # the progress bar counts steps on stderr
        seen += proc.stderr.read(200)
        if "| 5/100000" in seen:
            break
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)
    assert proc.returncode == 130
    saved = tf_step(tmp_path / "work")
    assert saved >= 5
    # what was trained up to Ctrl-C is exported too, not only saved
    assert json.loads((tmp_path / "m" / "model.json").read_text())["steps"] == saved
    done = subprocess.run(args[:-1] + [str(saved + 2)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "2 steps in" in done.stdout
    assert json.loads((tmp_path / "m" / "model.json").read_text())["steps"] == saved + 2


def tf_step(work: Path) -> int:
    tf = model_lib._tf()
    return int(tf.train.latest_checkpoint(str(work)).rsplit("-", 1)[1])


def test_sets_by_name_or_folder(tmp_path, sets):
    library = tmp_path / "seeds"
    (library / "mine").mkdir(parents=True)
    found = train.set_folders(["mine", "rock", str(sets)], library)
    assert found["mine"] == library / "mine"              # the station's own set
    assert found["rock"].parent.name == "seeds" and found["rock"].is_dir()   # a shipped set
    assert {"one", "two"} <= set(found)                    # a corpus folder: one set per subfolder
    with pytest.raises(train.TrainError, match="neither a seed set .*mine.* nor a folder"):
        train.set_folders(["punk"], library)


def test_weighted_batches_and_early_stop(tmp_path, sets, capsys):
    # a learning rate that wrecks the model: the watched held-out loss stops improving at once
    hp = json.dumps(json.loads(TINY) | {"learning_rate": 5.0})
    assert cli.main(["train", "--sets", str(sets), "--out", str(tmp_path / "model"), "--work", str(tmp_path / "w"),
                     "--hparams", hp, "--batch-size", "4", "--eval-every", "1", "--steps", "60",
                     "--weight", "two=0.8", "--stop-on", "one", "--patience", "2", "--held-out", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "early stop on" in out and "stopped early" in out
    card = json.loads((tmp_path / "model" / "model.json").read_text())
    best = json.loads((tmp_path / "w" / "best" / "best.json").read_text())
    assert card["steps"] == best["step"] == card["metrics"]["best_step"] < 60
    assert card["metrics"]["watched_r_loss"] == pytest.approx(best["loss"], abs=1e-3)
    assert "batch shares {'two': 0.8}" in card["notes"]
    # the exported weights are the best step's, not the last step's
    assert _weights(tmp_path / "model")["global_step"] == best["step"]
    # run again: it resumes stopped, trains nothing more and exports the same step
    assert cli.main(["train", "--sets", str(sets), "--out", str(tmp_path / "model"), "--work", str(tmp_path / "w"),
                     "--hparams", hp, "--batch-size", "4", "--eval-every", "1", "--steps", "60",
                     "--weight", "two=0.8", "--stop-on", "one", "--patience", "2", "--held-out", "0.5"]) == 0
    assert "0 steps in" in capsys.readouterr().out
    assert json.loads((tmp_path / "w" / "best" / "best.json").read_text()) == best


def test_plan_errors_name_the_set(tmp_path, sets, capsys):
    base = ["train", "--sets", str(sets), "--out", str(tmp_path / "m"), "--work", str(tmp_path / "w"),
            "--hparams", TINY, "--batch-size", "4", "--steps", "1"]
    for extra, said in ((["--weight", "punk=0.5"], "--weight punk: no such set"),
                        (["--weight", "one"], "write SET=VALUE"),
                        (["--weight", "one=0.7", "--weight", "two=0.6"], "sum to ≤ 1"),
                        (["--stop-on", "punk"], "--stop-on punk: no such set"),
                        (["--transpose", "one=9"], "use 0…6 semitones"),
                        (["--echo-cap", "0.35"], "--echo-cap judges the songs of the sets named by --stop-on")):
        assert cli.main(base + extra) != 0
        assert said in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_learn_fine_tunes_one_set_stops_on_its_echo_and_names_the_model(tmp_path, song_dir, capsys):
    """`radio learn SET`: from the station's model, a quarter of the set's songs held out
    and scored, stopping on the walk's echo of the training songs (a cap nothing meets: it
    stops after --patience judgements over it and keeps the last step under it, the start),
    the model written to DATA/models/SET and named in the set's manifest, the work
    folder gone; `generate` plays the set on it; `seeds list` tells a model older than the set's files; too small a set is
    refused; removing the set removes its model."""
    from radio.music.seedsets import read_manifest, unlearned
    hp = json.loads(TINY) | {"batch_size": 4}
    base = tmp_path / "station-model"
    model_lib.write_random_checkpoint(base, hparams=hp)
    model_lib.ModelCard(config="hierdec-trio_16bar", hparams=hp).write(base)
    data = tmp_path / "data"
    band = data / "seeds" / "band"
    band.mkdir(parents=True)
    songs = sorted(song_dir.glob("*.mid"))
    for f in songs:
        (band / f.name).write_bytes(f.read_bytes())
    learn = ["learn", "band", "--data", str(data), "--model", str(base), "--batch-size", "4",
             "--eval-every", "1", "--patience", "2", "--steps", "60", "--echo-cap", "-1",
             "--hparams", '{"learning_rate": 0.001}']
    assert cli.main(learn) == 0
    out = capsys.readouterr().out
    assert "stops once the walk's echo" in out and "stopped early: the echo was over -1.0" in out
    assert "band learned" in out and "by step, the walk's echo" in out
    model = data / "models" / "band"
    card = json.loads((model / "model.json").read_text())
    assert card["steps"] == 0 and f"fine-tuned from {base}" in card["notes"] and "echo" in card["notes"]
    curve = card["metrics"]["held_out_curve"]               # [step, echo, held-out loss]
    assert card["hparams"]["learning_rate"] == 0.001 and [p[0] for p in curve] == [0, 1, 2]
    assert all(0 <= p[1] <= 1 and p[2] > 0 for p in curve)
    # the set's playing style under its model is in the card, and the model plays in it
    assert set(card["style"]) == {"lead", "bass"} and any(v for part in card["style"].values() for v in part.values())
    assert "playing style, which its model now plays in" in out
    assert not (data / "train" / "learn-band").exists()
    manifest = read_manifest(band)
    assert manifest["model"]["folder"] == str(model) and unlearned(manifest) == []
    m = model_lib.TrioModel(model, batch_size=2)                    # usable: it loads and decodes
    assert len(m.decode(np.zeros((2, 8), np.float32))) == 2
    mid = tmp_path / "band.mid"     # `radio generate` plays the set alone on its model, unasked
    assert cli.main(["generate", "--data", str(data), "--mix", '{"sets": {"band": 1}}', "--bars", "16",
                     "--out", str(mid)]) == 0 and mid.stat().st_size > 0
    (band / "new.mid").write_bytes(songs[0].read_bytes())            # a song added since
    assert cli.main(["seeds", "list", "--data", str(data), "--model", str(base)]) == 0
    assert "model: older than 1 of its files" in capsys.readouterr().out
    small = data / "seeds" / "duo"
    small.mkdir()
    for f in songs[:2]:
        (small / f.name).write_bytes(f.read_bytes())
    assert cli.main(["learn", "duo", "--data", str(data), "--model", str(base)]) == 1
    assert "has 2 file(s)" in capsys.readouterr().err
    assert cli.main(["seeds", "remove", "band", "--data", str(data), "--model", str(base)]) == 0
    assert not model.exists() and not band.exists()
