"""`radio learn` as the admin API's background job (station/learnjob.py, server/learn_api.py):
refusals over HTTP, 409 without the train extra, the lowest CPU priority, progress, and
cancelling (Ctrl-C) with the next job going on from the saved work."""

import asyncio
import json
import os
import time

import pytest
from test_api import ADMIN, call
from test_server import wait_until_playing

from radio.config import Settings
from radio.model import tf_engine as model_lib
from radio.music.seedsets import read_manifest
from radio.station.learnjob import Learner, LearnJobError

TINY = {"z_size": 8, "enc_rnn_size": [16], "dec_rnn_size": [16, 16], "batch_size": 4}


def test_the_api_refuses_what_it_cannot_learn(station):
    wait_until_playing(station)
    assert call(station, "POST", "/api/learn", json={"set": "rock"})[0] == 401
    for body, code, words in (({"set": "nope"}, 404, "no seed set 'nope'"),
                              ({"set": "rock"}, 400, "needs 3 or more"),
                              ({"set": "rock", "steps": 0}, 400, "steps: 0"),
                              ({"sets": "rock"}, 400, 'expected {"set": NAME}')):
        status, err, _ = call(station, "POST", "/api/learn", json=body, headers=ADMIN)
        assert status == code and words in err["error"], (body, status, err)
    assert call(station, "DELETE", "/api/learn", headers=ADMIN)[0] == 404
    assert call(station, "GET", "/api/learn")[1] == {"job": None}
    _, seeds, _ = call(station, "GET", "/api/seeds")
    assert seeds["learn"] is None and "rock" in seeds["sets"]


@pytest.fixture
def band(tmp_path, song_dir):
    """A data folder with one 3-song set and a tiny station model to learn from."""
    base = tmp_path / "station-model"
    model_lib.write_random_checkpoint(base, hparams=TINY)
    model_lib.ModelCard(config="hierdec-trio_16bar", hparams=TINY).write(base)
    folder = tmp_path / "data" / "seeds" / "band"
    folder.mkdir(parents=True)
    for f in sorted(song_dir.glob("*.mid")):
        (folder / f.name).write_bytes(f.read_bytes())
    return Settings(data=str(tmp_path / "data"), model=str(base))


def test_without_the_train_extra_it_is_409_naming_the_command(band):
    learner = Learner(band, missing=lambda: ["tensorflow", "magenta"])
    with pytest.raises(LearnJobError) as e:
        asyncio.run(learner.start("band"))
    assert e.value.status == 409 and "make train-deps" in str(e.value) and "tensorflow, magenta" in str(e.value)


async def _until(learner, done, seconds=180):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if done(learner.status()):
            return learner.status()
        await asyncio.sleep(0.2)
    raise AssertionError(f"job still {learner.status()} after {seconds} s")


def test_the_job_runs_idle_shows_progress_cancels_and_the_next_goes_on(band):
    async def main():
        idle = Learner(band)                       # the station's: SCHED_IDLE, nice 19
        job = await idle.start("band")
        assert job["state"] == "running" and os.sched_getscheduler(job["pid"]) == os.SCHED_IDLE
        assert os.getpriority(os.PRIO_PROCESS, job["pid"]) == 19
        with pytest.raises(LearnJobError) as e:
            await idle.start("band")
        assert e.value.status == 409 and "one job at a time" in str(e.value)
        assert (await idle.cancel())["state"] == "cancelled"
        # at full speed here (beside the other tests an idle job would wait its turn)
        learner = Learner(band, lower=lambda pid: None)
        flags = ("--batch-size", "4", "--eval-every", "1000")
        await learner.start("band", steps=10000, flags=flags)
        running = await _until(learner, lambda j: (j["step"] or 0) >= 3)
        assert running["steps"] == 10000 and running["state"] == "running"
        cancelled = await learner.cancel()
        assert cancelled["state"] == "cancelled" and cancelled["pid"] is None
        work = band.data + "/train/learn-band"
        assert os.path.isdir(work)                 # kept: the next job goes on from it
        await learner.start("band", steps=running["step"], flags=flags)
        return await _until(learner, lambda j: j["state"] != "running")
    done = asyncio.run(main())
    assert done["state"] == "done" and done["exit_code"] == 0 and "band learned" in done["message"], done
    manifest = read_manifest(os.path.join(band.data, "seeds", "band"))
    assert manifest["model"]["folder"].endswith("models/band")
    card = json.loads(open(os.path.join(manifest["model"]["folder"], "model.json")).read())
    assert card["metrics"]["last_step"] >= 3       # it went on from the cancelled job's steps
