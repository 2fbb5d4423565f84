"""Shared fixtures: the real corpora folder (skipped when absent, an error under CI) and
one torch thread in every test process (``make test`` runs one worker per core)."""

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
    and a second thread per worker only oversubscribes them (the torch-only test modules
    took 2.5-2.9x the CPU time with two threads: benchmarks/results/test_suite_speed.md).
    Tests of thread handling set their own."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
