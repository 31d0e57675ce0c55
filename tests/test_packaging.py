"""pyproject.toml against the code: what radio/ imports is what `pip install .` installs."""

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


def imported_modules() -> set[str]:
    names = set()
    for path in (ROOT / "radio").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"radio", "__future__"}


def test_every_imported_distribution_is_a_dependency():
    """Each third-party module imported anywhere in radio/ belongs to a distribution listed
    in [project] dependencies (magenta excepted, see NOT_LISTABLE)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = {_norm(re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0]) for d in project["dependencies"]}
    owners = importlib.metadata.packages_distributions()
    missing = {}
    for module in sorted(imported_modules() - NOT_LISTABLE):
        dists = {_norm(d) for d in owners.get(module, [module])}
        if not dists & listed:
            missing[module] = sorted(dists)
    assert not missing, f"imported by radio/ but not in pyproject's dependencies: {missing}"


def test_every_package_folder_is_packaged():
    """setuptools installs the packages it is told of: each radio/ folder with an
    __init__.py is listed (radio.engine would be left out of a wheel otherwise)."""
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "radio").rglob("__init__.py")}
    assert found <= set(packages), sorted(found - set(packages))
