"""The style mix: which seed sets the walk draws its anchors from, and how it plays them.

A mix is plain data, validated as a whole before the station sees it, so a bad PUT from
the API or a bad config value is refused with a message naming the field and never
half-applied. Changes take effect from the next segment the generator makes.
"""

from __future__ import annotations

import dataclasses


class MixError(ValueError):
    """A mix that cannot be played; the message names the field and what is allowed."""


@dataclasses.dataclass(frozen=True)
class StyleMix:
    sets: dict[str, float]                 # seed set → weight; anchors drawn in proportion
    temperature: float = 0.5
    qpm: float = 0.0                       # 0: follow the tempi of the seeds
    lead_program: int = 81                 # GM 82, Lead 2 (sawtooth)
    bass_program: int = 33                 # GM 34, Electric Bass (finger)

    FIELDS = ("sets", "temperature", "qpm", "lead_program", "bass_program")

    def label(self) -> str:
        active = sorted((-w, s) for s, w in self.sets.items() if w > 0)
        return " × ".join(f"{s} {-w:g}" for w, s in active) or "silence"

    def to_dict(self) -> dict:
        return {"sets": dict(self.sets), "temperature": self.temperature, "qpm": self.qpm,
                "lead_program": self.lead_program, "bass_program": self.bass_program,
                "label": self.label()}

    def updated(self, changes: dict, known_sets) -> "StyleMix":
        """A new mix with `changes` (any subset of the fields) applied, checked as a whole."""
        if not isinstance(changes, dict):
            raise MixError("the mix must be a JSON object")
        unknown = set(changes) - set(self.FIELDS) - {"label"}
        if unknown:
            raise MixError(f"unknown field(s) {sorted(unknown)}; allowed: {list(self.FIELDS)}")
        values = {**dataclasses.asdict(self), **{k: v for k, v in changes.items() if k != "label"}}
        return StyleMix(**_checked(values, set(known_sets)))


def _number(values: dict, key: str, lo: float, hi: float, integer: bool = False):
    v = values[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (integer and v != int(v)):
        raise MixError(f"{key}: expected {'an integer' if integer else 'a number'}, got {v!r}")
    if not lo <= v <= hi:
        raise MixError(f"{key}={v}: allowed range is {lo}–{hi}")
    return int(v) if integer else float(v)


def _checked(values: dict, known_sets: set[str]) -> dict:
    sets = values["sets"]
    if not isinstance(sets, dict) or not sets:
        raise MixError("sets: expected an object of seed set → weight, e.g. {\"rock\": 0.5}")
    clean = {}
    for name, w in sets.items():
        if name not in known_sets:
            raise MixError(f"sets: no seed set named {name!r}; known: {sorted(known_sets)}")
        clean[name] = _number({name: w}, name, 0.0, 1000.0)
    if not any(w > 0 for w in clean.values()):
        raise MixError("sets: at least one weight must be above 0")
    return {"sets": clean,
            "temperature": _number(values, "temperature", 0.01, 2.0),
            "qpm": 0.0 if values["qpm"] == 0 else _number(values, "qpm", 40.0, 240.0),
            "lead_program": _number(values, "lead_program", 0, 127, integer=True),
            "bass_program": _number(values, "bass_program", 0, 127, integer=True)}
