"""The listeners' votes as the station keeps them: cast on played segments (on the song,
when the segment is a song's section), sent to the generator when they change, saved to
`<data>/votes.json` at most once a segment.

The tally itself (bounds, fading, the bias on the walk) is generator/votes.py; this part
owns the station's copy, the anchors it is reported against, and when it goes to disk.
"""

from __future__ import annotations

import types

import numpy as np

from ..generator.votes import VoteError, Votes
from .latentmap import region_key
from .playout import Played
from .store import Store


class Ballot:
    def __init__(self, store: Store):
        self._store = store
        self.votes = Votes()
        self.votes.load(store.load_votes())
        self._saved = self.votes.version
        self.anchors: list = []                       # the walk's anchors: label and z
        self.model = ""                               # whose model they are (generator/models.py)

    def set_anchors(self, anchors: list[tuple[str, list[float]]], model: str = "") -> None:
        self.anchors = [types.SimpleNamespace(label=label, z=z) for label, z in anchors]
        self.model = model

    def cast(self, played: Played | None, client: str, kind: str, segment_id: int | None = None) -> tuple[dict, bool]:
        """A listener's like/skip for `played`; (the result, whether the tally changed)."""
        if played is None:
            raise VoteError("nothing is playing yet" if segment_id is None else
                            f"segment {segment_id} is not in the recent history", 404)
        if played.segment.z is None:
            raise VoteError(f"segment {played.segment.id} was played before a restart; vote on a newer one", 409)
        before = self.votes.version
        # a vote on a song's section is a vote on the song: one per listener, tallied under
        # the song's id (its first segment's)
        song = played.meta.song
        key = song["id"] if song is not None else played.segment.id
        result = self.votes.vote(client, key, np.asarray(played.segment.z, np.float32), kind,
                                 played.meta.model)
        if song is not None:
            result = {**result, "segment": played.segment.id, "song": song["id"], "title": song["title"]}
        return result, self.votes.version != before

    def cast_region(self, label: str, z, client: str) -> tuple[dict, bool]:
        """A listener's click on the map near anchor `label`: a like of that region (its z),
        one per address and region, within the same limits as any vote."""
        before = self.votes.version
        result = self.votes.vote(client, region_key(label), np.asarray(z, np.float32), "like", self.model)
        result = {"anchor": label, **{k: result[k] for k in ("counted", "likes", "skips")}}
        return result, self.votes.version != before

    def bias(self) -> dict[str, float]:
        """The ten anchors the votes move most: label → weight factor on the walk's choice."""
        bias = self.votes.bias(self.anchors, self.model)
        return dict(sorted(bias.items(), key=lambda kv: -abs(kv[1] - 1.0))[:10])

    def save(self) -> None:
        """Writes the tally if it changed since the last write (off the loop, by the store)."""
        if self.votes.version != self._saved:
            self._saved = self.votes.version
            self._store.save_votes(self.votes.to_dict())
