"""The echo (radio/offline/echo.py): how much of what a model plays is its training songs
played back, the figure `radio learn` stops on."""

import numpy as np

from radio.model import load_model, trio
from radio.offline import echo

A = frozenset({("lead", 0, 60), ("lead", 4, 62), ("bass", 0, 36), ("bass", 8, 38)})
B = frozenset({("lead", 0, 60), ("lead", 4, 62), ("bass", 0, 36), ("bass", 8, 41)})   # 3 onsets of 5 shared
C = frozenset({("lead", 2, 60), ("bass", 0, 38)})


def test_nearest_is_the_best_jaccard_index_against_any_song_window():
    assert list(echo.nearest([A, B, C], [B])) == [0.6, 1.0, 0.0]
    assert list(echo.nearest([A, C], [B, A])) == [1.0, 0.0]
    assert list(echo.nearest([A], [])) == [0.0] and len(echo.nearest([], [A])) == 0
    assert echo.share(np.array([0.6, 0.8, 1.0, 0.1])) == 0.5
    up_a_tone = frozenset((r, s, p + 2) for r, s, p in A)        # played back in another key
    assert list(echo.nearest([up_a_tone], [A])) == [0.0]
    assert list(echo.nearest([up_a_tone], echo.in_every_key([A]))) == [1.0]
    assert len(echo.in_every_key([A, B], keys=6)) == 26


class Copycat:
    """A model that plays its training segments back whatever z it is given."""

    def __init__(self, segments):
        self.ids = trio.tensors_to_ids([s.tensor for s in segments])

    def encode(self, tensors):
        return np.random.default_rng(0).normal(size=(len(tensors), 8)).astype(np.float32)

    def decode_ids(self, z, temperature, rng=None):
        return self.ids[:, np.arange(len(z)) % self.ids.shape[1]]


def test_a_model_playing_its_songs_back_echoes_them_and_a_model_that_never_heard_them_does_not(seed_segments):
    judge = echo.EchoJudge(seed_segments, points=8)
    assert judge.songs and judge.judge(Copycat(seed_segments)) == 1.0
    heard = judge.judge(load_model(None, seed=0))
    assert 0.0 < heard <= 0.35, heard
    assert judge.judge(load_model(None, seed=5)) == judge.judge(load_model(None, seed=9))   # its own seed decides
