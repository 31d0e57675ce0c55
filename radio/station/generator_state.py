"""What the station knows of its generator process: the mix it accepted, the seed sets it
sees, where its walk stands, its errors and stage timings.

Filled from the process's messages (status, rendered segments, errors); the mix and walk
position are also what the store saves, so a restarted station (or generator) goes on
from them.
"""

from __future__ import annotations

from ..contracts import Rendered


class GeneratorState:
    def __init__(self, saved: dict):
        self.mix: dict | None = None                  # the mix as the generator accepted it
        self.mix_version = 0
        self._saved_mix = saved.get("mix") if isinstance(saved.get("mix"), dict) else None
        self.walk_position = saved.get("walk_position")
        self.sets: dict[str, list[dict]] = {}         # seed sets and files, as the generator sees them
        self.missing_soundfonts: list[str] = []
        self.model = ""                               # whose model plays: a learned set, "" the station's
        self.learned: dict[str, dict] = {}            # learned set → {"unlearned": files its model has not seen}
        self.errors = 0                               # pipeline restarts inside the process
        self.last_error: str | None = None
        self.timings = {"decode": [0, 0.0], "render": [0, 0.0]}   # [segments, seconds]

    def adopt_mix(self, result: dict) -> bool:
        """A request's answer; True if it carried a new mix."""
        if "mix" not in result:
            return False
        self.mix, self.mix_version = result["mix"], result["version"]
        return True

    def status(self, status: dict) -> bool:
        """The process's status message; True if it gave the first mix."""
        first = self.mix is None
        if first:
            self.mix, self.mix_version = status["mix"], status["mix_version"]
        self.sets = status["sets"]
        self.missing_soundfonts = status["missing_soundfonts"]
        self.model, self.learned = status.get("model", ""), status.get("learned", {})
        return first

    def rendered(self, item: Rendered) -> None:
        for stage, seconds in item.stage_seconds.items():
            if stage in self.timings:
                self.timings[stage][0] += 1
                self.timings[stage][1] += seconds
        self.last_error = None
        if item.walk_position is not None:
            self.walk_position = item.walk_position

    def failed(self, message: str) -> None:
        self.errors += 1
        self.last_error = message

    def to_save(self) -> dict:
        return {"mix": self.mix or self._saved_mix, "walk_position": self.walk_position}

    def boot(self) -> dict:
        """What a new generator process starts from (with the votes and the next id)."""
        return {**self.to_save(), "mix_version": self.mix_version}
