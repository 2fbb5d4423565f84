import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_msfl.preprocessing import GroupStandardScaler


def corpus_frame(rng, offsets, n_per_group=30, n_features=3):
    """Rows of every group shifted and scaled by its own offset."""
    parts = []
    for group, offset in offsets.items():
        values = rng.normal(size=(n_per_group, n_features)) * (1 + offset) + 10 * offset
        part = pd.DataFrame(values, columns=[f"f{i}" for i in range(n_features)])
        part.insert(0, "corpus", group)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


@parametrize_with_checks([GroupStandardScaler(group_column=None)])
def test_sklearn_compatible_with_one_group(estimator, check):
    check(estimator)


def test_each_seen_group_gets_zero_mean_unit_variance():
    X = corpus_frame(np.random.default_rng(0), {"a": 0, "b": 3, "c": 7})
    Z = GroupStandardScaler().fit_transform(X)
    assert Z.shape == (90, 3)
    for group in "abc":
        rows = (X["corpus"] == group).to_numpy()
        np.testing.assert_allclose(Z[rows].mean(axis=0), 0, atol=1e-12)
        np.testing.assert_allclose(Z[rows].std(axis=0), 1)


def test_seen_groups_use_training_statistics_not_the_batch():
    rng = np.random.default_rng(1)
    train = corpus_frame(rng, {"a": 0, "b": 3})
    scaler = GroupStandardScaler().fit(train)
    test = corpus_frame(rng, {"b": 3}, n_per_group=5)
    b = scaler.groups_.tolist().index("b")
    expected = (test[["f0", "f1", "f2"]].to_numpy() - scaler.mean_[b]) / scaler.scale_[b]
    np.testing.assert_allclose(scaler.transform(test), expected)


def test_unseen_group_is_standardised_on_its_own_rows():
    rng = np.random.default_rng(2)
    scaler = GroupStandardScaler().fit(corpus_frame(rng, {"a": 0, "b": 3}))
    unseen = corpus_frame(rng, {"z": 50}, n_per_group=20)
    Z = scaler.transform(unseen)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1)
    # With the global training statistics the shifted corpus stays far from zero.
    Z_global = clone(scaler).set_params(unseen="global").fit(
        corpus_frame(rng, {"a": 0, "b": 3})
    ).transform(unseen)
    assert np.abs(Z_global.mean(axis=0)).min() > 5


def test_small_unseen_group_falls_back_to_global_statistics_with_a_warning():
    rng = np.random.default_rng(3)
    train = corpus_frame(rng, {"a": 0, "b": 3})
    scaler = GroupStandardScaler(min_group_size=10).fit(train)
    few = corpus_frame(rng, {"z": 1}, n_per_group=3)
    with pytest.warns(UserWarning, match="'z' was not seen in fit and has only 3 rows"):
        Z = scaler.transform(few)
    expected = (few[["f0", "f1", "f2"]].to_numpy() - scaler.global_mean_) / scaler.global_scale_
    np.testing.assert_allclose(Z, expected)


def test_unseen_error_names_the_group():
    rng = np.random.default_rng(4)
    scaler = GroupStandardScaler(unseen="error").fit(corpus_frame(rng, {"a": 0}))
    with pytest.raises(ValueError, match="Group 'q' was not seen in fit"):
        scaler.transform(corpus_frame(rng, {"q": 0}))


def test_missing_group_column_is_a_clear_error():
    with pytest.raises(ValueError, match="DataFrame with a 'corpus' column"):
        GroupStandardScaler().fit(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="'speaker' column"):
        GroupStandardScaler(group_column="speaker").fit(pd.DataFrame({"f": [1.0, 2.0]}))


@pytest.mark.parametrize("params, message", [
    ({"unseen": "mean"}, "unseen must be one of"),
    ({"min_group_size": 1}, "min_group_size must be an int >= 2"),
])
def test_invalid_parameters(params, message):
    X = corpus_frame(np.random.default_rng(5), {"a": 0})
    with pytest.raises(ValueError, match=message):
        GroupStandardScaler(**params).fit(X)


def test_constant_feature_stays_finite_and_names_drop_the_group_column():
    X = corpus_frame(np.random.default_rng(6), {"a": 0, "b": 1})
    X["constant"] = 4.0
    scaler = GroupStandardScaler().fit(X)
    Z = scaler.transform(X)
    assert np.isfinite(Z).all()
    np.testing.assert_array_equal(Z[:, -1], 0.0)
    assert scaler.get_feature_names_out().tolist() == ["f0", "f1", "f2", "constant"]


def test_feature_names_out_pass_input_names_through():
    X = corpus_frame(np.random.default_rng(7), {"a": 0, "b": 1})
    scaler = GroupStandardScaler().fit(X)
    # A pipeline passes the names of the step before, the group column among them.
    assert scaler.get_feature_names_out(X.columns).tolist() == ["f0", "f1", "f2"]
    with pytest.raises(ValueError, match="do not match"):
        scaler.get_feature_names_out(["corpus", "f0", "f2", "f1"])
    # Fitted on an array, it names its output after the names it is given.
    anonymous = GroupStandardScaler(group_column=None).fit(X[["f0", "f1"]].to_numpy())
    assert anonymous.get_feature_names_out().tolist() == ["x0", "x1"]
    assert anonymous.get_feature_names_out(["loud", "pitch"]).tolist() == ["loud", "pitch"]
    with pytest.raises(ValueError, match="do not match"):
        anonymous.get_feature_names_out(["loud"])


def test_corpus_normalisation_lets_a_classifier_transfer_to_a_shifted_corpus():
    # The class is the sign of f0 around each corpus' own mean; corpus c is shifted far
    # away. Without per-corpus statistics a classifier trained on a and b sees only one
    # side of its boundary in c.
    rng = np.random.default_rng(7)
    frames, labels = [], []
    for corpus, shift in {"a": 0.0, "b": 2.0, "c": 25.0}.items():
        y = rng.integers(0, 2, size=60)
        values = np.column_stack([np.where(y == 1, 1.0, -1.0) + rng.normal(0, .3, 60),
                                  rng.normal(size=60)]) + shift
        frame = pd.DataFrame(values, columns=["f0", "f1"])
        frame.insert(0, "corpus", corpus)
        frames.append(frame)
        labels.append(y)
    X, y = pd.concat(frames, ignore_index=True), np.concatenate(labels)
    train, test = (X["corpus"] != "c").to_numpy(), (X["corpus"] == "c").to_numpy()
    normalised = make_pipeline(GroupStandardScaler(), SVC()).fit(X[train], y[train])
    plain = make_pipeline(GroupStandardScaler(group_column=None), SVC()).fit(
        X[train].drop(columns="corpus"), y[train]
    )
    assert normalised.score(X[test], y[test]) > 0.95
    assert plain.score(X[test].drop(columns="corpus"), y[test]) < 0.7
