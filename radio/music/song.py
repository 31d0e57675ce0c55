"""A song as a plan: a form (sections that return), and a title.

Forms are data (assets/songs/forms.json): sections in order, each `name:bars`, where a
letter (A–Z) is a section that sounds the same each time it returns and `intro`/`outro`
are made from the song's first and last sections. A mix names a shipped form, gives its
own (`{"sections": ["intro:4", "A:16", …]}`), says "song" (a shipped form drawn per song)
or "morph" (no songs: the endless drift of the walk).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re

import numpy as np

from ..config import ASSETS
from ..contracts import RadioError
from ..support.checks import shown

SONGS = ASSETS / "songs"
SECTION = re.compile(r"(?P<name>intro|outro|[A-Z]):(?P<bars>[0-9]{1,2})")
SECTION_BARS = (4, 8, 12, 16)       # a section is decoded from one 16-bar draw of the model
MAX_SECTIONS = 24
MAX_SONG_BARS = 160                 # 5 min 20 s at 120 qpm
FORM_WORDS = ("song", "morph")      # a form drawn per song; no songs (the walk's drift)


class FormError(RadioError, ValueError):
    """A form that cannot be played; the message names the field."""
    status = 400


@dataclasses.dataclass(frozen=True)
class Section:
    name: str           # "intro", "outro" or a letter
    bars: int

    def __str__(self) -> str:
        return f"{self.name}:{self.bars}"


@dataclasses.dataclass(frozen=True)
class Form:
    name: str
    sections: tuple[Section, ...]

    @property
    def bars(self) -> int:
        return sum(s.bars for s in self.sections)

    @property
    def letters(self) -> list[str]:
        """The section letters in order of first appearance."""
        return list(dict.fromkeys(s.name for s in self.sections if len(s.name) == 1))

    def source(self, section: Section) -> str:
        """The letter whose notes a section plays: its own; the intro the first letter's,
        the outro the last lettered section's."""
        if section.name == "intro":
            return self.letters[0]
        if section.name == "outro":
            return [s.name for s in self.sections if len(s.name) == 1][-1]
        return section.name

    def to_dict(self) -> dict:
        return {"name": self.name, "sections": [str(s) for s in self.sections]}


@functools.cache
def shipped_forms() -> dict[str, Form]:
    data = json.loads((SONGS / "forms.json").read_text())
    return {name: parse_sections(name, sections) for name, sections in data.items() if not name.startswith("_")}


def parse_sections(name: str, sections, field: str = "form.sections") -> Form:
    if not isinstance(sections, (list, tuple)) or not sections:
        raise FormError(f'{field}: expected a list like ["intro:4", "A:16", "B:16", "outro:4"]')
    if len(sections) > MAX_SECTIONS:
        raise FormError(f"{field}: {len(sections)} sections; at most {MAX_SECTIONS}")
    out = []
    for i, text in enumerate(sections):
        m = SECTION.fullmatch(text) if isinstance(text, str) else None
        if m is None:
            raise FormError(f"{field}[{i}]: {shown(text)}: use name:bars, the name intro, outro or a "
                            f"letter A–Z (e.g. \"A:16\")")
        bars = int(m["bars"])
        if bars not in SECTION_BARS:
            raise FormError(f"{field}[{i}]: {text!r}: bars must be 4, 8, 12 or 16")
        out.append(Section(m["name"], bars))
    names = [s.name for s in out]
    if not any(len(n) == 1 for n in names):
        raise FormError(f"{field}: no lettered section (A–Z); intro and outro are made from them")
    if "intro" in names[1:] or "outro" in names[:-1]:
        raise FormError(f"{field}: intro may only open the song and outro only close it")
    form = Form(name, tuple(out))
    if form.bars > MAX_SONG_BARS:
        raise FormError(f"{field}: {form.bars} bars; a song has at most {MAX_SONG_BARS}")
    return form


def check_form(value) -> str | dict:
    """A mix's `form` field, checked: "song", "morph", a shipped form's name, or
    {"sections": [...]} (optionally with a "name")."""
    if isinstance(value, str):
        if value in FORM_WORDS or value in shipped_forms():
            return value
        raise FormError(f"form: {shown(value)}; use \"song\", \"morph\", one of {sorted(shipped_forms())} "
                        f"or {{\"sections\": [\"intro:4\", \"A:16\", …]}}")
    if not isinstance(value, dict) or set(value) - {"sections", "name"} or "sections" not in value:
        raise FormError('form: expected a name or {"sections": ["intro:4", "A:16", "B:16", "outro:4"]}')
    name = value.get("name", "custom")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9 _-]{1,40}", name):
        raise FormError(f"form.name: {shown(name)}: use 1–40 letters, digits, spaces, - or _")
    parse_sections(name, value["sections"])
    return {"name": name, "sections": list(value["sections"])}


def resolve_form(value: str | dict, rng: np.random.Generator) -> Form:
    """The form a new song takes under a mix's (checked) `form` value."""
    forms = shipped_forms()
    if isinstance(value, dict):
        return parse_sections(value.get("name", "custom"), value["sections"])
    if value in forms:
        return forms[value]
    names = sorted(forms)
    return forms[names[int(rng.integers(len(names)))]]


@functools.cache
def _words() -> dict:
    return json.loads((SONGS / "titles.json").read_text())


class Titles:
    """The titles in use, oldest first, at most `size` of them: a title is unique among
    the songs kept in history (a few hundred), and a station runs for months."""

    def __init__(self, titles=(), size: int = 2000):
        self.size = size
        self._titles: dict[str, None] = {}
        self.update(titles)

    def add(self, title: str) -> None:
        self._titles.pop(title, None)
        self._titles[title] = None
        while len(self._titles) > self.size:
            del self._titles[next(iter(self._titles))]

    def update(self, titles) -> None:
        for title in titles:
            self.add(title)

    def __contains__(self, title) -> bool:
        return title in self._titles

    def __iter__(self):
        return iter(self._titles)

    def __len__(self) -> int:
        return len(self._titles)


def title_for(seed: int, taken=()) -> str:
    """A title drawn from the song's seed (the same seed, the same title), made unique
    against `taken` with a numeral ("Velvet Harbor II")."""
    rng = np.random.default_rng([seed, 7])
    words = _words()
    adj, nouns = words["adjectives"], words["nouns"]
    a, n, m = adj[rng.integers(len(adj))], nouns[rng.integers(len(nouns))], nouns[rng.integers(len(nouns))]
    kind = int(rng.integers(3))
    title = f"The {a} {n}" if kind == 0 else f"{a} {n}" if kind == 1 or m == n else f"{n} of {m}s"
    if title not in taken:
        return title
    k = 2
    while f"{title} {_roman(k)}" in taken:
        k += 1
    return f"{title} {_roman(k)}"


def _roman(k: int) -> str:
    out = ""
    for value, digits in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                          (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while k >= value:
            out, k = out + digits, k - value
    return out
