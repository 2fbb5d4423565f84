"""Tests of TabMClassifier: scikit-learn compliance, the published defaults, determinism."""

import numpy as np
import pytest
import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_msfl import TabMClassifier
from sklearn_msfl.baselines import make_tabm_baseline


def blobs(n=120, seed=0):
    rng = np.random.RandomState(seed)
    y = np.array(["anger", "happiness", "sadness"])[np.arange(n) % 3]
    X = rng.normal(size=(n, 6)) + 2.0 * (y[:, None] == ["anger", "happiness", "sadness", "x",
                                                        "y", "z"])
    return X, y


# A smaller ensemble and fewer epochs for speed: the defaults pass these checks too, in about
# 3 minutes on a busy 2-core machine (check_classifiers_train alone fits 40 epochs 3 times).
@parametrize_with_checks([TabMClassifier(k=4, max_epochs=10, random_state=0)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_defaults_are_the_published_configuration():
    model = make_tabm_baseline()[-1]
    assert (model.k, model.d_block, model.n_blocks, model.dropout) == (16, 128, 2, 0.1)
    assert (model.lr, model.weight_decay, model.batch_size, model.max_epochs) == (
        2e-3, 3e-4, 64, 40)
    assert model.clip == 5.0


def test_probabilities_are_the_members_mean_and_fits_are_reproducible():
    X, y = blobs()
    model = TabMClassifier(k=4, max_epochs=20, random_state=0).fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 3) and np.allclose(proba.sum(axis=1), 1.0)
    inputs = torch.from_numpy(model._scaled(X))
    with torch.no_grad():
        members = model.module_(inputs).softmax(-1)  # (rows, k, classes)
    assert members.shape[1] == 4
    np.testing.assert_allclose(proba, members.mean(1).numpy(), rtol=1e-5)
    assert model.score(X, y) > 0.9
    again = TabMClassifier(k=4, max_epochs=20, random_state=0).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), proba)
    other = TabMClassifier(k=4, max_epochs=20, random_state=1).fit(X, y)
    assert not np.array_equal(other.predict_proba(X), proba)
    assert len(model.loss_curve_) == 20 and model.loss_curve_[-1] < model.loss_curve_[0]


def test_inputs_are_standardised_and_clipped():
    X, y = blobs()
    X[0, 0] = 1e6  # an outlier far beyond the clip
    model = TabMClassifier(k=2, max_epochs=1, clip=3.0, random_state=0).fit(X, y)
    scaled = model._scaled(X)
    assert scaled.max() == pytest.approx(3.0) and scaled.min() >= -3.0


def test_one_thread_by_default_and_the_callers_setting_restored():
    X, y = blobs()
    before = torch.get_num_threads()
    seen = []
    model = TabMClassifier(k=2, max_epochs=1, random_state=0)
    original = model._train
    model._train = lambda *args: (seen.append(torch.get_num_threads()), original(*args))[1]
    model.fit(X, y)
    assert seen == [1] and torch.get_num_threads() == before


def test_bad_parameters_are_refused():
    X, y = blobs()
    with pytest.raises(ValueError, match="k"):
        TabMClassifier(k=0).fit(X, y)
    with pytest.raises(ValueError, match="clip"):
        TabMClassifier(clip=0.0).fit(X, y)
