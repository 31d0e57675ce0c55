"""The map of the music: the walk's anchors, its trail and the votes, drawn in 2-D.

The anchors' z (sent by the generator with its status) are fitted once with PCA (numpy's
SVD; no dependency, microseconds to apply), scaled so the anchors fill the unit square.
Anchors added later and every walk point go through the same fitted map; it is fitted
again only when the model changes (a set's learned model plays, generator/models.py) or
an admin asks, so a dot never moves under a listener's eyes; the trail and the votes'
heat show what the model playing made. `bench/map_projection.py` measures how well it keeps
neighbours against a random projection.

The document (`GET /api/map`) is built once per change of what it shows (anchors, the
segments played and queued, the votes) and kept with its gzip and ETag, so a thousand
pages polling it cost a dictionary lookup each.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json

import numpy as np

from ..contracts import SeedRef

MARGIN = 0.05          # the anchors span [MARGIN, 1 − MARGIN]; walk points may stray a little past


@dataclasses.dataclass(frozen=True)
class Projection:
    """z → (x, y): the mean taken off, the first two principal axes, scaled to the unit square."""
    mean: np.ndarray
    axes: np.ndarray       # (2, dims)
    lo: np.ndarray         # (2,) the anchors' lowest x, y before scaling
    span: np.ndarray       # (2,) and their extent

    @classmethod
    def fit(cls, zs: np.ndarray) -> "Projection":
        zs = np.asarray(zs, np.float64)
        mean = zs.mean(axis=0)
        centred = zs - mean
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        axes = np.zeros((2, zs.shape[1]))
        axes[:len(vt[:2])] = vt[:2]        # one anchor has no axes: it sits in the middle
        # a sign per axis, so the same anchors give the same picture on every machine
        for k in range(len(axes)):
            big = int(np.argmax(np.abs(axes[k])))
            axes[k] *= np.sign(axes[k, big]) or 1.0
        xy = centred @ axes.T
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        return cls(mean, axes, lo, np.maximum(hi - lo, 1e-9))

    @property
    def dims(self) -> int:
        return len(self.mean)

    def __call__(self, zs) -> np.ndarray:
        """(n, dims) → (n, 2) in map units (the anchors in [MARGIN, 1 − MARGIN])."""
        xy = (np.atleast_2d(np.asarray(zs, np.float64)) - self.mean) @ self.axes.T
        return MARGIN + (1 - 2 * MARGIN) * (xy - self.lo) / self.span


def neighbours_kept(zs: np.ndarray, xy: np.ndarray, near: int = 5, within: int = 10) -> float:
    """The share of each point's `near` nearest neighbours in z that are among its `within`
    nearest on the map, averaged over the points."""
    def ranks(points):
        d = ((points[:, None, :] - points[None, :, :]) ** 2).sum(-1)
        np.fill_diagonal(d, np.inf)
        return np.argsort(d, axis=1)
    in_z, on_map = ranks(np.asarray(zs, np.float64))[:, :near], ranks(np.asarray(xy, np.float64))[:, :within]
    return float(np.mean([len(set(a) & set(b)) / near for a, b in zip(in_z, on_map)]))


def region_key(label: str) -> int:
    """The vote key of a click on the map near anchor `label`: negative, so it never meets a
    segment's id, and the same for every listener, so one address counts once a region."""
    return -1 - int(hashlib.sha256(label.encode()).hexdigest()[:12], 16)


def _pt(xy) -> list[float]:
    return [round(float(xy[0]), 4), round(float(xy[1]), 4)]


class LatentMap:
    def __init__(self):
        self.projection: Projection | None = None
        self.labels: list[str] = []
        self.zs = np.zeros((0, 0), np.float32)
        self.version = 0                    # bumped when the dots change
        self.fitted_on = 0                  # anchors the projection was fitted on
        self.model = ""                     # whose model the anchors are (generator/models.py)
        self._cache: tuple | None = None    # (key, body, gzipped body, etag)

    def set_anchors(self, anchors: list[tuple[str, np.ndarray]], model: str = "") -> None:
        """The walk's anchors as the generator reports them (label, z) and whose model they
        are; fitted the first time and when the model changes, else projected with the map
        there is."""
        self.labels = [label for label, _ in anchors]
        self.zs = np.stack([np.asarray(z, np.float32) for _, z in anchors]) if anchors else np.zeros((0, 0), np.float32)
        other_model, self.model = model != self.model, model
        if len(self.zs) and (other_model or self.projection is None or self.projection.dims != self.zs.shape[1]):
            self.projection = Projection.fit(self.zs)
            self.fitted_on = len(self.zs)
        self.version += 1

    def refit(self) -> None:
        """Fits the map again on the anchors there are now (an admin's request)."""
        if len(self.zs):
            self.projection = Projection.fit(self.zs)
            self.fitted_on = len(self.zs)
            self.version += 1

    def point(self, z) -> list[float] | None:
        if z is None or self.projection is None or len(z) != self.projection.dims:
            return None
        return _pt(self.projection(z)[0])

    def z_of(self, label: str) -> np.ndarray | None:
        try:
            return self.zs[self.labels.index(label)]
        except ValueError:
            return None

    def document(self, played: list, votes: list[tuple[np.ndarray, int]], votes_version: int) -> tuple:
        """(JSON bytes, gzipped bytes, ETag) of the map: the dots, the trail of `played` (the
        recent and queued segments, in order: Played), songs where they sat, and the
        votes' heat (z, likes − skips). Built again only when one of those changed."""
        key = (self.version, votes_version, tuple((p.segment.id, round(p.start, 2)) for p in played))
        if self._cache is None or self._cache[0] != key:
            body = json.dumps(self._build(played, votes), separators=(",", ":")).encode()
            etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
            self._cache = (key, body, gzip.compress(body, 6), etag)
        return self._cache[1:]

    def _build(self, played: list, votes: list) -> dict:
        sets: list[str] = []
        dots = []
        if self.projection is not None and len(self.zs):
            for label, xy in zip(self.labels, self.projection(self.zs)):
                ref = SeedRef.try_parse(label)
                name = ref.set if ref else label.split("/")[0]
                if name not in sets:
                    sets.append(name)
                dots.append([label, sets.index(name), *_pt(xy)])
        trail, songs = [], {}
        for p in played:
            at = self.point(p.segment.z) if p.meta.model == self.model else None
            if at is None:
                continue
            song = p.meta.song
            trail.append({"id": p.segment.id, "start": round(p.start, 3),
                          "seconds": round(p.segment.duration, 3), "at": at,
                          "song": song["id"] if song else None})
            if song is not None:
                songs.setdefault(song["id"], {"id": song["id"], "title": song["title"], "points": []})["points"].append(at)
        marks = [{"id": s["id"], "title": s["title"], "at": _pt(np.mean(s["points"], axis=0))} for s in songs.values()]
        heat = []
        for z, net in votes:
            at = self.point(z)
            if at is not None and net:
                heat.append([*at, int(max(-9, min(9, net)))])
        return {"sets": sets, "dots": dots, "trail": trail, "songs": marks, "heat": heat[-200:],
                "fitted_on": self.fitted_on, "version": self.version, "model": self.model or None}
