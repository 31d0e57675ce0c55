"""The latent search: z that makes the kept part likely under the hierdec decoder while
staying where the prior puts its mass (the method: complete.py)."""

from __future__ import annotations

import dataclasses
from typing import Protocol, Sequence

import numpy as np


class Scorer(Protocol):
    """Teacher-forced log-likelihood of one part under the hierdec decoder."""

    def log_likelihood(self, z: np.ndarray, part: str, tokens: np.ndarray) -> np.ndarray:
        """z (N, z_size); part one of PARTS; tokens (T,) class ids, T ≤ 256 (a prefix of the
        16-bar window). Returns (N,) log-probabilities in nats."""
        ...


@dataclasses.dataclass
class Search:
    """How many candidates, and how the search refines them; every number is a choice."""
    candidates: int = 64          # first pool (encodings, previous z, seeds, prior draws)
    rounds: int = 3               # rounds of steps around the best
    keep_best: int = 4            # pool members each round steps from
    step: float = 0.5             # first round's step (standard deviation per dimension) ...
    shrink: float = 0.5           # ... times this each round
    prior_weight: float = 1.0     # weight of log N(z; 0, I) beside the kept part's likelihood


def objective(scorer: Scorer, z: np.ndarray, tokens: dict[str, np.ndarray], prior_weight: float,
              center: np.ndarray | None = None) -> np.ndarray:
    """log p(kept | z) + prior_weight · log N(z; center, I) (up to a constant); center 0
    unless given (the station's band mode centres it on the walk's position)."""
    ll = sum(scorer.log_likelihood(z, role, tok) for role, tok in tokens.items())
    d = z.astype(np.float64) - (0.0 if center is None else np.asarray(center, np.float64))
    return ll - prior_weight * 0.5 * np.sum(d ** 2, axis=1)


def search_z(scorer: Scorer, tokens: dict[str, np.ndarray], start: Sequence[np.ndarray],
             pool: np.ndarray, z_size: int, rng: np.random.Generator,
             search: Search = Search(), batch: int = 64,
             center: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """The best z for the kept tokens: `start` (always tried) + rows of `pool` + prior draws
    up to `search.candidates`, then `search.rounds` rounds of Gaussian steps around the best
    `keep_best`. With `center`, the prior is N(center, I) (see `objective`) and the draws
    are Gaussian steps of `search.step` around it. Returns the `keep_best` best z
    (k, z_size), best first, their objective values (k,) and how many candidates were scored."""
    first = [np.asarray(z, np.float32) for z in start]
    take = max(0, search.candidates - len(first))
    if len(pool) and take:
        idx = rng.choice(len(pool), size=min(take // 2 or 1, len(pool)), replace=False)
        first += list(pool[idx])
    while len(first) < max(search.candidates, 1):
        draw = rng.standard_normal(z_size)
        first.append((draw if center is None else center + search.step * draw).astype(np.float32))
    zs = np.stack(first).astype(np.float32)

    def score(z):
        return np.concatenate([objective(scorer, z[i:i + batch], tokens, search.prior_weight, center)
                               for i in range(0, len(z), batch)])

    values = score(zs)
    scored = len(zs)
    sigma = search.step
    per_round = max(search.keep_best, search.candidates // 2)
    for _ in range(search.rounds):
        best = np.argsort(-values)[:search.keep_best]
        parents = zs[rng.choice(best, size=per_round)]
        children = (parents + sigma * rng.standard_normal(parents.shape)).astype(np.float32)
        child_values = score(children)
        scored += len(children)
        zs, values = np.concatenate([zs, children]), np.concatenate([values, child_values])
        sigma *= search.shrink
    best = np.argsort(-values)[:search.keep_best]
    return zs[best], values[best], scored
