"""The app's state keys (aiohttp's AppKey), all of them, in one place."""

from aiohttp import web

from ..station.learnjob import Learner
from ..station.lineup import Lineup
from ..station.station import Station
from ..support.ratelimit import Lockout

STATION = web.AppKey("station", Station)                 # channel main's (the old URLs')
CHANNELS = web.AppKey("channels", Lineup)               # every channel's station, by name
TOKEN_FAILURES = web.AppKey("token_failures", Lockout)   # wrong admin tokens, per address
PROXIES = web.AppKey("trusted_proxies", tuple)            # Settings.proxy_networks()
# complete_api.Completer: the class lives there, and naming it here would import that
# module into every app; untyped instead
COMPLETER = web.AppKey("completer")
LEARNER = web.AppKey("learner", Learner)                 # learn_api: the one `radio learn` job
