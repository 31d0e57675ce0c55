"""The station's HTTP interface as an OpenAPI 3 document, served at /api/openapi.json.

Every route of the app is here, and only those (tests/test_openapi.py checks both ways and
checks real responses against the schemas; tests/test_fuzz.py sends what the document
allows and more). Operations marked `x-admin` need the admin token; `x-stream` ones
never end (the audio streams) and are not fuzzed.
"""

from __future__ import annotations

from ..contracts import MAX_UPLOAD_BYTES, SET_NAME
from ..station.channels import NAME as CHANNEL_NAME
from .jsonbody import MAX_BYTES

ERROR = {"$ref": "#/components/responses/Error"}
NUMBER = {"type": "number"}
INT = {"type": "integer"}
STR = {"type": "string"}
OBJ = {"type": "object"}
LEARN_JOB = {"type": ["object", "null"], "properties": {
    "set": STR, "state": {"type": "string", "enum": ["running", "done", "failed", "cancelled"]},
    "pid": {"type": ["integer", "null"]}, "started": NUMBER, "step": {"type": ["integer", "null"]},
    "steps": {"type": ["integer", "null"]}, "seconds_left": {"type": ["integer", "null"]},
    "exit_code": {"type": ["integer", "null"]}, "message": {"type": ["string", "null"]}}}
RETRY = {"Retry-After": {"description": "seconds until the client may try again", "schema": INT}}

PLAYED = {  # a played segment (station.Played.to_json)
    "type": "object",
    "required": ["id", "qpm", "bars", "seconds", "start"],
    "properties": {
        "id": INT, "qpm": NUMBER, "bars": INT, "start_qpm": NUMBER, "ramp_beats": NUMBER,
        "seconds": NUMBER, "anchors": {"type": "array", "items": STR}, "t": NUMBER,
        "humanized": {"type": "boolean"}, "notes": {}, "mix": STR, "temperature": NUMBER,
        "sound": STR, "programs": OBJ, "start": NUMBER, "restored": {"type": "boolean"},
        "midi": STR,
        "band": {"type": "object", "description": "band mode: keep (parts), source (set/file), "
                                                  "window (1-based) of windows"},
        "song": {"type": "object", "description": "a song's section: id, title, form, section (index), "
                                                  "name, bars, start_bar, song_bars, key, qpm, resting (the part "
                                                  "sitting the section out, or null)"},
    },
}
SONG = {  # station/songs.summary
    "type": "object", "required": ["id", "title", "form", "sections", "complete", "cut", "midi"],
    "properties": {"id": INT, "title": STR, "form": OBJ, "key": STR, "qpm": NUMBER, "start": NUMBER,
                   "seconds": NUMBER, "sections": {"type": "array", "items": OBJ},
                   "complete": {"type": "boolean"}, "cut": {"type": "boolean"}, "midi": STR},
}
SONG_NOW = {  # api.song_now
    "type": "object", "required": ["id", "title", "form", "section", "name", "bar", "started", "seconds"],
    "properties": {"id": INT, "title": STR, "form": OBJ, "key": STR, "section": INT, "name": STR, "bar": INT,
                   "started": NUMBER, "seconds": NUMBER,
                   "resting": {"type": ["string", "null"], "enum": ["lead", "bass", "drums", None],
                               "description": "the part sitting this section out (a band's arrangement)"}},
}

MIX_FIELDS = {  # radio/mix.py: what a mix change may carry
    "sets": {"type": "object", "additionalProperties": NUMBER,
             "description": "seed set → weight (0–1000); at least one above 0"},
    "temperature": {"type": "number", "minimum": 0.01, "maximum": 2},
    "qpm": {"type": "number", "description": "0 (follow the seeds) or 40–240"},
    "lead_program": {"type": ["integer", "null"], "minimum": 0, "maximum": 127},
    "bass_program": {"type": ["integer", "null"], "minimum": 0, "maximum": 127},
    "mode": {"type": "string", "enum": ["walk", "interpolate", "loop", "band"]},
    "endpoints": {"type": "array", "items": STR, "maxItems": 2,
                  "description": "interpolate: two seed segments, set/file or set/file@bar; else []"},
    "prior": {"type": "number", "minimum": 0, "maximum": 1},
    "loop_bars": {"type": "integer", "enum": [1, 2, 4, 8]},
    "transpose": {"type": "integer", "minimum": -12, "maximum": 12},
    "qpm_range": {"type": "array", "items": NUMBER, "maxItems": 2},
    "ramp_bars": {"type": "integer", "minimum": 1, "maximum": 8},
    "groove": {"type": "object", "description": "performer.Groove fields, e.g. {\"preset\": \"swing\"}"},
    "sound": {"type": "object", "description": "{} or {\"preset\": name, …overrides}"},
    "keep": {"type": "object", "additionalProperties": STR, "maxProperties": 2,
             "description": "band: part (lead, bass, drums) → the seed file (set/file) it plays from; "
                            "one or two parts, one file; else {}"},
    "form": {"oneOf": [STR, {"type": "object", "required": ["sections"],
                             "properties": {"name": STR, "sections": {"type": "array", "items": STR}}}],
             "description": "walk: \"song\" (a shipped form per song), \"morph\" (no songs), a shipped "
                            "form's name, or {\"sections\": [\"intro:4\", \"A:16\", …]}"},
    "style": {"type": "number", "minimum": 0, "maximum": 1,
              "description": "how far the lead and bass take on the manner of the sets' own songs "
                             "(striking held notes again, range, rests, note lengths), where the model's differs; 0 (the "
                             "default): the model's own (a learned set's model: that set's, written by radio learn)"},
    "head": {"type": "string", "maxLength": 200,
             "description": "a seed segment (set/file@bar, as /api/map's dots name them) the walk heads "
                            "for next, starting a song there; \"\" none. Once per change: it is \"\" "
                            "again after any other change"},
}
MIX = {"type": "object", "required": list(MIX_FIELDS) + ["label"],
       "properties": {**MIX_FIELDS, "label": STR}}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(schema: dict, kind: str = "application/json") -> dict:
    return {"required": True, "content": {kind: {"schema": schema}}}


def _admin(op: dict) -> dict:
    """An operation that needs the token: 401 without it, 403 with the admin API off,
    429 after too many wrong tokens from one address."""
    return {**op, "x-admin": True, "security": [{"bearer": []}],
            "responses": {**op["responses"], "401": ERROR, "403": ERROR,
                          "429": {**ERROR, "headers": RETRY}}}


def _midi_download(summary: str) -> dict:
    """GET of a played segment's or song's MIDI by numeric id; 404 when not in the history."""
    return {"get": {"summary": summary,
                    "parameters": [{"name": "id", "in": "path", "required": True,
                                    "schema": {"type": "string", "pattern": "^[0-9]+$"}}],
                    "responses": {"200": {"description": "MIDI file", "content": {"audio/midi": {}}},
                                  "404": ERROR}}}


STARTING = {"503": {"$ref": "#/components/responses/Starting"}}
SET = {"name": "set", "in": "path", "required": True,
       "schema": {"type": "string", "pattern": f"^{SET_NAME.pattern}$"}}
FILE = {"name": "file", "in": "path", "required": True, "schema": STR}

PATHS = {
    "/": {"get": {"summary": "the listening page", "responses": {
        "200": {"description": "HTML", "content": {"text/html": {"schema": STR}}}}}},
    "/static/{file}": {"get": {
        "summary": "the page's files", "parameters": [{"name": "file", "in": "path", "required": True,
                                                       "schema": STR}],
        "responses": {"200": {"description": "a file"}, "403": {"description": "not a file"},
                      "404": {"description": "no such file"}}}},
    "/hls/{file}": {"get": {
        "summary": "HLS playlist (live.m3u8) and MP3 segments (when the `hls` setting is on)",
        "parameters": [{"name": "file", "in": "path", "required": True, "schema": STR}],
        "responses": {"200": {"description": "a file"}, "403": {"description": "not a file"},
                      "404": {"description": "no such file"}}}},
    "/stream.{format}": {"get": {
        "summary": "the live stream; `Icy-MetaData: 1` interleaves titles (HEAD: headers only)",
        "x-stream": True,
        "parameters": [{"name": "format", "in": "path", "required": True,
                        "schema": {"type": "string", "enum": ["mp3", "ogg"]}}],
        "responses": {"200": {"description": "audio without end",
                              "content": {"audio/mpeg": {}, "audio/ogg": {}}},
                      "404": {"description": "no such format"}}}},
    "/listen.{kind}": {"get": {
        "summary": "a playlist for players", "parameters": [
            {"name": "kind", "in": "path", "required": True, "schema": {"type": "string", "enum": ["m3u", "pls"]}}],
        "responses": {"200": {"description": "playlist",
                              "content": {"audio/x-mpegurl": {"schema": STR}, "audio/x-scpls": {"schema": STR}}},
                      "404": {"description": "no such playlist kind"}}}},
    "/healthz": {"get": {"summary": "status for load balancers", "responses": {
        "200": _json({"type": "object", "required": ["status"], "properties": {
            "status": {"type": "string", "enum": ["ok", "degraded", "starting"]}}}),
        "503": _json({"type": "object", "required": ["status"], "properties": {
            "status": {"type": "string", "enum": ["error"]}}}, "no audio yet and the generator failed")}}},
    "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {
        "200": {"description": "text format 0.0.4", "content": {"text/plain": {"schema": STR}}}}}},
    "/api/openapi.json": {"get": {"summary": "this document", "responses": {"200": _json(OBJ)}}},
    "/api/now": {"get": {"summary": "what plays now, around it, with notes", "responses": {"200": _json({
        "type": "object", "required": ["position", "mix", "now_playing", "segments", "listeners"],
        "properties": {"position": NUMBER, "mix": {"oneOf": [MIX, {"type": "null"}]},
                       "now_playing": {"oneOf": [PLAYED, {"type": "null"}]},
                       "song": {"oneOf": [SONG_NOW, {"type": "null"}]},
                       "segments": {"type": "array", "items": PLAYED},
                       "listeners": {"type": "object", "additionalProperties": INT}}})}}},
    "/api/history": {"get": {"summary": "the segments played and their songs, newest first", "responses": {
        "200": _json({"type": "object", "required": ["segments", "songs"],
                      "properties": {"segments": {"type": "array", "items": PLAYED},
                                     "songs": {"type": "array", "items": SONG}}})}}},
    "/api/songs/{id}.mid": _midi_download("a played song as MIDI: every section in order, one named track "
                                          "per part"),
    "/api/segments/{id}.mid": _midi_download("a played segment as MIDI"),
    "/api/mix": {
        "get": {"summary": "the style mix, the seed sets and the sound presets",
                "responses": {"200": _json({**MIX, "required": MIX["required"] + ["sets_available", "sound_presets"],
                                            "properties": {**MIX["properties"],
                                                           "sets_available": {"type": "array", "items": STR},
                                                           "sound_presets": {"type": "array", "items": STR}}}),
                              **STARTING}},
        "put": _admin({"summary": "change the mix (any subset of fields), heard from the next segment; "
                                  "a change to what is composed starts a new song there, and "
                                  "next_song: true asks for one",
                       "requestBody": _body({"type": "object", "properties": {
                           **MIX_FIELDS, "next_song": {"type": "boolean"}}}),
                       "responses": {"200": _json(MIX), "400": ERROR, "413": ERROR, **STARTING}}),
    },
    "/api/vote": {"post": {
        "summary": "a listener's like or skip of a played segment (default: the one playing), which "
                   "counts for its song when it is a song's section; one per address and segment (song); "
                   "120 an hour per address, 600 per /24 or /64; "
                   "application/json only; a browser's Origin must be the station's own",
        "requestBody": _body({"type": "object", "required": ["vote"], "properties": {
            "vote": {"type": "string", "enum": ["like", "skip"]}, "segment": INT,
            "anchor": {**STR, "description": "a click on the map: a like aimed at the region of this "
                                             "seed segment (a dot of /api/map); vote must be like"}}}),
        "responses": {"200": _json({"type": "object", "required": ["counted", "likes", "skips"],
                                    "properties": {"segment": INT, "counted": {"type": "boolean"},
                                                   "likes": INT, "skips": INT, "song": INT, "title": STR,
                                                   "anchor": STR}}),
                      "400": ERROR, "403": ERROR, "404": ERROR, "409": ERROR, "413": ERROR, "415": ERROR,
                      "429": {**ERROR, "headers": RETRY}, **STARTING}}},
    "/api/votes": {"get": {"summary": "the votes' tally and where they tilt the walk", "responses": {
        "200": _json({"type": "object", "required": ["segments", "likes", "skips", "bounds", "anchors"],
                      "properties": {"segments": INT, "likes": INT, "skips": INT,
                                     "bounds": {"type": "array", "items": NUMBER},
                                     "anchors": {"type": "object", "additionalProperties": NUMBER}}}),
        **STARTING}}},
    "/api/map": {"get": {
        "summary": "the map of the music: every seed segment's anchor as a dot (label, set index, x, y), "
                   "the walk's trail (recent and queued segments: id, stream start, seconds, point, song), "
                   "songs where they sat, and the votes' heat (x, y, likes − skips); x, y in 0–1 "
                   "(a PCA of the model's z fitted on the anchors). ETag and gzip; a page polls it with "
                   "If-None-Match",
        "responses": {"200": _json({"type": "object",
                                    "required": ["sets", "dots", "trail", "songs", "heat", "fitted_on", "version"],
                                    "properties": {"sets": {"type": "array", "items": STR},
                                                   "dots": {"type": "array", "items": {"type": "array"}},
                                                   "trail": {"type": "array", "items": OBJ},
                                                   "songs": {"type": "array", "items": OBJ},
                                                   "heat": {"type": "array", "items": {"type": "array"}},
                                                   "fitted_on": INT, "version": INT,
                                                   "model": {"type": ["string", "null"],
                                                             "description": "the learned set whose model "
                                                             "plays (radio learn); null: the station's own"}}}),
                      "304": {"description": "not changed since the ETag sent in If-None-Match"}}}},
    "/api/map/refit": {"post": _admin({
        "summary": "fit the map again on the anchors there are now (it is fitted once per model, and "
                   "anchors added later are projected with that fit); every dot may move",
        "responses": {"200": _json({"type": "object", "required": ["fitted_on", "version"],
                                    "properties": {"fitted_on": INT, "version": INT}}),
                      "403": ERROR, **STARTING}})},
    "/api/seeds": {"get": {"summary": "the seed sets and their files, and the learning job", "responses": {
        "200": _json({"type": "object", "required": ["sets"], "properties": {"sets": {
            "type": "object", "additionalProperties": {"type": "array", "items": {
                "type": "object", "required": ["name", "bytes", "segments"],
                "properties": {"name": STR, "bytes": INT, "segments": INT}}}}, "learn": LEARN_JOB}}),
        **STARTING}}},
    "/api/learn": {
        "get": {"summary": "the learning job (radio learn SET in the background): null before the first",
                "responses": {"200": _json({"type": "object", "required": ["job"], "properties": {"job": LEARN_JOB}})}},
        "post": _admin({
            "summary": "learn a seed set: the station's model fine-tuned on it at the lowest CPU priority, "
                       "stopping before it plays the set's songs back; one job at a time (409), and 409 "
                       "without the train extra, naming the command that adds it; application/json only",
            "requestBody": _body({"type": "object", "required": ["set"], "additionalProperties": False,
                                  "properties": {"set": STR, "steps": {"type": "integer", "minimum": 1, "maximum": 10000},
                                                 "patience": {"type": "integer", "minimum": 1, "maximum": 100}}}),
            "responses": {"202": _json({"type": "object", "required": ["job"], "properties": {"job": LEARN_JOB}}),
                          "400": ERROR, "404": ERROR, "409": ERROR, "413": ERROR, "415": ERROR}}),
        "delete": _admin({
            "summary": "cancel the learning job (Ctrl-C: it saves, and the next job on the set goes on from there)",
            "responses": {"200": _json({"type": "object", "required": ["job"], "properties": {"job": LEARN_JOB}}),
                          "404": ERROR}})},
    "/api/complete": {"post": _admin({
        "summary": "complete the band: keep the named part(s) of a MIDI file (≤ 2 MB, ≤ 128 bars), "
                   "answer the MIDI with the other parts written around them; one job at a time",
        "requestBody": _body({"type": "object", "required": ["file", "keep"], "properties": {
            "file": {"type": "string", "format": "binary"},
            "keep": {"type": "string", "description": "bass, lead, drums or two of them, comma-separated"},
            "track": INT, "candidates": {"type": "integer", "minimum": 1, "maximum": 256},
            "temperature": NUMBER, "seed": INT}}, "multipart/form-data"),
        "responses": {"200": {"description": "the completed MIDI file", "content": {"audio/midi": {}}},
                      "400": ERROR, "413": ERROR}})},
    "/api/seeds/{set}": {
        "parameters": [SET],
        "post": _admin({"summary": f"upload a trio MIDI file (≤ {MAX_UPLOAD_BYTES} bytes) into a set",
                        "requestBody": _body({"type": "object", "required": ["file"], "properties": {
                            "file": {"type": "string", "format": "binary"}}}, "multipart/form-data"),
                        "responses": {"201": _json({"type": "object",
                                                    "required": ["set", "file", "segments", "roles"],
                                                    "properties": {"set": STR, "file": STR,
                                                                   "segments": INT, "roles": STR}}),
                                      "400": ERROR, "404": ERROR, "409": ERROR, "413": ERROR, "415": ERROR,
                                      "422": ERROR, **STARTING}}),
        "delete": _admin({"summary": "delete a whole set (409 while another channel's mix plays it)",
                          "responses": {"200": {"$ref": "#/components/responses/Removed"},
                                        "400": ERROR, "404": ERROR, "409": ERROR, **STARTING}}),
    },
    "/api/seeds/{set}/{file}": {
        "parameters": [SET, FILE],
        "delete": _admin({"summary": "delete one MIDI file of a set (its last one: as deleting the set)",
                          "responses": {"200": {"$ref": "#/components/responses/Removed"},
                                        "400": ERROR, "404": ERROR, "409": ERROR, **STARTING}}),
    },
    "/api/drill": {"post": _admin({
        "summary": "a fault drill: the generator crashes or stalls (0–600 s) before its next segment",
        "requestBody": _body({"type": "object", "required": ["fault"], "properties": {
            "fault": {"type": "string", "enum": ["crash", "stall"]},
            "seconds": {"type": "number", "minimum": 0, "maximum": 600}}}),
        "responses": {"202": _json({"type": "object", "required": ["drill", "seconds"],
                                    "properties": {"drill": STR, "seconds": NUMBER}}),
                      "400": ERROR, "413": ERROR}})},
}

CHANNEL = {"name": "channel", "in": "path", "required": True,
           "schema": {"type": "string", "pattern": f"^{CHANNEL_NAME.pattern}$"}}
CHANNEL_FIELDS = {"title": {"type": "string", "minLength": 1, "maxLength": 200},
                  "description": {"type": "string", "minLength": 1, "maxLength": 200},
                  "mix": {"type": "object", "properties": MIX_FIELDS,
                          "description": "the channel's starting mix (as PUT /api/mix takes it)"}}
CHANNEL_INFO = {"type": "object", "required": ["name", "title", "description", "mix", "status", "urls", "listeners"],
                "properties": {**CHANNEL_FIELDS, "name": STR, "status": STR, "now_playing": {"type": ["string", "null"]},
                               "urls": {"type": "object", "additionalProperties": STR},
                               "listeners": {"type": "object", "additionalProperties": INT}}}
NOT_FOUND = {"404": ERROR}


def _in_channel(item: dict) -> dict:
    """A path item of main's, as a channel's: the channel in the path, 404 when there is none."""
    out = {"parameters": [CHANNEL, *item.get("parameters", [])]}
    for method, op in item.items():
        if method != "parameters":
            out[method] = {**op, "summary": op["summary"] + " (of one channel)",
                           "responses": {**NOT_FOUND, **op["responses"]}}
    return out


# what each channel has of its own (api.CHANNEL_ROUTES): main's at /api/…, the others' here
for _path in ("now", "history", "segments/{id}.mid", "songs/{id}.mid", "mix", "vote", "votes", "map", "map/refit",
              "drill"):
    PATHS[f"/api/channels/{{channel}}/{_path}"] = _in_channel(PATHS[f"/api/{_path}"])
for _path in ("stream.{format}", "listen.{kind}", "hls/{file}"):
    PATHS[f"/{{channel}}/{_path}"] = _in_channel(PATHS[f"/{_path}"])
PATHS["/api/channels"] = {
    "get": {"summary": "the channels: each with its title, status, URLs, listeners and what it plays now",
            "responses": {"200": _json({"type": "object", "required": ["channels", "max_channels"], "properties": {
                "channels": {"type": "array", "items": CHANNEL_INFO}, "max_channels": INT}})}},
    "post": _admin({"summary": "add a channel (kept in the data folder; at most max_channels, 409 beyond)",
                    "requestBody": _body({"type": "object", "required": ["name"],
                                          "properties": {"name": CHANNEL["schema"], **CHANNEL_FIELDS}}),
                    "responses": {"201": _json(CHANNEL_INFO), "400": ERROR, "409": ERROR, "413": ERROR}})}
PATHS["/api/channels/{channel}"] = {
    "parameters": [CHANNEL],
    "get": {"summary": "one channel", "responses": {"200": _json(CHANNEL_INFO), "404": ERROR}},
    "put": _admin({"summary": "change a channel's title, description or mix (kept in the data folder)",
                   "requestBody": _body({"type": "object", "properties": CHANNEL_FIELDS}),
                   "responses": {"200": _json(CHANNEL_INFO), "400": ERROR, "404": ERROR, "413": ERROR,
                                 **STARTING}}),
    "delete": _admin({"summary": "remove a channel: its listeners are let go, its URLs answer 404 (main stays)",
                      "responses": {"200": {"$ref": "#/components/responses/Removed"}, "404": ERROR,
                                    "409": ERROR}})}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "latent radio", "version": "1",
             "description": "An endless generative radio station. Reads are open; changes need "
                            "`Authorization: Bearer <admin token>`. Every refusal on /api/ is a 4xx "
                            f"with a JSON `error` that says why. JSON bodies: at most {MAX_BYTES} bytes, "
                            "32 levels deep, strict JSON (no NaN or Infinity)."},
    "paths": PATHS,
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {"Error": {"type": "object", "required": ["error"], "properties": {"error": STR}}},
        "responses": {
            "Error": _json({"$ref": "#/components/schemas/Error"}, "refused: `error` says why"),
            "Starting": _json({"$ref": "#/components/schemas/Error"}, "the station is still starting"),
            "Removed": _json({"type": "object", "required": ["removed"],
                              "properties": {"removed": {"type": "array", "items": STR}}}),
        },
    },
}
