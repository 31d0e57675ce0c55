"""One definition of each idea: every name below is defined in its home module and in no
other module of radio/ (a second copy, even a renamed import, shows up here)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

RADIO = Path(__file__).parent.parent / "radio"
HOMES = {
    "RadioError": "radio.contracts",              # the one error base (HTTP status, exit code)
    "PARTS": "radio.contracts",                   # lead, bass, drums, in the trio's order
    "MIDI_SUFFIXES": "radio.contracts",
    "SET_NAME": "radio.contracts",
    "MAX_UPLOAD_BYTES": "radio.contracts",
    "DEFAULT_MODEL_DIR": "radio.config",
    "find_model": "radio.model.card",             # finding a model folder or checkpoint
    "DEPTHS": "radio.model.trio",
    "DRUM_CLASS": "radio.model.trio",
    "STEPS_PER_BAR": "radio.contracts",
    "SEGMENT_BARS": "radio.contracts",
    "number": "radio.support.checks",             # the number check of mixes, sounds, grooves
    "shown": "radio.support.checks",
    "PRESETS": "radio.sound.presets",             # sound presets ...
    "GROOVE_PRESETS": "radio.music.groove",       # ... and grooves: two tables, two names
    "RequestError": "radio.generator.loop",       # the generator's refusals
    "ApiError": "radio.server.api",               # the API's own
    "read_upload": "radio.server.api",            # the one multipart reader
    "tail": "radio.station.fallback",             # the loop fill's crossfade (a method)
    "STATION": "radio.server.appkeys",
    "COMPLETER": "radio.server.appkeys",
    "PROXIES": "radio.server.appkeys",
    "TOKEN_FAILURES": "radio.server.appkeys",
    "CHANNELS": "radio.server.appkeys",
    "best_key": "radio.music.keys",               # key fitting: the songwriter and bench/songs.py
}


def definitions(root: Path = RADIO) -> dict[str, list[str]]:
    """Name → the modules that define it: top-level assignments, functions and classes,
    and methods (so a copied method shows up too); imports do not count."""
    out: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        tree = ast.parse(path.read_text())
        nodes = list(tree.body) + [n for c in tree.body if isinstance(c, ast.ClassDef) for n in c.body]
        for node in nodes:
            names = []
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names = [node.name]
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                names += [e.id for t in targets if isinstance(t, ast.Tuple) for e in t.elts if isinstance(e, ast.Name)]
            for name in names:
                out.setdefault(name, []).append(module)
    return out


def test_each_idea_has_one_home():
    defined = definitions()
    for name, home in HOMES.items():
        where = sorted(set(defined.get(name, [])))
        assert where == [home], f"{name}: defined in {where}, its one home is {home}"
        if name != "tail":
            assert hasattr(importlib.import_module(home), name)


def test_the_check_sees_a_second_copy(tmp_path):
    """A module that defines PARTS again, or copies a method, is found."""
    root = tmp_path / "radio"
    (root / "music").mkdir(parents=True)
    (root / "contracts.py").write_text('PARTS = ("lead", "bass", "drums")\n')
    (root / "music" / "walk.py").write_text('from ..contracts import PARTS\nPARTS = ("lead", "bass", "drums")\n')
    (root / "music" / "fill.py").write_text("class Loop:\n    def tail(self):\n        return 0\n")
    found = definitions(root)
    assert sorted(found["PARTS"]) == ["radio.contracts", "radio.music.walk"]
    assert found["tail"] == ["radio.music.fill"]
