"""Shared fixtures (the real corpora folder: skipped when absent, an error under CI) and
the parallel run's rules: one torch thread per test process, and tests that share a
module-scoped fixture kept on one xdist worker."""

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


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """Torch on one thread, as the estimator trains: `make test` runs one worker per core,
    and a second thread per worker only oversubscribes them (the torch-only tests of
    test_gradnorm, test_network and test_architecture took 2.6x the CPU time with two
    threads at load 14). Tests of thread handling set their own."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


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
