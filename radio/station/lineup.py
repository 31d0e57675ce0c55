"""The running channels: one Station per channel (its own generator process, playout,
master and outputs), each run as its own task, so one channel's crash, hang or failing
sink stays its own. Channels come and go at run time; what changes is kept in the
channel book (channels.py) before it takes effect.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import shutil

from ..config import Settings
from ..contracts import RadioError
from .channels import MAIN, ChannelBook, ChannelError, ChannelSpec, check_name, folder_of, parse, settings_for
from .station import Station, prepare_seeds

log = logging.getLogger("radio.channels")


class LineupError(RadioError):
    status = 409


class Lineup:
    def __init__(self, settings: Settings, pipeline_factory=None):
        self.settings, self.factory = settings, pipeline_factory
        self.book = ChannelBook(settings)
        self.sets = prepare_seeds(settings)
        self.stations: dict[str, Station] = {}
        self._tasks: dict[str, asyncio.Task] = {}
        for spec in self.specs.values():
            self.stations[spec.name] = self._station(spec)

    @property
    def specs(self) -> dict[str, ChannelSpec]:
        """What each channel plays: the book's (every change is written there first)."""
        return self.book.specs()

    @property
    def main(self) -> Station:
        return self.stations[MAIN]

    def _station(self, spec: ChannelSpec) -> Station:
        from ..generator.mix import start_mix
        settings = settings_for(self.settings, spec)
        try:
            start_mix(settings, self.sets)      # a bad mix is refused here, naming the field
        except RadioError as e:
            raise ChannelError(f"channel {spec.name}: {e}") from None
        return Station(settings, self.factory)

    def get(self, name: str) -> Station | None:
        return self.stations.get(name)

    def playing(self, set_name: str) -> list[str]:
        """The channels besides main whose mix weighs `set_name` (main's own generator moves
        its mix off a removed set; the others would lose their music)."""
        return [name for name, station in self.stations.items()
                if name != MAIN and ((station.gen.mix or {}).get("sets") or {}).get(set_name, 0) > 0]

    # -- running ------------------------------------------------------------------------
    def start(self) -> None:
        for name, station in self.stations.items():
            self._run(name, station)

    def _run(self, name: str, station: Station) -> None:
        self._tasks[name] = asyncio.create_task(station.run(), name=f"channel-{name}")

    async def _stop(self, name: str, station: Station) -> None:
        task = self._tasks.pop(name, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        station.close()             # its listeners' handlers return: their connections end cleanly
        await asyncio.get_running_loop().run_in_executor(None, station.stop)

    async def stop_all(self) -> None:
        await asyncio.gather(*(self._stop(n, s) for n, s in list(self.stations.items())))

    def close_all(self) -> None:
        for station in self.stations.values():
            station.close()

    # -- changes (admin API) ----------------------------------------------------------------
    async def add(self, name, fields: dict) -> ChannelSpec:
        check_name(name)
        if name in self.stations:
            raise LineupError(f"channel {name!r} exists; change it with PUT /api/channels/{name}")
        if len(self.stations) >= self.settings.max_channels:
            raise LineupError(f"this server runs at most {self.settings.max_channels} channels "
                              f"(max_channels); remove one first", 409)
        spec = parse(name, fields, self.settings, where="channel")
        self.sets = prepare_seeds(self.settings)
        station = self._station(spec)
        self.book.put(spec)
        self.stations[name] = station
        self._run(name, station)
        log.info("channel %s added", name)
        return spec

    async def change(self, name: str, fields: dict) -> ChannelSpec:
        station = self._existing(name)
        old = self.specs[name]
        spec = parse(name, {**{k: v for k, v in old.to_json().items() if k != "name"}, **fields}, self.settings,
                     where="channel")
        if "mix" in fields:         # the playing station checks it (its generator knows the sets)
            if not station.ready:
                raise LineupError(f"channel {name} is still starting; try again in a few seconds", 503)
            try:
                await station.set_mix(fields["mix"])
            except RadioError as e:
                raise ChannelError(f"channel {name}: mix: {e}") from None
        station.settings.name, station.settings.description = spec.title, spec.description
        if station.icecast is not None:         # Icecast hears it at the push's next connection
            station.icecast.station_name, station.icecast.description = spec.title, spec.description
        self.book.put(spec)
        return spec

    async def remove(self, name: str) -> None:
        station = self._existing(name)
        if name == MAIN:
            raise LineupError("channel main is the station's own (its URLs are the old ones); it cannot be removed")
        self.book.remove(name)
        del self.stations[name]
        await self._stop(name, station)
        # its state, votes, history and HLS go with it: added again, the name starts afresh
        await asyncio.get_running_loop().run_in_executor(
            None, functools.partial(shutil.rmtree, folder_of(self.settings, name), ignore_errors=True))
        log.info("channel %s removed", name)

    def _existing(self, name: str) -> Station:
        station = self.stations.get(name)
        if station is None:
            raise ChannelError(f"no channel {str(name)[:40]!r} (see /api/channels)", 404)
        return station
