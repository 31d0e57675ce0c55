"""The segments that played, newest last: what the API lists, what votes refer to.

Kept on disk by the store (`<data>/history`), so a restart keeps the list and goes on
numbering segments where it stopped.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator

from .playout import Played
from .store import Store


class History:
    def __init__(self, store: Store, size: int):
        self._store = store
        self._played: collections.deque[Played] = collections.deque(maxlen=size)
        for segment, meta, start, midi in store.load_history():
            self._played.append(Played(segment, meta, start, midi))
        last = store.last_history_id()
        self.next_id = last + 1 if last is not None else 0     # the next segment's id

    def made(self, segment_id: int) -> None:
        """A segment was rendered (it may play later, or be dropped under a newer mix)."""
        self.next_id = max(self.next_id, segment_id + 1)

    def keep(self, played: Played) -> None:
        """A segment starts playing."""
        self._played.append(played)
        self._store.keep_played(played.segment, played.meta, played.start, played.midi)

    def find(self, segment_id: int) -> Played | None:
        return next((p for p in reversed(self._played) if p.segment.id == segment_id), None)

    def __len__(self) -> int:
        return len(self._played)

    def __getitem__(self, index: int) -> Played:
        return self._played[index]

    def __iter__(self) -> Iterator[Played]:
        return iter(self._played)

    def __reversed__(self) -> Iterator[Played]:
        return reversed(self._played)
