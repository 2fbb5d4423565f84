"""The public API: every exported name and every module path the documentation uses imports.

Subpackages (``explain``, ``datasets``, ``corpora``, ``cli``) keep their code in private
modules and re-export it; these tests pin the documented paths, so that a later move
cannot break ``from sklearn_msfl.explain import shared_features`` or a Sphinx reference.
"""

from __future__ import annotations

import configparser
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import sklearn_msfl

REPO_ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = sorted((REPO_ROOT / "docs").glob("*.rst")) + sorted(
    (REPO_ROOT / "docs" / "user_guide").glob("*.rst")
)

_DIRECTIVE = re.compile(r"\.\. (?:automodule|currentmodule|module)::\s*(\S+)")
_ROLE = re.compile(r":(?:py:)?(?:func|class|mod|meth|attr|data|exc|obj):`(?:[^`<]*<)?~?\.?([\w.]+)>?`")
_IMPORT = re.compile(r"from (sklearn_msfl[\w.]*) import \(?([\w\s,]+?)\)?\s*(?:#|$|\n\n|>>>|\.\.\.)", re.M)


def resolve(path: str):
    """Import the longest module prefix of a dotted path and get the rest as attributes."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            obj = getattr(obj, attribute)
        return obj
    raise ImportError(path)


def _documented_paths() -> set[str]:
    """Dotted ``sklearn_msfl`` paths of directives and roles in the docs and the README."""
    paths = set()
    for file in DOC_FILES + [REPO_ROOT / "README.md"]:
        current = None
        for line in file.read_text(encoding="utf-8").splitlines():
            directive = _DIRECTIVE.search(line)
            if directive:
                paths.add(directive.group(1))
                if "currentmodule" in line:
                    current = directive.group(1)
                continue
            for target in _ROLE.findall(line):
                if target.startswith("sklearn_msfl"):
                    paths.add(target)
                elif current and current.startswith("sklearn_msfl"):
                    # A relative target: Sphinx tries it under the current module first.
                    head = target.split(".")[0]
                    if hasattr(importlib.import_module(current), head):
                        paths.add(f"{current}.{target}")
        paths.update(re.findall(r"(?<![\w/])sklearn_msfl(?:\.[A-Za-z_]\w*)+", _prose(file)))
    return paths


def _prose(file: Path) -> str:
    """The file without import lines (their names are checked by test_documented_imports)."""
    text = file.read_text(encoding="utf-8")
    return "\n".join(line for line in text.splitlines() if " import " not in line)


def _documented_imports() -> set[tuple[str, str]]:
    """``(module, name)`` of every ``from sklearn_msfl... import ...`` in the docs and README."""
    pairs = set()
    for file in DOC_FILES + [REPO_ROOT / "README.md"]:
        text = file.read_text(encoding="utf-8")
        # Doctest continuation prompts inside a parenthesised import.
        text = re.sub(r"^\s*(?:\.\.\.|>>>) ", "", text, flags=re.M)
        for module, names in _IMPORT.findall(text):
            for name in re.split(r"[\s,]+", names):
                if name and name != "as":
                    pairs.add((module, name))
    return pairs


@pytest.mark.parametrize("name", sklearn_msfl.__all__)
def test_every_exported_name_imports(name):
    assert getattr(sklearn_msfl, name) is not None
    namespace = {}
    exec(f"from sklearn_msfl import {name}", namespace)  # noqa: S102
    assert name in namespace


def test_exports_are_the_documented_module_objects():
    # The lazy table points at the module that documents the name, and that module has it.
    for name, module in sklearn_msfl._PUBLIC.items():
        documented = importlib.import_module(f"sklearn_msfl.{module}")
        assert getattr(documented, name) is getattr(sklearn_msfl, name), name
        assert name in documented.__all__, f"sklearn_msfl.{module}.__all__ lacks {name}"


def test_every_module_all_imports():
    public = {module for module in sklearn_msfl._PUBLIC.values()}
    public |= {"explain", "datasets", "corpora", "cli", "evaluation"}
    for module in sorted(public):
        imported = importlib.import_module(f"sklearn_msfl.{module}")
        for name in imported.__all__:
            assert getattr(imported, name) is not None, f"sklearn_msfl.{module}.{name}"


def test_documented_paths_resolve():
    paths = _documented_paths()
    assert "sklearn_msfl.explain" in paths and "sklearn_msfl.cli" in paths
    unresolved = []
    for path in sorted(paths):
        try:
            resolve(path)
        except (ImportError, AttributeError) as error:
            unresolved.append(f"{path}: {error}")
    assert not unresolved, "\n".join(unresolved)


def test_documented_imports():
    pairs = _documented_imports()
    assert ("sklearn_msfl.explain", "shared_features") in pairs
    missing = [f"from {module} import {name}" for module, name in sorted(pairs)
               if not hasattr(importlib.import_module(module), name)]
    assert not missing, missing


def test_api_reference_names_resolve():
    # Every name listed under a currentmodule of docs/api.rst, e.g. sklearn_msfl.explain.feature_family.
    current, unresolved = None, []
    for line in (REPO_ROOT / "docs" / "api.rst").read_text(encoding="utf-8").splitlines():
        directive = re.match(r"\.\. currentmodule:: (\S+)", line.strip())
        if directive:
            current = directive.group(1)
        elif current and line.startswith("   ") and re.fullmatch(r"[A-Za-z_][\w.]*", line.strip()):
            try:
                resolve(f"{current}.{line.strip()}")
            except (ImportError, AttributeError):
                unresolved.append(f"{current}.{line.strip()}")
    assert not unresolved, unresolved


def test_console_script_and_module_entry_point():
    config = configparser.ConfigParser()
    config.read(REPO_ROOT / "setup.cfg")
    scripts = config["options.entry_points"]["console_scripts"]
    target = re.search(r"msfl\s*=\s*([\w.]+):(\w+)", scripts)
    assert target, scripts
    assert callable(getattr(importlib.import_module(target.group(1)), target.group(2)))
    done = subprocess.run([sys.executable, "-m", "sklearn_msfl", "--version"],
                          capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr
    assert sklearn_msfl.__version__ in done.stdout + done.stderr
