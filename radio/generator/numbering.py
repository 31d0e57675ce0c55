"""Who a made segment is: its id (they run on across generator restarts), its song's id
(the song's first segment's, unique across restarts), and what it was as made, so that
after a mix change the song goes on from the section playing."""

from __future__ import annotations

import collections
import types

from ..music.segment import Segment
from ..music.song import Titles

KEEP = 16          # segments remembered as made: more than the station ever holds ahead


class Numbering:
    def __init__(self, next_id: int = 0, titles=()):
        self.next_id = next_id
        self.song_id: int | None = None        # the song being made
        self.titles = Titles(titles)           # songs in the station's history, and made since
        self._made: collections.OrderedDict[int, types.SimpleNamespace] = collections.OrderedDict()

    def stamp(self, segment: Segment) -> None:
        """Gives `segment` the next id, and its song (if any) the song's id."""
        segment.id = self.next_id
        self.next_id += 1
        written = dict(segment.song) if segment.song is not None else None
        if segment.song is not None:
            if segment.song["section"] == 0 or self.song_id is None:
                self.song_id = segment.id
            segment.song["id"] = self.song_id
            self.titles.add(segment.song["title"])
        self._made[segment.id] = types.SimpleNamespace(qpm=segment.qpm, song=written, song_id=self.song_id)
        while len(self._made) > KEEP:
            self._made.popitem(last=False)

    def as_made(self, playing: tuple[int, float] | None):
        """The segment playing ((id, qpm) as the station says) as the pipeline made it: its
        tempo and its `song` as the songwriter numbered it. What comes next is made again
        after it, so its song is the one being made."""
        if playing is None:
            return None
        made = self._made.get(playing[0])
        if made is None:
            return types.SimpleNamespace(qpm=playing[1], song=None)
        if made.song is not None:
            self.song_id = made.song_id
        return made
