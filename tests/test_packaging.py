"""pyproject.toml against the code: what the runtime imports is what `pip install .`
installs, with no TensorFlow; what training and the offline tools import is in the
`train` extra; requirements-run.txt pins the runtime like requirements.txt does."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).parent.parent
# magenta 2.1.4 pins tensorflow 2.9.1 and numpy 1.21.6, which do not install on Python 3.11:
# it goes in with `pip install --no-deps` (Makefile), never through pyproject.
NOT_LISTABLE = {"magenta"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# the training side of radio/: the offline tools and the TensorFlow engine (train extra)
TRAINING = ("offline", "model/tf_engine.py")
TENSORFLOW = {"tensorflow", "tf-keras", "tensorflow-probability", "tf-slim", "tensorflow-datasets"}


def _training(path: Path) -> bool:
    rel = path.relative_to(ROOT / "radio").as_posix()
    return any(rel == t or rel.startswith(t + "/") for t in TRAINING)


def imported_modules(training: bool) -> set[str]:
    """Third-party modules imported by radio/'s runtime (training=False) or its training side."""
    names = set()
    for path in (ROOT / "radio").rglob("*.py"):
        if _training(path) != training:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"radio", "__future__"}


def _names(requirements) -> set[str]:
    return {_norm(re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0]) for d in requirements}


def _unlisted(modules: set[str], listed: set[str]) -> dict:
    owners = importlib.metadata.packages_distributions()
    missing = {}
    for module in sorted(modules - NOT_LISTABLE):
        dists = {_norm(d) for d in owners.get(module, [module])}
        if not dists & listed:
            missing[module] = sorted(dists)
    return missing


def test_the_runtime_needs_only_the_dependencies_and_training_its_extra():
    """Each third-party module the runtime imports belongs to a distribution in [project]
    dependencies, which hold no TensorFlow; what the training side imports is there or in
    the `train` extra (magenta excepted, see NOT_LISTABLE)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime, extras = _names(project["dependencies"]), project["optional-dependencies"]
    assert not runtime & TENSORFLOW, runtime & TENSORFLOW
    assert TENSORFLOW <= _names(extras["train"])
    missing = _unlisted(imported_modules(training=False), runtime)
    assert not missing, f"imported by radio/'s runtime but not in pyproject's dependencies: {missing}"
    missing = _unlisted(imported_modules(training=True), runtime | _names(extras["train"]))
    assert not missing, f"imported by radio/'s training side but in neither dependencies nor train: {missing}"


def test_the_run_pins_agree_with_the_full_pins_and_cover_the_runtime():
    """requirements-run.txt (make run) pins every runtime dependency but note-seq (installed
    --no-deps), at the version requirements.txt (make test) pins, and no TensorFlow."""
    def pins(name):
        lines = (ROOT / name).read_text().splitlines()
        return {_norm(line.split("==")[0]): line.split("==")[1].split(";")[0].strip()
                for line in lines if "==" in line and not line.startswith("#")}
    run, full = pins("requirements-run.txt"), pins("requirements.txt")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert _names(project["dependencies"]) - {"note-seq"} <= set(run)
    assert {k: v for k, v in run.items() if full.get(k) != v} == {}
    assert not set(run) & TENSORFLOW


def test_every_package_folder_is_packaged():
    """setuptools installs the packages its find rule names: each radio/ folder with an
    __init__.py is among them (radio.engine would be left out of a wheel otherwise)."""
    import setuptools
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = set(setuptools.find_namespace_packages(where=str(ROOT), include=include))
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "radio").rglob("__init__.py")}
    assert found and found <= packages, sorted(found - packages)
