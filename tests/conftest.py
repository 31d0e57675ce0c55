"""Shared fixtures: the shipped default model (loaded once) and real MIDI made with mma."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"


@pytest.fixture(scope="session", autouse=True)
def data_folder(tmp_path_factory):
    """Keeps every station and `radio` command of the tests out of the repo's data/ folder."""
    os.environ["RADIO_DATA"] = str(tmp_path_factory.mktemp("radio-data"))
    return Path(os.environ["RADIO_DATA"])


@pytest.fixture(scope="session")
def model():
    from radio.model.tf_engine import TrioModel
    return TrioModel()  # the default model that ships in radio/assets/model


@pytest.fixture(scope="session")
def converter(model):
    return model.converter


@pytest.fixture(scope="session")
def song_dir(tmp_path_factory) -> Path:
    """Three real trio MIDI files: mma grooves (drums, bass) under a folk tune lead."""
    from radio.offline import corpus
    out = tmp_path_factory.mktemp("songs")
    for song in corpus.songs(3, seed=11):
        corpus.make_song(song, out / f"{song.style}.mid")
    return out


@pytest.fixture(scope="session")
def seed_segments(song_dir, converter):
    from radio.music import seeds
    segments, _ = seeds.import_folder(song_dir, converter)
    assert segments, "the mma songs must give seed segments"
    return segments


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


ADMIN_TOKEN = "test-admin-token-0123"
TRUSTED_PROXY = "127.0.0.9"            # the one peer whose X-Forwarded-For the test station believes
FRIEND_ORIGIN = "https://friend.example"   # a web page the test station lets vote


@contextlib.contextmanager
def running_station(**overrides):
    """A real station (default model, shipped seed sets copied to its data folder) serving
    from its own thread and event loop on a free loopback port; yields its URL."""
    import asyncio
    import socket
    import threading

    from aiohttp import web

    from radio.config import Settings
    from radio.server.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings.from_env(port=port, **overrides)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(create_app(settings))
    ready = threading.Event()

    def serve():
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(30)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


@pytest.fixture(scope="session")
def station(tmp_path_factory):
    """The real station on a fresh data folder, with the admin token, one trusted proxy
    and one extra allowed origin; yields its URL."""
    with running_station(data=str(tmp_path_factory.mktemp("station-data")), admin_token=ADMIN_TOKEN,
                         trusted_proxies=TRUSTED_PROXY, origins=FRIEND_ORIGIN) as url:
        yield url
