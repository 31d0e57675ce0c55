"""The app's typed state keys (aiohttp's AppKey): the server and the API both use them."""

from aiohttp import web

from ..station.icecast import IcecastPush
from ..station.station import Station

STATION = web.AppKey("station", Station)
ICECAST = web.AppKey("icecast", IcecastPush)
