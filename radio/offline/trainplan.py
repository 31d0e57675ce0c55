"""What a training run draws and when it stops: set shares per batch, a held-out split per
set, and early stopping on chosen sets' held-out files.

A corpus of 15,000 folk segments and 1,000 real band segments, sampled uniformly, teaches
folk: the band files are 6 % of what the model sees. `--weight game=0.5` draws half of each
batch from them instead. Early stopping watches the held-out files of the sets that matter
(`--stop-on game`), not the folk that dominates the mean.
"""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path

import numpy as np

from ..contracts import RadioError
from ..music.seeds import SeedSegment


class PlanError(RadioError, ValueError):
    """A --weight, --transpose or --stop-on that names no set, or a value out of range."""


def set_of(segment: SeedSegment) -> str:
    """The set a training segment came from (`load_sets` names sources `set/file`)."""
    return segment.source.split("/", 1)[0]


def parse_pairs(items: list[str] | None, what: str, cast=float) -> dict[str, float]:
    """["game=0.5", …] → {"game": 0.5}; a clear error for anything else."""
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        try:
            if not sep or not name:
                raise ValueError
            out[name] = cast(value)
        except ValueError:
            raise PlanError(f"{what} {item!r}: write SET=VALUE, e.g. game=0.5") from None
    return out


def check_sets(named: dict | list, sets: set[str], what: str) -> None:
    unknown = sorted(set(named) - sets)
    if unknown:
        raise PlanError(f"{what} {', '.join(unknown)}: no such set here (sets: {', '.join(sorted(sets))})")


def split_by_file(segments: list[SeedSegment], held_out: float, seed: int = 0):
    """Held-out files, not segments (windows of one song are near-duplicates), the same share
    from every set with more than one file, so a small set of real band files is held out
    from too. Transposed copies of a file go with it."""
    by_set: dict[str, list[str]] = {}
    for s in segments:
        by_set.setdefault(set_of(s), []).append(s.source)
    test: set[str] = set()
    rng = random.Random(seed)
    for name in sorted(by_set):
        files = sorted(set(by_set[name]))
        rng.shuffle(files)
        if held_out > 0 and len(files) > 1:
            test.update(files[:max(1, int(len(files) * held_out))])
    return ([s for s in segments if s.source not in test], [s for s in segments if s.source in test])


def sampling_probabilities(segments: list[SeedSegment], shares: dict[str, float]) -> np.ndarray | None:
    """Each segment's chance to be drawn: a set in `shares` gets that share of every batch,
    the other sets the rest in proportion to their size. None when nothing is weighted."""
    if not shares:
        return None
    names = [set_of(s) for s in segments]
    present = set(names)
    check_sets(shares, present, "--weight")
    total = sum(shares.values())
    if any(v <= 0 for v in shares.values()) or total > 1 or (total == 1 and present - set(shares)):
        raise PlanError(f"--weight: shares must be > 0 and sum to ≤ 1 (1 only when every set is weighted); "
                        f"got {shares}")
    counts = {n: names.count(n) for n in present}
    rest = sum(c for n, c in counts.items() if n not in shares)
    p = np.array([shares[n] / counts[n] if n in shares else (1 - total) / rest for n in names])
    return p / p.sum()


def eval_indices(count: int, batch: int, batches: int) -> np.ndarray:
    """Which held-out segments an evaluation feeds: whole batches, at most `batches`; all of
    them (wrapping) when they fit, else spread evenly, since segments come file by file and
    set by set and the first few batches would be a file or two of the first set."""
    n = min(-(-count // batch) * batch, batches * batch)
    if n >= count:
        return np.arange(n) % count
    return np.linspace(0, count - 1, n).round().astype(int)


@dataclasses.dataclass
class EarlyStop:
    """Stops after `patience` evaluations without a better held-out loss on the watched
    files; remembers the best step in `folder/best.json` so a resumed run goes on counting."""
    folder: Path
    patience: int
    best: float = float("inf")
    best_step: int = -1
    bad: int = 0
    metrics: dict = dataclasses.field(default_factory=dict)   # the best evaluation's figures
    curve: list = dataclasses.field(default_factory=list)     # [step, watched loss] of every evaluation

    def __post_init__(self):
        try:
            kept = json.loads((self.folder / "best.json").read_text())
            self.best, self.best_step, self.bad = float(kept["loss"]), int(kept["step"]), int(kept["bad"])
            self.metrics = dict(kept.get("metrics", {}))
            self.curve = [list(p) for p in kept.get("curve", [])]
        except (OSError, KeyError, ValueError):
            pass

    def update(self, step: int, loss: float, metrics: dict | None = None) -> bool:
        """Records an evaluation; True when it is the best so far (the caller saves it)."""
        self.curve.append([step, round(float(loss), 2)])
        return self._record(step, loss, loss < self.best, metrics)

    def _record(self, step: int, value: float, better: bool, metrics: dict | None) -> bool:
        if better:
            self.best, self.best_step, self.bad, self.metrics = value, step, 0, dict(metrics or {})
        else:
            self.bad += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "best.json").write_text(json.dumps({"loss": self.best, "step": self.best_step,
                                                            "bad": self.bad, "metrics": self.metrics,
                                                            "curve": self.curve}))
        return better

    @property
    def done(self) -> bool:
        return self.patience > 0 and self.bad >= self.patience


@dataclasses.dataclass
class EchoStop(EarlyStop):
    """Stops once the walk's echo of the training songs (offline/echo.py) has been over
    `cap` for `patience` evaluations; the step kept is the last one at or under it, the
    longest training that still plays new music. (Past the held-out loss's best step a set
    plays more like its band, and more of its own songs: issue 28, docs/training.md.)
    Its curve: [step, echo, held-out loss]."""
    cap: float = dataclasses.field(kw_only=True)

    def update(self, step: int, echo: float, metrics: dict | None = None) -> bool:
        """Records an evaluation; True when it is at or under the cap (the caller saves it).
        The first one always counts: the start is what the station played before."""
        self.curve.append([step, round(float(echo), 3), (metrics or {}).get("held_out_r_loss")])
        return self._record(step, echo, echo <= self.cap or self.best_step < 0, metrics)
