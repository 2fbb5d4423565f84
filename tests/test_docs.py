"""Documentation: the docstring examples run, every public name has one, the docs list them all.

The doctests run in-process (one test per module) so that torch and openSMILE are imported
once for the whole suite; ``make docs`` builds the Sphinx site itself.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import io
import pkgutil
import re
import sys
from pathlib import Path

import pytest

import sklearn_msfl

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCS = REPO_ROOT / "docs"
EXAMPLES = REPO_ROOT / "examples"

# __main__ runs the command line when imported. Subpackages' private modules count too:
# the examples of the names a subpackage re-exports run in the module that defines them.
MODULES = ["sklearn_msfl"] + sorted(
    info.name
    for info in pkgutil.walk_packages(sklearn_msfl.__path__, "sklearn_msfl.")
    if not info.name.endswith(".__main__")
)
PUBLIC_MODULES = [name for name in MODULES if not name.rsplit(".", 1)[-1].startswith("_")]
OPTIONFLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.fixture
def quiet_environment(tmp_path, monkeypatch):
    """Agg plots and a scratch working dir."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    yield
    plt.close("all")


@pytest.mark.parametrize("module_name", MODULES)
def test_doctests_pass(module_name, quiet_environment):
    module = importlib.import_module(module_name)
    tests = [t for t in doctest.DocTestFinder().find(module) if t.examples]
    runner = doctest.DocTestRunner(optionflags=OPTIONFLAGS)
    report = io.StringIO()
    for test in sorted(tests, key=lambda t: t.name):
        runner.run(test, out=report.write)
    assert runner.failures == 0, f"{runner.failures} doctest failure(s):\n{report.getvalue()}"
    if module_name in PUBLIC_MODULES and module_name != "sklearn_msfl":
        assert runner.tries > 0, f"{module_name} has no doctest at all"


def _public_objects(module_name):
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None) or []
    return [(name, getattr(module, name)) for name in names if not name.startswith("__")]


def _documented_here(obj) -> bool:
    """Classes and functions need examples; constants (tuples, dicts) do not."""
    return callable(obj)


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_names_have_docstring_examples(module_name):
    missing = [
        name
        for name, obj in _public_objects(module_name)
        if _documented_here(obj) and ">>>" not in (inspect.getdoc(obj) or "")
    ]
    assert not missing, f"{module_name}: no doctest example in {missing}"


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_methods_have_docstrings(module_name):
    undocumented = []
    for name, obj in _public_objects(module_name):
        if not inspect.isclass(obj):
            continue
        for attribute, value in vars(obj).items():
            if attribute.startswith("_") or not (callable(value) or isinstance(value, property)):
                continue
            if not inspect.getdoc(value):
                undocumented.append(f"{name}.{attribute}")
    assert not undocumented, f"{module_name}: methods without docstring {undocumented}"


def _api_reference_names() -> set[str]:
    text = (DOCS / "api.rst").read_text(encoding="utf-8")
    names, current = set(), None
    for line in text.splitlines():
        module = re.match(r"\.\. currentmodule:: (\S+)", line.strip())
        if module:
            current = module.group(1)
        elif current and re.fullmatch(r"[A-Za-z_][\w.]*", line.strip()) and line.startswith("   "):
            names.add(f"{current}.{line.strip()}")
    return names


def test_api_reference_lists_every_public_name():
    listed = _api_reference_names()
    submodules = [name for name in PUBLIC_MODULES if name != "sklearn_msfl"]
    public = {f"{module}.{name}" for module in submodules for name, _ in _public_objects(module)}
    callables = {
        f"{module}.{name}"
        for module in submodules
        for name, obj in _public_objects(module)
        if _documented_here(obj)
    }
    assert not callables - listed, f"add to docs/api.rst: {sorted(callables - listed)}"
    assert not listed - public, f"in docs/api.rst but not in an __all__: {sorted(listed - public)}"
    # The package's own exports are documented under the module that defines them.
    exported = {f"sklearn_msfl.{module}.{name}" for name, module in sklearn_msfl._PUBLIC.items()}
    assert not exported - listed, f"add to docs/api.rst: {sorted(exported - listed)}"


def test_gallery_scripts_have_titles_and_plot_prefix():
    # sphinx-gallery executes plot_*.py and needs an rst title in each docstring.
    scripts = sorted(EXAMPLES.glob("plot_*.py"))
    assert len(scripts) >= 3
    for script in scripts:
        docstring = inspect.cleandoc(_module_docstring(script))
        lines = docstring.splitlines()
        assert len(lines) >= 2 and set(lines[1]) == {"="} and len(lines[1]) >= len(lines[0]), (
            f"{script.name}: the docstring must open with a title underlined by '='"
        )


def _module_docstring(path: Path) -> str:
    import ast

    return ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")), clean=False) or ""


def test_sphinx_configuration_runs_offline(monkeypatch):
    # make docs runs in CI without network: no intersphinx inventories to fetch.
    monkeypatch.setattr(sys, "path", list(sys.path))  # conf.py adds docs/sphinxext
    conf = (DOCS / "conf.py").read_text(encoding="utf-8")
    assert "sphinx.ext.intersphinx" not in conf
    namespace = {"__file__": str(DOCS / "conf.py")}
    exec(compile(conf, str(DOCS / "conf.py"), "exec"), namespace)  # noqa: S102
    gallery = namespace["sphinx_gallery_conf"]
    executed = re.compile(gallery["filename_pattern"])
    ignored = re.compile(gallery["ignore_pattern"])
    for script in ("demo.py", "real_corpora.py"):
        assert not executed.search(f"examples/{script}") or ignored.search(script)
    assert executed.search("examples/plot_msfl_pipeline.py")
    # The paper's table on the real corpora is built, not only shown (issue 24).
    assert executed.search("examples/plot_language_overlap.py")
