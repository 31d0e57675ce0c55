"""One error base: every error radio/ raises on purpose is a RadioError, which carries the
HTTP status and the CLI exit code (the API and the CLI map errors by that class only)."""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

RADIO = Path(__file__).parent.parent / "radio"
BUILTIN_ERRORS = {n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)}


def stray_errors(root: Path = RADIO) -> list[str]:
    """`raise ValueError(…)` and the like (a builtin error raised directly), and error
    classes that do not derive, through radio's own classes, from RadioError."""
    bases: dict[str, list[str]] = {}
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text())
        where = path.relative_to(root.parent)
        # Python's protocol: __getattr__ says a missing attribute with an AttributeError
        protocol = {id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and f.name == "__getattr__"
                    for n in ast.walk(f)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases[node.name] = [b.id for b in node.bases if isinstance(b, ast.Name)]
            elif isinstance(node, ast.Raise) and id(node) not in protocol and isinstance(node.exc, ast.Call) \
                    and isinstance(node.exc.func, ast.Name) and node.exc.func.id in BUILTIN_ERRORS:
                found.append(f"{where}:{node.lineno}: raise {node.exc.func.id}")

    def radio_error(name: str, seen=()) -> bool:
        return name == "RadioError" or any(b not in seen and radio_error(b, seen + (name,)) for b in bases.get(name, []))

    for name, its_bases in bases.items():
        if any(b in BUILTIN_ERRORS for b in its_bases) and not radio_error(name):
            found.append(f"class {name}{tuple(its_bases)} does not derive from RadioError")
    return found


def test_every_error_raised_is_a_radio_error():
    assert stray_errors() == []


def test_the_check_sees_a_stray_error(tmp_path):
    root = tmp_path / "radio"
    root.mkdir()
    (root / "contracts.py").write_text("class RadioError(Exception):\n    pass\n")
    (root / "a.py").write_text("class GoodError(RadioError, ValueError):\n    pass\n"
                               "class LoneError(KeyError):\n    pass\n"
                               "def f():\n    raise RuntimeError('x')\n")
    assert stray_errors(root) == ["radio/a.py:6: raise RuntimeError",
                                  "class LoneError('KeyError',) does not derive from RadioError"]

