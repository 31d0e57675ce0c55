"""Style mixes and votes on the real station: a change is heard from the next segment
boundary with no gap; modes, grooves and tempo ranges validated; listeners vote."""

import threading
import time
import urllib.request

import numpy as np
from test_api import ADMIN, call
from test_server import wait_until_playing

from radio.config import Settings
from radio.offline.audiostats import decode_with_ffmpeg
from radio.sound.loudness import short_term_lufs

TARGET_LUFS = Settings().loudness_lufs     # the test station's: it keeps the default


def _underrun(base) -> float:
    _, text, _ = call(base, "GET", "/metrics")
    line = next(x for x in text.decode().splitlines() if x.startswith("radio_underrun_seconds_total"))
    return float(line.split()[-1])


class Recorder(threading.Thread):
    """Reads a live stream until stopped; `zero` is the stream time of its first sample
    (what was published at connect time, less the 2 s burst)."""

    def __init__(self, url: str, base: str):
        super().__init__(daemon=True)
        self.url, self.base, self.data, self.stop = url, base, bytearray(), threading.Event()
        self.connected = threading.Event()

    def run(self):
        with urllib.request.urlopen(self.url, timeout=30) as r:
            _, now, _ = call(self.base, "GET", "/api/now")
            self.zero = now["position"] - 2.0
            self.connected.set()
            while not self.stop.is_set():
                self.data += r.read(4000)


def test_mix_change_is_heard_at_the_next_boundary_without_a_gap(station):
    wait_until_playing(station)
    recorder = Recorder(station + "/stream.mp3", station)
    recorder.start()
    assert recorder.connected.wait(30)
    # change right after a segment boundary: the generator then has a whole segment's time
    # to make the first one of the new mix (a change a second before the boundary would
    # leave it late, a fill the station is right to play, a race for this test)
    _, now, _ = call(station, "GET", "/api/now")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        _, after, _ = call(station, "GET", "/api/now")
        if after["now_playing"]["id"] != now["now_playing"]["id"]:
            break
        time.sleep(0.25)
    now = after
    playing = now["now_playing"]
    gap_before = _underrun(station)
    change = {"sets": {"funk": 1}, "qpm": 150, "mode": "loop", "loop_bars": 2,
              "groove": {"preset": "swing"}, "transpose": 2}
    status, mix, _ = call(station, "PUT", "/api/mix", json=change, headers=ADMIN)
    assert status == 200 and mix["label"] == "funk 1 (loop)" and mix["groove"] == {"preset": "swing"}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # the segment playing at the change plays to its end…
        _, now, _ = call(station, "GET", "/api/now")
        if now["now_playing"]["id"] != playing["id"]:
            break
        time.sleep(0.5)
    nxt = now["now_playing"]
    # …and the very next one is the new mix: nothing made ahead under the old mix plays
    assert nxt["mix"] == "funk 1 (loop)" and nxt["qpm"] == 150, nxt
    assert nxt["anchors"][1].startswith("funk/")
    if playing["qpm"] != 150:  # the tempo ramps from the old one over a bar
        assert nxt["start_qpm"] == playing["qpm"] and nxt["ramp_beats"] == 4
    assert _underrun(station) == gap_before  # no fill, no silence at the change
    # the new style's sound comes in at the target, where the master holds the old: the
    # short-term loudness of the 10 s after the boundary within 1 LU of it. The old style's
    # last 10 s may sit further off, for within a style the master keeps a quieter section
    # quieter: a song's short intro, parts sitting out, sits 0.5-2.0 LU under the target
    # (bench/section_levels.py, two seeds), and the old style sat 1.2-1.9 LU under it in the three
    # clean-clone runs that failed the old 1.5 LU step. 2.5 LU for the step; the cue itself
    # is tested alone in test_sound.py, where the style before the change is known.
    time.sleep(max(0.0, nxt["start"] + 11 - now["position"]))
    recorder.stop.set()
    recorder.join(10)
    pcm = decode_with_ffmpeg(bytes(recorder.data))
    st = short_term_lufs(pcm)                      # window i covers [i, i + 3) s of the recording
    change = int(round(nxt["start"] - recorder.zero))
    before, after = np.median(st[max(0, change - 13):change - 3]), np.median(st[change:change + 8])
    levels = (change, before, after, playing.get("sound"), nxt.get("sound"))
    assert change >= 8 and abs(after - TARGET_LUFS) <= 1.0 and abs(after - before) <= 2.5, levels
    assert nxt["sound"] == "funk"                  # the preset follows the set the walk heads to
    seg = next(s for s in now["segments"] if s["id"] == nxt["id"])
    from radio.music.segment import tempo_map
    ramp_s = tempo_map(4, 150, nxt["start_qpm"], nxt["ramp_beats"])
    # after the ramp bar, notes by 2-bar phrase (8 beats), a quarter beat of slack for the groove
    pitched = [(int((4 + (n[2] - ramp_s) * 150 / 60 + 0.25) // 8), n[1]) for n in seg["notes"]
               if n[0] in (1, 2) and n[2] > ramp_s]
    phrases = {}
    for k, pitch in pitched:
        phrases.setdefault(k, []).append(pitch)
    full = [sorted(v) for k, v in sorted(phrases.items()) if 1 <= k <= 6]
    assert full and all(p == full[0] for p in full)  # one 2-bar phrase, looped
    call(station, "PUT", "/api/mix", headers=ADMIN,
         json={"sets": {s: 1 for s in mix["sets_available"]} if "sets_available" in mix else {"rock": 1},
               "qpm": 0, "mode": "walk", "groove": {}, "transpose": 0})


def test_mix_fields_are_validated(station):
    wait_until_playing(station)
    bad = [({"mode": "dance"}, "mode: 'dance'"),
           ({"mode": "interpolate"}, "endpoints: interpolate needs two"),
           ({"mode": "interpolate", "endpoints": ["rock/nope", "ska/x"]}, "no seed file 'rock/nope'"),
           ({"groove": {"swing": 3}}, "groove: "),
           ({"groove": {"bass": {"offest_ms": 3}}}, "offest_ms"),
           ({"qpm_range": [150, 90]}, "150.0 is above 90.0"),
           ({"loop_bars": 3}, "loop_bars=3"),
           ({"prior": 2}, "prior=2"),
           ({"transpose": 13}, "transpose=13")]
    for body, message in bad:
        status, err, _ = call(station, "PUT", "/api/mix", json=body, headers=ADMIN)
        assert status == 400 and message in err["error"], (body, err)
    _, seeds, _ = call(station, "GET", "/api/seeds")
    a, b = (f"{name}/{files[0]['name'][:-4]}" for name, files in list(seeds["sets"].items())[:2])
    status, mix, _ = call(station, "PUT", "/api/mix", json={"mode": "interpolate", "endpoints": [a, b]},
                          headers=ADMIN)
    assert status == 200 and mix["label"] == f"{a} ↔ {b}"
    status, mix, _ = call(station, "PUT", "/api/mix", json={"mode": "walk"}, headers=ADMIN)
    assert status == 200 and mix["mode"] == "walk"


def test_listener_votes(station):
    wait_until_playing(station)
    _, before, _ = call(station, "GET", "/api/votes")
    status, first, _ = call(station, "POST", "/api/vote", json={"vote": "like"})
    assert status == 200 and first["counted"] is True and first["likes"] >= 1
    seg = first["segment"]
    status, again, _ = call(station, "POST", "/api/vote", json={"vote": "like", "segment": seg})
    assert status == 200 and again["counted"] is False and again["likes"] == first["likes"]
    status, skip, _ = call(station, "POST", "/api/vote", json={"vote": "skip", "segment": seg})
    assert skip["counted"] is False and skip["skips"] == 0  # one vote per listener per segment
    for body, code, message in (({"vote": "love"}, 400, "like"), ({"vote": "like", "segment": 999999}, 404, "history"),
                                ({"vote": "like", "segment": "x"}, 400, "integer"),
                                ({"vote": "like", "who": 1}, 400, "send")):
        status, err, _ = call(station, "POST", "/api/vote", json=body)
        assert status == code and message in err["error"], (body, err)
    status, votes, _ = call(station, "GET", "/api/votes")
    assert status == 200 and votes["likes"] >= 1 and votes["bounds"] == [0.5, 2.0]
    # other tests share this station and vote too (test_hostile skips), so the factors may
    # stand anywhere in the bounds: the like shows as a pull up from where they stood
    assert votes["anchors"] and all(0.5 <= f <= 2.0 for f in votes["anchors"].values())
    assert any(f > before["anchors"].get(label, 1.0) + 1e-9 for label, f in votes["anchors"].items()), \
        (before["anchors"], votes["anchors"])
