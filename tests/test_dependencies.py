"""Installs that cannot break: the locks agree with pyproject.toml, and our code reads no library's private
names (cryptography 51 removed two that the roster import read, and every install broke)."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
LOCKS = {"base": ROOT / "requirements" / "base.lock", "test": ROOT / "requirements" / "test.lock"}
PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)", re.MULTILINE)


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def pins(lock: Path) -> dict[str, Version]:
    return {canonicalize_name(name): Version(version) for name, version in PINNED.findall(lock.read_text())}


def check(requirements: list[str], pinned: dict[str, Version], lock_name: str) -> list[str]:
    problems = []
    for line in requirements:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        if name not in pinned:
            problems.append(f"{requirement.name} is in pyproject.toml but not in {lock_name}.lock")
        elif not requirement.specifier.contains(pinned[name], prereleases=True):
            problems.append(f"{lock_name}.lock pins {name}=={pinned[name]}, outside {requirement.specifier}")
        for extra in requirement.extras:
            # psycopg[binary] brings psycopg-binary: the lock must hold the extra's package too.
            if canonicalize_name(f"{requirement.name}-{extra}") not in pinned:
                problems.append(f"{lock_name}.lock lacks {requirement.name}[{extra}]")
    return problems


def test_base_lock_holds_every_dependency_within_its_range():
    project = pyproject()["project"]
    assert check(project["dependencies"], pins(LOCKS["base"]), "base") == []


def test_test_lock_holds_the_dependencies_and_the_test_tools():
    project = pyproject()["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["test"]
    assert check(requirements, pins(LOCKS["test"]), "test") == []


def test_the_locks_agree_on_what_they_share():
    base, test = pins(LOCKS["base"]), pins(LOCKS["test"])
    assert {
        name: (version, test.get(name)) for name, version in base.items() if test.get(name) != version
    } == {}


def test_every_pin_carries_a_hash():
    for lock in LOCKS.values():
        blocks = re.split(r"\n(?=[A-Za-z0-9])", lock.read_text())
        unhashed = [b.split()[0] for b in blocks if PINNED.match(b) and "--hash=sha256:" not in b]
        assert unhashed == [], f"{lock.name}: {unhashed}"


def test_libraries_that_broke_us_have_an_upper_bound():
    bounded = {
        canonicalize_name(Requirement(r).name): Requirement(r) for r in pyproject()["project"]["dependencies"]
    }
    for name in ("django", "cryptography"):
        assert any(spec.operator == "<" for spec in bounded[name].specifier), name


def _defined_names(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
    return names


# Underscore names that the libraries document as public API.
DOCUMENTED = {"_meta", "_default_manager", "_base_manager", "_state", "_db", "_replace", "_asdict", "_fields"}


def test_no_private_names_of_libraries_are_read():
    """An attribute with one leading underscore read from anything but ``self`` / ``cls`` must be a name our
    own code defines; otherwise it is a library's private name, which can vanish in any release."""
    sources = [p for p in (ROOT / "src").rglob("*.py") if "migrations" not in p.parts]
    sources += list((ROOT / "bench").glob("*.py")) + [ROOT / "conftest.py"]
    trees = {path: ast.parse(path.read_text(), str(path)) for path in sources}
    ours: set[str] = set()
    for tree in trees.values():
        ours |= _defined_names(tree)
    found = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if (
                not isinstance(node, ast.Attribute)
                or not node.attr.startswith("_")
                or node.attr.startswith("__")
            ):
                continue
            if isinstance(node.value, ast.Name) and node.value.id in {"self", "cls"}:
                continue
            if node.attr in ours or node.attr in DOCUMENTED:
                continue
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}")
    assert found == []
