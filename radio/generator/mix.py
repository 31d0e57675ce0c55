"""The style mix: which seed sets the walk draws its anchors from, and how it plays them.

A mix is plain data, validated as a whole before the station sees it, so a bad PUT from
the API or a bad config value is refused with a message naming the field and never
half-applied. The station plays a change from the next segment boundary (segments made
ahead under the old mix are dropped); a tempo change ramps over `ramp_bars` bars.

Fields (defaults): sets (every set, weight 1), temperature 1.0, qpm 0 (follow the seeds;
or a fixed tempo 40–240), qpm_range [] (clamp the seeds' tempi, e.g. [90, 130]), transpose
0 (semitones for lead and bass, −12…12), lead_program / bass_program null (the sound
preset's; a GM program 0–127 overrides it), sound {} (the preset of the set the walk is
heading to; {"preset": "jazz"} pins one; any preset field may be overridden: see
radio/presets.py), mode
"walk" | "interpolate" (between the two `endpoints`, "set/file" or "set/file@bar") |
"loop" (a `loop_bars` phrase repeated while z drifts) | "band" (the parts named in `keep`,
{"bass": "set/file"}, play from that seed file window by window while the walk makes the
others: radio/band.py), prior 0 (share of legs that head for a fresh point of the model's
prior), ramp_bars 1, groove {} (performer.Groove fields), keep {} (band: one or two of
lead, bass, drums → one seed file that has them), form "song" (the walk plays songs: a
shipped form drawn per song; or a form's name, or {"sections": ["intro:4", "A:16", …]};
"morph": the endless drift, no songs; radio/music/song.py), head "" (a seed segment,
"set/file@bar", the walk heads for next: a click on the page's map; once per change), style
0 (0–1: how far the lead and bass take on the manner of the mix's sets' own songs, where
the model's differs: radio/model/style.py; 0 plays the model's own, which for a learned
set's model is that set's. Off by default: the shipped sets' manner pulls the default mix
off its goals, a band's set's toward the band).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from pathlib import Path

from ..contracts import PARTS, SET_NAME, RadioError
from ..support.checks import number, shown

# "set/file" or "set/file@bar": a seed set, a file's stem in it, a bar its segment starts at
ENDPOINT = re.compile(f"(?P<set>{SET_NAME.pattern})/" + r"(?P<stem>[^/@\x00-\x1f\x7f]{1,120})(?:@(?P<bar>[0-9]{1,5}))?")


MODES = ("walk", "interpolate", "loop", "band")


class MixError(RadioError, ValueError):
    """A mix that cannot be played; the message names the field and what is allowed."""
    status = 400


@dataclasses.dataclass(frozen=True)
class StyleMix:
    sets: dict[str, float]                 # seed set → weight; anchors drawn in proportion
    temperature: float = 1.0               # plain softmax sampling: bench/model_quality.py
    qpm: float = 0.0                       # 0: follow the tempi of the seeds
    lead_program: int | None = None        # None: the sound preset's
    bass_program: int | None = None
    mode: str = "walk"
    endpoints: tuple = ()
    prior: float = 0.0
    loop_bars: int = 4
    transpose: int = 0
    qpm_range: tuple = ()
    ramp_bars: int = 1
    groove: dict = dataclasses.field(default_factory=dict, hash=False)
    sound: dict = dataclasses.field(default_factory=dict, hash=False)
    keep: dict = dataclasses.field(default_factory=dict, hash=False)   # band: part → "set/file"
    form: object = dataclasses.field(default="song", hash=False)       # song.check_form: name or dict
    head: str = ""                         # a seed segment the walk heads for next; "" none
    style: float = 0.0                     # how far the sets' own manner moves the model's (styles.py)

    FIELDS = ("sets", "temperature", "qpm", "lead_program", "bass_program", "mode", "endpoints",
              "prior", "loop_bars", "transpose", "qpm_range", "ramp_bars", "groove", "sound", "keep", "form", "head",
              "style")
    # what a song holds: a change to any other field starts a new song (songwriter.py)
    PERFORMANCE = ("lead_program", "bass_program", "groove", "sound", "ramp_bars", "loop_bars")

    def label(self) -> str:
        active = sorted((-w, s) for s, w in self.sets.items() if w > 0)
        label = " × ".join(f"{s} {-w:g}" for w, s in active) or "silence"
        if len(active) > 3:      # read at a glance: "10 styles, even", or the top three's shares
            total = -sum(w for w, _ in active)
            label = f"{len(active)} styles, even" if len({w for w, _ in active}) == 1 else \
                " · ".join(f"{s} {-w / total:.0%}" for w, s in active[:3]) + f" + {len(active) - 3} more"
        if self.mode == "interpolate":
            return f"{self.endpoints[0]} ↔ {self.endpoints[1]}"
        return label + (f" ({self.mode})" if self.mode in ("loop", "band") else "")

    def to_dict(self) -> dict:
        out = {k: getattr(self, k) for k in self.FIELDS}
        out.update(sets=dict(self.sets), endpoints=list(self.endpoints), qpm_range=list(self.qpm_range),
                   groove=dict(self.groove), sound=dict(self.sound), keep=dict(self.keep), label=self.label(),
                   form=self.form if isinstance(self.form, str) else dict(self.form))
        return out

    def songs(self) -> bool:
        """Whether the walk plays songs (a form) rather than the endless drift."""
        return self.mode == "walk" and self.form != "morph"

    def new_song(self, other: "StyleMix") -> bool:
        """Whether going from this mix to `other` ends the song playing."""
        # heading somewhere new starts a song there; a head does not outlive its change
        return bool(other.head) or any(getattr(self, k) != getattr(other, k) for k in self.FIELDS
                                       if k not in self.PERFORMANCE and k != "head")

    def updated(self, changes: dict, known_sets, anchors=None) -> "StyleMix":
        """A new mix with `changes` (any subset of the fields) applied, checked as a whole.
        `known_sets`: seed set → its files (SeedLibrary.sets()); `anchors`: the labels of
        the seed segments ("set/file@bar"), when known, which endpoints must name."""
        if not isinstance(changes, dict):
            raise MixError("the mix must be a JSON object")
        unknown = set(changes) - set(self.FIELDS) - {"label"}
        if unknown:
            raise MixError(f"unknown field(s) {sorted(unknown)}; allowed: {list(self.FIELDS)}")
        values = {**{k: getattr(self, k) for k in self.FIELDS}, "head": "",    # a head is once per change
                  **{k: v for k, v in changes.items() if k != "label"}}
        return StyleMix(**_checked(values, known_sets, anchors))


def seed_file(known_sets: dict, set_name: str, stem: str):
    """The path of seed file `set_name/stem` in `known_sets` (SeedLibrary.sets()), or None."""
    return next((p for p in known_sets.get(set_name, ()) if p.stem == stem), None)


def walk_mode(mode: str) -> str:
    """The walk's own mode under a mix mode: band mode walks on (it moves the parts not kept)."""
    return "walk" if mode == "band" else mode


def _num(values: dict, key: str, lo: float, hi: float, integer: bool = False):
    return number(values[key], key, lo, hi, integer, MixError)


def _endpoints(values: dict, known_sets: dict, anchors) -> tuple:
    """Two existing seed segments for interpolate (kept, and checked, in every mode; []
    when not interpolating)."""
    ends = values["endpoints"]
    if values["mode"] != "interpolate" and isinstance(ends, (list, tuple)) and not ends:
        return ()
    if not isinstance(ends, (list, tuple)) or len(ends) != 2 or not all(isinstance(e, str) for e in ends):
        raise MixError('endpoints: interpolate needs two seed segments, e.g. ["rock/song", "ska/tune@4"] '
                       '([] in the other modes)')
    labels = None if anchors is None else set(anchors)
    for e in ends:
        m = ENDPOINT.fullmatch(e)
        if m is None or seed_file(known_sets, m["set"], m["stem"]) is None:
            raise MixError(f"endpoints: no seed file {shown(e)} (use set/file or set/file@bar, "
                           f"as /api/seeds lists them)")
        if labels is not None and e not in labels and \
                (m["bar"] is not None or not any(label.split("@")[0] == e for label in labels)):
            raise MixError(f"endpoints: {shown(e)} is not a seed segment (a file's segments start "
                           f"at the bars its labels show, e.g. {min(labels, default='rock/song@0')!r})")
    return tuple(ends)


def _head(head, anchors) -> str:
    """A seed segment's label (one of the walk's anchors, when they are known), or ""."""
    if head == "":
        return ""
    if not isinstance(head, str) or ENDPOINT.fullmatch(head) is None or \
            (anchors is not None and head not in set(anchors)):
        raise MixError(f"head: {shown(head)} is not a seed segment; use a label as /api/map lists "
                       f"them, e.g. \"rock/song@0\", or \"\" for none")
    return head


def _keep(values: dict, known_sets: dict) -> dict:
    """The parts band mode keeps: one or two of lead, bass, drums, all from one existing
    seed file that has them (found by role as `radio complete` finds them), in 4/4. Kept,
    and checked, in every mode; {} when not in band mode."""
    keep = values["keep"]
    example = '{"bass": "rock/song"}'
    if not isinstance(keep, dict):
        raise MixError(f"keep: expected an object of part → seed file, e.g. {example}, or {{}}")
    if not keep:
        if values["mode"] == "band":
            raise MixError(f"keep: band mode needs one or two parts to keep, e.g. {example}")
        return {}
    unknown = [p for p in keep if p not in PARTS]
    if unknown:
        raise MixError(f"keep: {shown(unknown[0])} is not a part; use lead, bass or drums")
    if len(keep) > 2:
        raise MixError("keep: all three parts named; keep one or two (the model plays the rest)")
    if not all(isinstance(n, str) for n in keep.values()):
        raise MixError(f"keep: expected seed files as \"set/file\", e.g. {example}")
    names = list(dict.fromkeys(keep.values()))
    if len(names) > 1:
        raise MixError(f"keep: the kept parts must come from one seed file (got {shown(names)}): "
                       "they play in its time, note for note")
    m = ENDPOINT.fullmatch(names[0])
    path = None if m is None or m["bar"] is not None else seed_file(known_sets, m["set"], m["stem"])
    if path is None:
        raise MixError(f"keep: no seed file {shown(names[0])} (use set/file, as /api/seeds lists them)")
    try:
        stat = path.stat()
        problem = _kept_parts_problem(str(path), stat.st_mtime_ns, stat.st_size, tuple(sorted(keep)))
    except OSError as e:
        raise MixError(f"keep: cannot read {names[0]}: {e.strerror}") from None
    if problem:
        raise MixError(f"keep: {names[0]}: {problem}")
    return {p: names[0] for p in PARTS if p in keep}


@functools.lru_cache(maxsize=32)
def _kept_parts_problem(path: str, mtime_ns: int, size: int, parts: tuple) -> str:
    """Why the file cannot give those parts ("" when it can). Cached by the file's mtime
    and size: band mode checks `keep` on every mix change, whatever the change."""
    from ..band.parts import CompleteError, find_parts, read_input
    try:
        find_parts(read_input(Path(path).read_bytes()), list(parts))
    except CompleteError as e:
        return str(e)
    return ""


def _groove(value) -> dict:
    from ..music.groove import Groove
    if not isinstance(value, dict):
        raise MixError("groove: expected an object of performer settings, e.g. {\"swing\": 0.2}")
    try:
        Groove.from_dict(value)
    except ValueError as e:
        raise MixError(f"groove: {e}") from None
    return dict(value)


def _sound(value) -> dict:
    from ..sound.presets import SoundError, check_mix_sound
    try:
        return check_mix_sound(value)
    except SoundError as e:
        raise MixError(str(e)) from None


def _form(value):
    from ..music.song import FormError, check_form
    try:
        return check_form(value)
    except FormError as e:
        raise MixError(str(e)) from None


def _program(values: dict, key: str):
    return None if values[key] is None else _num(values, key, 0, 127, integer=True)


def _checked(values: dict, known_sets: dict, anchors=None) -> dict:
    """`known_sets`: seed set → its files (SeedLibrary.sets()); `anchors`: segment labels."""
    if not isinstance(values["mode"], str) or values["mode"] not in MODES:
        raise MixError(f"mode: {shown(values['mode'])}; use walk, interpolate, loop or band")
    qpm_range = values["qpm_range"]
    if qpm_range:
        if not isinstance(qpm_range, (list, tuple)) or len(qpm_range) != 2:
            raise MixError("qpm_range: expected [lowest, highest], e.g. [90, 130], or []")
        lo, hi = (_num({"qpm_range": v}, "qpm_range", 40.0, 240.0) for v in qpm_range)
        if lo > hi:
            raise MixError(f"qpm_range: {lo} is above {hi}")
        qpm_range = (lo, hi)
    if isinstance(values["loop_bars"], bool) or values["loop_bars"] not in (1, 2, 4, 8):
        raise MixError(f"loop_bars={shown(values['loop_bars'])}: use 1, 2, 4 or 8")
    extra = {"mode": values["mode"], "endpoints": _endpoints(values, known_sets, anchors),
             "prior": _num(values, "prior", 0.0, 1.0),
             "loop_bars": int(values["loop_bars"]),
             "transpose": _num(values, "transpose", -12, 12, integer=True),
             "qpm_range": tuple(qpm_range),
             "ramp_bars": _num(values, "ramp_bars", 1, 8, integer=True),
             "groove": _groove(values["groove"]),
             "sound": _sound(values["sound"]),
             "keep": _keep(values, known_sets),
             "form": _form(values["form"]),
             "head": _head(values["head"], anchors),
             "style": _num(values, "style", 0.0, 1.0)}
    if extra["head"] and extra["mode"] == "interpolate":
        raise MixError("head: interpolate goes between its two endpoints; heading elsewhere needs walk, loop "
                       "or band mode")
    return {**_basic(values, set(known_sets)), **extra}


def _basic(values: dict, known_sets: set[str]) -> dict:
    sets = values["sets"]
    if not isinstance(sets, dict) or not sets:
        raise MixError("sets: expected an object of seed set → weight, e.g. {\"rock\": 0.5}")
    clean = {}
    for name, w in sets.items():
        if name not in known_sets:
            raise MixError(f"sets: no seed set named {shown(name)}; known: {sorted(known_sets)}")
        clean[name] = _num({name: w}, name, 0.0, 1000.0)
    if not any(w > 0 for w in clean.values()):
        raise MixError("sets: at least one weight must be above 0")
    return {"sets": clean,
            "temperature": _num(values, "temperature", 0.01, 2.0),
            "qpm": 0.0 if values["qpm"] == 0 else _num(values, "qpm", 40.0, 240.0),
            "lead_program": _program(values, "lead_program"),
            "bass_program": _program(values, "bass_program")}


def start_mix(settings, sets) -> StyleMix:
    """The mix the station starts with: every set at weight 1, the settings' temperature,
    tempo, programs and sound, then their `mix` table; a bad table or sound preset is a
    ConfigError naming the field."""
    from ..config import ConfigError
    from ..sound.presets import PRESETS
    if settings.sound and settings.sound not in PRESETS:
        raise ConfigError(f"sound={settings.sound!r}: use one of {sorted(PRESETS)} (or leave it empty)")
    base = StyleMix(sets={s: 1.0 for s in sets} or {"none": 1.0}, temperature=settings.temperature,
                    qpm=settings.qpm, lead_program=None if settings.lead_program < 0 else settings.lead_program,
                    bass_program=None if settings.bass_program < 0 else settings.bass_program,
                    sound={"preset": settings.sound} if settings.sound else {})
    try:
        return base.updated(dict(settings.mix), sets) if settings.mix else base
    except MixError as e:
        raise ConfigError(f"mix: {e}") from None
