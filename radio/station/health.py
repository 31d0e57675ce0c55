"""The station's health, as /healthz reports it: each part says its own (generator, pacer,
outputs, master), this module adds them up.

503 until music plays (a balancer waits) and while the pacer is down; once music plays the
stream never stops (the fallback covers a failing generator), so a generator or output in
trouble is "degraded", not a reason for a load balancer to drop us. With several channels
(lineup.py) the whole is their sum: 503 only while no channel plays, "degraded" while any
is not "ok".
"""

from __future__ import annotations

import time

from .channels import MAIN
from .station import Station


def status(station: Station) -> tuple[str, int]:
    """(status, HTTP code)."""
    if station.pacer.down:
        return "error", 503
    if station.first_audio_at is None:
        return ("error" if station.gen.last_error else "starting"), 503
    trouble = station.filling or station.gen.last_error or not station.generator.up or station.outputs.failing
    return ("degraded" if trouble else "ok"), 200


def sound(station: Station) -> dict:
    level = station.master.output_lufs
    current = station.current
    return {"preset": current.meta.sound if current else None,
            "master_gain_db": round(station.master.gain_db, 2),
            "loudness_lufs": None if level is None else round(level, 2),
            "target_lufs": station.master.target,
            "missing_soundfonts": station.gen.missing_soundfonts}


def model(station: Station) -> dict:
    """Whose model plays, and the learned models older than their set's files (`radio learn
    SET` again brings one up to date)."""
    learned = station.gen.learned
    return {"playing": station.gen.model or None, "learned": sorted(learned),
            "stale": {s: v["unlearned"] for s, v in sorted(learned.items()) if v.get("unlearned")}}


def report(station: Station) -> tuple[dict, int]:
    """(the /healthz body, HTTP code)."""
    state, code = status(station)
    gen, playing = station.generator, station.first_audio_at is not None
    return {
        "status": state,
        "uptime_seconds": round(time.monotonic() - station.started_at, 3),
        "first_audio_after_seconds": round(station.first_audio_at - station.started_at, 3) if playing else None,
        "listeners": {name: len(s.listeners) for name, s in station.streams.items()},
        "segments_generated": station.history.next_id,
        "lead_seconds": round(station.lead_seconds, 3),
        "underrun_seconds": round(station.underrun_seconds, 3),
        "generator_restarts": station.restarts,
        "generator": {"pid": gen.pid, "running": gen.up, "process_restarts": gen.restarts,
                      "pipeline_restarts": station.gen.errors,
                      "hang_limit_seconds": round(gen.hang_limit(), 1)},
        "pacer": station.pacer.health(),
        "outputs": station.outputs.health(),
        "encoding": {"formats": list(station.encoding.running), "taken_up": station.encoding.started},
        "failing_outputs": station.outputs.failing,
        "icecast": ({"connected": station.icecast.connected, "reconnects": station.icecast.reconnects}
                    if station.icecast is not None else None),
        "sound": sound(station),
        "model": model(station),
        "last_error": station.gen.last_error or gen.last_error,
    }, code


def whole(stations: dict[str, Station]) -> tuple[dict, int]:
    """(the /healthz body, HTTP code) of every channel: main's report at the top (as with
    one channel), each channel's in `channels`."""
    reports = {name: report(station) for name, station in list(stations.items())}
    body, code = dict(reports[MAIN][0]), reports[MAIN][1]
    if len(reports) > 1:
        states = [r["status"] for r, _ in reports.values()]
        playing = [c for _, c in reports.values() if c == 200]
        body["status"] = "ok" if all(s == "ok" for s in states) else "degraded" if playing else body["status"]
        code = 200 if playing else 503
    body["channels"] = {name: r for name, (r, _) in reports.items()}
    return body, code
