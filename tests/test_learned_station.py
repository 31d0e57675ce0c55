"""A set's learned model (`radio learn`) on the real station: the mix of that set alone
switches the station to it at the next segment boundary with no gap, a blend across
models is refused naming the sets, a set learned or unlearned while it plays changes
model between songs, and /healthz names the model playing and a model older than its
set's files."""

import queue
import shutil
import threading
import time

import golden_cases
from conftest import ADMIN_TOKEN, running_station
from test_api import ADMIN, call
from test_mixes import _underrun
from test_server import wait_until_playing
from tonepipeline import TonePipeline

from radio.generator.mix import StyleMix


def _data_with_a_learned_set(tmp_path):
    """A data folder with the shipped sets and `band` (rock's and funk's files), whose
    learned model (the small golden one: another latent space, quick to load) has seen
    only its first file."""
    from radio.config import Settings
    from radio.music.seedsets import station_library
    data = tmp_path / "data"
    library = station_library(Settings(data=str(data)))
    band = library.root / "band"
    band.mkdir()
    files = [shutil.copy(p, band / p.name) for s in ("rock", "funk") for p in sorted((library.root / s).glob("*.mid"))]
    model = data / "models" / "band"
    shutil.copytree(golden_cases.MODEL, model)
    names = sorted(p.name for p in band.iterdir())
    with library.update_manifest("band") as manifest:
        manifest["files"] = {n: {"sha256": "", "segments": 1, "roles": [], "source": "test"} for n in names}
        manifest["model"] = {"folder": str(model), "files": names[:1]}
    return data, names, len(files)


def _now(url) -> dict:
    return call(url, "GET", "/api/now")[1]["now_playing"]


def _next_segment(url, playing: dict, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        now = _now(url)
        if now["id"] != playing["id"]:
            return now
        time.sleep(0.25)
    raise AssertionError(f"segment {playing['id']} still plays after {seconds} s")


def test_a_learned_set_alone_plays_on_its_own_model_and_a_blend_is_refused(tmp_path):
    data, names, _ = _data_with_a_learned_set(tmp_path)
    with running_station(data=str(data), admin_token=ADMIN_TOKEN) as url:
        wait_until_playing(url)
        _, health, _ = call(url, "GET", "/healthz")
        assert health["model"] == {"playing": None, "learned": ["band"], "stale": {"band": names[1:]}}
        status, mix, _ = call(url, "GET", "/api/mix")
        assert "band" not in mix["sets"] and "band" in mix["sets_available"]   # the start mix: the station's model
        status, err, _ = call(url, "PUT", "/api/mix", json={"sets": {"band": 1, "rock": 0.5}}, headers=ADMIN)
        assert status == 400 and "band, rock are played by different models" in err["error"], err
        # change right after a boundary, as a listener's admin would mid-song: the new
        # model's pipeline starts while the segment playing plays out
        playing = _next_segment(url, _now(url))
        gap = _underrun(url)
        status, mix, _ = call(url, "PUT", "/api/mix", json={"sets": {"band": 1}}, headers=ADMIN)
        assert status == 200 and mix["sets"] == {"band": 1.0}
        nxt = _next_segment(url, playing)
        assert nxt.get("model") == "band" and nxt["anchors"][1].startswith("band/"), nxt
        assert _underrun(url) == gap                     # no fill, no silence at the switch
        _, health, _ = call(url, "GET", "/healthz")
        assert health["model"]["playing"] == "band" and health["status"] == "ok"
        _, drawn, _ = call(url, "GET", "/api/map")       # the map follows the model: its anchors only
        assert drawn["model"] == "band" and drawn["sets"] == ["band"] and drawn["dots"]
        assert all(len(dot[0].split("/")) == 2 for dot in drawn["dots"])


class ModelTones(TonePipeline):
    """Tones, on the real seed library: whose model it plays, the sets it starts with and
    the mixes it refuses come from the sets' manifests, as in the real pipeline."""

    def __init__(self, settings, model=None):
        super().__init__()
        from radio.generator.models import model_key, sets_played
        from radio.music.seedsets import station_library
        self.library = station_library(settings)
        self.model_key = model_key(self.library.learned(), settings.model)
        self.played = sets_played(self.model_key, self.library.sets(), self.library.learned())
        self.mix = StyleMix(sets={s: 1.0 for s in self.played})

    def set_mix(self, mix):
        from radio.generator.mix import MixError
        if any(w > 0 and s not in self.played for s, w in mix.sets.items()):
            raise MixError("sets: played by another model than this one")
        self.mix = mix


def test_a_set_whose_model_goes_or_comes_while_it_plays_changes_model_between_songs(tmp_path):
    from radio.config import Settings
    from radio.generator.loop import GeneratorLoop
    data, _, _ = _data_with_a_learned_set(tmp_path)
    made, stop = queue.Queue(maxsize=1), threading.Event()
    loop = GeneratorLoop(Settings(data=str(data)), ModelTones, {"mix": {"sets": {"band": 1}}},
                         made.put, lambda *e: None, stop)
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()

    def models(n):
        return [made.get(timeout=20).meta.model for _ in range(n)]
    try:
        assert models(2) == ["band", "band"]          # a learned set alone: its model from the start
        shutil.move(data / "models" / "band", tmp_path / "kept")
        assert models(3)[-1] == ""                    # its model gone: the station's
        shutil.move(tmp_path / "kept", data / "models" / "band")
        assert models(3)[-1] == "band"                # learned again
    finally:
        stop.set()
        thread.join(10)


class BrokenLearned(ModelTones):
    """A learned model that does not load."""

    def __init__(self, settings, model=None):
        super().__init__(settings)
        if self.model_key:
            raise RuntimeError("this learned model does not load")


def test_a_learned_model_that_does_not_load_leaves_the_station_on_its_own_model(tmp_path):
    from radio.config import Settings
    from radio.generator.loop import GeneratorLoop
    data, _, _ = _data_with_a_learned_set(tmp_path)
    made, stop, events = queue.Queue(maxsize=1), threading.Event(), []
    loop = GeneratorLoop(Settings(data=str(data)), BrokenLearned, {"mix": {"sets": {"band": 1}}},
                         made.put, lambda *e: events.append(e), stop)
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    try:
        first = made.get(timeout=20)
    finally:
        stop.set()
        thread.join(10)
    assert first.meta.model == "" and loop.restarts == 1
    assert any(e[0] == "error" and "does not load" in e[1] for e in events)
