"""Songs on the air, over real HTTP: the ICY title changes at the song boundary, /api/now
says which song and section play, /api/history lists the songs with their sections, a
change to the groove lets the song play on while `next_song` cuts it, and a song's MIDI
download holds every section in order (a short form keeps the test short)."""

from __future__ import annotations

import io
import json
import time
import urllib.request

from conftest import ADMIN_TOKEN, running_station
from test_api import ADMIN, call

SHORT = {"form": {"sections": ["A:4", "outro:4"]}}      # ~16 s a song at 120 qpm


def _get(url: str):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read()


def _icy_titles(url: str, seconds: float) -> list[tuple[float, str]]:
    """(seconds into the read, StreamTitle) each time the title changes."""
    req = urllib.request.Request(url + "/stream.mp3", headers={"Icy-MetaData": "1"})
    out, end = [], time.monotonic() + seconds
    with urllib.request.urlopen(req, timeout=30) as r:
        metaint = int(r.headers["icy-metaint"])
        while time.monotonic() < end:
            r.read(metaint)
            meta = r.read(r.read(1)[0] * 16).rstrip(b"\0").decode()
            if meta and (not out or out[-1][1] != meta):
                out.append((round(seconds - (end - time.monotonic()), 1), meta))
    return out


def _now_in_section(url: str, section: int) -> dict:
    """/api/now's song once a song's `section` has just begun playing."""
    deadline, last = time.monotonic() + 120, None
    while time.monotonic() < deadline:
        song = json.loads(_get(url + "/api/now"))["song"]
        if song is not None and song["section"] == section and last is not None and last != song["id"]:
            return song
        last = song and song["id"]
        time.sleep(0.2)
    raise AssertionError(f"no song reached section {section}")


def test_songs_on_the_air(tmp_path):
    import mido
    with running_station(data=str(tmp_path), mix=SHORT, admin_token=ADMIN_TOKEN) as url:
        deadline = time.monotonic() + 120
        while json.loads(_get(url + "/api/now"))["song"] is None:
            assert time.monotonic() < deadline, "no song played"
            time.sleep(0.5)
        now = json.loads(_get(url + "/api/now"))
        song = now["song"]
        assert song["name"] in ("A", "outro") and song["form"]["sections"] == ["A:4", "outro:4"]
        assert song["started"] <= now["position"] <= song["started"] + song["seconds"] + 1
        assert song["resting"] is None            # the shipped sets never leave a part out
        _now_in_section(url, 0)                   # a song's A plays: the groove changes, the song plays on
        assert call(url, "PUT", "/api/mix", json={"groove": {"swing": 0.15}}, headers=ADMIN)[0] == 200
        titles = _icy_titles(url, 45)                 # two and a half songs
        cut = _now_in_section(url, 0)             # another song's A: the admin asks for the next song
        status, body, _ = call(url, "PUT", "/api/mix", json={"next_song": True}, headers=ADMIN)
        assert status == 200 and "next_song" not in body, body
        assert call(url, "PUT", "/api/mix", json={"next_song": 1}, headers=ADMIN)[0] == 400
        while json.loads(_get(url + "/api/now"))["song"]["id"] == cut["id"]:
            time.sleep(0.2)
        history = json.loads(_get(url + "/api/history"))
    cut = next(s for s in history["songs"] if s["id"] == cut["id"])
    assert cut["cut"] and [x["section"] for x in cut["sections"]] == [0], cut
    history["songs"] = [s for s in history["songs"] if s is not cut]
    names = [t.split("'")[1] for _, t in titles]
    assert len(names) >= 2 and len(set(names)) == len(names), titles          # one title a song
    songs = {s["title"]: s for s in history["songs"]}
    for name in names:
        assert name.split(" (")[0] in songs, (name, list(songs))
    done = [s for s in history["songs"] if s["complete"]]
    assert done, history["songs"]
    for s in history["songs"]:
        assert [x["section"] for x in s["sections"]] == list(range(len(s["sections"])))
        assert not s["cut"]
    # the song's MIDI: every section in order, one named track per part
    song = done[0]
    with running_station(data=str(tmp_path)) as url:      # the same data folder: history kept
        midi = mido.MidiFile(file=io.BytesIO(_get(url + song["midi"])))
        segments = {s["id"]: s for s in json.loads(_get(url + "/api/history"))["segments"]}
    assert [t.name for t in midi.tracks[1:]] == ["lead", "bass", "drums"]
    onsets = []
    for track in midi.tracks[1:]:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "note_on":
                onsets.append(mido.tick2second(tick, midi.ticks_per_beat, mido.bpm2tempo(song["qpm"])))
    start = 0.0
    for section in song["sections"]:
        seg = segments[section["segment"]]
        inside = [t for t in onsets if start - 1e-3 <= t < start + seg["seconds"] - 1e-3]
        assert len(inside) == sum(seg["notes"].values()), (section, len(inside), seg["notes"])
        start += seg["seconds"]
    assert abs(midi.length - song["seconds"]) < 0.5
