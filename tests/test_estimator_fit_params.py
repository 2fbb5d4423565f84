"""fit(X, y, sample_weight=..., groups=...): weighted task losses and a speaker hold-out."""

import numpy as np
import pytest
import sklearn
import torch
from sklearn.model_selection import GroupKFold, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_msfl.msfl import MultitaskCrossEntropy, MultitaskSERClassifier
from sklearn_msfl.msfl._net import _HoldoutSplit

FAST = dict(hidden_size=8, shared_size=8, embedding_dim=4, patch_size=4, max_epochs=4,
            lr=0.02, device="cpu", random_state=0)


def data(n=90, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 10))
    y = np.column_stack([(X[:, 0] + X[:, 1] > 0).astype(int), (X[:, 2] > 0).astype(int)])
    return X, y, np.arange(n) % 6


def test_weighted_task_loss_is_the_weighted_mean():
    logits = (torch.randn(5, 3), torch.randn(5, 2))
    y = torch.tensor([[0, 1], [2, 0], [1, 1], [0, 0], [2, 1]])
    w = torch.tensor([1.0, 0.0, 2.0, 1.0, 0.5])
    losses = MultitaskCrossEntropy()(logits, y, sample_weight=w)
    for i, task_logits in enumerate(logits):
        per_sample = torch.nn.functional.cross_entropy(task_logits, y[:, i], reduction="none")
        assert losses[i] == pytest.approx(float((per_sample * w).sum() / w.sum()), rel=1e-6)
    # Equal weights are the plain mean, also with class weights.
    weighted = MultitaskCrossEntropy(class_weights=[[1.0, 2.0, 0.5], None])
    np.testing.assert_allclose(weighted(logits, y, sample_weight=torch.full((5,), 3.0)),
                               weighted(logits, y), rtol=1e-6)


def test_sample_weight_changes_the_fit_and_equal_weights_do_not():
    X, y, _ = data()
    plain = MultitaskSERClassifier(**FAST).fit(X, y).predict_proba(X)
    equal = MultitaskSERClassifier(**FAST).fit(X, y, sample_weight=np.full(len(X), 2.0))
    np.testing.assert_allclose(equal.predict_proba(X), plain, atol=1e-4)
    # Weighting one class out of the emotion loss: the model stops predicting it.
    weights = np.where(y[:, 0] == 1, 1e-6, 1.0)
    skewed = MultitaskSERClassifier(**dict(FAST, max_epochs=15)).fit(X, y, sample_weight=weights)
    assert (skewed.predict(X) == 1).mean() < 0.2
    with pytest.raises(ValueError):
        MultitaskSERClassifier(**FAST).fit(X, y, sample_weight=np.ones(3))


def test_sample_weight_is_routed_through_a_pipeline():
    X, y, _ = data()
    pipeline = Pipeline([("id", FunctionTransformer()), ("msfl", MultitaskSERClassifier(**FAST))])
    pipeline.fit(X, y, msfl__sample_weight=np.ones(len(X)))
    with sklearn.config_context(enable_metadata_routing=True):
        msfl = MultitaskSERClassifier(**FAST).set_fit_request(sample_weight=True, groups=True)
        msfl.set_score_request(sample_weight=True)
        routed = Pipeline([("id", FunctionTransformer()), ("msfl", msfl)])
        result = cross_validate(routed, X, y, cv=GroupKFold(3),
                                params={"groups": data()[2], "sample_weight": np.ones(len(X))})
    assert np.isfinite(result["test_score"]).all()


def test_the_early_stopping_holdout_takes_whole_speakers():
    X, y, speakers = data()
    split = _HoldoutSplit(0.34, random_state=0, groups=speakers)
    train, valid = split(torch.utils.data.TensorDataset(torch.zeros(len(X))))
    held_out = set(speakers[valid.indices])
    assert held_out and not held_out & set(speakers[train.indices])
    assert len(held_out) == 2  # a third of the six speakers
    clf = MultitaskSERClassifier(**dict(FAST, validation_fraction=0.3, max_epochs=30))
    assert clf.fit(X, y, groups=speakers).n_iter_ <= 30
    with pytest.warns(UserWarning, match="groups=speakers"):
        MultitaskSERClassifier(**dict(FAST, validation_fraction=0.3)).fit(X, y)
    with pytest.raises(ValueError, match="only 1 distinct"):
        MultitaskSERClassifier(**dict(FAST, validation_fraction=0.3)).fit(
            X, y, groups=np.zeros(len(X)))


@pytest.mark.parametrize("schedule", ["onecycle", "cosine"])
def test_lr_schedule_spans_the_steps_trained_beside_a_holdout(schedule):
    # Speakers of unequal sizes: the held-out rows (25 here) are not validation_fraction * n,
    # and batches of 8 tell 65 training rows (9 batches) from 63 or 90 (8 or 12).
    X, y, _ = data()
    speakers = np.repeat(np.arange(6), [30, 20, 15, 10, 10, 5])
    params = dict(FAST, lr_schedule=schedule, batch_size=8, validation_fraction=0.3,
                  patience=100)
    clf = MultitaskSERClassifier(**params).fit(X, y, groups=speakers)
    assert clf.n_iter_ == FAST["max_epochs"]  # no early stop: the whole schedule ran
    steps = sum(clf.history_[:, "train_batch_count"])
    scheduler = dict(clf.net_.callbacks_)["lr_scheduler"].lr_scheduler_
    assert (scheduler.total_steps if schedule == "onecycle" else scheduler.T_max) == steps
    assert steps == FAST["max_epochs"] * 9 == scheduler.last_epoch
    # The last batch ends the schedule, where the learning rate is (about) zero: 0.4% of the
    # peak after OneCycle's last step, 24% when the schedule was sized on all 90 rows.
    assert clf.net_.optimizer_.param_groups[0]["lr"] < 0.01 * FAST["lr"]


def test_auxiliary_labels_as_fit_metadata_make_y_one_dimensional():
    import pandas as pd
    from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict

    X, y, _ = data()
    emotion, language = y[:, 0], np.where(y[:, 1] == 1, "de", "en")
    clf = MultitaskSERClassifier(**FAST).fit(X, emotion, auxiliary=language)
    assert clf.task_names_ == ["emotion", "language"] and clf.main_task_ == "emotion"
    both = MultitaskSERClassifier(**FAST).fit(X, np.column_stack([emotion, language]))
    np.testing.assert_allclose(clf.predict_proba(X), both.predict_proba(X).astype(float))
    frame = MultitaskSERClassifier(**FAST).fit(
        X, pd.Series(emotion, name="emo"), auxiliary=pd.DataFrame({"lang": language}))
    assert frame.task_names_ == ["emo", "lang"]

    # scikit-learn's tools see a plain 1-D classification problem.
    proba = cross_val_predict(MultitaskSERClassifier(**FAST), X, emotion, cv=StratifiedKFold(3),
                              method="predict_proba", params={"auxiliary": language})
    assert proba.shape == (len(X), 2)
    search = GridSearchCV(MultitaskSERClassifier(**FAST), {"dropout": [0.1, 0.3]}, cv=3,
                          scoring="balanced_accuracy").fit(X, emotion, auxiliary=language)
    assert search.best_estimator_.task_names_ == ["emotion", "language"]
    with pytest.raises(ValueError, match="main task only"):
        MultitaskSERClassifier(**FAST).fit(X, y, auxiliary=language)


def test_adversarial_tasks_are_checked_and_reach_the_network():
    X, y, _ = data()
    clf = MultitaskSERClassifier(**FAST, adversarial_tasks=("language",)).fit(X, y)
    assert clf.net_.module_.adversarial == ("language",)
    for tasks, match in [(("emotion",), "main task"), (("gender",), "unknown tasks")]:
        with pytest.raises(ValueError, match=match):
            MultitaskSERClassifier(**FAST, adversarial_tasks=tasks).fit(X, y)


def test_auxiliary_balance_weighs_every_language_and_its_classes_equally():
    from sklearn_msfl.msfl._targets import _auxiliary_balance

    # Language 0: 6 rows of two emotions (5 + 1); language 1: 2 rows of one emotion.
    Y = np.array([[0, 0]] * 5 + [[1, 0]] + [[2, 1]] * 2)
    weights = _auxiliary_balance(Y, ["emotion", "language"], "emotion")
    assert weights.mean() == pytest.approx(1.0)
    cell = {(e, l): weights[(Y[:, 0] == e) & (Y[:, 1] == l)].sum() for e, l in {*map(tuple, Y)}}
    assert cell[(0, 0)] == pytest.approx(cell[(1, 0)])  # classes equal within a language
    assert cell[(0, 0)] + cell[(1, 0)] == pytest.approx(cell[(2, 1)])  # languages equal
    # The main task can be any column; sample weights multiply.
    swapped = _auxiliary_balance(Y[:, ::-1], ["language", "emotion"], "emotion")
    np.testing.assert_allclose(swapped, weights)
    np.testing.assert_allclose(
        _auxiliary_balance(Y, ["emotion", "language"], "emotion", np.full(8, 3.0)), 3 * weights)
    with pytest.raises(ValueError, match="only the main task"):
        _auxiliary_balance(Y[:, :1], ["emotion"], "emotion")


def test_balance_trains_on_the_balancing_sample_weights():
    from sklearn_msfl.msfl._targets import _auxiliary_balance

    X, y, _ = data()
    y[:60, 1] = 0  # two thirds of the rows in one language
    balanced = MultitaskSERClassifier(**FAST, balance="auxiliary").fit(X, y)
    weights = _auxiliary_balance(y, ["emotion", "language"], "emotion")
    by_hand = MultitaskSERClassifier(**FAST, balance=None).fit(X, y, sample_weight=weights)
    np.testing.assert_array_equal(balanced.predict_proba(X), by_hand.predict_proba(X))
    plain = MultitaskSERClassifier(**FAST, balance=None).fit(X, y)
    assert not np.allclose(balanced.predict_proba(X), plain.predict_proba(X))
    with pytest.raises(ValueError, match="only the main task"):
        MultitaskSERClassifier(**FAST, balance="auxiliary").fit(X, y[:, 0])


def test_balance_auto_balances_the_auxiliary_task_when_y_has_one():
    X, y, _ = data()
    y[:60, 1] = 0
    auto = MultitaskSERClassifier(**FAST).fit(X, y)  # balance="auto", the default
    explicit = MultitaskSERClassifier(**FAST, balance="auxiliary").fit(X, y)
    np.testing.assert_array_equal(auto.predict_proba(X), explicit.predict_proba(X))
    # With the main task alone there is nothing to balance: no weights, no error.
    single = MultitaskSERClassifier(**FAST).fit(X, y[:, 0])
    unweighted = MultitaskSERClassifier(**FAST, balance=None).fit(X, y[:, 0])
    np.testing.assert_array_equal(single.predict_proba(X), unweighted.predict_proba(X))
