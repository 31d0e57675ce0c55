"""Each seed set's playing style under the station's model (radio/model/style.py), and the
style a mix plays: its sets' styles weighted as the mix weighs them, scaled by its `style`.

A set's style compares how its songs move (counted on the seed segments when they are
encoded: Anchor.moves) with how the model plays from the set's own encodings: up to
FIT_ANCHORS of them, FIT_BARS bars each, decoded with a generator of its own (the walk's
draws do not move) at the mix's temperature. Fitted once per set, anchors and
temperature, and kept in the model's anchor cache folder (`styles.json`). A model whose
card carries a style (a learned set's, `radio learn`) plays it at the mix's style 0; fits
are made on its bare weights, and the mix's style moves from its own toward its sets'.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Sequence

import numpy as np

from ..model.style import MOVES, Style, counts, fit
from ..music.composer import Anchor, set_weight
from ..support.state import write_atomic

log = logging.getLogger("radio.pipeline")

FIT_ANCHORS = 16
FIT_BARS = 16
FIT_SEED = 0       # the fit's own draws: a set's style is the set's and the model's, whatever the run
KEPT = 64          # fits kept


def segment_moves(ids: np.ndarray) -> np.ndarray:
    """Counts of moves (style.counts) of the lead and bass of token ids [3, T] or
    [3, N, T]: [2 parts, len(MOVES), 2]."""
    ids = np.asarray(ids)
    return np.stack([counts(ids[p]) for p in (0, 1)])


def _valid(entry) -> bool:
    """Whether a kept fit reads as Style.to_dict wrote it."""
    return isinstance(entry, dict) and set(entry) <= {"lead", "bass"} and all(
        isinstance(part, dict) and set(part) <= set(MOVES)
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in part.values())
        for part in entry.values())


class Styles:
    def __init__(self, model, cache: Path | None = None):
        """`cache`: the model's anchor cache folder, where fits are kept across restarts."""
        self.model = model
        self._file = cache / "styles.json" if cache is not None else None
        self._fits: dict[str, dict] = {}
        self._said = False
        try:
            kept = json.loads(self._file.read_text()) if self._file else {}
        except (OSError, ValueError):
            kept = {}                      # none yet (or damaged): fitted again
        self._fits = {k: v for k, v in kept.items() if _valid(v)} if isinstance(kept, dict) else {}

    def can(self) -> bool:
        """Whether this model decodes in a style (the numpy engine)."""
        return hasattr(self.model, "decode_ids")

    def of_set(self, name: str, anchors: Sequence[Anchor], temperature: float) -> Style | None:
        """The set's style, or None when its anchors carry no counts."""
        mine = [a for a in anchors if a.set == name and a.moves is not None]
        if not mine or not self.can():
            return None
        seeds = np.sum([a.moves for a in mine], axis=0)
        digest = hashlib.sha256("\n".join(a.label for a in mine).encode() + seeds.tobytes()).hexdigest()[:16]
        key = f"{name} {temperature:.4f} {FIT_ANCHORS}x{FIT_BARS} {digest}"
        if key not in self._fits:
            picked = [mine[int(i)] for i in np.linspace(0, len(mine) - 1, min(FIT_ANCHORS, len(mine)))]
            ids = self.model.decode_ids(np.stack([a.z for a in picked]), temperature, steps=FIT_BARS * 16,
                                        rng=np.random.default_rng(FIT_SEED), own=False)
            if len(self._fits) >= KEPT:                    # a slider swept through many temperatures
                self._fits.pop(next(iter(self._fits)))
            self._fits[key] = fit(seeds, segment_moves(ids)).to_dict()
            log.info("style of %s: %s", name, self._fits[key])
            if self._file is not None:
                try:
                    write_atomic(self._file, json.dumps(self._fits).encode())
                except OSError as e:
                    log.warning("cannot keep the sets' styles in %s: %s", self._file, e)
        return Style.from_dict(self._fits[key])

    def for_mix(self, anchors: Sequence[Anchor], weights: dict[str, float], temperature: float,
                strength: float = 1.0) -> Style | None:
        """The style a mix plays (None: the model's own manner)."""
        if strength <= 0:
            return None
        if not self.can():
            if not self._said:
                self._said = True
                log.info("this model's engine plays without the sets' style (the numpy engine has it)")
            return None
        weight = {s: set_weight(weights, s) for s in sorted({a.set for a in anchors})}
        weighted = [(self.of_set(s, anchors, temperature), w) for s, w in weight.items() if w > 0]
        style = Style.blend([(s, w) for s, w in weighted if s is not None])
        own = getattr(self.model, "own_style", None)
        if own is not None:
            # a model with its own style (a learned set's) plays it at 0: the mix's style
            # moves from there to its sets' (the offsets added to the model's own)
            style = style.plus(own.scaled(-1))
        style = style.scaled(strength)
        return None if style.neutral else style
