"""Shared fixtures: the shipped default model (loaded once) and real MIDI made with mma."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"


@pytest.fixture(scope="session")
def model():
    from radio.model import TrioModel
    return TrioModel()  # the default model that ships in radio/assets/model


@pytest.fixture(scope="session")
def converter(model):
    return model.converter


@pytest.fixture(scope="session")
def song_dir(tmp_path_factory) -> Path:
    """Three real trio MIDI files written by mma (drums, bass) plus a generated lead."""
    from radio import corpus
    out = tmp_path_factory.mktemp("songs")
    for song in corpus.songs(3, seed=11):
        corpus.make_song(song, out / f"{song.style}.mid")
    return out


@pytest.fixture(scope="session")
def seed_segments(song_dir, converter):
    from radio import seeds
    segments, _ = seeds.import_folder(song_dir, converter)
    assert segments, "the mma songs must give seed segments"
    return segments


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
