"""The house rules of radio/, computed from the code's own imports (at module level and
inside functions):

- imports flow only down LAYERS (a layer may use itself and the layers below it);
- no import cycles between modules;
- nothing of the runtime imports radio/offline, except the CLI inside a command;
- only the TensorFlow engine (radio/model/tf_engine.py) and the offline tools import
  TensorFlow or magenta;
- contracts imports nothing of the package, config only contracts (the error base);
- a runtime module is at most MAX_LINES lines long.

`python tests/test_layering.py` prints the import graph's figures (the README quotes them).
"""

from __future__ import annotations

import ast
import collections
import sys
from pathlib import Path

RADIO = Path(__file__).parent.parent / "radio"
# bottom → top; the groups of one layer may not import each other, except at the top
LAYERS = (("contracts",), ("config",), ("support",), ("music",), ("model",), ("sound",), ("band",),
          ("generator",), ("station",), ("server",), ("cli", "doctor", "album", "__main__", ""))
LEAVES = ("contracts",)
TF_ROOTS = ("tensorflow", "magenta", "tf_keras", "tensorflow_probability")
TF_ALLOWED = ("radio.model.tf_engine",)
MAX_LINES = 400
RANK = {group: i for i, layer in enumerate(LAYERS) for group in layer}


def modules(root: Path) -> dict[str, Path]:
    """Module name → file, for a package folder named like its package."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def imports(name: str, path: Path, known: set[str]) -> list[tuple[str, bool, int]]:
    """(imported module, at module level?, line) for every import in the file; a package's
    own modules resolved to the module (`from . import x` → package.x)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    top = {id(node) for node in tree.body} | {id(n) for node in tree.body if isinstance(node, (ast.If, ast.Try))
                                              for n in ast.walk(node)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in known else mod for a in node.names]
        else:
            continue
        out += [(t, id(node) in top, node.lineno) for t in dict.fromkeys(targets)]
    return out


def group(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def graph(root: Path):
    """(edges: module → [(module, module level?, line)], third-party roots by module, files)."""
    files = modules(root)
    known = set(files)
    package = root.name
    edges, outside = {}, {}
    for name, path in files.items():
        found = imports(name, path, known)
        edges[name] = [(t, top, line) for t, top, line in found if t == package or t.startswith(package + ".")]
        outside[name] = {t.split(".")[0] for t, _, _ in found if not (t == package or t.startswith(package + "."))}
    return edges, outside, files


def cycles(edges: dict) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w, _, _ in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or any(t == v for t, _, _ in edges.get(v, ())):
                out.append(sorted(comp))
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def violations(root: Path = RADIO) -> list[str]:
    edges, outside, files = graph(root)
    out = []
    for a, targets in sorted(edges.items()):
        ga = group(a)
        offline_a = ga == "offline"
        if ga not in RANK and not offline_a:
            out.append(f"{a}: in no layer; add its group to LAYERS")
            continue
        for b, top, line in targets:
            gb = group(b)
            where = f"{files[a].relative_to(root.parent)}:{line}"
            if ga in LEAVES:
                out.append(f"{where}: {a} is a leaf and imports {b}")
            elif gb == "offline" and not offline_a:
                if ga != "cli" or top:
                    out.append(f"{where}: runtime module {a} imports offline {b}"
                               + (" at module level" if ga == "cli" else ""))
            elif not offline_a and gb in RANK and a != b and ga != gb:
                if RANK[gb] > RANK[ga] or (RANK[gb] == RANK[ga] and RANK[ga] != len(LAYERS) - 1):
                    out.append(f"{where}: {a} ({ga}) imports {b} ({gb}), which is not below it")
        if not offline_a and a not in TF_ALLOWED and outside[a] & set(TF_ROOTS):
            out.append(f"{files[a].relative_to(root.parent)}: imports {sorted(outside[a] & set(TF_ROOTS))}; "
                       f"only {', '.join(TF_ALLOWED)} and the offline tools may")
        if not offline_a and len(files[a].read_text().splitlines()) > MAX_LINES:
            out.append(f"{files[a].relative_to(root.parent)}: {len(files[a].read_text().splitlines())} lines "
                       f"(runtime modules: at most {MAX_LINES})")
    out += [f"import cycle: {' → '.join(c)}" for c in cycles(edges)]
    return out


def figures(root: Path = RADIO) -> dict:
    edges, _, files = graph(root)
    per = collections.Counter(group(m) or "radio" for m in files if not files[m].name == "__init__.py")
    runtime = {m: len(p.read_text().splitlines()) for m, p in files.items() if group(m) != "offline"}
    longest = max(runtime, key=runtime.get)
    bad = violations(root)
    return {"modules": sum(per.values()), "per subpackage": dict(sorted(per.items())),
            "cycles": len(cycles(edges)), "upward imports": sum("not below it" in v for v in bad),
            "runtime imports of offline": sum("imports offline" in v for v in bad),
            "longest runtime module": f"{files[longest].relative_to(root.parent)} ({runtime[longest]} lines)"}


# ── the tests ────────────────────────────────────────────────────────────────────────────

def test_the_package_keeps_the_house_rules():
    assert violations() == []


def _house(tmp_path: Path, files: dict[str, str]) -> Path:
    """A fake `radio` package: every group of LAYERS and offline, plus `files`."""
    root = tmp_path / "radio"
    for g in [g for layer in LAYERS for g in layer if g not in ("", "__main__", "cli", "doctor", "config", "contracts")] + ["offline"]:
        (root / g).mkdir(parents=True, exist_ok=True)
        (root / g / "__init__.py").write_text("")
    for name in ("__init__", "cli", "doctor", "config", "contracts"):
        (root / f"{name}.py").write_text("")
    for rel, text in files.items():
        (root / rel).write_text(text)
    return root


def test_a_fake_house_that_passes(tmp_path):
    root = _house(tmp_path, {
        "music/walk.py": "from ..contracts import X\nfrom ..support import logs\n",
        "support/logs.py": "import os\n",
        "server/app.py": "from ..station import wiring\nfrom . import api\n",
        "server/api.py": "from ..music import walk\n",
        "station/wiring.py": "def f():\n    from ..generator import loop\n",
        "generator/loop.py": "",
        "cli.py": "from .server import app\nfrom . import doctor\n\ndef train():\n    from .offline import trainer\n",
        "offline/trainer.py": "import tensorflow as tf\nfrom ..model import tf_engine\nfrom ..music import walk\n",
        "model/tf_engine.py": "import magenta\n",
    })
    assert violations(root) == []


def test_each_rule_fails_when_broken(tmp_path):
    root = _house(tmp_path, {
        "support/logs.py": "from ..music import walk\n",                     # upward
        "music/walk.py": "from . import notes\n",                            # cycle walk ↔ notes
        "music/notes.py": "def f():\n    from .walk import g\n",            # (inside a function)
        "station/wiring.py": "def f():\n    from ..offline import stats\n",  # runtime → offline
        "offline/stats.py": "",
        "sound/render.py": "def f():\n    import tensorflow\n",             # TF outside tf_engine
        "contracts.py": "from .config import X\n",                           # a leaf that is not
        "config.py": "from .support import logs\n",                         # upward from config
        "cli.py": "from .offline import stats\n",                          # offline at module level
        "band/search.py": "x = 1\n" * (MAX_LINES + 1),                     # too long
        "generator/loop.py": "from ..server import app\n",                  # upward, two layers
        "server/app.py": "",
    })
    found = "\n".join(violations(root))
    assert "radio.support.logs (support) imports radio.music.walk (music), which is not below it" in found
    assert "import cycle: radio.music.notes → radio.music.walk" in found
    assert "runtime module radio.station.wiring imports offline radio.offline.stats" in found
    assert "radio/sound/render.py: imports ['tensorflow']" in found
    assert "radio.contracts is a leaf and imports radio.config" in found
    assert "radio.config (config) imports radio.support.logs (support)" in found
    assert "runtime module radio.cli imports offline radio.offline.stats at module level" in found
    assert f"radio/band/search.py: {MAX_LINES + 1} lines" in found
    assert "radio.generator.loop (generator) imports radio.server.app (server)" in found
    assert len(violations(root)) == 9


if __name__ == "__main__":
    for key, value in figures().items():
        print(f"{key}: {value}")
    sys.exit(1 if violations() else 0)
