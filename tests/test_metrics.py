"""Tests for the UAR/WA metrics and the main-task-aware scorers."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_msfl.metrics import (
    final_estimator,
    is_multitask,
    main_task_labels,
    uar_score,
    uar_scorer,
    wa_score,
    wa_scorer,
)


class FakeMultitask(ClassifierMixin, BaseEstimator):
    """A fitted stand-in for MultitaskSERClassifier that predicts a fixed main-task label."""

    def __init__(self, main_task="emotion", label="sad"):
        self.main_task = main_task
        self.label = label

    def fit(self, X, y):
        self.task_names_ = ["emotion", "language"]
        self.main_task_ = self.main_task
        return self

    def predict(self, X):
        return np.full(len(X), self.label, dtype=object)

    def predict_tasks(self, X):
        return pd.DataFrame({"emotion": self.predict(X), "language": "de"})


Y = pd.DataFrame({"emotion": ["sad", "sad", "sad", "angry"],
                  "language": ["de", "en", "en", "en"]})
X = np.zeros((4, 2))


def test_uar_is_balanced_accuracy_and_wa_is_accuracy():
    y_true = ["a", "a", "a", "b", "b", "c"]
    y_pred = ["a", "a", "b", "b", "c", "c"]
    assert uar_score(y_true, y_pred) == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)
    assert wa_score(y_true, y_pred) == pytest.approx(4 / 6)


def test_is_multitask_looks_at_the_final_step():
    fake = FakeMultitask().fit(X, Y)
    assert is_multitask(fake)
    assert is_multitask(make_pipeline(StandardScaler(), fake))
    assert not is_multitask(DummyClassifier())
    assert not is_multitask(make_pipeline(StandardScaler(), DummyClassifier()))
    assert final_estimator(make_pipeline(make_pipeline(StandardScaler(), fake))) is fake


def test_main_task_labels_of_a_multitask_estimator():
    language_main = FakeMultitask(main_task="language").fit(X, Y)
    np.testing.assert_array_equal(main_task_labels(language_main, Y), Y["language"])
    np.testing.assert_array_equal(main_task_labels(language_main, Y.to_numpy()), Y["language"])
    # Columns found by name even when the DataFrame's order differs from fit.
    swapped = Y[["language", "emotion"]]
    np.testing.assert_array_equal(main_task_labels(language_main, swapped), Y["language"])
    # 1-D labels are the main task's already.
    np.testing.assert_array_equal(main_task_labels(language_main, Y["emotion"]), Y["emotion"])


def test_main_task_labels_default_to_the_first_column():
    dummy = DummyClassifier().fit(X, Y["emotion"])
    np.testing.assert_array_equal(main_task_labels(dummy, Y.to_numpy()), Y["emotion"])
    np.testing.assert_array_equal(main_task_labels(dummy, Y), Y["emotion"])
    np.testing.assert_array_equal(main_task_labels(dummy, [[1], [2]]), [1, 2])
    with pytest.raises(ValueError, match="1-D or 2-D"):
        main_task_labels(dummy, np.zeros((2, 2, 2)))


def test_scorers_score_the_main_task():
    fake = FakeMultitask(label="sad").fit(X, Y)  # always "sad": 3 of 4 right, recall 1 and 0
    assert wa_scorer(fake, X, Y) == pytest.approx(0.75)
    assert uar_scorer(fake, X, Y) == pytest.approx(0.5)
    assert uar_scorer(fake, X, Y["emotion"]) == pytest.approx(0.5)
    pipeline = make_pipeline(StandardScaler(), FakeMultitask(label="sad")).fit(X, Y)
    assert wa_scorer(pipeline, X, Y.to_numpy()) == pytest.approx(0.75)

    language_main = FakeMultitask(main_task="language", label="en").fit(X, Y)
    assert wa_scorer(language_main, X, Y) == pytest.approx(0.75)
    assert uar_scorer(language_main, X, Y) == pytest.approx(0.5)


def test_scorers_with_sample_weight_and_plain_classifiers():
    dummy = DummyClassifier(strategy="constant", constant="sad").fit(X, Y["emotion"])
    assert wa_scorer(dummy, X, Y) == pytest.approx(0.75)
    assert wa_scorer(dummy, X, Y, sample_weight=[0, 0, 0, 1]) == pytest.approx(0.0)


def test_scorers_plug_into_grid_search():
    rng = np.random.RandomState(0)
    features = rng.normal(size=(40, 3))
    labels = pd.DataFrame({"emotion": rng.choice(["a", "b"], 40), "language": "de"})
    search = GridSearchCV(FakeMultitask(), {"label": ["a", "b"]}, cv=2,
                          scoring={"uar": uar_scorer, "wa": wa_scorer}, refit="wa")
    search.fit(features, labels)
    expected = "a" if (labels["emotion"] == "a").mean() >= 0.5 else "b"
    assert search.best_params_ == {"label": expected}
    np.testing.assert_allclose(search.cv_results_["mean_test_uar"], 0.5)
    assert main_task_labels(search, labels.to_numpy()).tolist() == labels["emotion"].tolist()


def test_unfitted_search_over_multitask_estimator_is_multitask():
    from sklearn.svm import SVC

    from sklearn_msfl.msfl import MultitaskSERClassifier

    assert is_multitask(GridSearchCV(MultitaskSERClassifier(), {"dropout": [0.1, 0.2]}))
    assert not is_multitask(GridSearchCV(SVC(), {"C": [1, 10]}))


def test_uar_is_silent_about_predicted_classes_absent_from_truth():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # balanced_accuracy_score warns here
        assert uar_score(["a", "a"], ["a", "b"]) == pytest.approx(0.5)
        assert uar_score(["a", "a", "b", "b"], ["a", "c", "b", "b"]) == pytest.approx(0.75)
    weights = [1, 3, 1, 1]
    assert uar_score(["a", "a", "b", "b"], ["a", "b", "b", "b"], weights) == pytest.approx(
        (1 / 4 + 1) / 2
    )


def test_main_task_labels_rejects_y_without_columns():
    with pytest.raises(ValueError, match="without columns"):
        main_task_labels(None, pd.DataFrame(index=range(3)))
    with pytest.raises(ValueError, match="no columns"):
        main_task_labels(None, np.zeros((3, 0)))


def test_score_predictions_per_group_and_language():
    from sklearn_msfl.metrics import score_predictions

    predictions = pd.DataFrame({
        "estimator": "m", "fold": [0, 0, 0, 1, 1, 1],
        "language": ["de", "de", "ur", "de", "ur", "ur"],
        "y_true": ["a", "b", "a", "a", "a", "b"], "y_pred": ["a", "a", "a", "a", "b", "b"],
    })
    per_fold = score_predictions(predictions).set_index(["fold", "language"])
    assert per_fold.loc[(0, "all"), "uar"] == pytest.approx((1 + 0) / 2)
    assert per_fold.loc[(1, "ur"), "uar"] == pytest.approx((0 + 1) / 2)
    assert per_fold.loc[(1, "de"), "n_test"] == 1
    pooled = score_predictions(predictions, by=["estimator"]).set_index("language")
    assert pooled.loc["ur", "uar"] == pytest.approx((1 / 2 + 1) / 2)
    assert pooled.loc["all", "wa"] == pytest.approx(4 / 6)
    unlabelled = score_predictions(predictions.assign(language="all"), by=["fold"])
    assert unlabelled["language"].tolist() == ["all", "all"]


def test_main_task_labels_follow_an_unfitted_estimators_main_task_parameter():
    import pandas as pd

    from sklearn_msfl.metrics import main_task_labels
    from sklearn_msfl.msfl import MultitaskSERClassifier

    y = pd.DataFrame({"emotion": ["a", "b"], "language": ["de", "en"]})
    assert list(main_task_labels(MultitaskSERClassifier(main_task="language"), y)) == ["de", "en"]
    assert list(main_task_labels(MultitaskSERClassifier(main_task=1), y.to_numpy())) == ["de", "en"]
    assert list(main_task_labels(MultitaskSERClassifier(), y)) == ["a", "b"]
