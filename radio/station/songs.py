"""Songs as the station played them: the history's segments grouped by song, and a song's
MIDI file (every section in order, one named track per part, at the song's tempo).

A song whose last section never played and that another song followed was cut short (a
mix change or a generator restart ends the song playing).
"""

from __future__ import annotations

import io

import mido

from ..contracts import PART_TABLE
from .playout import Played

TICKS = 480                                   # per quarter note
BY_INDEX = {p.index: p for p in PART_TABLE}   # the page's part index → the part


def group(played: list[Played]) -> list[list[Played]]:
    """Consecutive segments of one song, oldest first (segments of no song are left out)."""
    out: list[list[Played]] = []
    for p in played:
        song = p.meta.song
        if song is None:
            continue
        if out and out[-1][0].meta.song["id"] == song["id"]:
            out[-1].append(p)
        else:
            out.append([p])
    return out


def summary(sections: list[Played], newest: bool) -> dict:
    """A song as /api/history lists it."""
    first = sections[0].meta.song
    played = [p.meta.song["section"] for p in sections]
    total = len(first["form"]["sections"])
    return {"id": first["id"], "title": first["title"], "form": first["form"], "key": first["key"],
            "qpm": first["qpm"], "start": round(sections[0].start, 3),
            "seconds": round(sum(p.segment.seconds for p in sections), 3),
            "sections": [{"section": p.meta.song["section"], "name": p.meta.song["name"], "segment": p.segment.id,
                          "start": round(p.start, 3)} for p in sections],
            "complete": played == list(range(total)),
            "cut": not newest and played[-1] != total - 1,
            "midi": f"/api/songs/{first['id']}.mid"}


def find(played: list[Played], song_id: int) -> list[Played] | None:
    return next((g for g in group(played) if g[0].meta.song["id"] == song_id), None)


def song_midi(sections: list[Played]) -> bytes:
    """The song's notes as played, sections back to back: a tempo track and one named
    track per part on its channel with its GM program."""
    song = sections[0].meta.song
    qpm = float(song["qpm"])
    per_second = TICKS * qpm / 60.0
    programs = sections[0].meta.programs or {}
    tracks: dict[int, list[tuple[int, mido.Message]]] = {p.index: [] for p in PART_TABLE}
    offset = 0.0
    for p in sections:
        for index, pitch, start, end, velocity in p.segment.notes:
            part = BY_INDEX[int(index)]
            on, off = round((offset + start) * per_second), round((offset + end) * per_second)
            tracks[part.index].append((on, mido.Message("note_on", channel=part.channel, note=int(pitch),
                                                        velocity=max(1, min(127, int(velocity))))))
            tracks[part.index].append((max(off, on + 1), mido.Message("note_off", channel=part.channel,
                                                                      note=int(pitch), velocity=0)))
        offset += p.segment.seconds
    out = mido.MidiFile(type=1, ticks_per_beat=TICKS)
    head = mido.MidiTrack([mido.MetaMessage("track_name", name=song["title"], time=0),
                           mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(qpm), time=0),
                           mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0)])
    out.tracks.append(head)
    for part in PART_TABLE:
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=part.name, time=0)])
        if not part.is_drum:
            program = int(programs.get(part.name, 0) or 0)
            track.append(mido.Message("program_change", channel=part.channel, program=program, time=0))
        now = 0
        # note-offs before note-ons at one tick, so a repeated pitch is struck again
        for tick, msg in sorted(tracks[part.index], key=lambda e: (e[0], e[1].type == "note_on")):
            track.append(msg.copy(time=tick - now))
            now = tick
        track.append(mido.MetaMessage("end_of_track", time=max(0, round(offset * per_second) - now)))
        out.tracks.append(track)
    buf = io.BytesIO()
    out.save(file=buf)
    return buf.getvalue()
