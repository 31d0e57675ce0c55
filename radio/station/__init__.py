"""The station: wiring (station.py), the pacer, playout with its fallback, the store, the
encoders (MP3, Opus), the sinks they feed (broadcasters, HLS, the Icecast push).
"""
