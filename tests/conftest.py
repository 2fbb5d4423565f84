"""Shared fixtures: the real corpora folder (skip when absent) and small synthetic data."""

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
        pytest.skip("real corpora not found: set MSFL_CORPORA or provide ../shared/corpora")
    return path
