"""The estimator picks torch's CPU threads itself and restores the caller's setting."""

import threading

import numpy as np
import pytest
import torch
from sklearn.model_selection import cross_validate
from threadpoolctl import threadpool_limits

from sklearn_msfl import MultitaskSERClassifier
from sklearn_msfl.msfl._net import _MultitaskNet
from sklearn_msfl.msfl._threads import resolve_n_threads, torch_threads

SMALL = dict(hidden_size=4, shared_size=4, embedding_dim=4, max_epochs=2, random_state=0)


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 12))
    y = np.column_stack([rng.randint(3, size=40), rng.randint(2, size=40)])
    return X, y


@pytest.fixture
def threads_seen_in_training(monkeypatch):
    """Record torch's thread count at the start of every network's training."""
    seen = []
    original = _MultitaskNet.fit

    def recording_fit(self, *args, **kwargs):
        seen.append(torch.get_num_threads())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(_MultitaskNet, "fit", recording_fit)
    return seen


@pytest.fixture
def two_caller_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_default_fit_trains_on_one_thread_and_restores_the_callers_setting(
    data, threads_seen_in_training, two_caller_threads
):
    clf = MultitaskSERClassifier(**SMALL).fit(*data)
    assert threads_seen_in_training == [1]
    assert torch.get_num_threads() == 2
    clf.predict(data[0])
    assert torch.get_num_threads() == 2


def test_explicit_threads_are_capped_by_the_callers_limit(
    data, threads_seen_in_training, two_caller_threads, monkeypatch
):
    # Dask's workers in an earlier test may leave OMP_NUM_THREADS=1 in this process.
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    MultitaskSERClassifier(n_threads=2, **SMALL).fit(*data)
    with threadpool_limits(1):  # threadpoolctl limits torch's OpenMP pool
        MultitaskSERClassifier(n_threads=2, **SMALL).fit(*data)
        MultitaskSERClassifier(n_threads=-1, **SMALL).fit(*data)
    assert threads_seen_in_training == [2, 1, 1]


def test_omp_num_threads_is_an_upper_bound(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert resolve_n_threads(4, limit=None) == 1


def test_a_failed_fit_restores_the_threads(two_caller_threads):
    with pytest.raises(ValueError):
        MultitaskSERClassifier(**SMALL).fit(np.zeros((4, 3)), [0, 0, 0, 0])
    with pytest.raises(RuntimeError), torch_threads(None):
        raise RuntimeError
    assert torch.get_num_threads() == 2


def test_concurrent_fits_in_threads_restore_the_setting_once_all_are_done(
    data, two_caller_threads
):
    seen, errors = [], []

    def fit():
        try:
            with torch_threads(None):
                seen.append(torch.get_num_threads())
                MultitaskSERClassifier(**SMALL).fit(*data)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    workers = [threading.Thread(target=fit) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors
    assert seen == [1, 1, 1]
    assert torch.get_num_threads() == 2


def test_parallel_cross_validation_fits_one_thread_per_worker(data):
    result = cross_validate(MultitaskSERClassifier(**SMALL), *data, cv=2, n_jobs=2)
    assert np.isfinite(result["test_score"]).all()


@pytest.mark.parametrize("value", [0, -2, 1.5, "2", True])
def test_invalid_n_threads_raise_at_fit(data, value):
    with pytest.raises((ValueError, TypeError), match="n_threads"):
        MultitaskSERClassifier(n_threads=value, **SMALL).fit(*data)
