"""Shared fixtures (the real corpora folder: skipped when absent, an error under CI) and
the parallel run's rules: one torch thread per xdist worker, and tests that share a
module-scoped fixture kept on one worker."""

import os
from pathlib import Path

import pytest

from sklearn_msfl.corpora import default_corpora_dir

REPO_ROOT = Path(__file__).resolve().parents[1]


def find_corpora_dir():
    """Return the shared corpora folder: $MSFL_CORPORA, else ../shared/corpora, else None."""
    return default_corpora_dir(fallback=REPO_ROOT.parent / "shared" / "corpora")


@pytest.fixture(scope="session")
def corpora_dir():
    path = find_corpora_dir()
    if path is None:
        message = "real corpora not found: set MSFL_CORPORA or provide ../shared/corpora"
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(message)  # CI has them: their tests must not pass there as skips
        pytest.skip(message)
    return path


def pytest_configure(config):
    # `-n auto` starts one worker per core: a second torch thread per worker would only
    # oversubscribe the cores (the estimator trains on one thread; see sklearn_msfl/_threads.py).
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import torch

        torch.set_num_threads(1)


def module_fixture_groups(items):
    """Group name per test: tests of a module connected through the module-scoped fixtures
    they use (directly or through other fixtures) share one; tests without any have none."""
    parent = {}

    def root(key):
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    keys = {}
    for item in items:
        # _fixtureinfo: pytest's resolved fixtures of a test function (no public equivalent).
        definitions = getattr(item, "_fixtureinfo", None)
        definitions = definitions.name2fixturedefs if definitions else {}
        module = item.nodeid.split("::")[0]
        keys[item] = [f"{module}::{name}" for name in item.fixturenames
                      if name in definitions and definitions[name][-1].scope == "module"]
        for key in keys[item][1:]:
            parent[root(key)] = root(keys[item][0])
    return {item: root(item_keys[0]) for item, item_keys in keys.items() if item_keys}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    # Under `--dist loadgroup` (pyproject's addopts) xdist sends a group to one worker:
    # a module-scoped fixture (extracted features, a trained model, the ground-truth fits)
    # is then computed once instead of once per worker. xdist sets the option on workers.
    if config.getoption("loadgroup", False):
        for item, group in module_fixture_groups(items).items():
            item.add_marker(pytest.mark.xdist_group(group))
